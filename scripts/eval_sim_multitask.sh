#!/usr/bin/env bash
# Evaluate an experimental multi-task world model (default world_model/weights/sim_multitask, 96 px, workspace
# camera; MODEL=sim_twoview for the two-view one once scripts/train_sim_twoview.sh has made it; vjepa-eval picks
# image size and camera from the model), as in docs/manipulation.md: learned CEM / MPPI with and without subgoal
# images on every Franka task, EPISODES seeded episodes each (seeds 1000.., disjoint from the collection seeds
# 1000003+), then the robustness suite (ROBUST_EPISODES per variant). JOBS evaluations run in parallel with one
# torch thread each. Results land in OUT=outputs/<model name without "sim_">/<run>/results.json (resumable: rerun
# to continue; results made with other subgoal sequences are refused) and the merged markdown tables in
# $OUT/table.md and robustness.md. The oracle and random agents do not depend on the camera or the model: their
# rows are those of scripts/reproduce_results.sh. ROWS="<run names>" runs only those of the runs below.
#   EPISODES=20 ROBUST_EPISODES=20 JOBS=2 bash scripts/eval_sim_multitask.sh   # ~20 min on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/activate.sh
EPISODES=${EPISODES:-50}
ROBUST_EPISODES=${ROBUST_EPISODES:-20}
JOBS=${JOBS:-2}
EXTRA=${EXTRA:-}  # more vjepa-eval overrides for every run, e.g. EXTRA="jobs=2 device=cuda bf16=false"
ALL="[FrankaReach-v0,FrankaGrasp-v0,FrankaReachWithObject-v0,FrankaPickPlace-v0]"
MANIP="[FrankaGrasp-v0,FrankaPickPlace-v0]"  # the tasks whose subgoal sequence has more than the final goal
# robustness: the tasks with a nominal success to lose (grasp and pick-and-place are at 0% nominal)
ROBUST_TASKS=${ROBUST_TASKS:-"[FrankaReach-v0,FrankaReachWithObject-v0]"}
MODEL_NAME=${MODEL:-sim_multitask}  # MODEL=sim_twoview evaluates the two-view model the same way
OUT=${OUT:-outputs/${MODEL_NAME#sim_}}
MODEL=model=$MODEL_NAME
export MUJOCO_GL=${MUJOCO_GL:-egl} OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p "$OUT"
SUB="subgoals=true subgoal_steps=12 subgoal_plateau_patience=2"  # the switch rule of docs/manipulation.md

runs=(
  "learned_cem_subgoals tasks=$ALL $MODEL agent=learned planner=cem $SUB label=learned+cem+subgoals"
  "learned_cem tasks=$MANIP $MODEL agent=learned planner=cem"
  "learned_mppi_subgoals tasks=$ALL $MODEL agent=learned planner=mppi $SUB label=learned+mppi+subgoals"
  "learned_mppi tasks=$MANIP $MODEL agent=learned planner=mppi"
  "robustness_learned_cem_subgoals tasks=$ROBUST_TASKS $MODEL agent=learned planner=cem $SUB label=learned+cem+subgoals
   variants=[lighting,colors,camera,distractors,noise,all,far_goals] episodes=$ROBUST_EPISODES video=false"
)
source scripts/eval_runs.sh
start_rows "$EXTRA" "${runs[@]}"

report_rows learned_cem_subgoals learned_cem learned_mppi_subgoals learned_mppi
if [ -f "$OUT/robustness_learned_cem_subgoals/results.json" ]; then
  # shellcheck disable=SC2046
  python3 -m agent.report $(existing learned_cem_subgoals robustness_learned_cem_subgoals) | tee "$OUT"/robustness.md
fi
