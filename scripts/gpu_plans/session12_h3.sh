# A plan for scripts/eval_on_gpu_machine.sh (sourced there), the last ~5 minutes of session 12's GPU time: the reach
# robustness suite with a 3-step CEM horizon (the row reach_cem_h3 of scripts/eval_distilled.sh) for MODEL, one
# evaluation per variant with 2 workers each (16 processes on the 16 cores, planning on the GPU).
for variant in nominal lighting colors camera distractors noise all far_goals; do
  evalrun "reach_cem_h3_$variant" 2 agent=learned model="$MODEL" seed=1000 'tasks=[FrankaReach-v0]' planner=cem \
    'planner_overrides={horizon:3}' label=learned+cem+h3 "variants=[$variant]"
done
