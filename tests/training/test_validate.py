"""Held-out losses of a post-trained world model (training.validate)."""

import json

import numpy as np
import pytest
import torch

import training.posttrain as pt
from training.posttrain import PosttrainConfig
from training.validate import ValidateConfig, draw_clips, load_episode_range, main, validate
from world_model.checkpoint import save_world_model


@pytest.fixture(scope="module")
def saved_model(tiny_dataset, tmp_path_factory):
    """An untrained sim_tiny world model saved as safetensors (the losses need not be small, only right)."""
    model = pt.build_model(PosttrainConfig(data_dir=str(tiny_dataset), model="sim_tiny", seed=1))
    return save_world_model(model, tmp_path_factory.mktemp("wm") / "model"), model


def _cfg(**kw):
    return ValidateConfig(**{**dict(first=1, count=4, clips=12, frames_per_clip=3, batch_size=5), **kw})


def test_losses_equal_the_posttraining_objective_on_the_same_clips(tiny_dataset, saved_model):
    path, model = saved_model
    cfg = _cfg()
    result = validate(path, tiny_dataset, cfg, threads=1)
    episodes = load_episode_range(tiny_dataset, cfg.first, cfg.count)
    picks = draw_clips(episodes, cfg)
    frames = np.stack([episodes[e].frames[s:s + 3] for e, s in picks])
    z = model.encode(frames.reshape(-1, *frames.shape[2:])).reshape(len(picks), 3, model.tokens_per_frame, -1)
    actions = torch.from_numpy(np.stack([episodes[e].actions[s:s + 2] for e, s in picks]))
    states = torch.from_numpy(np.stack([episodes[e].states[s:s + 3] for e, s in picks]))
    with torch.no_grad():
        tf, roll = pt.ac_losses(model, z, actions, states, rollout_steps=2)
    assert result["teacher_forcing"] == pytest.approx(tf.item(), abs=2e-5)
    assert result["rollout"] == pytest.approx(roll.item(), abs=2e-5)
    assert result["clips"] == 12 and result["loss"] == pytest.approx(tf.item() + roll.item(), abs=4e-5)
    assert sum(v["clips"] for v in result["by_task"].values()) == 12
    assert set(result["by_task"]) == {"FrankaReach-v0"}


def test_same_config_scores_the_same_clips_and_other_episodes_differ(tiny_dataset, saved_model):
    path, _ = saved_model
    a = validate(path, tiny_dataset, _cfg(), threads=1)
    b = validate(path, tiny_dataset, _cfg(), threads=1)
    c = validate(path, tiny_dataset, _cfg(first=0, count=2), threads=1)
    assert a == b
    assert c["teacher_forcing"] != a["teacher_forcing"]


def test_clips_come_from_the_asked_episodes_only(tiny_dataset):
    episodes = load_episode_range(tiny_dataset, 2, 3)
    assert [ep.meta["seed"] for ep in episodes] == [3 * 1_000_003 + i for i in (2, 3, 4)]
    picks = draw_clips(episodes, _cfg(clips=50))
    assert {e for e, _ in picks} <= {0, 1, 2}
    assert all(0 <= s <= episodes[e].frames.shape[0] - 3 for e, s in picks)


@pytest.mark.parametrize("kw, message", [
    (dict(count=0), "count must be an integer >= 1"),
    (dict(frames_per_clip=2, rollout_steps=2), "frames_per_clip must be > rollout_steps"),
    (dict(first=-1), "first must be an integer >= 0"),
])
def test_bad_config_is_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        _cfg(**kw)


def test_range_beyond_the_dataset_is_an_error(tiny_dataset):
    with pytest.raises(ValueError, match="holds 6 episodes; episodes 5..6 were asked"):
        load_episode_range(tiny_dataset, 5, 2)


def test_cli_writes_json_and_reports_errors(tiny_dataset, saved_model, tmp_path, capsys):
    path, _ = saved_model
    out = tmp_path / "val.json"
    assert main([str(path), str(tiny_dataset), "--first", "0", "--count", "2", "--clips", "4",
                 "--frames-per-clip", "3", "--threads", "1", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["clips"] == 4
    assert main([str(path), str(tiny_dataset), "--first", "6", "--count", "1"]) == 2
    assert "error: " in capsys.readouterr().err
