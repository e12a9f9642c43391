"""Add the camera pose (``camera_pose``, ``envs.camera_pose``) to sim episodes collected before it was recorded.

    python3 -m training.camera_backfill data/mix96 [data/other ...]

A sim episode's scene (the camera jitter of a randomised scene included) is a function of its reset seed, so the
pose is recovered by building the episode's env again (task, randomisation preset, camera preset and image size
from its meta.json) and resetting it with the episode's seed. The reset must render exactly the episode's first
frame, pixel for pixel, or the episode is refused (:class:`NotReproducibleError`) and nothing of it is written:
a pose is only ever attached to the scene it belongs to. Episodes that already hold a pose are left alone, each
episode is rewritten atomically (``training.dataset.save_episode``), so a killed run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from training.dataset import list_episodes, load_episode, save_episode


NOISE_CORRELATION = 0.1  # max lag-1 autocorrelation of (frame - noiseless render) for "the same scene"


class NotReproducibleError(RuntimeError):
    """Resetting an episode's env with its seed does not render its first frame."""


def _env_key(meta: dict) -> tuple[str, str, str, int]:
    return meta["task"], meta.get("randomize", "none"), meta.get("camera", "front"), int(meta["image_size"])


def _make_env(key: tuple[str, str, str, int]):
    """The env the episode was recorded in, built as vjepa-collect builds it (``training.collect.make_collect_env``)."""
    import envs  # noqa: F401 - registers the Franka envs
    from training.collect import CollectConfig, make_collect_env

    task, randomize, camera, size = key
    env = make_collect_env(CollectConfig(task=task, image_size=size, camera=camera, randomize=randomize), task,
                           randomized=randomize != "none")
    if not hasattr(env.unwrapped, "camera_pose"):
        raise ValueError(f"{task} is not a Franka env of this package: its camera pose cannot be recovered")
    return env


def residual_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Lag-1 autocorrelation (the larger of rows and columns) of the image difference ``a - b``: ~0 when the
    two differ by pixel noise only, large when edges moved."""
    d = a.astype(np.float64) - b.astype(np.float64)
    d -= d.mean()
    var = float((d * d).mean())
    if var == 0.0:
        return 0.0
    return max(float((d[1:] * d[:-1]).mean()), float((d[:, 1:] * d[:, :-1]).mean())) / var


def same_scene(env, observed: np.ndarray, recorded: np.ndarray) -> bool:
    """Whether the env's reset shows the recorded first frame: pixel-identical, or (a scene with pixel noise)
    its difference from the noiseless render uncorrelated between neighbouring pixels (:data:`NOISE_CORRELATION`)."""
    if np.array_equal(observed, recorded):
        return True
    if "noise" not in env.scene_axes or observed.shape != recorded.shape:
        return False
    return residual_correlation(recorded, env.render_image()) < NOISE_CORRELATION


def backfill_episode(path: Path, envs: dict) -> bool:
    """Attach the camera pose to the episode at ``path``; False when it already has one."""
    ep = load_episode(path)
    if ep.camera_pose is not None:
        return False
    key = _env_key(ep.meta)
    if key not in envs:
        envs[key] = _make_env(key)
    env = envs[key]
    obs, _ = env.reset(seed=int(ep.meta["seed"]))
    if not same_scene(env.unwrapped, obs["image"], ep.frames[0]):
        diff = np.abs(obs["image"].astype(int) - ep.frames[0].astype(int)).mean()
        raise NotReproducibleError(f"{path}: resetting {key[0]} (randomize {key[1]!r}, camera {key[2]!r}) with seed "
                                   f"{ep.meta['seed']} does not render the episode's first frame (mean |diff| "
                                   f"{diff:.2f}); its camera pose cannot be recovered")
    pose = env.unwrapped.camera_pose()
    index = int(path.name.split("_")[-1])
    save_episode(path.parent, index, ep.frames, ep.states, ep.actions, ep.meta, ep.nominal_frames,
                 np.repeat(pose[None], len(ep.frames), axis=0))  # the camera is fixed within an episode
    return True


def backfill_camera_pose(data_dir: str | Path, show: bool = True) -> tuple[int, int]:
    """Backfill every episode under ``data_dir``; returns (written, already had a pose)."""
    envs: dict = {}
    written = kept = 0
    try:
        for path in tqdm(list_episodes(data_dir), desc=f"camera pose {data_dir}", disable=not show):
            if backfill_episode(path, envs):
                written += 1
            else:
                kept += 1
    finally:
        for env in envs.values():
            env.close()
    return written, kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dirs", nargs="+", help="npz dataset directories (vjepa-collect)")
    args = parser.parse_args(argv)
    for data_dir in args.data_dirs:
        written, kept = backfill_camera_pose(data_dir)
        print(f"{data_dir}: camera pose added to {written} episodes ({kept} had one)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
