#!/usr/bin/env bash
# Set up (idempotent) and run the main job: the sim evaluation suite with the shipped world model.
# Extra arguments are hydra overrides, e.g. `bash scripts/eval.sh episodes=50 planner=mppi jobs=2` (jobs: worker
# processes sharing the episodes, same per-episode results as jobs=1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/activate.sh
export MUJOCO_GL=${MUJOCO_GL:-egl} PYOPENGL_PLATFORM=${PYOPENGL_PLATFORM:-egl}
vjepa-eval "$@"
