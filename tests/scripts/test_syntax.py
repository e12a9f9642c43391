"""Every shell script under scripts/ (the training, evaluation and lent-GPU scripts, and the GPU plans they source)
parses: ``bash -n`` finds no syntax error. The scripts run for hours or on a lent machine, where a typo costs the
whole run; their dry runs are in each script's header."""

import subprocess
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parents[2] / "scripts").rglob("*.sh"))


def test_the_scripts_are_found():
    names = {p.name for p in SCRIPTS}
    assert {"train_on_gpu_machine.sh", "train_sim_wrist.sh", "session16_wrist.sh", "test.sh"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_parses(script: Path):
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
