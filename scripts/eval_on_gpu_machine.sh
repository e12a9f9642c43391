#!/usr/bin/env bash
# The multi-task evaluations of docs/manipulation.md on a lent GPU machine with no package registry (16 cores, one
# GPU; see the device notes): the planner runs on the GPU (fp32), the simulator and renderer on the CPU cores.
# Needs, carried with the repo: .whl/ (wheels of mujoco 3.9.0, gymnasium, farama-notifications, pyopengl, glfw,
# hydra-core, omegaconf, antlr4-python3-runtime for the machine's Python), .gl/ (libEGL/libGL .debs),
# .devdata/robosuite_stub.tar.xz (robosuite's Panda robot and gripper assets as a stub package), and the weights of
# MODEL when they are not shipped (a name in world_model/weights/ or a path). It runs:
#   1. BENCH=1: benchmarks/bench_world_model.py for the paper-size model on this GPU (first, alone);
#   2. the evaluations of PLAN, a file in scripts/gpu_plans/ (default multitask.sh: scripts/eval_sim_multitask.sh
#      for MODEL), all at once, each bounded by LIMIT_S seconds. What finished is kept: a rerun with the packed
#      results put back in place (tar -xzf results.tar.gz in the repo, then carry outputs/gpu_runs) resumes them;
# and packs every results.json, table and log tail into $OUT/results.tar.gz.
#   DEVICE=cpu SETUP=0 EPISODES=1 ROBUST_EPISODES=1 bash scripts/eval_on_gpu_machine.sh   # a dry run on a CPU
set -uo pipefail
DEST=${OUT:-outputs/gpu}; mkdir -p "$DEST"  # $OUT is where the lent machine returns files from
EPISODES=${EPISODES:-50}; LIMIT_S=${LIMIT_S:-420}; MODEL=${MODEL:-sim_multitask}
DEVICE=${DEVICE:-cuda}
source scripts/gpu_machine_env.sh  # SETUP=0: no installing
R=outputs/gpu_runs; mkdir -p $R
if [ "${BENCH:-0}" = 1 ] && [ "$DEVICE" != cpu ]; then
  timeout 150 python3 benchmarks/bench_world_model.py --config ac_vit_giant --device cuda \
    --paper-samples 800 --horizon 1 --repeats 3 > $R/bench_paper_size.txt 2>&1
fi
# the evaluations: a plan file sourced here, which calls evalrun / budgetrun (below) or any script
GPU_EVAL="device=$DEVICE bf16=false video=false"  # every evaluation here: fp32, no videos (no ffmpeg there)
evalrun() {  # NAME JOBS, then vjepa-eval overrides: one evaluation into $R/NAME in the background with $GPU_EVAL,
  # JOBS worker processes, stopped after LIMIT_S (its results so far stay)
  local name=$1 jobs=$2; shift 2
  # shellcheck disable=SC2086  # word splitting of $GPU_EVAL is intended
  OUT=$R EVAL_TIMEOUT=$LIMIT_S run_one "$name" "$@" jobs="$jobs" $GPU_EVAL &
}
budgetrun() {  # BUDGET TASK EPISODES [SEED0]: one row of benchmarks/planning_budget_eval.py for $MODEL, in the
  # background (it skips a row that $R/budget.jsonl holds from an earlier run; a row is only written when it is
  # complete)
  local seed0=${4:-1000}
  timeout "$LIMIT_S" python3 benchmarks/planning_budget_eval.py "$MODEL" "$2" "$3" "$1" "$DEVICE" $R/budget.jsonl \
    "$seed0" > "$R/budget_$1_$2_$seed0.log" 2>&1 &
}
export EPISODES
source scripts/eval_runs.sh
# shellcheck source=scripts/gpu_plans/multitask.sh
source "${PLAN:-scripts/gpu_plans/multitask.sh}"
wait
pkill -f "agent.cli|spawn_main" ; sleep 2  # worker processes that outlived their timed-out evaluation
find $R -name '*.log' -exec sh -c 'tail -c 3000 "$1" | tr "\r" "\n" | grep -v "it/s" > "$1.tail"' _ {} \;
tar -czf "$DEST/results.tar.gz" $(find $R -name 'results.json' -o -name '*.tail' -o -name '*.txt' -o -name '*.jsonl' \
  -o -name '*.md')
ls -la "$DEST"; cat $R/budget.jsonl 2>/dev/null; find $R -name '*.md' -exec cat {} \;
tail -12 $R/bench_paper_size.txt 2>/dev/null
