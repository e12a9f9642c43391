"""DROID-format reader (raw DROID trajectory folders), following the V-JEPA 2-AC data conventions.

A trajectory folder holds
- ``trajectory.h5`` with ``observation/robot_state/cartesian_position`` (T, 6) [x, y, z, roll, pitch, yaw]
  (base frame, scipy 'xyz' Euler) and ``observation/robot_state/gripper_position`` (T,) in [0, 1], recorded at
  15 Hz;
- ``metadata_*.json`` naming the camera serials (``ext1_cam_serial``, ``ext2_cam_serial``, ``wrist_cam_serial``);
- ``recordings/MP4/<serial>.mp4`` per camera.
A clip is ``frames`` consecutive samples taken every ``round(source_fps / fps)`` steps (8 frames at ~4 fps in
the paper). States are [cartesian_position, gripper]; actions are pose deltas between consecutive clip states
(envs.conventions.action_between: [dxyz, euler_xyz(R_{t+1} R_t^T), dgripper]).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import imageio.v2 as imageio
import numpy as np

from envs.conventions import action_between
from training.checks import inside

SOURCE_FPS = 15.0
_SERIAL = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass
class DroidClip:
    frames: np.ndarray  # (T, H, W, 3) uint8
    states: np.ndarray  # (T, 7) float32
    actions: np.ndarray  # (T - 1, 7) float32
    indices: np.ndarray  # (T,) source time steps used


def _camera_serial(folder: Path, camera: str) -> str:
    metas = sorted(folder.glob("metadata*.json"))
    if not metas:
        raise FileNotFoundError(f"{folder}: no metadata*.json")
    meta = json.loads(metas[0].read_text())
    key = f"{camera}_cam_serial"
    if key not in meta:
        raise KeyError(f"{metas[0]}: no {key!r} (keys: {sorted(meta)})")
    serial = str(meta[key])
    if not _SERIAL.match(serial):
        raise ValueError(f"{metas[0]}: {key} {serial!r} is not a camera serial (letters, digits, '_-' only)")
    return serial


def read_states(folder: str | Path) -> np.ndarray:
    """(T, 7) float64 DROID states [x, y, z, roll, pitch, yaw, gripper] from trajectory.h5."""
    path = Path(folder) / "trajectory.h5"
    with h5py.File(path, "r") as f:
        try:
            pose = np.asarray(f["observation/robot_state/cartesian_position"], dtype=np.float64)
            grip = np.asarray(f["observation/robot_state/gripper_position"], dtype=np.float64)
        except KeyError as exc:
            raise KeyError(f"{path}: missing DROID key ({exc})") from exc
    if pose.ndim != 2 or pose.shape[1] != 6 or grip.reshape(len(grip), -1).shape != (len(pose), 1):
        raise ValueError(f"{path}: cartesian_position {pose.shape} / gripper_position {grip.shape} disagree")
    return np.concatenate([pose, grip.reshape(-1, 1)], axis=1)


def read_droid_clip(folder: str | Path, frames: int = 8, fps: float = 4.0, start: int = 0,
                    camera: str = "ext1") -> DroidClip:
    """One clip of ``frames`` frames at ~``fps`` starting at source step ``start``."""
    folder = Path(folder)
    states = read_states(folder)
    skip = max(1, int(round(SOURCE_FPS / fps)))
    idx = start + skip * np.arange(frames)
    if idx[-1] >= len(states):
        raise ValueError(f"{folder}: {len(states)} steps are too few for {frames} frames every {skip} from {start}")
    video = inside(folder, f"recordings/MP4/{_camera_serial(folder, camera)}.mp4", "camera video")
    reader = imageio.get_reader(video)
    try:
        wanted = set(idx.tolist())
        images = {i: np.asarray(im) for i, im in enumerate(reader) if i in wanted}
    finally:
        reader.close()
    missing = sorted(wanted - set(images))
    if missing:
        raise ValueError(f"{video}: frames {missing[:5]} missing (video shorter than trajectory.h5)")
    clip_states = states[idx]
    return DroidClip(
        frames=np.stack([images[i] for i in idx.tolist()]).astype(np.uint8),
        states=clip_states.astype(np.float32),
        actions=action_between(clip_states[:-1], clip_states[1:]).astype(np.float32),
        indices=idx,
    )


def write_droid_sample(folder: str | Path, steps: int = 60, size: tuple[int, int] = (72, 96), seed: int = 0,
                       serial: str = "12345678") -> Path:
    """Write a tiny synthetic DROID-shaped trajectory folder (smooth random poses, a moving square video)."""
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    t = np.arange(steps) / SOURCE_FPS
    pose = np.stack([0.5 + 0.1 * np.sin(t), 0.1 * np.cos(t), 0.3 + 0.05 * t / t[-1],
                     np.pi - 0.1 * t, 0.05 * np.sin(2 * t), 0.2 * t], axis=1)
    pose += rng.normal(0, 1e-3, pose.shape)
    grip = np.clip(t / t[-1], 0, 1)
    (folder / "recordings" / "MP4").mkdir(parents=True, exist_ok=True)
    with h5py.File(folder / "trajectory.h5", "w") as f:
        f["observation/robot_state/cartesian_position"] = pose
        f["observation/robot_state/gripper_position"] = grip
        f["action/cartesian_velocity"] = np.zeros((steps, 6))
    (folder / "metadata_sample.json").write_text(json.dumps(
        {"ext1_cam_serial": serial, "ext2_cam_serial": "0", "wrist_cam_serial": "1", "trajectory_length": steps}))
    h, w = size
    with imageio.get_writer(folder / "recordings" / "MP4" / f"{serial}.mp4", fps=SOURCE_FPS, codec="libx264",
                            macro_block_size=1, quality=9) as writer:
        for i in range(steps):
            frame = np.full((h, w, 3), 40, np.uint8)
            x = int((w - 16) * i / max(1, steps - 1))
            frame[h // 2 - 8:h // 2 + 8, x:x + 16] = 230
            writer.append_data(frame)
    return folder
