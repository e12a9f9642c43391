"""Export collected episodes to a LeRobot v3-style layout (parquet tables + mp4 videos + meta json).

Layout written under ``out``:
  meta/info.json                      (codebase_version "v3.0", fps, features, totals)
  meta/episodes/chunk-000/file-000.parquet   (episode_index, length, dataset_from_index, dataset_to_index)
  data/chunk-000/file-000.parquet     (one row per frame: observation.state (7), action (7), episode_index,
                                       frame_index, index, timestamp; the last frame's action is zeros)
  videos/observation.images.front/chunk-000/file-<episode:03d>.mp4
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from envs.video import write_video
from training.dataset import load_episodes


def export_lerobot(data_dir: str | Path, out: str | Path, fps: float = 4.0) -> Path:
    episodes, _ = load_episodes(data_dir)
    out = Path(out)
    rows: dict[str, list] = {k: [] for k in ("observation.state", "action", "episode_index", "frame_index",
                                             "index", "timestamp")}
    ep_rows: dict[str, list] = {"episode_index": [], "length": [], "dataset_from_index": [], "dataset_to_index": []}
    index = 0
    for e, ep in enumerate(episodes):
        T = ep.frames.shape[0]
        actions = np.concatenate([ep.actions, np.zeros((1, 7), np.float32)])
        for t in range(T):
            rows["observation.state"].append(ep.states[t].tolist())
            rows["action"].append(actions[t].tolist())
            rows["episode_index"].append(e)
            rows["frame_index"].append(t)
            rows["index"].append(index + t)
            rows["timestamp"].append(t / fps)
        ep_rows["episode_index"].append(e)
        ep_rows["length"].append(T)
        ep_rows["dataset_from_index"].append(index)
        ep_rows["dataset_to_index"].append(index + T)
        index += T
        write_video(out / "videos" / "observation.images.front" / "chunk-000" / f"file-{e:03d}.mp4", ep.frames, fps)
    (out / "data" / "chunk-000").mkdir(parents=True, exist_ok=True)
    (out / "meta" / "episodes" / "chunk-000").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(rows), out / "data" / "chunk-000" / "file-000.parquet")
    pq.write_table(pa.table(ep_rows), out / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    h, w = episodes[0].frames.shape[1:3]
    info = {"codebase_version": "v3.0", "robot_type": "franka", "fps": fps, "total_episodes": len(episodes),
            "total_frames": index, "features": {
                "observation.state": {"dtype": "float32", "shape": [7],
                                      "names": ["x", "y", "z", "roll", "pitch", "yaw", "gripper"]},
                "action": {"dtype": "float32", "shape": [7],
                           "names": ["dx", "dy", "dz", "droll", "dpitch", "dyaw", "dgripper"]},
                "observation.images.front": {"dtype": "video", "shape": [h, w, 3]}}}
    (out / "meta" / "info.json").write_text(json.dumps(info, indent=1))
    return out
