"""vjepa-collect task=mixed / a comma list of tasks (multi-task play data), randomize_fraction, camera: the round
trip through training.dataset.load_episodes, resume, per-episode randomisation and mixed-directory refusals."""

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from training.collect import MIXED_TASKS, CollectConfig, collect, episode_randomized
from training.dataset import MixedDatasetError, episode_dir, list_episodes, load_episodes
from training.run_lock import LOCK_NAME

MIX = ",".join(MIXED_TASKS)
STEPS = 4


def _cfg(out: Path, **kw) -> CollectConfig:
    return CollectConfig(**{"task": "mixed", "out_dir": str(out), "episodes": 8, "steps": STEPS, "image_size": 64,
                            "seed": 2, **kw})


def _metas(root: Path) -> list[dict]:
    return [json.loads((ep / "meta.json").read_text()) for ep in list_episodes(root)]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    """8 episodes of task=mixed (each of the four Franka tasks twice), 4 steps, 64 px; copy before changing it."""
    return collect(_cfg(tmp_path_factory.mktemp("mixed") / "data"))


@pytest.fixture()
def mixed_copy(mixed, tmp_path) -> Path:
    return Path(shutil.copytree(mixed, tmp_path / "data"))


def test_tasks_of_a_config():
    assert CollectConfig(task="mixed").tasks() == list(MIXED_TASKS) and CollectConfig(task="mixed").mixed
    assert set(MIXED_TASKS) == {"FrankaReach-v0", "FrankaGrasp-v0", "FrankaReachWithObject-v0", "FrankaPickPlace-v0"}
    assert CollectConfig(task="FrankaGrasp-v0").tasks() == ["FrankaGrasp-v0"]
    assert not CollectConfig(task="FrankaGrasp-v0").mixed
    both = CollectConfig(task="FrankaReach-v0, FrankaGrasp-v0")
    assert both.tasks() == ["FrankaReach-v0", "FrankaGrasp-v0"] and both.mixed


@pytest.mark.parametrize("task", ["FrankaReach-v0,FrankaReach-v0", "FrankaGrasp-v0, FrankaReach-v0 ,FrankaGrasp-v0"])
def test_a_task_listed_twice_is_refused(task):
    with pytest.raises(ValueError, match="CollectConfig.task lists a task twice"):
        CollectConfig(task=task)


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_randomize_fraction_must_be_a_share(value):
    with pytest.raises(ValueError, match="CollectConfig.randomize_fraction"):
        CollectConfig(randomize_fraction=value)


def test_mixed_round_trip(mixed):
    episodes, bad = load_episodes(mixed)
    assert len(episodes) == 8 and bad == []
    assert [ep.meta["task"] for ep in episodes] == list(MIXED_TASKS) * 2, "episode i: tasks()[i % 4]"
    assert all(ep.meta["mix"] == MIX for ep in episodes)
    assert all("camera" not in ep.meta and ep.meta["randomize"] == "none" for ep in episodes)
    assert [ep.meta["seed"] for ep in episodes] == [2 * 1_000_003 + i for i in range(8)]
    for ep in episodes:
        T = ep.frames.shape[0]
        assert 2 <= T <= STEPS + 1
        assert ep.frames.shape == (T, 64, 64, 3) and ep.frames.dtype == np.uint8
        assert ep.states.shape == (T, 7) and ep.actions.shape == (T - 1, 7)
    assert json.loads((mixed / "collect.json").read_text())["task"] == "mixed"


def test_mixed_episode_equals_the_single_task_episode_of_its_seed(mixed, tmp_path):
    """Episode 1 of the mixed set is the grasp episode of seed index 1: what a grasp-only collection records."""
    single = collect(_cfg(tmp_path / "grasp", task="FrankaGrasp-v0", episodes=2))
    for name in ("frames", "states", "actions"):
        np.testing.assert_array_equal(np.load(episode_dir(single, 1) / "data.npz")[name],
                                      np.load(episode_dir(mixed, 1) / "data.npz")[name])
    meta = json.loads((episode_dir(single, 1) / "meta.json").read_text())
    assert meta["task"] == "FrankaGrasp-v0" and "mix" not in meta


def test_mixed_rerun_adds_nothing_more_adds_the_next_tasks(mixed_copy):
    rewritten = ("collect.json", LOCK_NAME)  # the record and the run's lock (training.run_lock)
    before = {p: p.stat().st_mtime_ns for p in mixed_copy.rglob("*") if p.is_file()}
    collect(_cfg(mixed_copy))
    assert {p: p.stat().st_mtime_ns for p in mixed_copy.rglob("*") if p.is_file() and p.name not in rewritten} \
        == {p: t for p, t in before.items() if p.name not in rewritten}, "no episode rewritten or added"
    collect(_cfg(mixed_copy, episodes=10))
    assert [m["task"] for m in _metas(mixed_copy)] == list(MIXED_TASKS) * 2 + list(MIXED_TASKS[:2])
    assert len(load_episodes(mixed_copy)[0]) == 10


@pytest.mark.parametrize("change", [{"task": "FrankaReach-v0,FrankaGrasp-v0"}, {"task": "FrankaReach-v0"},
                                    {"randomize_fraction": 0.5}, {"camera": "workspace"}, {"image_size": 96}])
def test_mixed_rerun_with_another_config_is_refused(mixed_copy, change):
    with pytest.raises(ValueError, match="collected with another config.*" + next(iter(change))):
        collect(_cfg(mixed_copy, episodes=9, **change))
    assert len(list_episodes(mixed_copy)) == 8


def test_mixed_into_a_legacy_directory_is_refused(mixed_copy):
    """Without collect.json the episodes cannot tell which mixed config recorded them: refused."""
    (mixed_copy / "collect.json").unlink()
    with pytest.raises(ValueError, match="holds 'FrankaReach-v0' episodes at 64 px"):
        collect(_cfg(mixed_copy, episodes=9))
    assert len(list_episodes(mixed_copy)) == 8


def test_an_episode_of_another_collection_in_the_mixed_dir_is_refused(mixed_copy, tmp_path):
    """A single-task episode (no "mix") or one of the same mix but another camera makes the directory mixed."""
    single = collect(_cfg(tmp_path / "reach", task="FrankaReach-v0", episodes=1))
    shutil.copytree(episode_dir(single, 0), episode_dir(mixed_copy, 8))
    with pytest.raises(MixedDatasetError, match=f"episode_000008 has task 'FrankaReach-v0'.*has task '{MIX}'"):
        load_episodes(mixed_copy)
    shutil.rmtree(episode_dir(mixed_copy, 8))
    assert len(load_episodes(mixed_copy)[0]) == 8

    work = collect(_cfg(tmp_path / "work", episodes=1, steps=1, camera="workspace"))
    meta = json.loads((episode_dir(work, 0) / "meta.json").read_text())
    assert meta["camera"] == "workspace" and meta["mix"] == MIX
    assert len(load_episodes(work)[0]) == 1
    shutil.copytree(episode_dir(work, 0), episode_dir(mixed_copy, 8))
    with pytest.raises(MixedDatasetError, match="episode_000008 has task .* \\(camera 'workspace'\\).*"
                                                "\\(camera 'front'\\)"):
        load_episodes(mixed_copy)


def test_a_comma_list_of_two_tasks(tmp_path):
    out = collect(_cfg(tmp_path / "two", task="FrankaReach-v0,FrankaReachWithObject-v0", episodes=3, steps=2))
    episodes, _ = load_episodes(out)
    assert [ep.meta["task"] for ep in episodes] == ["FrankaReach-v0", "FrankaReachWithObject-v0", "FrankaReach-v0"]
    assert {ep.meta["mix"] for ep in episodes} == {"FrankaReach-v0,FrankaReachWithObject-v0"}


def test_bad_task_preset_or_camera_fails_before_anything_is_written(tmp_path):
    """Every env is made before collect.json is written: the corrected rerun into the same out_dir works."""
    out = tmp_path / "d"
    for bad in ({"task": "FrankaReach-v0,FrankaGrap-v0"}, {"camera": "side"},
                {"randomize": "bogus", "randomize_fraction": 0.5}):
        with pytest.raises(Exception, match="FrankaGrap|side|bogus"):
            collect(_cfg(out, **{"task": "FrankaReach-v0", "episodes": 3, "steps": 1, **bad}))
        assert not out.exists(), bad
    collect(_cfg(out, task="FrankaReach-v0", episodes=1, steps=1))
    assert len(list_episodes(out)) == 1


# ---------------------------------------------------------------- randomize_fraction

def _randomized(root: Path) -> list[bool]:
    return [m["randomize"] != "none" for m in _metas(root)]


def test_randomize_fraction_picks_episodes_by_seed(tmp_path):
    """0.5: some episodes randomised, the same ones on a rerun with the same seeds (episode_randomized); those
    differ from the nominal collection, the others are byte-identical to it (the draw shifts no other numbers)."""
    kw = dict(task="FrankaReach-v0", episodes=8, steps=1, randomize="lighting")
    half_a = collect(_cfg(tmp_path / "a", randomize_fraction=0.5, **kw))
    half_b = collect(_cfg(tmp_path / "b", randomize_fraction=0.5, **kw))
    none = collect(_cfg(tmp_path / "none", randomize_fraction=0.0, **kw))
    full = collect(_cfg(tmp_path / "all", randomize_fraction=1.0, **kw))
    chosen = _randomized(half_a)
    assert 0 < sum(chosen) < 8, chosen
    assert chosen == _randomized(half_b)
    cfg = _cfg(tmp_path / "a", randomize_fraction=0.5, **kw)
    assert chosen == [episode_randomized(cfg, m["seed"]) for m in _metas(half_a)]
    assert {m["randomize"] for m in _metas(half_a)} == {"lighting", "none"}
    assert _randomized(none) == [False] * 8 and _randomized(full) == [True] * 8
    for i, randomized in enumerate(chosen):
        frames = np.load(episode_dir(half_a, i) / "data.npz")["frames"]
        np.testing.assert_array_equal(frames, np.load(episode_dir(half_b, i) / "data.npz")["frames"])
        same_as = full if randomized else none
        np.testing.assert_array_equal(frames, np.load(episode_dir(same_as, i) / "data.npz")["frames"])
        other = none if randomized else full
        assert not np.array_equal(frames, np.load(episode_dir(other, i) / "data.npz")["frames"])
    assert len(load_episodes(half_a)[0]) == 8, "randomised and nominal episodes form one dataset"


def test_episode_randomized_is_a_pure_function_of_fraction_and_seed():
    seeds = range(200)
    share = {f: [episode_randomized(CollectConfig(randomize="all", randomize_fraction=f), s) for s in seeds]
             for f in (0.0, 0.3, 1.0)}
    assert not any(share[0.0]) and all(share[1.0])
    assert 0.2 < np.mean(share[0.3]) < 0.4
    assert share[0.3] == [episode_randomized(replace(CollectConfig(randomize="all"), randomize_fraction=0.3), s)
                          for s in seeds]
