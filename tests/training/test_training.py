"""Training pipeline tests: dataset round-trip, corrupt episodes, schedule, posttrain loss + exact resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from training.dataset import ClipDataset, CorruptEpisodeError, load_episode, load_episodes, save_episode
from training.schedule import warmup_constant_decay

from tests.training._fakes import fake_episode as _fake_episode


def _write_dataset(root, n: int = 3, T: int = 6):
    rng = np.random.default_rng(0)
    eps = []
    for i in range(n):
        f, s, a = _fake_episode(rng, T)
        save_episode(root, i, f, s, a, {"task": "fake", "seed": i})
        eps.append((f, s, a))
    return eps


def test_dataset_round_trip(tmp_path):
    eps = _write_dataset(tmp_path, n=2)
    ep = load_episode(tmp_path / "episode_000001")
    np.testing.assert_array_equal(ep.frames, eps[1][0])
    np.testing.assert_array_equal(ep.states, eps[1][1])
    np.testing.assert_array_equal(ep.actions, eps[1][2])
    assert ep.meta["length"] == 6 and ep.meta["seed"] == 1
    assert not list(tmp_path.glob("*.tmp"))
    ds = ClipDataset([ep], frames_per_clip=4)
    assert len(ds) == 3
    item = ds[2]
    assert item["frames"].shape == (4, 64, 64, 3) and item["actions"].shape == (3, 7)
    np.testing.assert_array_equal(item["states"].numpy(), eps[1][1][2:6])


def test_save_rejects_bad_shapes(tmp_path):
    f, s, a = _fake_episode(np.random.default_rng(1))
    with pytest.raises(CorruptEpisodeError):
        save_episode(tmp_path, 0, f, s, a[:-1], {})


def test_corrupt_episode_reported_and_skipped(tmp_path):
    _write_dataset(tmp_path, n=3)
    (tmp_path / "episode_000001" / "data.npz").write_bytes(b"not an npz")
    meta = tmp_path / "episode_000002" / "meta.json"
    meta.write_text(json.dumps({"format": "other"}))
    with pytest.warns(UserWarning, match="corrupt episode"):
        good, bad = load_episodes(tmp_path)
    assert len(good) == 1 and len(bad) == 2
    assert any("episode_000001" in b for b in bad) and any("episode_000002" in b for b in bad)


def test_schedule_shape():
    total, warm, decay = 100, 10, 20
    assert warmup_constant_decay(0, total, warm, decay) == pytest.approx(0.1)
    assert warmup_constant_decay(50, total, warm, decay) == 1.0
    assert warmup_constant_decay(90, total, warm, decay) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        warmup_constant_decay(0, 10, 8, 8)


def _posttrain_cfg(data, out, steps, stop_after=None):
    from training.posttrain import PosttrainConfig

    return PosttrainConfig(data_dir=str(data), out_dir=str(out), steps=steps, batch_size=4, warmup=2, decay=2,
                           ckpt_every=4, threads=1, lr=1e-3, stop_after=stop_after)


def test_posttrain_loss_decreases(tmp_path):
    from training.posttrain import posttrain

    _write_dataset(tmp_path / "data", n=2)
    posttrain(_posttrain_cfg(tmp_path / "data", tmp_path / "run", steps=30))
    losses = [json.loads(line)["loss"] for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert len(losses) == 30
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])
    assert (tmp_path / "run" / "model.safetensors").exists()


def test_posttrain_resume_identical(tmp_path):
    from training.posttrain import posttrain

    _write_dataset(tmp_path / "data", n=2)
    posttrain(_posttrain_cfg(tmp_path / "data", tmp_path / "full", steps=6))
    # interrupted run: stops at step 3 (as if killed after a checkpoint), then resumes to 6
    posttrain(_posttrain_cfg(tmp_path / "data", tmp_path / "part", steps=6, stop_after=3))
    torch.manual_seed(1234)  # a fresh process has a different global RNG: resume must not depend on it
    posttrain(_posttrain_cfg(tmp_path / "data", tmp_path / "part", steps=6))
    a = torch.load(tmp_path / "full" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "part" / "last.pt", weights_only=True)
    assert a["step"] == b["step"] == 6
    for k, v in a["predictor"].items():
        torch.testing.assert_close(v, b["predictor"][k], rtol=0, atol=0)


def test_cli_config_conversion():
    from omegaconf import OmegaConf

    from training.cli import to_dataclass
    from training.posttrain import PosttrainConfig

    cfg = to_dataclass(PosttrainConfig, OmegaConf.create({"steps": 7000, "hydra": {"x": 1}}))
    assert cfg.steps == 7000 and cfg.model == "sim_tiny"
    with pytest.raises(ValueError, match="unknown"):
        to_dataclass(PosttrainConfig, OmegaConf.create({"stepz": 7}))


def test_configs_match_dataclasses():
    from pathlib import Path

    from omegaconf import OmegaConf

    from training.cli import CONFIG_DIR, to_dataclass
    from training.collect import CollectConfig
    from training.distill import DistillConfig
    from training.posttrain import PosttrainConfig
    from training.pretrain import PretrainConfig

    for name, cls in [("collect", CollectConfig), ("pretrain", PretrainConfig), ("posttrain", PosttrainConfig),
                      ("distill", DistillConfig)]:
        cfg = OmegaConf.load(Path(CONFIG_DIR) / f"{name}.yaml")
        assert to_dataclass(cls, cfg) == cls()
