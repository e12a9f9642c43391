#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian/Ubuntu machine: system libraries for headless MuJoCo
# rendering (EGL via Mesa, OSMesa as a fallback) and the Python package with its test extras,
# installed into a project virtualenv (.venv) so that a distribution Python marked
# "externally managed" (PEP 668, Debian 12 / Ubuntu 24.04) is never touched.
# Set VENV=/path to use another virtualenv, PYTHON=python3.x to pick the interpreter that creates it.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || { echo "setup: apt-get not found; install $* by hand" >&2; return 1; }
  if [ "$apt_updated" = "0" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need_apt=0
for lib in libEGL.so.1 libGL.so.1 libOSMesa.so; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || need_apt=1
done
if [ "$need_apt" = "1" ]; then
  apt_install libegl1 libgl1 libgles2 libosmesa6 libglfw3 || true
fi

PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  # Debian/Ubuntu ship venv (and ensurepip) separately: python3-venv / python3.X-venv.
  if ! $PY -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    pyver=$($PY -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt_install python3-venv "python${pyver}-venv" || apt_install python3-venv
    $PY -m venv "$VENV"
  fi
fi
VPY="$VENV/bin/python"
# torch is pinned to the CPU wheel (an unpinned torch pulls a multi-GB CUDA build).
"$VPY" -m pip install --quiet --disable-pip-version-check torch==2.13.0
"$VPY" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
