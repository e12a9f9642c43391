"""Export collected episodes to a LeRobot v3 dataset (parquet tables + mp4 videos + meta json).

Layout written under ``out`` (LeRobot ``codebase_version`` "v3.0"; read back by training.lerobot):
  meta/info.json                      fps, features, totals, ``data_path`` / ``video_path`` templates
  meta/tasks.parquet                  task_index, task (the episodes' ``meta.json`` task names)
  meta/episodes/chunk-000/file-000.parquet
      episode_index, length, tasks, dataset_from_index, dataset_to_index, data/chunk_index, data/file_index,
      videos/<camera>/chunk_index, videos/<camera>/file_index, videos/<camera>/from_timestamp, .../to_timestamp
  data/chunk-000/file-000.parquet     one row per frame: observation.state (7 float32), action (7 float32),
                                      episode_index, frame_index, index, timestamp [s], task_index
  videos/<camera>/chunk-000/file-<episode:03d>.mp4   one file per episode (from_timestamp 0)

Conventions (envs.conventions): state [x, y, z, roll, pitch, yaw, gripper] in the robot base frame (m, rad,
gripper closure in [0, 1]); action row t = [dxyz, euler_xyz(R_{t+1} R_t^T), dgripper] moves frame t to frame t + 1;
the last frame of an episode has no next frame and gets a zero action.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from envs.conventions import ACTION_NAMES, STATE_NAMES
from envs.video import write_video
from training.dataset import Episode, load_episodes

CODEBASE_VERSION = "v3.0"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"
DEFAULT_CAMERA = "observation.images.front"
CHUNKS_SIZE = 1000


def _vectors(values: list[np.ndarray], dim: int) -> pa.FixedSizeListArray:
    """(N, dim) float32 rows as a fixed-size list column (LeRobot's layout for vector features)."""
    flat = np.concatenate([np.asarray(v, np.float32).reshape(-1) for v in values]) if values else np.zeros(0)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat.astype(np.float32), pa.float32()), dim)


def _frame_table(episodes: list[Episode], task_ids: list[int], fps: float) -> pa.Table:
    """One row per frame of every episode (states, zero-padded actions, indices, timestamps in seconds)."""
    states, actions, ep_idx, frame_idx, index, stamps, tasks = [], [], [], [], [], [], []
    start = 0
    for e, ep in enumerate(episodes):
        T = ep.frames.shape[0]
        states.append(ep.states)
        actions.append(np.concatenate([ep.actions, np.zeros((1, 7), np.float32)]))
        ep_idx += [e] * T
        frame_idx += list(range(T))
        index += list(range(start, start + T))
        stamps += [t / fps for t in range(T)]
        tasks += [task_ids[e]] * T
        start += T
    return pa.table({
        "observation.state": _vectors(states, 7), "action": _vectors(actions, 7),
        "episode_index": pa.array(ep_idx, pa.int64()), "frame_index": pa.array(frame_idx, pa.int64()),
        "index": pa.array(index, pa.int64()), "timestamp": pa.array(stamps, pa.float32()),
        "task_index": pa.array(tasks, pa.int64())})


def _episode_table(episodes: list[Episode], task_names: list[str], camera: str, fps: float) -> pa.Table:
    """meta/episodes rows: lengths, global row ranges and where each episode's data and video live."""
    lengths = [int(ep.frames.shape[0]) for ep in episodes]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
    n = len(episodes)
    return pa.table({
        "episode_index": pa.array(range(n), pa.int64()), "length": pa.array(lengths, pa.int64()),
        "tasks": pa.array([[t] for t in task_names], pa.list_(pa.string())),
        "dataset_from_index": pa.array(starts, pa.int64()),
        "dataset_to_index": pa.array([s + t for s, t in zip(starts, lengths)], pa.int64()),
        "data/chunk_index": pa.array([0] * n, pa.int64()), "data/file_index": pa.array([0] * n, pa.int64()),
        f"videos/{camera}/chunk_index": pa.array([0] * n, pa.int64()),
        f"videos/{camera}/file_index": pa.array(range(n), pa.int64()),
        f"videos/{camera}/from_timestamp": pa.array([0.0] * n, pa.float64()),
        f"videos/{camera}/to_timestamp": pa.array([t / fps for t in lengths], pa.float64())})


def _info(episodes: list[Episode], n_tasks: int, camera: str, fps: float) -> dict[str, Any]:
    """meta/info.json: format version, fps, path templates and the feature schema."""
    h, w = episodes[0].frames.shape[1:3]
    total = int(sum(ep.frames.shape[0] for ep in episodes))
    scalar = {"shape": [1], "names": None}
    return {
        "codebase_version": CODEBASE_VERSION, "robot_type": "franka",
        "fps": int(fps) if float(fps).is_integer() else float(fps),
        "total_episodes": len(episodes), "total_frames": total, "total_tasks": n_tasks,
        "chunks_size": CHUNKS_SIZE, "splits": {"train": f"0:{len(episodes)}"},
        "data_path": DATA_PATH, "video_path": VIDEO_PATH,
        "features": {
            "observation.state": {"dtype": "float32", "shape": [7], "names": list(STATE_NAMES)},
            "action": {"dtype": "float32", "shape": [7], "names": list(ACTION_NAMES)},
            camera: {"dtype": "video", "shape": [int(h), int(w), 3], "names": ["height", "width", "channels"],
                     "info": {"video.fps": float(fps), "video.height": int(h), "video.width": int(w),
                              "video.channels": 3, "video.codec": "h264", "video.pix_fmt": "yuv420p",
                              "video.is_depth_map": False, "has_audio": False}},
            "timestamp": {"dtype": "float32", **scalar}, "frame_index": {"dtype": "int64", **scalar},
            "episode_index": {"dtype": "int64", **scalar}, "index": {"dtype": "int64", **scalar},
            "task_index": {"dtype": "int64", **scalar}}}


def export_lerobot(data_dir: str | Path, out: str | Path, fps: float = 4.0, camera: str = DEFAULT_CAMERA) -> Path:
    """Write the episodes under ``data_dir`` as a LeRobot v3 dataset at ``out``.

    fps: the episodes' control rate in Hz (4 for our sim collection), used for timestamps and the videos.
    camera: the video feature key. Returns ``out``.
    """
    episodes, _ = load_episodes(data_dir)
    out = Path(out)
    task_names = [str(ep.meta.get("task", "unknown")) for ep in episodes]
    tasks = sorted(set(task_names))
    task_ids = [tasks.index(t) for t in task_names]
    for e, ep in enumerate(episodes):
        write_video(out / VIDEO_PATH.format(video_key=camera, chunk_index=0, file_index=e), ep.frames, fps)
    data_file = out / DATA_PATH.format(chunk_index=0, file_index=0)
    data_file.parent.mkdir(parents=True, exist_ok=True)
    (out / EPISODES_PATH).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(_frame_table(episodes, task_ids, fps), data_file)
    pq.write_table(_episode_table(episodes, task_names, camera, fps), out / EPISODES_PATH)
    pq.write_table(pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "task": tasks}),
                   out / "meta" / "tasks.parquet")
    (out / "meta" / "info.json").write_text(json.dumps(_info(episodes, len(tasks), camera, fps), indent=1))
    return out
