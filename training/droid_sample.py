"""Write a tiny DROID-shaped trajectory folder (for tests and docs): trajectory.h5 + recordings/MP4/<serial>.mp4."""

from __future__ import annotations

from pathlib import Path

import h5py
import imageio.v3 as iio
import numpy as np


def write_droid_sample(root: str | Path, steps: int = 40, serial: str = "12345678", seed: int = 0) -> Path:
    """A smooth random arm trajectory at 15 Hz and a 128x96 video whose brightness encodes the frame index."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    (root / "recordings" / "MP4").mkdir(parents=True, exist_ok=True)
    t = np.arange(steps)[:, None] / 15.0
    xyz = np.array([0.5, 0.0, 0.3]) + 0.05 * np.sin(t * rng.uniform(0.5, 2.0, 3))
    rpy = np.array([np.pi - 0.1, 0.05, 0.2]) + 0.1 * np.sin(t * rng.uniform(0.5, 2.0, 3))
    grip = np.clip(t / t[-1], 0, 1)
    with h5py.File(root / "trajectory.h5", "w") as f:
        f["observation/robot_state/cartesian_position"] = np.concatenate([xyz, rpy], 1)
        f["observation/robot_state/gripper_position"] = grip
    frames = np.zeros((steps, 96, 128, 3), np.uint8)
    frames[:] = (np.arange(steps) * (200 // steps))[:, None, None, None].astype(np.uint8)
    iio.imwrite(root / "recordings" / "MP4" / f"{serial}.mp4", frames, fps=15, codec="libx264")
    return root
