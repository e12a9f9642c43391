"""Held-out losses of a post-trained world model: the post-training objective on episodes it did not train on.

    python3 -m training.validate runs/mt_posttrain/model data/mix96 --first 2000 --count 400 [--json out.json]

The losses are the ones post-training minimises (``training.posttrain.ac_losses``: teacher-forcing L1 and the
``rollout_steps``-step rollout L1 on layer-normed latents), computed without gradients on a fixed, seeded set of
clips from the episodes ``first .. first + count - 1`` of a dataset directory (in file order, as collected). Run it
on episodes the model trained on and on episodes it did not (e.g. a second collection into the same directory) to
see whether the model generalises or memorises: a held-out loss far above the training loss says more data will
help more than more steps. Results are also broken down by the episodes' task (``meta["task"]``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from training.checks import check_int
from training.dataset import Episode, check_uniform, list_episodes, load_episode


@dataclass(frozen=True)
class ValidateConfig:
    """Which clips to score: ``count`` episodes from index ``first`` (0-based, in file order), ``clips`` clips of
    ``frames_per_clip`` frames drawn with ``seed`` (the same clips for every model scored with the same config)."""

    first: int = 0
    count: int = 200
    clips: int = 512
    frames_per_clip: int = 4
    rollout_steps: int = 2
    batch_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for name, minimum in (("first", 0), ("count", 1), ("clips", 1), ("frames_per_clip", 2),
                              ("rollout_steps", 1), ("batch_size", 1), ("seed", 0)):
            check_int(owner, name, getattr(self, name), minimum)
        if self.frames_per_clip < self.rollout_steps + 1:
            raise ValueError(f"{owner}.frames_per_clip must be > rollout_steps, got {self.frames_per_clip} <= "
                             f"{self.rollout_steps}")


def load_episode_range(data_dir: str | Path, first: int, count: int) -> list[Episode]:
    """Episodes ``first .. first + count - 1`` of ``data_dir`` (ValueError when the directory holds fewer)."""
    paths = list_episodes(data_dir)
    if first + count > len(paths):
        raise ValueError(f"{data_dir} holds {len(paths)} episodes; episodes {first}..{first + count - 1} were asked")
    paths = paths[first:first + count]
    episodes = [load_episode(p) for p in paths]
    check_uniform(data_dir, episodes, paths)
    return episodes


def draw_clips(episodes: list[Episode], cfg: ValidateConfig) -> list[tuple[int, int]]:
    """``cfg.clips`` (episode, start frame) pairs, seeded, uniform over episodes then start frames."""
    rng = np.random.default_rng(cfg.seed)
    lengths = [ep.frames.shape[0] for ep in episodes]
    usable = [i for i, n in enumerate(lengths) if n >= cfg.frames_per_clip]
    if not usable:
        raise ValueError(f"no episode holds {cfg.frames_per_clip} frames")
    picks = rng.choice(usable, size=cfg.clips)
    return [(int(e), int(rng.integers(lengths[e] - cfg.frames_per_clip + 1))) for e in picks]


@torch.no_grad()
def clip_losses(model, episodes: list[Episode], picks: list[tuple[int, int]], cfg: ValidateConfig) -> np.ndarray:
    """Per clip (teacher forcing, rollout) L1 losses, shape (len(picks), 2)."""
    from training.posttrain import ac_clip_losses

    out = []
    for i in range(0, len(picks), cfg.batch_size):
        part = picks[i:i + cfg.batch_size]
        frames = np.stack([episodes[e].frames[s:s + cfg.frames_per_clip] for e, s in part])  # (B, T, H, W, 3)
        b, t = frames.shape[:2]
        z = model.encode(frames.reshape(b * t, *frames.shape[2:]))
        z = z.reshape(b, t, *z.shape[1:])  # (B, T, N, D)
        actions = torch.from_numpy(np.stack([episodes[e].actions[s:s + t - 1] for e, s in part]))
        states = torch.from_numpy(np.stack([episodes[e].states[s:s + t] for e, s in part]))
        camera = None
        if model.camera_conditioned:  # validate() checked that every episode holds its poses
            camera = torch.from_numpy(np.stack([episodes[e].camera_pose[s:s + t] for e, s in part]))
        tf, roll = ac_clip_losses(model, z, actions, states, cfg.rollout_steps, camera)
        out.append(torch.stack([tf, roll], dim=1).double().numpy())  # (B, 2)
    return np.concatenate(out)


def summarise(losses: np.ndarray) -> dict[str, float | int]:
    """Mean teacher-forcing and rollout loss, their sum (post-training's logged ``loss``) and the clip count."""
    tf, roll = losses.mean(axis=0)
    return {"teacher_forcing": round(float(tf), 5), "rollout": round(float(roll), 5),
            "loss": round(float(tf + roll), 5), "clips": int(len(losses))}


def validate(model_path: str | Path, data_dir: str | Path, cfg: ValidateConfig, threads: int = 2) -> dict:
    """Held-out losses of the world model at ``model_path`` on ``data_dir``: overall and per task."""
    from world_model.checkpoint import load_world_model

    torch.set_num_threads(threads)
    episodes = load_episode_range(data_dir, cfg.first, cfg.count)
    model = load_world_model(model_path)
    if model.camera_conditioned:
        from training.posttrain import check_camera_poses

        check_camera_poses(episodes, (str(data_dir),))
    picks = draw_clips(episodes, cfg)
    losses = clip_losses(model, episodes, picks, cfg)
    tasks = np.asarray([episodes[e].meta.get("task", "?") for e, _ in picks])
    return {"model": str(model_path), "data_dir": str(data_dir), "config": asdict(cfg), **summarise(losses),
            "by_task": {t: summarise(losses[tasks == t]) for t in sorted(set(tasks.tolist()))}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", help="world model base path (<model>.safetensors + <model>.json)")
    p.add_argument("data_dir", help="dataset directory of npz episodes (vjepa-collect)")
    for name, default in asdict(ValidateConfig()).items():
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="also write the result to this file")
    args = p.parse_args(argv)
    try:
        cfg = ValidateConfig(**{k: getattr(args, k) for k in asdict(ValidateConfig())})
        result = validate(args.model, args.data_dir, cfg, args.threads)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
