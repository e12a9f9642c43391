"""Shared test helper: how often the scripted expert solves an env."""

from typing import Iterable

import gymnasium as gym

from envs.experts import make_expert


def expert_wins(env: gym.Env, seeds: Iterable[int]) -> int:
    """Episodes (one per seed) in which the noise-free scripted expert ends at success within max_episode_steps."""
    wins = 0
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        expert = make_expert(env)
        for _ in range(env.spec.max_episode_steps):
            obs, _, _, _, info = env.step(expert.act(obs))
        wins += bool(info["is_success"])
    return wins
