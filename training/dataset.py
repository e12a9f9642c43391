"""On-disk episode format and readers.

An episode is a directory ``<root>/episode_<index:06d>/`` holding
- ``data.npz``: ``frames`` uint8 (T, H, W, 3), ``states`` float32 (T, 7) (envs.conventions, base frame),
  ``actions`` float32 (T - 1, 7) (action t moves frame t to frame t + 1); optionally ``nominal_frames`` uint8
  (T, H, W, 3): the same states rendered in the nominal (unrandomised) scene (``vjepa-collect nominal_frames=true``,
  the targets of training.distill); optionally ``camera_pose`` float32 (T, 10): the camera's pose vector at each
  frame (``envs.camera_pose``; recorded by ``vjepa-collect`` since session 11, added to older sim datasets by
  ``python -m training.camera_backfill``), the input of a camera-conditioned world model;
- ``meta.json``: {"format": "vjepa2-ac-episode/1", "task", "image_size", "control_hz", "seed", "policy",
  "success", "length"}.
Episodes are written to a temporary directory and renamed into place, so a crash never leaves a half-written
episode under its final name. Readers validate every episode and report + skip corrupt ones: unreadable files,
wrong dtypes/shapes, non-finite or physically absurd states/actions (:data:`STATE_LIMITS`, :data:`ACTION_LIMITS`),
and a ``meta.json`` whose ``length``/``image_size`` disagree with the data. A dataset whose valid episodes mix
tasks or frame sizes is refused as a whole (:class:`MixedDatasetError`).
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import Dataset

FORMAT = "vjepa2-ac-episode/1"


# Plausibility bounds (inclusive) per state / action dimension, far outside anything a Franka arm can do: they
# catch unit mix-ups and garbage (e.g. 1e6 m), not merely unusual data. Angles are scipy 'xyz' Euler (|.| <= pi)
# with headroom for unwrapped sources.
_ANGLE = 2 * np.pi + 1e-3
STATE_LIMITS = np.array([[-10, 10]] * 3 + [[-_ANGLE, _ANGLE]] * 3 + [[-1.0, 2.0]], np.float64)
ACTION_LIMITS = np.array([[-2, 2]] * 3 + [[-_ANGLE, _ANGLE]] * 3 + [[-2.0, 2.0]], np.float64)
_DIM_NAMES = ("x", "y", "z", "roll", "pitch", "yaw", "gripper")


class CorruptEpisodeError(ValueError):
    pass


class MixedDatasetError(ValueError):
    """The valid episodes of one dataset directory disagree on task or frame size."""


@dataclass
class Episode:
    frames: np.ndarray  # (T, H, W, 3) uint8
    states: np.ndarray  # (T, 7) float32
    actions: np.ndarray  # (T-1, 7) float32
    meta: dict[str, Any]
    nominal_frames: np.ndarray | None = None  # (T, H, W, 3) uint8: the frames' states in the nominal scene
    camera_pose: np.ndarray | None = None  # (T, 10) float32: envs.camera_pose vector of the camera at each frame


def episode_dir(root: str | Path, index: int) -> Path:
    return Path(root) / f"episode_{index:06d}"


def validate_episode(frames: np.ndarray, states: np.ndarray, actions: np.ndarray) -> None:
    """Raise CorruptEpisodeError if shapes/dtypes are inconsistent or values are non-finite."""
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise CorruptEpisodeError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    T = frames.shape[0]
    if T < 2:
        raise CorruptEpisodeError(f"an episode needs >= 2 frames, got {T}")
    if states.shape != (T, 7):
        raise CorruptEpisodeError(f"states must be ({T}, 7), got {states.shape}")
    if actions.shape != (T - 1, 7):
        raise CorruptEpisodeError(f"actions must be ({T - 1}, 7), got {actions.shape}")
    if not (np.isfinite(states).all() and np.isfinite(actions).all()):
        raise CorruptEpisodeError("states/actions contain NaN or inf")
    _check_limits("states", states, STATE_LIMITS)
    _check_limits("actions", actions, ACTION_LIMITS)


def _check_limits(name: str, values: np.ndarray, limits: np.ndarray) -> None:
    """CorruptEpisodeError naming the first entry of ``values`` (N, 7) outside ``limits`` (7, 2)."""
    bad = (values < limits[:, 0]) | (values > limits[:, 1])
    if bad.any():
        t, d = (int(i) for i in np.argwhere(bad)[0])
        prefix = "d" if name == "actions" else ""
        raise CorruptEpisodeError(f"{name}[{t}, {d}] ({prefix}{_DIM_NAMES[d]}) = {values[t, d]:.6g} is outside the "
                                  f"plausible range [{limits[d, 0]:.4g}, {limits[d, 1]:.4g}]")


def validate_nominal_frames(nominal_frames: np.ndarray | None, frames: np.ndarray) -> None:
    """Raise CorruptEpisodeError unless ``nominal_frames`` is None or uint8 of the frames' shape."""
    if nominal_frames is not None and (nominal_frames.dtype != np.uint8 or nominal_frames.shape != frames.shape):
        raise CorruptEpisodeError(f"nominal_frames must be uint8 {frames.shape} like frames, got "
                                  f"{nominal_frames.dtype} {nominal_frames.shape}")


def validate_camera_pose(camera_pose: np.ndarray | None, frames: np.ndarray) -> None:
    """Raise CorruptEpisodeError unless ``camera_pose`` is None or finite float32 (T, 10) with unit direction
    vectors and a field of view in (0, pi) (``envs.camera_pose``)."""
    if camera_pose is None:
        return
    from envs.camera_pose import CAMERA_POSE_DIM

    T = frames.shape[0]
    if camera_pose.dtype != np.float32 or camera_pose.shape != (T, CAMERA_POSE_DIM):
        raise CorruptEpisodeError(f"camera_pose must be float32 ({T}, {CAMERA_POSE_DIM}), got {camera_pose.dtype} "
                                  f"{camera_pose.shape}")
    if not np.isfinite(camera_pose).all():
        raise CorruptEpisodeError("camera_pose contains NaN or inf")
    norms = np.linalg.norm(camera_pose[:, 3:9].reshape(T, 2, 3), axis=-1)
    if np.abs(norms - 1).max() > 1e-3 or not ((camera_pose[:, 9] > 0) & (camera_pose[:, 9] < np.pi)).all():
        raise CorruptEpisodeError("camera_pose direction vectors must be unit length and the field of view in "
                                  "(0, pi) radians (envs.camera_pose)")


def validate_meta(meta: dict[str, Any], frames: np.ndarray) -> None:
    """Raise CorruptEpisodeError if meta.json's ``length`` / ``image_size`` disagree with the frames."""
    T, H, W = frames.shape[:3]
    if meta.get("length") != T:
        raise CorruptEpisodeError(f"meta.json length {meta.get('length')!r} but data.npz holds {T} frames")
    size = meta.get("image_size")
    if size is not None and (H, W) != (size, size):
        raise CorruptEpisodeError(f"meta.json image_size {size!r} but the frames are {H}x{W}")


def save_episode(root: str | Path, index: int, frames: np.ndarray, states: np.ndarray, actions: np.ndarray,
                 meta: dict[str, Any], nominal_frames: np.ndarray | None = None,
                 camera_pose: np.ndarray | None = None) -> Path:
    """Write one episode atomically (tmp dir + rename). Returns its directory. Refuses (CorruptEpisodeError) data
    that :func:`load_episode` would reject, including a ``meta["image_size"]`` that disagrees with the frames."""
    frames, states, actions = np.asarray(frames), np.asarray(states, np.float32), np.asarray(actions, np.float32)
    validate_episode(frames, states, actions)
    validate_nominal_frames(None if nominal_frames is None else np.asarray(nominal_frames), frames)
    validate_camera_pose(None if camera_pose is None else np.asarray(camera_pose), frames)
    meta = {**meta, "format": FORMAT, "length": int(frames.shape[0])}
    validate_meta(meta, frames)
    final = episode_dir(root, index)
    tmp = final.with_name(final.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    extra = {} if nominal_frames is None else {"nominal_frames": np.asarray(nominal_frames)}
    if camera_pose is not None:
        extra["camera_pose"] = np.asarray(camera_pose)
    np.savez_compressed(tmp / "data.npz", frames=frames, states=states, actions=actions, **extra)
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def load_episode(path: str | Path) -> Episode:
    """Load and validate one episode directory (CorruptEpisodeError on any problem)."""
    path = Path(path)
    try:
        meta = json.loads((path / "meta.json").read_text())
        with np.load(path / "data.npz") as z:
            frames, states, actions = z["frames"], z["states"], z["actions"]
            nominal = z["nominal_frames"] if "nominal_frames" in z.files else None
            camera_pose = z["camera_pose"] if "camera_pose" in z.files else None
    except Exception as exc:  # noqa: BLE001 - any read failure means a corrupt episode
        raise CorruptEpisodeError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc
    if meta.get("format") != FORMAT:
        raise CorruptEpisodeError(f"{path}: unknown format {meta.get('format')!r}, expected {FORMAT!r}")
    try:
        validate_episode(frames, states, actions)
        validate_nominal_frames(nominal, frames)
        validate_camera_pose(camera_pose, frames)
        validate_meta(meta, frames)
    except CorruptEpisodeError as exc:
        raise CorruptEpisodeError(f"{path}: {exc}") from exc
    return Episode(frames, states, actions, meta, nominal, camera_pose)


def list_episodes(root: str | Path) -> list[Path]:
    """Completed episode directories under root, sorted (temporary ones are ignored)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset directory {root} does not exist")
    return sorted(p for p in root.glob("episode_*") if p.is_dir() and not p.name.endswith(".tmp"))


def load_episodes(root: str | Path) -> tuple[list[Episode], list[str]]:
    """All valid episodes plus the list of skipped corrupt ones (each reported with a warning).

    Raises MixedDatasetError when the valid episodes mix tasks or frame sizes."""
    good, paths, bad = [], [], []
    for path in list_episodes(root):
        try:
            good.append(load_episode(path))
            paths.append(path)
        except CorruptEpisodeError as exc:
            warnings.warn(f"skipping corrupt episode: {exc}", stacklevel=2)
            bad.append(str(exc))
    if not good:
        raise ValueError(f"no valid episodes under {root} ({len(bad)} corrupt)")
    check_uniform(root, good, paths)
    return good, bad


def _signature(ep: Episode) -> tuple[Any, tuple[int, int], str]:
    """What every episode of one dataset directory shares: the task (the task list of a mixed collection, meta
    "mix"), the frame size and the camera preset."""
    return ep.meta.get("mix", ep.meta.get("task")), tuple(ep.frames.shape[1:3]), ep.meta.get("camera", "front")


def _describe(sig: tuple[Any, tuple[int, int], str]) -> str:
    return f"task {sig[0]!r} with {sig[1][0]}x{sig[1][1]} frames (camera {sig[2]!r})"


def _check_same_signature(named: list[tuple[str, Episode]], prefix: str, advice: str) -> None:
    """MixedDatasetError ``"<prefix><name> has <...>, <first name> has <...>; <advice>"`` for the first of the
    (name, episode) pairs whose :func:`_signature` differs from the first pair's."""
    name0, ep0 = named[0]
    first = _signature(ep0)
    for name, ep in named[1:]:
        other = _signature(ep)
        if other != first:
            raise MixedDatasetError(f"{prefix}{name} has {_describe(other)}, {name0} has {_describe(first)}; "
                                    f"{advice}")


def check_uniform(root: str | Path, episodes: list[Episode], paths: list[Path]) -> None:
    """MixedDatasetError naming the first episode whose task or frame size differs from the first episode's."""
    _check_same_signature([(path.name, ep) for path, ep in zip(paths, episodes)], f"mixed dataset under {root}: ",
                          "keep one task (or one mixed collection), image size and camera per dataset directory")


def check_compatible_datasets(datasets: list[tuple[str, Episode]]) -> None:
    """MixedDatasetError naming the first dataset (name, one of its episodes) whose task, frame size or camera
    differs from the first one's: several datasets trained on together must share them, as one directory must."""
    _check_same_signature(datasets, "datasets do not match: ",
                          "train together only datasets of one task (or task mix), image size and camera")


def load_datasets(roots: tuple[str, ...] | list[str],
                  load: Callable[[str], tuple[list[Episode], list[str]]] | None = None,
                  check: Callable[[list[Episode], str], None] | None = None) -> tuple[list[Episode], list[str]]:
    """The episodes of several dataset directories trained on together (in order) and the corrupt ones skipped.

    ``load(root) -> (episodes, skipped)`` reads one directory (default :func:`load_episodes`); ``check(episodes,
    root)`` may refuse one directory's episodes (raise) or change them in place (e.g. drop what the caller never
    reads) before the next directory is read; the directories must then share task mix, frame size and camera
    (:func:`check_compatible_datasets`).
    """
    load = load or load_episodes
    episodes, bad, firsts = [], [], []
    for root in roots:
        eps, skipped = load(root)
        if check is not None:
            check(eps, root)
        firsts.append((root, eps[0]))
        episodes += eps
        bad += skipped
    check_compatible_datasets(firsts)
    return episodes, bad


class ClipDataset(Dataset):
    """Fixed-length clips of ``frames_per_clip`` consecutive frames (stride 1) from a list of episodes.

    Item: dict(frames uint8 (T, H, W, 3), states float32 (T, 7), actions float32 (T - 1, 7)).
    """

    def __init__(self, episodes: list[Episode], frames_per_clip: int) -> None:
        if frames_per_clip < 2:
            raise ValueError("frames_per_clip must be >= 2")
        self.episodes = episodes
        self.T = frames_per_clip
        self.index = [(e, s) for e, ep in enumerate(episodes) for s in range(ep.frames.shape[0] - frames_per_clip + 1)]
        if not self.index:
            raise ValueError(f"no episode is long enough for clips of {frames_per_clip} frames")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        e, s = self.index[i]
        ep = self.episodes[e]
        sl = slice(s, s + self.T)
        return {
            "frames": torch.from_numpy(ep.frames[sl]),
            "states": torch.from_numpy(ep.states[sl]),
            "actions": torch.from_numpy(ep.actions[s:s + self.T - 1]),
        }
