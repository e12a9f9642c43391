"""Collect episodes in the sim envs with scripted/noisy/random policies (resumable, seeded, atomic)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from training.dataset import episode_dir, save_episode


@dataclass(frozen=True)
class CollectConfig:
    """policy_mix: fractions of episodes from (noisy expert, random actions); expert_noise in units of the
    0.05 m step; gripper_prob: chance per step that a random policy also moves the gripper."""

    task: str = "FrankaReach-v0"
    out_dir: str = "data/reach"
    episodes: int = 300
    steps: int = 20
    image_size: int = 64
    seed: int = 0
    expert_fraction: float = 0.6
    expert_noise: float = 0.6
    random_step: float = 0.05
    gripper_prob: float = 0.3


def random_action(rng: np.random.Generator, step: float, gripper_prob: float) -> np.ndarray:
    """Uniform dxyz in a ball of radius ``step`` (m), no rotation, occasional gripper delta in [-1, 1]."""
    d = rng.normal(size=3)
    d *= rng.uniform(0, step) / max(np.linalg.norm(d), 1e-9)
    grip = rng.uniform(-1, 1) if rng.random() < gripper_prob else 0.0
    return np.concatenate([d, np.zeros(3), [grip]]).astype(np.float32)


def collect_episode(env: gym.Env, cfg: CollectConfig, seed: int) -> dict:
    from envs.experts import make_expert

    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    use_expert = rng.random() < cfg.expert_fraction
    expert = make_expert(env, noise=cfg.expert_noise, seed=seed) if use_expert else None
    frames, states, actions = [obs["image"]], [obs["state"]], []
    for _ in range(cfg.steps):
        if expert is not None:
            action = expert.act(obs)
            if rng.random() < cfg.gripper_prob * 0.5:
                action[6] = rng.uniform(-1, 1)
        else:
            action = random_action(rng, cfg.random_step, cfg.gripper_prob)
        obs, _, term, trunc, info = env.step(action)
        frames.append(obs["image"]), states.append(obs["state"]), actions.append(action)
        if term:
            break
    return {
        "frames": np.stack(frames), "states": np.stack(states), "actions": np.stack(actions),
        "meta": {"task": cfg.task, "image_size": cfg.image_size, "control_hz": env.unwrapped.control_hz,
                 "seed": seed, "policy": "noisy_expert" if use_expert else "random",
                 "success": bool(info["is_success"])},
    }


def collect(cfg: CollectConfig) -> Path:
    """Record ``cfg.episodes`` episodes to ``cfg.out_dir``; episodes already on disk are skipped (resume)."""
    import envs  # noqa: F401 - registers the ids

    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = gym.make(cfg.task, image_size=cfg.image_size, max_episode_steps=cfg.steps + 1)
    try:
        for i in tqdm(range(cfg.episodes), desc=f"collect {cfg.task}"):
            if episode_dir(out, i).exists():
                continue
            ep = collect_episode(env, cfg, cfg.seed * 1_000_003 + i)
            save_episode(out, i, ep["frames"], ep["states"], ep["actions"], ep["meta"])
    finally:
        env.close()
    return out
