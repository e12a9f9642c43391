"""LeRobot v3 reader: round trip through our exporter, and a hand-built DROID-style dataset (other camera key,
12 Hz, two episodes packed in one mp4 and one parquet file)."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from envs.conventions import action_between, integrate_action
from training.dataset import load_episodes
from training.lerobot import (
    PRESETS,
    LeRobotFormatError,
    LeRobotMapping,
    LeRobotReader,
    compose_deltas,
    load_lerobot_episodes,
    load_training_episodes,
    read_lerobot_clip,
)
from training.lerobot_export import export_lerobot

CAM = "observation.images.top"
SRC_FPS = 12
LENGTHS = (30, 24)


@pytest.fixture(scope="module")
def exported(tiny_dataset, tmp_path_factory):
    return export_lerobot(tiny_dataset, tmp_path_factory.mktemp("lerobot") / "reach")


def test_exporter_writes_lerobot_v3_metadata(exported):
    info = json.loads((exported / "meta" / "info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 4
    assert info["video_path"].format(video_key="k", chunk_index=0, file_index=2) == "videos/k/chunk-000/file-002.mp4"
    eps = pq.read_table(exported / "meta" / "episodes" / "chunk-000" / "file-000.parquet").to_pylist()
    assert [e["videos/observation.images.front/file_index"] for e in eps] == list(range(6))
    assert eps[0]["tasks"] == ["FrankaReach-v0"]
    data = pq.read_table(exported / "data" / "chunk-000" / "file-000.parquet")
    assert data.schema.field("observation.state").type == pa.list_(pa.float32(), 7)


def test_round_trip_through_our_exporter(tiny_dataset, exported):
    originals, _ = load_episodes(tiny_dataset)
    reader = LeRobotReader(exported)
    assert reader.mapping == PRESETS["ours"] and reader.camera == "observation.images.front"
    episodes, bad = load_lerobot_episodes(exported)
    assert not bad and len(episodes) == len(originals)
    for ep, orig in zip(episodes, originals):
        assert ep.frames.shape == orig.frames.shape and ep.meta["control_hz"] == 4.0
        err = np.abs(ep.frames.astype(float) - orig.frames.astype(float)).mean()
        assert err < 3.0, err  # h264 (quality 8) tolerance, mean over pixels in [0, 255]
        np.testing.assert_array_equal(ep.states, orig.states)
        np.testing.assert_array_equal(ep.actions, orig.actions)
    clip = read_lerobot_clip(exported, episode=2, frames=3, fps=4.0, start=1)
    np.testing.assert_array_equal(clip.indices, [1, 2, 3])
    np.testing.assert_array_equal(clip.states, originals[2].states[1:4])
    np.testing.assert_array_equal(clip.actions, originals[2].actions[1:3])
    assert np.abs(clip.frames.astype(float) - originals[2].frames[1:4]).mean() < 3.0


def test_resampling_our_export_composes_delta_actions(tiny_dataset, exported):
    originals, _ = load_episodes(tiny_dataset)
    episodes, _ = load_lerobot_episodes(exported, fps=2.0)  # every 2nd step
    ep, orig = episodes[0], originals[0]
    np.testing.assert_array_equal(ep.states, orig.states[::2])
    assert ep.meta["control_hz"] == 2.0 and len(ep.actions) == len(ep.states) - 1
    np.testing.assert_allclose(ep.actions[0], compose_deltas(orig.actions[0:2]), atol=1e-6)


def test_compose_deltas_equals_stepwise_integration():
    rng = np.random.default_rng(0)
    state = np.array([0.4, 0.0, 0.3, np.pi - 0.2, 0.1, 0.3, 0.5])
    deltas = np.concatenate([rng.normal(0, 0.02, (5, 3)), rng.normal(0, 0.2, (5, 3)), rng.normal(0, 0.05, (5, 1))], 1)
    stepwise = state
    for d in deltas:
        stepwise = integrate_action(stepwise, d, clip_gripper=False)
    at_once = integrate_action(state, compose_deltas(deltas), clip_gripper=False)
    np.testing.assert_allclose(at_once, stepwise, atol=1e-9)


# -- a hand-built DROID-style dataset ------------------------------------------------------------------------------
def _gray(g: int) -> int:
    return 10 + 4 * g  # frame g of the packed video is uniformly this grey level


def _droid_like(root: Path, camera: str = CAM, version: str = "v3.0") -> dict[str, np.ndarray]:
    """Two episodes at 12 Hz packed in one parquet and one mp4 (episode 1 starts at 2.5 s), DROID key names,
    gripper as a scalar column, commanded target poses as actions. Returns the per-row arrays written."""
    rng = np.random.default_rng(1)
    n = sum(LENGTHS)
    t = np.arange(n) / SRC_FPS
    pose = np.stack([0.5 + 0.1 * np.sin(t), 0.1 * np.cos(t), 0.3 + 0.01 * t, np.pi - 0.1 * t, 0.05 * np.sin(2 * t),
                     0.2 * t], 1) + rng.normal(0, 1e-3, (n, 6))
    grip = np.clip(0.05 * np.arange(n) % 1.0, 0, 1)
    target = np.concatenate([pose + 0.01, grip[:, None]], 1)
    ep_idx = np.repeat([0, 1], LENGTHS)
    frame_idx = np.concatenate([np.arange(k) for k in LENGTHS])
    table = pa.table({
        "observation.state.cartesian_position": pa.array(pose.tolist(), pa.list_(pa.float64())),
        "observation.state.gripper_position": pa.array(grip, pa.float32()),
        "observation.state.joint_position": pa.array(rng.normal(0, 1, (n, 7)).tolist()),
        "action.cartesian_position": pa.array(target[:, :6].tolist()),
        "action.gripper_position": pa.array(target[:, 6], pa.float64()),
        "episode_index": pa.array(ep_idx), "frame_index": pa.array(frame_idx), "index": pa.array(np.arange(n)),
        "timestamp": pa.array(frame_idx / SRC_FPS, pa.float32())})
    (root / "data" / "chunk-000").mkdir(parents=True)
    pq.write_table(table, root / "data" / "chunk-000" / "file-000.parquet")
    (root / "videos" / camera / "chunk-000").mkdir(parents=True)
    with imageio.get_writer(root / "videos" / camera / "chunk-000" / "file-000.mp4", fps=SRC_FPS, codec="libx264",
                            macro_block_size=1, quality=9) as w:
        for g in range(n):
            w.append_data(np.full((48, 80, 3), _gray(g), np.uint8))
    starts = [0, LENGTHS[0]]
    (root / "meta" / "episodes" / "chunk-000").mkdir(parents=True)
    pq.write_table(pa.table({
        "episode_index": [0, 1], "length": list(LENGTHS), "tasks": [["put the cup"], ["wipe"]],
        "data/chunk_index": [0, 0], "data/file_index": [0, 0],
        f"videos/{camera}/chunk_index": [0, 0], f"videos/{camera}/file_index": [0, 0],
        f"videos/{camera}/from_timestamp": [s / SRC_FPS for s in starts],
        f"videos/{camera}/to_timestamp": [(s + k) / SRC_FPS for s, k in zip(starts, LENGTHS)]}),
        root / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    vec = lambda d: {"dtype": "float32", "shape": [d], "names": None}  # noqa: E731
    info = {"codebase_version": version, "fps": SRC_FPS, "robot_type": "panda", "features": {
        "observation.state.cartesian_position": vec(6), "observation.state.gripper_position": vec(1),
        "observation.state.joint_position": vec(7), "action.cartesian_position": vec(6),
        "action.gripper_position": vec(1),
        camera: {"dtype": "video", "shape": [48, 80, 3], "names": ["height", "width", "channels"],
                 "info": {"video.fps": SRC_FPS}}},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"}
    (root / "meta" / "info.json").write_text(json.dumps(info))
    return {"states": np.concatenate([pose, grip[:, None].astype(np.float32)], 1), "target": target,
            "episode": ep_idx}


@pytest.fixture(scope="module")
def droid_like(tmp_path_factory):
    root = tmp_path_factory.mktemp("droid_like") / "ds"
    return root, _droid_like(root)


def _global(episode: int, rows: np.ndarray) -> np.ndarray:
    return np.asarray(rows) + (0 if episode == 0 else LENGTHS[0])


def test_hand_built_dataset_other_camera_and_fps(droid_like):
    root, written = droid_like
    reader = LeRobotReader(root)
    assert reader.camera == CAM and reader.mapping.state_keys == PRESETS["droid"].state_keys
    assert reader.skip(4.0) == 3
    episodes, bad = load_lerobot_episodes(root)
    assert not bad and [len(e.frames) for e in episodes] == [10, 8]
    for e, ep in enumerate(episodes):
        g = _global(e, np.arange(0, LENGTHS[e], 3))
        np.testing.assert_allclose(ep.frames.reshape(len(g), -1).mean(1), [_gray(i) for i in g], atol=2.0)
        np.testing.assert_allclose(ep.states, written["states"][g], atol=1e-6)
        np.testing.assert_allclose(ep.actions, action_between(ep.states[:-1], ep.states[1:]), atol=1e-5)
        assert ep.meta["control_hz"] == 4.0 and ep.meta["task"] == ["put the cup", "wipe"][e]


def test_hand_built_clip_matches_droid_reader_semantics(droid_like):
    root, written = droid_like
    clip = read_lerobot_clip(root, episode=1, frames=4, fps=4.0, start=2)
    np.testing.assert_array_equal(clip.indices, [2, 5, 8, 11])
    g = _global(1, clip.indices)
    np.testing.assert_allclose(clip.frames.reshape(4, -1).mean(1), [_gray(i) for i in g], atol=2.0)
    np.testing.assert_allclose(clip.states, written["states"][g], atol=1e-6)
    assert clip.actions.shape == (3, 7) and clip.frames.dtype == np.uint8
    with pytest.raises(ValueError, match="too few for 4 frames every 3 from 20"):
        read_lerobot_clip(root, episode=1, frames=4, fps=4.0, start=20)


def test_target_pose_actions(droid_like):
    root, written = droid_like
    mapping = LeRobotMapping(PRESETS["droid"].state_keys, ("action.cartesian_position", "action.gripper_position"),
                             "target_pose", CAM)
    clip = read_lerobot_clip(root, episode=0, frames=3, fps=4.0, mapping=mapping)
    s, tgt = written["states"], written["target"]
    np.testing.assert_allclose(clip.actions, action_between(s[[0, 3]], tgt[[2, 5]]), atol=1e-5)


def test_missing_keys_and_bad_layouts_give_clear_errors(droid_like, tmp_path):
    root, _ = droid_like
    with pytest.raises(LeRobotFormatError, match=r"info\.json: state_keys \['observation\.state'\] not among"):
        LeRobotReader(root, LeRobotMapping())
    with pytest.raises(LeRobotFormatError, match=r"state_keys \{'observation.state.joint_position': 7, "
                                                 r"'observation.state.gripper_position': 1\} give 8 values"):
        LeRobotReader(root, LeRobotMapping(("observation.state.joint_position", "observation.state.gripper_position")))
    with pytest.raises(LeRobotFormatError, match=r"no video feature 'observation.images.wrist'; video features: "
                                                 r"\['observation.images.top'\]"):
        LeRobotReader(root, LeRobotMapping(PRESETS["droid"].state_keys, camera_key="observation.images.wrist"))
    with pytest.raises(ValueError, match="12 Hz, below the requested 30 Hz"):
        load_lerobot_episodes(root, fps=30.0)
    with pytest.raises(FileNotFoundError, match="not a LeRobot dataset"):
        LeRobotReader(tmp_path / "empty")
    old = tmp_path / "v21"
    _droid_like(old, version="v2.1")
    with pytest.raises(LeRobotFormatError, match="codebase_version 'v2.1'"):
        LeRobotReader(old)


def test_missing_episode_column_names_the_file(tmp_path):
    root = tmp_path / "ds"
    _droid_like(root)
    path = root / "meta" / "episodes" / "chunk-000" / "file-000.parquet"
    pq.write_table(pq.read_table(path).drop_columns([f"videos/{CAM}/from_timestamp"]), path)
    with pytest.raises(LeRobotFormatError, match=rf"file-000\.parquet: no column 'videos/{CAM}/from_timestamp'"):
        load_lerobot_episodes(root)


def test_joint_space_state_is_refused_and_two_cameras_need_a_choice(tmp_path):
    root = tmp_path / "ds"
    _droid_like(root)
    info_path = root / "meta" / "info.json"
    info = json.loads(info_path.read_text())
    info["features"]["observation.state"] = {"dtype": "float32", "shape": [7], "names": [f"j{i}" for i in range(7)]}
    for k in PRESETS["droid"].state_keys:
        info["features"].pop(k)
    info_path.write_text(json.dumps(info))
    with pytest.raises(LeRobotFormatError, match=r"observation.state is named \['j0'"):
        LeRobotReader(root)
    info = json.loads(info_path.read_text())
    info["features"]["observation.images.wrist"] = dict(info["features"][CAM])
    info_path.write_text(json.dumps(info))
    with pytest.raises(LeRobotFormatError, match=r"choose a camera .*\['observation.images.top', "
                                                 r"'observation.images.wrist'\]"):
        LeRobotReader(root, LeRobotMapping(("observation.state.joint_position",)))


def test_load_training_episodes_dispatch(tiny_dataset, exported):
    npz, _ = load_training_episodes(tiny_dataset, "npz")
    lerobot, _ = load_training_episodes(exported, "lerobot")
    assert len(npz) == len(lerobot) == 6
    with pytest.raises(ValueError, match=r"data_format must be one of \('npz', 'lerobot'\), got 'droid'"):
        load_training_episodes(tiny_dataset, "droid")
