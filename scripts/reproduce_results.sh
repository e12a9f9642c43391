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
run_one() {  # name, then vjepa-eval overrides
  local name=$1; shift
  if vjepa-eval "$@" episodes="$EPISODES" "tasks=$TASKS" out_dir="$OUT/$name" > "$OUT/$name.log" 2>&1; then
    echo "done: $name"
  else
    echo "FAILED: $name (see $OUT/$name.log)"; return 1
  fi
}
status=0
for run in "${runs[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || status=1; done
  run_one $run &
done
# the paper's CEM settings (400 samples, top-10, 10 iterations), reach only: ~8x the planning time
while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || status=1; done
TASKS="[FrankaReach-v0]" run_one learned_cem_paper agent=learned planner=cem video=false "label='learned+cem (paper 400x10)'" \
  "planner_overrides={samples: 400, iterations: 10, horizon: 2, keep_elites: false, early_stop_tol: 0.0, min_iterations: 1}" &
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || status=1; done
[ "$status" = 0 ] || { echo "some evaluations failed" >&2; exit 1; }

python3 -m agent.report "$OUT"/learned_cem "$OUT"/learned_cem_paper "$OUT"/learned_mppi "$OUT"/oracle_cem "$OUT"/random | tee "$OUT"/table.md
