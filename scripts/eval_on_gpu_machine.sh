#!/usr/bin/env bash
# The multi-task evaluations of docs/manipulation.md on a lent GPU machine with no package registry (16 cores, one
# GPU; see the device notes): the planner runs on the GPU (fp32), the simulator and renderer on the CPU cores.
# Needs, carried with the repo: .whl/ (wheels of mujoco 3.9.0, gymnasium, farama-notifications, pyopengl, glfw,
# hydra-core, omegaconf, antlr4-python3-runtime for the machine's Python), .gl/ (libEGL/libGL .debs) and
# .devdata/robosuite_stub.tar.xz (robosuite's Panda robot and gripper assets as a stub package), and the sim_twoview
# weights that scripts/train_sim_twoview.sh makes (not shipped). It runs, at once:
#   A. scripts/eval_sim_multitask.sh for sim_twoview (EPISODES per task, robustness ROBUST_EPISODES per variant);
#   B. sim_multitask, learned CEM and MPPI with subgoals on grasp and pick-and-place (their subgoals changed);
#   C. benchmarks/planning_budget_eval.py: sim_twoview, the paper's CEM budget, reach and grasp (BUDGET_EPISODES);
#   D. benchmarks/bench_world_model.py for the paper-size model on this GPU (first, alone);
# and packs every results.json and log into $OUT/results.tar.gz. LIMIT_S bounds each of A-C (what finished is
# packed). MODE=complete runs the rest instead: sim_multitask's reach and no-subgoal rows, sim_twoview's CEM row.
set -uo pipefail
DEST=${OUT:-outputs/gpu}; mkdir -p "$DEST"  # $OUT is where the lent machine returns files from
EPISODES=${EPISODES:-50}; ROBUST_EPISODES=${ROBUST_EPISODES:-20}; LIMIT_S=${LIMIT_S:-420}
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu SETUP=0 EPISODES=1 ROBUST_EPISODES=1: a dry run on a CPU machine
if [ "${SETUP:-1}" = 1 ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  mkdir -p /tmp/stub && tar -C /tmp/stub -xJf .devdata/robosuite_stub.tar.xz
fi
export PYTHONPATH=/tmp/stub:/tmp/site:$PWD MUJOCO_GL=egl PYOPENGL_PLATFORM=egl PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
vendor=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$vendor" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$vendor
# a stand-in for the project venv: scripts/activate.sh finds python and the vjepa-eval command here
# (wrappers, not links: a link to a venv's python from elsewhere loses that venv's packages)
PY=$(command -v python3); mkdir -p /tmp/venv/bin
for name in python python3; do printf '#!/bin/sh\nexec %s "$@"\n' "$PY" > /tmp/venv/bin/$name; done
printf '#!/bin/sh\nexec %s -m agent.cli "$@"\n' "$PY" > /tmp/venv/bin/vjepa-eval
chmod +x /tmp/venv/bin/*
export VENV=/tmp/venv PATH=/tmp/venv/bin:$PATH
R=outputs/gpu_runs; mkdir -p $R
[ "$DEVICE" = cpu ] || [ "${MODE:-first}" != first ] || timeout 150 python3 benchmarks/bench_world_model.py --config ac_vit_giant --device cuda \
  --paper-samples 800 --horizon 1 --repeats 3 > $R/bench_paper_size.txt 2>&1
GPU="device=$DEVICE bf16=false video=false"  # no ffmpeg there: no videos
SUB="subgoals=true subgoal_steps=12 subgoal_plateau_patience=2"
ALL="[FrankaReach-v0,FrankaGrasp-v0,FrankaReachWithObject-v0,FrankaPickPlace-v0]"
MANIP="[FrankaGrasp-v0,FrankaPickPlace-v0]" REACHES="[FrankaReach-v0,FrankaReachWithObject-v0]"
export EPISODES EVAL_TIMEOUT=$LIMIT_S
source scripts/eval_runs.sh
evalrun() {  # NAME, then vjepa-eval overrides: one evaluation in the background, JOBS_EACH worker processes
  # shellcheck disable=SC2086  # word splitting of $GPU is intended
  OUT=$R run_one "$@" jobs="${JOBS_EACH:-2}" $GPU &
}
if [ "${MODE:-first}" = first ]; then  # A-C of the header
  MODEL=sim_twoview OUT=$R/twoview ROBUST_EPISODES=$ROBUST_EPISODES JOBS=5 EXTRA="jobs=2 $GPU" \
    bash scripts/eval_sim_multitask.sh > $R/twoview.log 2>&1 &
  for planner in cem mppi; do
    evalrun multitask/learned_${planner}_subgoals tasks="$MANIP" model=sim_multitask agent=learned planner=$planner \
      $SUB label=learned+$planner+subgoals
  done
  for task in FrankaReach-v0 FrankaGrasp-v0; do
    timeout "$LIMIT_S" python3 benchmarks/planning_budget_eval.py sim_twoview $task "${BUDGET_EPISODES:-20}" paper \
      "$DEVICE" $R/budget.jsonl > $R/budget_$task.log 2>&1 &
  done
else  # MODE=complete: the rest of the 50-episode table of sim_multitask, and sim_twoview's nominal CEM row
  for planner in cem mppi; do
    evalrun multitask/learned_${planner}_reaches tasks="$REACHES" model=sim_multitask agent=learned \
      planner=$planner $SUB label=learned+$planner+subgoals
    evalrun multitask/learned_${planner} tasks="$MANIP" model=sim_multitask agent=learned planner=$planner
  done
  evalrun twoview/learned_cem_subgoals tasks="$ALL" model=sim_twoview agent=learned planner=cem $SUB \
    label=learned+cem+subgoals
fi
wait
pkill -f "agent.cli|spawn_main" ; sleep 2  # worker processes that outlived their timed-out evaluation
find $R -name '*.log' -exec sh -c 'tail -c 3000 "$1" | tr "\r" "\n" | grep -v "it/s" > "$1.tail"' _ {} \;
tar -czf "$DEST/results.tar.gz" $(find $R -name 'results.json' -o -name '*.tail' -o -name '*.txt' -o -name '*.jsonl' -o -name '*.md')
ls -la "$DEST"; cat $R/budget.jsonl 2>/dev/null; tail -12 $R/bench_paper_size.txt 2>/dev/null
