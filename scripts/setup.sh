#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian/Ubuntu machine: system libraries for headless MuJoCo
# rendering (EGL via Mesa, OSMesa as a fallback) and the Python package with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

need_apt=0
for lib in libEGL.so.1 libGL.so.1 libOSMesa.so; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || need_apt=1
done
if [ "$need_apt" = "1" ] && command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    libegl1 libgl1 libgles2 libosmesa6 libglfw3 >/dev/null
fi

PY=${PYTHON:-python3}
# torch is pinned to the CPU wheel (an unpinned torch pulls a multi-GB CUDA build).
$PY -m pip install --quiet --disable-pip-version-check torch==2.13.0
$PY -m pip install --quiet --disable-pip-version-check -e ".[dev]"
