"""Where do the learned agent's reach misses point? Along the camera's line of sight, or across it?

Runs the learned agent (CEM, the package's CPU defaults) on FrankaReach-v0 seeds SEED..SEED+N-1 in the env its model
was trained on, and, for every failed episode, splits the final TCP-to-goal error (metres, base frame) into its
component along the (upper) camera's line of sight and the rest. For errors with no preferred direction the mean
|along| would be about 0.6x the mean perpendicular norm. Usage:
    MUJOCO_GL=egl python3 benchmarks/reach_miss_direction.py [model] [episodes] [first seed]
"""
from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the Franka envs)
from agent.eval import run_episode
from agent.factory import make_agent, model_env_kwargs
from envs.scene import CAMERAS


def main(model: str = "sim_multitask", episodes: int = 20, first_seed: int = 3000) -> None:
    torch.set_num_threads(1)
    kwargs = model_env_kwargs(model)
    env = gym.make("FrankaReach-v0", **kwargs)
    u = env.unwrapped
    ray = CAMERAS[u.camera].line_of_sight()
    agent = make_agent("learned", env, "cem", model=model, bf16=False)
    misses, successes = [], 0
    for seed in range(first_seed, first_seed + episodes):
        if run_episode(env, agent, seed, u.task.max_episode_steps, None).success:
            successes += 1
            continue
        error = u.ee_pose()[0] - u.task.goal_pos  # the env stays at the episode's last state
        along = float(error @ ray)
        misses.append((along, float(np.linalg.norm(error - along * ray))))
        print(f"seed {seed}: miss {np.round(error, 3)} m, along the line of sight {along:+.3f}", flush=True)
    print(f"{model} ({u.camera}): {successes}/{episodes} reached")
    if misses:
        m = np.abs(np.asarray(misses))
        print(f"misses: mean |along the line of sight| {m[:, 0].mean():.3f} m, mean perpendicular {m[:, 1].mean():.3f} m")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0] if args else "sim_multitask", int(args[1]) if len(args) > 1 else 20,
         int(args[2]) if len(args) > 2 else 3000)
