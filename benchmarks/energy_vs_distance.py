"""How far from a goal does the image energy still say which way the goal is?

A planner can only descend the energy if it falls as the hand nears the goal. For grasp seeds 1000-1011 the goal is
the "approach" subgoal image (the open hand 8 cm above the cube, the first subgoal the agent must reach), and the
hand is put at 9 distances (0-25 cm) from that pose along 8 fixed directions (upper half-space, so the hand does
not hit the table), the rest of the scene as at the episode start. Each image is encoded and scored against the
goal latent. This is the true energy (rendered frames, no predictor), i.e. the landscape a perfect predictor would
give the planner.

Printed per model and energy: the mean energy per distance ring (as a fraction of the 25 cm ring's), the Spearman
correlation of energy and distance per seed (mean over seeds), and the far-ranking accuracy: over pairs of points of
one seed both >= 10 cm from the goal and >= 5 cm apart in distance, the fraction in which the nearer one has the
lower energy (0.5: the energy does not tell; 1: it always does). Energies: ``l1`` is the paper's mean L1 over
patch tokens; ``blur<s>`` first blurs both token grids with a Gaussian of s tokens (:func:`blur_tokens`).

Then what a greedy one-step planner sees (paper energy only): from the hand at 5-25 cm along the first
``GREEDY_DIRECTIONS`` directions, the 125 one-step moves of benchmarks/start_energy_direction.py are executed and
scored; printed per distance: the mean cosine between the lowest-energy move and the direction to the goal pose,
and the fraction of starts where that cosine is > 0.5 (the greedy step makes real progress).
Usage:
    MUJOCO_GL=egl python3 benchmarks/energy_vs_distance.py [model ...]   # shipped names or path bases
"""
from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the Franka envs)
from agent.energy import latent_energy
from agent.factory import model_env_kwargs, resolve_model_path
from agent.oracle import simulate_sequences
from predicted_pregrasp_landscape import spearman  # the script directory is on sys.path
from start_energy_direction import cosine, one_step_moves
from world_model.checkpoint import load_world_model

SEEDS = range(1000, 1012)
DISTANCES = (0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.15, 0.20, 0.25)  # metres from the approach pose
BLURS = (0.0, 1.0, 2.0)  # Gaussian sigma, in tokens (0: the paper's energy)
FAR = 0.10  # metres: the far-ranking accuracy compares points at least this far from the goal
GREEDY_DISTANCES = (0.05, 0.10, 0.15, 0.20, 0.25)  # metres from the approach pose
GREEDY_DIRECTIONS = 3


def blur_tokens(z: torch.Tensor, grid: int, sigma: float) -> torch.Tensor:
    """z (..., N, D) latents of a grid x grid token map (N = grid**2, row-major) -> the same, each channel blurred over
    the map by a Gaussian of std ``sigma`` tokens (0: unchanged). Normalised at the borders (each output is a
    weighted mean of the tokens inside the map), so a constant map stays constant."""
    if sigma < 0 or not torch.isfinite(torch.tensor(float(sigma))):
        raise ValueError(f"sigma must be a finite number of tokens >= 0, got {sigma!r}")
    if z.shape[-2] != grid * grid:
        raise ValueError(f"z has {z.shape[-2]} tokens per frame, not a {grid} x {grid} grid")
    if sigma == 0:
        return z
    offsets = torch.arange(grid, dtype=torch.float32)
    weights = torch.exp(-0.5 * ((offsets[:, None] - offsets[None]) / sigma) ** 2)  # (grid, grid): out row, in row
    weights = (weights / weights.sum(dim=1, keepdim=True)).to(z.dtype)
    maps = z.unflatten(-2, (grid, grid))  # (..., grid_y, grid_x, D)
    maps = torch.einsum("yv,...vxd->...yxd", weights, maps)  # blur along y
    maps = torch.einsum("xu,...yud->...yxd", weights, maps)  # blur along x
    return maps.flatten(-3, -2)


def directions(n: int = 8, seed: int = 0) -> np.ndarray:
    """(n, 3) fixed unit vectors with z >= 0 (base frame)."""
    d = np.random.default_rng(seed).normal(size=(n, 3))
    d[:, 2] = np.abs(d[:, 2])
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def approach_goal(env, seed: int) -> tuple[dict, np.ndarray]:
    """Reset to grasp ``seed``; (the "approach" subgoal dict, its TCP position (3,) in metres)."""
    _, info = env.reset(seed=seed)
    goal = info["subgoals"][env.unwrapped.subgoal_index("approach")]
    return goal, np.asarray(goal["state"][:3], np.float64)


def ring_images(env, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(goal image, images (P, S, S, 3), TCP distances to the approach pose (P,) in metres) for one seed."""
    goal, target = approach_goal(env, seed)
    u = env.unwrapped
    start = u.get_sim_state()
    images, dists = [], []
    for direction in directions():
        for d in DISTANCES:
            u.set_sim_state(start)
            u.move_to(target + d * direction)
            images.append(u.render_image())
            dists.append(float(np.linalg.norm(u.ee_pose()[0] - target)))
    u.set_sim_state(start)
    return goal["image"], np.stack(images), np.asarray(dists)


def greedy_cosines(wm, env, seed: int) -> np.ndarray:
    """(GREEDY_DIRECTIONS, len(GREEDY_DISTANCES)): cosine between the true-energy-best one-step move and the
    direction from the hand to the approach pose, for the hand put at each distance along each direction."""
    goal, target = approach_goal(env, seed)
    u = env.unwrapped
    goal_z = wm.encode(goal["image"][None])[0]
    start, acts = u.get_sim_state(), one_step_moves()
    out = np.zeros((GREEDY_DIRECTIONS, len(GREEDY_DISTANCES)))
    for i, direction in enumerate(directions()[:GREEDY_DIRECTIONS]):
        for j, d in enumerate(GREEDY_DISTANCES):
            u.set_sim_state(start)
            u.move_to(target + d * direction)
            images = [row[0] for row in simulate_sequences(u, acts[:, None], u.render_image)]  # one step each
            to_goal = target - u.ee_pose()[0]
            with torch.inference_mode():
                energy = latent_energy(wm.encode(np.stack(images))[:, None], goal_z).numpy()
            out[i, j] = cosine(acts[energy.argmin(), :3], to_goal / np.linalg.norm(to_goal))
    u.set_sim_state(start)
    return out


def far_ranking(energy: np.ndarray, dist: np.ndarray) -> float:
    """Fraction of pairs (both >= FAR from the goal, >= 5 cm apart) where the nearer point has the lower energy."""
    far = np.flatnonzero(dist >= FAR)
    i, j = np.meshgrid(far, far, indexing="ij")
    pairs = dist[j] - dist[i] >= 0.05  # j is the farther one
    return float((energy[i][pairs] < energy[j][pairs]).mean())


def main(models: list[str]) -> None:
    torch.set_num_threads(1)
    print(f"grasp seeds {SEEDS.start}-{SEEDS.stop - 1}, goal: the approach subgoal image; hand at "
          f"{', '.join(f'{d * 100:g}' for d in DISTANCES)} cm from its pose along {len(directions())} directions")
    rings = " | ".join(f"{d * 100:g} cm" for d in DISTANCES)
    print(f"| model | energy | Spearman(energy, distance) | far-ranking accuracy | energy / 25 cm ring's: {rings} |")
    print("|---|---|---|---|" + "---|" * len(DISTANCES))
    greedy = []
    for model in models:
        wm = load_world_model(resolve_model_path(model))
        env = gym.make("FrankaGrasp-v0", **model_env_kwargs(model))
        grid = round(wm.config.image_size / wm.config.encoder.patch_size)
        data = [ring_images(env, seed) for seed in SEEDS]
        greedy.append(np.concatenate([greedy_cosines(wm, env, seed) for seed in SEEDS]))  # (seeds x dirs, dists)
        env.close()
        for sigma in BLURS:
            rho, rank, curves = [], [], []
            for goal_image, images, dist in data:
                with torch.inference_mode():
                    goal_z = blur_tokens(wm.encode(goal_image[None]), grid, sigma)[0]
                    z = blur_tokens(wm.encode(images), grid, sigma)
                energy = latent_energy(z[:, None], goal_z).numpy()
                rho.append(spearman(energy, dist))
                rank.append(far_ranking(energy, dist))
                per_ring = energy.reshape(-1, len(DISTANCES)).mean(axis=0)
                curves.append(per_ring / per_ring[-1])
            name = "l1" if sigma == 0 else f"blur{sigma:g}"
            curve = " | ".join(f"{c:.2f}" for c in np.mean(curves, axis=0))
            print(f"| {model} | {name} | {np.mean(rho):.2f} | {np.mean(rank):.2f} | {curve} |", flush=True)
    print(f"\ngreedy one-step moves (paper energy), {GREEDY_DIRECTIONS} directions x {len(SEEDS)} seeds per distance")
    print("| model | " + " | ".join(f"{d * 100:g} cm: mean cos, share > 0.5" for d in GREEDY_DISTANCES) + " |")
    print("|---|" + "---|" * len(GREEDY_DISTANCES))
    for model, cos in zip(models, greedy):
        cells = " | ".join(f"{c.mean():+.2f}, {(c > 0.5).mean():.2f}" for c in cos.T)
        print(f"| {model} | {cells} |", flush=True)

if __name__ == "__main__":
    main(sys.argv[1:] or ["sim_multitask_distilled", "sim_multitask"])
