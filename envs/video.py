"""Episode videos: mp4 of observation frames, optionally with the goal image side by side."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import imageio.v2 as imageio
import numpy as np

from envs.atomic_files import unique_tmp_path


def side_by_side(frame: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """(H, W, 3) + (H, W, 3) -> (H, 2W + 4, 3) with a white separator."""
    if frame.shape != goal.shape:
        raise ValueError(f"frame {frame.shape} and goal {goal.shape} must have the same shape")
    sep = np.full((frame.shape[0], 4, 3), 255, dtype=np.uint8)
    return np.concatenate([frame, sep, goal], axis=1)


def write_video(path: str | Path, frames: Sequence[np.ndarray], fps: float = 4.0,
                goal: np.ndarray | None = None) -> Path:
    """Write uint8 (H, W, 3) frames to an mp4 atomically and verified; returns the path.

    The video is written under a unique temporary name in the same folder, re-opened and its frames counted, and
    only then renamed to ``path``. If writing fails or the file is incomplete (ffmpeg does not report e.g. a full
    disk when it closes), the temporary file is deleted and ``OSError`` is raised: a truncated mp4 is never left
    under ``path``.
    """
    if len(frames) == 0:
        raise ValueError("no frames to write")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = unique_tmp_path(path, keep_suffix=True)  # unique per writer; ffmpeg needs the suffix
    try:
        _encode(tmp, frames, fps, goal)
        _verify_frame_count(tmp, len(frames), path)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _encode(tmp: Path, frames: Sequence[np.ndarray], fps: float, goal: np.ndarray | None) -> None:
    """Encode ``frames`` (with ``goal`` side by side if given) to the mp4 ``tmp`` with libx264."""
    with imageio.get_writer(tmp, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1,
                            quality=8) as writer:
        for frame in frames:
            frame = np.asarray(frame, dtype=np.uint8)
            writer.append_data(side_by_side(frame, goal) if goal is not None else frame)


def count_frames(path: str | Path) -> int:
    """Number of frames that can be decoded from the video at ``path`` (reads the whole file)."""
    with imageio.get_reader(path, format="FFMPEG") as reader:
        return sum(1 for _ in reader)


def _verify_frame_count(tmp: Path, expected: int, final: Path) -> None:
    """OSError unless the freshly written ``tmp`` decodes to ``expected`` frames."""
    try:
        found = count_frames(tmp)
    except Exception as exc:  # noqa: BLE001 - any decoder failure means the file is unusable
        raise OSError(f"video {final} could not be written completely (disk full?): the written file is "
                      f"unreadable ({type(exc).__name__}: {_first_line(exc)})") from exc
    if found != expected:
        raise OSError(f"video {final} could not be written completely (disk full?): {found} of {expected} "
                      "frames readable")


def _first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception message (decoder errors append ffmpeg's whole banner)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else "no message"
