"""DROID-format reader: trajectory folders -> clips of (frames, states, actions) in envs.conventions.

A DROID trajectory folder holds ``trajectory.h5`` with ``observation/robot_state/cartesian_position`` (T, 6)
= [x, y, z, roll, pitch, yaw] (metres, scipy 'xyz' euler, robot base frame) and
``observation/robot_state/gripper_position`` (T, 1) (0 = open .. 1 = closed), recorded at 15 Hz, and the
camera videos ``recordings/MP4/<serial>.mp4``. As in V-JEPA 2-AC post-training, a clip is 8 frames sampled
at ~4 fps (every ``round(15 / 4) = 4``-th frame); states are [xyz, euler xyz, gripper] and action t is the pose
delta between sampled states t and t+1: [dxyz, euler_xyz(R_{t+1} R_t^T), dgripper]
(``envs.conventions.action_between``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import h5py
import imageio.v3 as iio
import numpy as np

from envs.conventions import action_between

DROID_HZ = 15.0


@dataclass(frozen=True)
class DroidClip:
    frames: np.ndarray  # (T, S, S, 3) uint8
    states: np.ndarray  # (T, 7) float32
    actions: np.ndarray  # (T - 1, 7) float32


def frame_stride(source_hz: float = DROID_HZ, target_fps: float = 4.0) -> int:
    """Frame step that samples ~target_fps from a source_hz recording (15 Hz -> 4 fps: every 4th frame)."""
    if source_hz <= 0 or target_fps <= 0:
        raise ValueError("source_hz and target_fps must be > 0")
    return max(1, int(round(source_hz / target_fps)))


def read_droid_states(h5_path: str | Path) -> np.ndarray:
    """(T, 7) float32 states [x, y, z, roll, pitch, yaw, gripper] from a DROID trajectory.h5."""
    with h5py.File(h5_path, "r") as f:
        try:
            cart = np.asarray(f["observation/robot_state/cartesian_position"], np.float64)
            grip = np.asarray(f["observation/robot_state/gripper_position"], np.float64)
        except KeyError as exc:
            raise ValueError(f"{h5_path}: missing DROID key {exc}") from exc
    if cart.ndim != 2 or cart.shape[1] != 6:
        raise ValueError(f"{h5_path}: cartesian_position must be (T, 6), got {cart.shape}")
    grip = grip.reshape(len(grip), -1)[:, :1]  # (T, 1)
    if len(grip) != len(cart):
        raise ValueError(f"{h5_path}: {len(cart)} poses but {len(grip)} gripper values")
    return np.concatenate([cart, grip], axis=1).astype(np.float32)


def states_to_actions(states: np.ndarray) -> np.ndarray:
    """(T, 7) states -> (T-1, 7) actions, action t = action_between(state t, state t+1)."""
    return np.stack([action_between(states[t], states[t + 1]) for t in range(len(states) - 1)]).astype(np.float32)


def _resize(frame: np.ndarray, size: int) -> np.ndarray:
    """Centre crop to aspect 1.35 (the AC/DROID crop), then resize to (size, size)."""
    h, w = frame.shape[:2]
    cw = min(w, int(round(h * 1.35)))
    x0 = (w - cw) // 2
    return cv2.resize(np.ascontiguousarray(frame[:, x0:x0 + cw]), (size, size), interpolation=cv2.INTER_AREA)


def read_droid_clip(traj_dir: str | Path, camera: str | None = None, start: int = 0, frames: int = 8,
                    image_size: int = 64, target_fps: float = 4.0) -> DroidClip:
    """One clip of ``frames`` frames sampled at ~target_fps starting at raw frame ``start``."""
    traj_dir = Path(traj_dir)
    states = read_droid_states(traj_dir / "trajectory.h5")
    videos = sorted((traj_dir / "recordings" / "MP4").glob("*.mp4"))
    if camera is not None:
        videos = [v for v in videos if v.stem == camera]
    if not videos:
        raise FileNotFoundError(f"{traj_dir}/recordings/MP4: no video{f' for camera {camera}' if camera else ''}")
    video = iio.imread(videos[0])  # (Tv, H, W, 3)
    stride = frame_stride(DROID_HZ, target_fps)
    idx = start + stride * np.arange(frames)
    n = min(len(states), len(video))
    if idx[-1] >= n:
        raise ValueError(f"{traj_dir}: need raw frame {idx[-1]} but the trajectory has {n}")
    st = states[idx]
    imgs = np.stack([_resize(video[i], image_size) for i in idx]).astype(np.uint8)
    return DroidClip(imgs, st, states_to_actions(st))
