"""Exported world models record the camera preset of their training data (metadata.camera), so that evaluation can
build the env the model was trained for: training.collect.dataset_camera, posttrain's and export's metadata."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from training.collect import COLLECT_CONFIG, CollectConfig, dataset_camera
from training.dataset import save_episode
from training.export import export_run
from training.posttrain import PosttrainConfig, posttrain
from world_model.checkpoint import read_world_model_metadata, world_model_camera

from tests.training._fakes import fake_episode


def write_dataset(root: Path, camera: str | None, n: int = 3, T: int = 6, size: int = 64) -> Path:
    """``n`` fake episodes; a collect.json recording ``camera`` (None: no collect.json, a legacy directory)."""
    rng = np.random.default_rng(0)
    for i in range(n):
        meta = {"task": "fake", "image_size": size, "seed": i, **({"camera": camera} if camera else {})}
        save_episode(root, i, *fake_episode(rng, T, size), meta)
    if camera is not None:
        cfg = {**asdict(CollectConfig(out_dir=str(root), image_size=size)), "camera": camera}
        (root / COLLECT_CONFIG).write_text(json.dumps(cfg))
    return root


def test_dataset_camera_reads_collect_json_and_defaults_to_front(tmp_path):
    assert dataset_camera(write_dataset(tmp_path / "ws", "workspace")) == "workspace"
    old = write_dataset(tmp_path / "old", "front")
    saved = json.loads((old / COLLECT_CONFIG).read_text())
    del saved["camera"]  # collected before camera presets existed
    (old / COLLECT_CONFIG).write_text(json.dumps(saved))
    assert dataset_camera(old) == "front"
    assert dataset_camera(write_dataset(tmp_path / "legacy", None)) == "front"  # episodes, no collect.json


def test_dataset_camera_is_none_when_it_cannot_be_told(tmp_path):
    assert dataset_camera(tmp_path / "missing") is None
    (tmp_path / "empty").mkdir()
    assert dataset_camera(tmp_path / "empty") is None
    assert dataset_camera(write_dataset(tmp_path / "ws", "workspace"), data_format="lerobot") is None
    (tmp_path / "ws" / COLLECT_CONFIG).write_text("{not json")
    assert dataset_camera(tmp_path / "ws") is None  # never raises: it runs when a finished model is saved


@pytest.fixture(scope="module")
def workspace_run(tmp_path_factory) -> tuple[Path, Path]:
    """(data dir, run dir) of a finished 2-step posttrain run on fake "workspace" data."""
    root = tmp_path_factory.mktemp("camera_run")
    data = write_dataset(root / "data", "workspace")
    out = root / "run"
    posttrain(PosttrainConfig(data_dir=str(data), out_dir=str(out), steps=2, batch_size=4, warmup=0, decay=0,
                              ckpt_every=2, threads=1))
    return data, out


def test_posttrain_model_records_the_data_camera(workspace_run):
    _, out = workspace_run
    assert read_world_model_metadata(out / "model")["metadata"]["camera"] == "workspace"
    assert world_model_camera(out / "model") == "workspace"


def test_export_records_the_data_camera(workspace_run, tmp_path):
    _, out = workspace_run
    export_run(out, tmp_path / "exported")
    assert world_model_camera(tmp_path / "exported") == "workspace"


def test_export_without_the_data_records_null_and_warns(workspace_run, tmp_path, capsys):
    data, out = workspace_run
    moved = Path(shutil.move(str(data), str(tmp_path / "elsewhere")))
    try:
        export_run(out, tmp_path / "exported")
    finally:
        shutil.move(str(moved), str(data))
    assert world_model_camera(tmp_path / "exported") is None
    assert "cannot tell the camera" in capsys.readouterr().err
