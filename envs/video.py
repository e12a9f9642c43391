"""Episode videos: mp4 of observation frames, optionally with the goal image side by side."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import imageio.v2 as imageio
import numpy as np


def side_by_side(frame: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """(H, W, 3) + (H, W, 3) -> (H, 2W + 4, 3) with a white separator."""
    if frame.shape != goal.shape:
        raise ValueError(f"frame {frame.shape} and goal {goal.shape} must have the same shape")
    sep = np.full((frame.shape[0], 4, 3), 255, dtype=np.uint8)
    return np.concatenate([frame, sep, goal], axis=1)


def write_video(path: str | Path, frames: Sequence[np.ndarray], fps: float = 4.0,
                goal: np.ndarray | None = None) -> Path:
    """Write uint8 (H, W, 3) frames to an mp4 atomically (tmp file + rename). Returns the path."""
    if len(frames) == 0:
        raise ValueError("no frames to write")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    with imageio.get_writer(tmp, fps=fps, codec="libx264", macro_block_size=1, quality=8) as writer:
        for frame in frames:
            frame = np.asarray(frame, dtype=np.uint8)
            writer.append_data(side_by_side(frame, goal) if goal is not None else frame)
    os.replace(tmp, path)
    return path
