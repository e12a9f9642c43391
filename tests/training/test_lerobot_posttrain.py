"""``vjepa-posttrain data_format=lerobot`` trains on a LeRobot v3 dataset (our exporter's output)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from training.lerobot_export import export_lerobot
from training.posttrain import PosttrainConfig
from world_model.checkpoint import load_world_model, read_world_model_metadata

REPO = Path(__file__).resolve().parents[2]


def _run_posttrain_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    code = (f"import sys; sys.argv = ['vjepa-posttrain'] + {args!r}; "
            "from training.cli import posttrain_main; posttrain_main()")
    env = {**os.environ, "PYTHONPATH": str(REPO), "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_posttrain_two_steps_on_a_lerobot_dataset(tiny_dataset, tmp_path):
    data = export_lerobot(tiny_dataset, tmp_path / "lerobot")
    out = tmp_path / "run"
    args = [f"data_dir={data}", "data_format=lerobot", f"out_dir={out}", "steps=2", "batch_size=2",
            "frames_per_clip=3", "rollout_steps=2", "warmup=0", "decay=0", "threads=1"]
    proc = _run_posttrain_cli(args, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2] and all(r["loss"] > 0 for r in log)
    meta = read_world_model_metadata(out / "model")["metadata"]
    assert meta["config"]["data_format"] == "lerobot" and meta["episodes"] == 6
    assert load_world_model(out / "model").config.image_size == 64


def test_posttrain_rejects_unknown_data_format():
    with pytest.raises(ValueError, match=r"data_format must be one of \('npz', 'lerobot'\), got 'hdf5'"):
        PosttrainConfig(data_format="hdf5")
