"""Clip dataset and collection (round trip / corruption tests are in test_training.py)."""

import numpy as np
import pytest

from training.collect import CollectConfig, collect
from training.dataset import ClipDataset, Episode, episode_dir, load_episodes


def _episode(T=5):
    rng = np.random.default_rng(0)
    return (rng.integers(0, 255, (T, 8, 8, 3), dtype=np.uint8), rng.normal(size=(T, 7)).astype(np.float32),
            rng.normal(size=(T - 1, 7)).astype(np.float32))


def test_clip_dataset():
    frames, states, actions = _episode(6)
    ds = ClipDataset([Episode(frames, states, actions, {})], frames_per_clip=4)
    assert len(ds) == 3
    item = ds[2]
    assert item["frames"].shape == (4, 8, 8, 3) and item["actions"].shape == (3, 7)
    assert np.array_equal(item["states"].numpy(), states[2:6])


def test_collect_is_consistent_and_resumes(tiny_dataset):
    good, bad = load_episodes(tiny_dataset)
    assert len(good) == 6 and not bad
    ep = good[0]
    assert ep.frames.shape == (7, 64, 64, 3) and ep.actions.shape == (6, 7)
    # recorded states follow the recorded actions (envs.conventions), within tracking error
    assert np.abs(ep.states[1:, :3] - (ep.states[:-1, :3] + ep.actions[:, :3])).max() < 0.01
    before = episode_dir(tiny_dataset, 0).stat().st_mtime_ns
    collect(CollectConfig(out_dir=str(tiny_dataset), episodes=6, steps=6, image_size=64, seed=3))
    assert episode_dir(tiny_dataset, 0).stat().st_mtime_ns == before


def test_nominal_frames_round_trip_and_bad_shapes_are_refused(tmp_path):
    from training.dataset import CorruptEpisodeError, load_episode, save_episode

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (3, 8, 8, 3), dtype=np.uint8)
    states, actions = np.zeros((3, 7), np.float32), np.zeros((2, 7), np.float32)
    nominal = rng.integers(0, 255, (3, 8, 8, 3), dtype=np.uint8)
    path = save_episode(tmp_path, 0, frames, states, actions, {"image_size": 8}, nominal_frames=nominal)
    np.testing.assert_array_equal(load_episode(path).nominal_frames, nominal)
    assert load_episode(save_episode(tmp_path, 1, frames, states, actions, {})).nominal_frames is None
    with pytest.raises(CorruptEpisodeError, match="nominal_frames"):
        save_episode(tmp_path, 2, frames, states, actions, {}, nominal_frames=nominal[:2])
    with pytest.raises(CorruptEpisodeError, match="nominal_frames"):
        save_episode(tmp_path, 3, frames, states, actions, {}, nominal_frames=nominal.astype(np.float32))


def test_load_datasets_checks_each_directory_and_refuses_a_mix(tmp_path):
    """load_datasets: every directory's episodes in order, each passed to ``check`` before the next is read, the
    corrupt ones listed; directories of other frame sizes refused together."""
    from training.dataset import MixedDatasetError, load_datasets, save_episode

    for name, size, count in (("a", 8, 2), ("b", 8, 3), ("big", 16, 1)):
        frames, states, actions = _episode()
        states, actions = 0.01 * states, 0.01 * actions  # inside the plausible ranges
        frames = np.repeat(np.repeat(frames, size // 8, 1), size // 8, 2)
        for i in range(count):
            save_episode(tmp_path / name, i, frames, states, actions, {"image_size": size, "task": "FrankaReach-v0"})
    (episode_dir(tmp_path / "b", 1) / "data.npz").write_bytes(b"damaged")
    seen = []
    with pytest.warns(UserWarning, match="skipping corrupt episode"):
        episodes, bad = load_datasets([str(tmp_path / "a"), str(tmp_path / "b")],
                                      check=lambda eps, root: seen.append((root, len(eps))))
    assert seen == [(str(tmp_path / "a"), 2), (str(tmp_path / "b"), 2)]
    assert len(episodes) == 4 and len(bad) == 1 and "episode_000001" in bad[0]
    with pytest.raises(MixedDatasetError):
        load_datasets([str(tmp_path / "a"), str(tmp_path / "big")])
