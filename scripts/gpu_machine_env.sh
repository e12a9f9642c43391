# Sourced by scripts/eval_on_gpu_machine.sh and scripts/train_on_gpu_machine.sh (not run): makes a lent GPU machine
# with no package registry (see the device notes) able to run the package. With SETUP=1 (default) it unpacks the
# carried .gl/ (libEGL/libGL .debs), installs the carried .whl/ wheels (mujoco 3.9.0, gymnasium, hydra-core and
# their small dependencies, for the machine's Python) into /tmp/site and unpacks .devdata/robosuite_stub.tar.xz
# (robosuite's Panda robot and gripper assets); then it sets PYTHONPATH and EGL rendering, and puts a stand-in for
# the project venv first on PATH: python3 and the vjepa-* commands (wrappers, not links: a link to a venv's python
# from elsewhere loses that venv's packages). SETUP=0 skips the installing (a dry run on a machine that has them).
if [ "${SETUP:-1}" = 1 ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  mkdir -p /tmp/stub && tar -C /tmp/stub -xJf .devdata/robosuite_stub.tar.xz
fi
export PYTHONPATH=/tmp/stub:/tmp/site:$PWD MUJOCO_GL=egl PYOPENGL_PLATFORM=egl PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
_vendor=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$_vendor" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$_vendor
_PY=$(command -v python3); mkdir -p /tmp/venv/bin
for _name in python python3; do printf '#!/bin/sh\nexec %s "$@"\n' "$_PY" > /tmp/venv/bin/$_name; done
_wrap() {  # COMMAND MODULE FUNCTION: a console script of pyproject.toml
  printf '#!/bin/sh\nexec %s -c "from %s import %s; %s()" "$@"\n' "$_PY" "$2" "$3" "$3" > "/tmp/venv/bin/$1"
}
_wrap vjepa-eval agent.cli main
_wrap vjepa-collect training.cli collect_main
_wrap vjepa-posttrain training.cli posttrain_main
_wrap vjepa-distill training.cli distill_main
chmod +x /tmp/venv/bin/*
export VENV=/tmp/venv PATH=/tmp/venv/bin:$PATH
