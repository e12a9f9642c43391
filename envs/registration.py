"""Register the Franka envs with gymnasium (idempotent)."""

from __future__ import annotations

import gymnasium as gym

from envs.tasks import TASKS


def make_franka_env(task_id: str, **kwargs):
    from envs.franka_env import FrankaEnv

    if task_id not in TASKS:
        raise ValueError(f"unknown task {task_id!r}; known: {sorted(TASKS)}")
    return FrankaEnv(TASKS[task_id](), **kwargs)




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
