# Sourced by the other scripts (not run): puts the project virtualenv (.venv, or $VENV) first on PATH, so that
# `python3`, `vjepa-*` and pip are the venv's; runs scripts/setup.sh first if the venv does not exist yet.
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || bash scripts/setup.sh
PATH="$(cd "$VENV" && pwd)/bin:$PATH"
export PATH VENV
