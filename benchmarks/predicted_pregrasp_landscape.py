"""Predicted vs true one-step energy near the grasp pose: is the predictor's energy landscape the right shape?

For grasp seeds 1000-1009 the scripted expert brings the open fingers around the cube (the "pregrasp" subgoal
pose). The TCP is then displaced by a few cm (OFFSETS, metres, base frame) and, from that displaced state, a 9 x 9
grid of one-step actions (dx, dy in +-6 cm; dz undoes the z offset; no rotation, gripper unchanged) is scored two
ways against the encoded pregrasp subgoal image (the paper's mean L1 energy):

- predicted: the world model's one-step prediction from the current image and state (what the planner sees);
- true: the action executed in the simulator, the resulting camera image encoded (what the planner should see).

Printed per offset: the distance between each argmin action and the ideal action (-offset), and the Spearman rank
correlation between predicted and true energies over the grid. Usage:
    MUJOCO_GL=egl python3 benchmarks/predicted_pregrasp_landscape.py [model] [seeds]
"""
from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the Franka envs)
from agent.energy import latent_energy
from agent.factory import model_env_kwargs
from agent.kinematics import integrate_sequence
from envs.experts import GraspExpert
from world_model.pretrained import load_pretrained

OFFSETS = {"+y3": (0, 0.03, 0), "-y3": (0, -0.03, 0), "+x2": (0.02, 0, 0), "-x2": (-0.02, 0, 0), "+z4": (0, 0, 0.04)}
GRID = np.linspace(-0.06, 0.06, 9)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = a.argsort().argsort().astype(float), b.argsort().argsort().astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def grid_actions(offset: np.ndarray) -> np.ndarray:
    """(81, 7) actions: dx, dy on GRID, dz = -offset z, no rotation, gripper unchanged."""
    acts = np.zeros((len(GRID) ** 2, 7), np.float32)
    acts[:, 0] = np.repeat(GRID, len(GRID))
    acts[:, 1] = np.tile(GRID, len(GRID))
    acts[:, 2] = -offset[2]
    return acts


@torch.inference_mode()
def landscape(wm, u, acts: np.ndarray, goal_z: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Predicted and true energies (81,) of one-step actions from the env's current sim state."""
    start = u.get_sim_state()
    z0 = wm.encode(u.camera_image()[None])  # (1, N, D)
    state0 = torch.as_tensor(u.current_state(), dtype=torch.float32)
    a = torch.as_tensor(acts)[:, None]  # (S, 1, 7)
    pred = wm.rollout(z0, a, integrate_sequence(state0, a))  # (S, 1, N, D)
    e_pred = latent_energy(pred, goal_z).numpy()
    images = []
    for act in acts:
        u.set_sim_state(start)
        u.simulate(act)
        images.append(u.camera_image())
    u.set_sim_state(start)
    e_true = latent_energy(wm.encode(np.stack(images))[:, None], goal_z).numpy()
    return e_pred, e_true


def main(model: str = "sim_multitask", seeds: range = range(1000, 1010)) -> None:
    torch.set_num_threads(1)
    wm = load_pretrained(model)
    env = gym.make("FrankaGrasp-v0", **model_env_kwargs(model))
    u = env.unwrapped
    rows = {k: [] for k in OFFSETS}
    for seed in seeds:
        _, info = env.reset(seed=seed)
        goal_z = wm.encode(info["subgoals"][u.subgoal_index("pregrasp")]["image"][None])[0]
        expert = GraspExpert(u, 0.0, 0)
        while expert.phase < 2:
            u.simulate(expert.act(None))
        pose_state, tcp = u.get_sim_state(), u.ee_pose()[0]
        for name, off in OFFSETS.items():
            off = np.asarray(off)
            u.set_sim_state(pose_state)
            u.move_to(tcp + off, settle_steps=150)
            acts = grid_actions(off)
            e_pred, e_true = landscape(wm, u, acts, goal_z)
            ideal = -off[:2]
            miss_pred = np.linalg.norm(acts[e_pred.argmin(), :2] - ideal)
            miss_true = np.linalg.norm(acts[e_true.argmin(), :2] - ideal)
            rows[name].append((miss_pred, miss_true, spearman(e_pred, e_true)))
        print(seed, {k: np.round(v[-1], 3).tolist() for k, v in rows.items()}, flush=True)
    print("offset | argmin miss predicted (m) | argmin miss true (m) | rank corr predicted~true")
    for name, v in rows.items():
        v = np.asarray(v)
        print(f"{name} | {v[:, 0].mean():.3f} | {v[:, 1].mean():.3f} | {v[:, 2].mean():.2f}")


if __name__ == "__main__":
    model = sys.argv[1] if len(sys.argv) > 1 else "sim_multitask"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    main(model, range(1000, 1000 + n))
