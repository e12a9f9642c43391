#!/usr/bin/env bash
# The evaluations of docs/manipulation.md "A scene-invariant encoder by distillation" (session 9): learned + CEM on
# FrankaReach-v0 under the robustness variants, and reach-with-object with the steady-gripper planner settings of
# session 8, for a distilled model (MODEL=<path base>, default runs/distill_keepcam/model from
# scripts/train_sim_multitask_distilled.sh). 50 episodes per variant, seeds 1000-1049, fp32, JOBS in parallel.
# ~20 min (reach) and ~30 min (reach-with-object) on 2 cores. Results in OUT/<run>/results.json (resumable);
# ROWS="<run names>" runs only those.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/activate.sh
export MUJOCO_GL=${MUJOCO_GL:-egl} OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
EPISODES=${EPISODES:-50}
JOBS=${JOBS:-2}
MODEL=${MODEL:-runs/distill_keepcam/model}  # runs/distill_keepcam_posttrain/model: the fine-tuned one
OUT=${OUT:-outputs/distilled}
COMMON="agent=learned model=$MODEL planner=cem seed=1000 bf16=false video=false jobs=$JOBS"
runs=(
  "reach tasks=[FrankaReach-v0] variants=[nominal,lighting,camera,all,colors] label=learned+cem+distilled_keepcam"
  "rwo tasks=[FrankaReachWithObject-v0] variants=[nominal,lighting,camera] energy.all_frames=true
   planner_overrides={horizon:3,gripper_init_std:0.2} label=learned+cem+h3+allframes+g02+distilled_keepcam"
)
source scripts/eval_runs.sh
run_rows "$COMMON" "${runs[@]}"
