#!/usr/bin/env bash
# Reproduce the README's results table: every agent on every Franka task, EPISODES seeded episodes each
# (seeds 1000.., disjoint from the collection seeds of the shipped model), JOBS evaluations in parallel with one
# torch thread each. Results land in outputs/results/<agent>/results.json (resumable: rerun to continue) and the
# merged markdown table in outputs/results/table.md.
#   EPISODES=50 JOBS=2 bash scripts/reproduce_results.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/activate.sh
EPISODES=${EPISODES:-50}
JOBS=${JOBS:-2}
TASKS=${TASKS:-"[FrankaReach-v0,FrankaGrasp-v0,FrankaReachWithObject-v0,FrankaPickPlace-v0]"}
OUT=${OUT:-outputs/results}
export MUJOCO_GL=${MUJOCO_GL:-egl} OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p "$OUT"

runs=(
  "learned_cem agent=learned planner=cem"
  "learned_mppi agent=learned planner=mppi"
  "oracle_cem agent=oracle planner=cem"
  "random agent=random"
)
source scripts/eval_runs.sh
for run in "${runs[@]}"; do
  # shellcheck disable=SC2086  # word splitting of the run's overrides is intended
  start_run $run "tasks=$TASKS"
done
# the paper's CEM settings (400 samples, top-10, 10 iterations), reach only: ~8x the planning time
start_run learned_cem_paper agent=learned planner=cem video=false "label='learned+cem (paper 400x10)'" \
  "planner_overrides={samples: 400, iterations: 10, horizon: 2, keep_elites: false, early_stop_tol: 0.0, min_iterations: 1}" \
  "tasks=[FrankaReach-v0]"
finish_runs

python3 -m agent.report "$OUT"/learned_cem "$OUT"/learned_cem_paper "$OUT"/learned_mppi "$OUT"/oracle_cem "$OUT"/random | tee "$OUT"/table.md
