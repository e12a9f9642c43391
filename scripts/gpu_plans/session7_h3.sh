# A plan for scripts/eval_on_gpu_machine.sh (sourced there), the last ~4 minutes of session 7's GPU time: more
# episodes of jepa-wms's horizon-3 CEM budget for MODEL, one process per row (~0.25 s per step when alone).
budgetrun h3 FrankaReachWithObject-v0 20
budgetrun h3 FrankaPickPlace-v0 6
budgetrun h3 FrankaGrasp-v0 10 1010
budgetrun h3 FrankaReach-v0 16 1030
