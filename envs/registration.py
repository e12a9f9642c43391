"""Register the Franka envs with gymnasium (idempotent)."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

from envs.tasks import TASKS


def make_franka_env(task_id: str, goal_range_scale: float = 1.0, waypoint_spacing: float | None = None, **kwargs):
    """Build a Franka env; ``goal_range_scale`` scales the task's goal sampling box (1.0 = training range),
    ``waypoint_spacing`` (metres, reach, grasp and pick-and-place only; None: off) adds waypoint subgoal images
    along the free-space moves (envs.tasks.TRAVEL_PHASES), and the remaining kwargs (``image_size``, ``randomize``,
    ...) go to :class:`envs.franka_env.FrankaEnv`."""
    from envs.franka_env import FrankaEnv

    if task_id not in TASKS:
        raise ValueError(f"unknown task {task_id!r}; known: {sorted(TASKS)}")
    if not isinstance(goal_range_scale, (int, float)) or not np.isfinite(goal_range_scale) or goal_range_scale <= 0:
        raise ValueError(f"goal_range_scale must be a finite number > 0, got {goal_range_scale!r}")
    task_kwargs: dict = {"goal_range_scale": float(goal_range_scale)}
    if waypoint_spacing is not None:
        check_waypoint_spacing(waypoint_spacing)
        if task_id not in waypoint_task_ids():
            raise ValueError(f"waypoint_spacing applies to {', '.join(waypoint_task_ids())} only, not {task_id}")
        task_kwargs["waypoint_spacing"] = float(waypoint_spacing)
    return FrankaEnv(TASKS[task_id](**task_kwargs), **kwargs)


def check_waypoint_spacing(spacing) -> None:
    """ValueError unless ``spacing`` is a finite number of metres in [0.02, 1]."""
    if isinstance(spacing, bool) or not isinstance(spacing, (int, float)) or not 0.02 <= spacing <= 1.0:
        raise ValueError(f"waypoint_spacing must be a number of metres in [0.02, 1], got {spacing!r}")


def waypoint_task_ids() -> list[str]:
    """The env ids whose task dataclasses have a ``waypoint_spacing`` field (reach, grasp, pick-and-place)."""
    return [task_id for task_id, task in TASKS.items()
            if any(field.name == "waypoint_spacing" for field in dataclasses.fields(task))]




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
