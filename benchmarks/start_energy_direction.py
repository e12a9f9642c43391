"""From the grasp start pose, does the one-step image energy to the pregrasp image point toward the pregrasp pose?

For grasp seeds 1000-1011 (the start: hand 20-30 cm above the table), 125 one-step moves (dx, dy, dz each in
-5, -2.5, 0, 2.5, 5 cm; no rotation; gripper unchanged) are scored against the encoded pregrasp subgoal image
(the paper's mean L1 energy) two ways: predicted by the world model, and true (executed in the simulator, the
image encoded). Printed per seed: the cosine between each best move and the direction to the pregrasp pose, and
the Spearman rank correlation of predicted and true energies. Usage:
    MUJOCO_GL=egl python3 benchmarks/start_energy_direction.py [model]
"""
from __future__ import annotations

import itertools
import sys

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the Franka envs)
from agent.factory import model_env_kwargs
from predicted_pregrasp_landscape import landscape, spearman  # the script directory is on sys.path
from world_model.pretrained import load_pretrained

STEPS = (-0.05, -0.025, 0.0, 0.025, 0.05)


def one_step_moves() -> np.ndarray:
    """(125, 7) float32 actions: every (dx, dy, dz) of STEPS (metres, base frame), no rotation, gripper unchanged."""
    return np.array([[dx, dy, dz, 0, 0, 0, 0] for dx, dy, dz in itertools.product(STEPS, repeat=3)], np.float32)


def cosine(move: np.ndarray, direction: np.ndarray) -> float:
    norm = np.linalg.norm(move)
    return float(move @ direction / norm) if norm > 0 else 0.0


def main(model: str = "sim_multitask") -> None:
    torch.set_num_threads(1)
    wm = load_pretrained(model)
    env = gym.make("FrankaGrasp-v0", **model_env_kwargs(model))
    u = env.unwrapped
    acts = one_step_moves()
    rows = []
    for seed in range(1000, 1012):
        _, info = env.reset(seed=seed)
        goal_z = wm.encode(info["subgoals"][u.subgoal_index("pregrasp")]["image"][None])[0]
        target = u.data.body("cube0").xpos + np.array([0.0, 0.0, -0.005])  # the pregrasp TCP, as the expert's
        direction = (target - u.ee_pose()[0]) / np.linalg.norm(target - u.ee_pose()[0])
        e_pred, e_true = landscape(wm, u, acts, goal_z)
        row = (cosine(acts[e_pred.argmin(), :3], direction), cosine(acts[e_true.argmin(), :3], direction),
               spearman(e_pred, e_true))
        rows.append(row)
        print(f"seed {seed}: cos(best predicted move) {row[0]:+.2f}, cos(best true move) {row[1]:+.2f}, "
              f"Spearman {row[2]:.2f}", flush=True)
    r = np.asarray(rows)
    print(f"{model}: best true move toward the pregrasp (cos > 0.1) in {int((r[:, 1] > 0.1).sum())}/{len(r)} seeds; "
          f"mean Spearman {r[:, 2].mean():.2f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sim_multitask")
