#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite, slow end-to-end tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/activate.sh
# franky-sim (the loopback libfranka server for the hardware tests) needs pinocchio>=3 / NumPy 2, which clash with
# robosuite's NumPy 1.26 pin, so it lives in its own venv; if that install fails its tests are skipped (with why).
if [ ! -x .venv-franky-sim/bin/python ]; then
  python3 -m venv .venv-franky-sim && .venv-franky-sim/bin/pip install --quiet --disable-pip-version-check franky-sim \
    || echo "warning: could not install franky-sim; tests/hardware/test_franky_sim.py will be skipped"
fi
export FRANKY_SIM_PYTHON=${FRANKY_SIM_PYTHON:-$PWD/.venv-franky-sim/bin/python}
export MUJOCO_GL=${MUJOCO_GL:-egl} PYOPENGL_PLATFORM=${PYOPENGL_PLATFORM:-egl}
python3 -m pytest -q tests "$@"
