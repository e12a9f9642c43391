"""vjepa-collect with scene randomisation (issue 13): seeded, recorded in the episode meta, refused on a mixed rerun."""

import json

import numpy as np
import pytest

from training.collect import CollectConfig, collect
from training.dataset import list_episodes


def _frames(path) -> list[np.ndarray]:
    return [np.load(ep / "data.npz")["frames"] for ep in list_episodes(path)]


def test_randomized_collection_is_seeded_and_recorded(tmp_path):
    kw = dict(episodes=2, steps=2, image_size=64, seed=3)
    plain = collect(CollectConfig(out_dir=str(tmp_path / "plain"), **kw))
    rand_a = collect(CollectConfig(out_dir=str(tmp_path / "a"), randomize="all", **kw))
    rand_b = collect(CollectConfig(out_dir=str(tmp_path / "b"), randomize="all", **kw))
    for fa, fb, fp in zip(_frames(rand_a), _frames(rand_b), _frames(plain)):
        np.testing.assert_array_equal(fa, fb)  # same seed, same scenes
        assert not np.array_equal(fa, fp)  # randomisation changed the images
    meta = json.loads((list_episodes(rand_a)[0] / "meta.json").read_text())
    assert meta["randomize"] == "all"


def test_rerun_with_other_randomization_is_refused(tmp_path):
    out = str(tmp_path / "d")
    collect(CollectConfig(out_dir=out, episodes=1, steps=1))
    with pytest.raises(ValueError, match="randomize"):
        collect(CollectConfig(out_dir=out, episodes=2, steps=1, randomize="lighting"))


def test_unknown_preset_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="bogus"):
        collect(CollectConfig(out_dir=str(tmp_path / "x"), episodes=1, steps=1, randomize="bogus"))


def test_camera_preset_is_recorded_and_changes_only_the_images(tmp_path):
    """camera=workspace: meta "camera" (absent for the default front camera), other images, the same states."""
    kw = dict(episodes=1, steps=2, image_size=96, seed=4)
    front = collect(CollectConfig(out_dir=str(tmp_path / "front"), **kw))
    work = collect(CollectConfig(out_dir=str(tmp_path / "work"), camera="workspace", **kw))
    meta_front, meta_work = (json.loads((list_episodes(d)[0] / "meta.json").read_text()) for d in (front, work))
    assert "camera" not in meta_front and meta_work["camera"] == "workspace"
    assert json.loads((work / "collect.json").read_text())["camera"] == "workspace"
    (a,), (b,) = _frames(front), _frames(work)
    assert a.shape == b.shape == (3, 96, 96, 3) and not np.array_equal(a, b)
    za, zb = (np.load(list_episodes(d)[0] / "data.npz") for d in (front, work))
    np.testing.assert_array_equal(za["states"], zb["states"])
    np.testing.assert_array_equal(za["actions"], zb["actions"])


def test_nominal_frames_are_the_default_scene_of_the_same_states(tmp_path):
    """nominal_frames=true stores, beside each randomised frame, the frame the default env shows in that state."""
    kw = dict(episodes=2, steps=3, image_size=64, seed=5)
    plain = collect(CollectConfig(out_dir=str(tmp_path / "plain"), **kw))
    paired = collect(CollectConfig(out_dir=str(tmp_path / "pairs"), randomize="all", nominal_frames=True, **kw))
    for ep_plain, ep_pair in zip(list_episodes(plain), list_episodes(paired)):
        a, b = np.load(ep_plain / "data.npz"), np.load(ep_pair / "data.npz")
        np.testing.assert_array_equal(b["nominal_frames"], a["frames"])
        np.testing.assert_array_equal(b["states"], a["states"])
        assert not np.array_equal(b["frames"], a["frames"])
    assert "nominal_frames" not in np.load(list_episodes(plain)[0] / "data.npz").files
    meta = json.loads((list_episodes(paired)[0] / "meta.json").read_text())
    assert meta["scene_axes"] == ["lighting", "colors", "camera", "distractors", "noise"]


def test_twin_keeps_camera_needs_nominal_frames():
    with pytest.raises(ValueError, match="nominal_frames"):
        CollectConfig(twin_keeps_camera=True)
