# A plan for scripts/eval_on_gpu_machine.sh (sourced there): scripts/eval_sim_multitask.sh for MODEL, JOBS
# evaluations at a time with JOBS_EACH workers each (EPISODES per task and row, ROBUST_EPISODES per robustness
# variant on ROBUST_TASKS, ROWS: their defaults unless set), and for each budget in BUDGETS (e.g. "paper h3"; none
# by default) the planning-budget rows on BUDGET_TASKS (default reach and grasp), BUDGET_EPISODES episodes each.
name=${MODEL##*/}; name=${name#sim_}
MODEL=$MODEL OUT=$R/$name EVAL_TIMEOUT=$LIMIT_S JOBS=${JOBS:-5} \
  EXTRA="jobs=${JOBS_EACH:-3} $GPU_EVAL" \
  bash scripts/eval_sim_multitask.sh > "$R/$name.log" 2>&1 &
for budget in ${BUDGETS:-}; do
  for task in ${BUDGET_TASKS:-FrankaReach-v0 FrankaGrasp-v0}; do
    budgetrun "$budget" "$task" "${BUDGET_EPISODES:-20}"
  done
done
