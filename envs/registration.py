"""Register the Franka envs with gymnasium (idempotent)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from envs.tasks import TASKS


def make_franka_env(task_id: str, goal_range_scale: float = 1.0, **kwargs):
    """Build a Franka env; ``goal_range_scale`` scales the task's goal sampling box (1.0 = training range) and
    the remaining kwargs (``image_size``, ``randomize``, ...) go to :class:`envs.franka_env.FrankaEnv`."""
    from envs.franka_env import FrankaEnv

    if task_id not in TASKS:
        raise ValueError(f"unknown task {task_id!r}; known: {sorted(TASKS)}")
    if not isinstance(goal_range_scale, (int, float)) or not np.isfinite(goal_range_scale) or goal_range_scale <= 0:
        raise ValueError(f"goal_range_scale must be a finite number > 0, got {goal_range_scale!r}")
    return FrankaEnv(TASKS[task_id](goal_range_scale=float(goal_range_scale)), **kwargs)




def register_franka_envs() -> None:
    for task_id, task_cls in TASKS.items():
        if task_id in gym.registry:
            continue
        gym.register(id=task_id, entry_point=f"envs.registration:make_{task_id.split('-')[0]}",
                     max_episode_steps=task_cls().max_episode_steps)


def make_FrankaReach(**kw):
    return make_franka_env("FrankaReach-v0", **kw)


def make_FrankaGrasp(**kw):
    return make_franka_env("FrankaGrasp-v0", **kw)


def make_FrankaReachWithObject(**kw):
    return make_franka_env("FrankaReachWithObject-v0", **kw)


def make_FrankaPickPlace(**kw):
    return make_franka_env("FrankaPickPlace-v0", **kw)
