"""How much does each scene randomisation axis move a world model's latents, against one control step? (issue 13)

For every axis preset of envs.randomization (and ``all``), the four Franka tasks are reset with seeds
SEED.. (disjoint from the collection seeds 1000003+ and, by default, from the evaluation seeds 1000-1049), a few
random steps are taken, and each frame is encoded twice: as the randomised env shows it, and as the nominal scene
shows the same state (``FrankaEnv.nominal_image``). Printed per model and axis: the mean L1 between the two
layer-normed latents ("scene error"), the mean L1 between the latents of consecutive nominal frames ("one step",
the change the planner's energy has to resolve) and their ratio. A ratio well above 1 means the scene change
moves the latent further than a move of the arm does. Also printed: the rank correlation between the model's
energies (mean L1) of every pair of frames of an episode in the randomised scene and the first model's energies of
the same pairs in the nominal scene: what planning needs is that order of distances, not the latents themselves.
Usage:

    MUJOCO_GL=egl python3 benchmarks/scene_invariance.py sim_multitask runs/distill_mt/model [--episodes 8]
"""
from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the Franka envs)
from envs.randomization import AXES
from training.collect import MIXED_TASKS, random_action

VARIANTS = (*AXES, "all")


def paired_frames(axis: str, image_size: int, camera: str, episodes: int, steps: int, seed: int):
    """uint8 (frames, nominal twins), both (E, steps + 1, S, S, 3), over the four tasks in turn."""
    frames, twins = [], []
    rng = np.random.default_rng(seed)
    made = {task: gym.make(task, image_size=image_size, camera=camera, randomize=axis) for task in MIXED_TASKS}
    try:
        for i in range(episodes):
            env = made[MIXED_TASKS[i % len(MIXED_TASKS)]]
            obs, _ = env.reset(seed=seed + i)
            ep, twin = [obs["image"]], [env.unwrapped.nominal_image()]
            for _ in range(steps):
                obs, *_ = env.step(random_action(rng, 0.05, 0.3))
                ep.append(obs["image"]), twin.append(env.unwrapped.nominal_image())
            frames.append(np.stack(ep)), twins.append(np.stack(twin))
    finally:
        for env in made.values():
            env.close()
    return np.stack(frames), np.stack(twins)


def pair_energies(z: torch.Tensor) -> np.ndarray:
    """Mean L1 between the latents of every pair of frames (i < j) of each episode: z (E, T, N, D) -> (E * pairs,)."""
    i, j = torch.triu_indices(z.shape[1], z.shape[1], offset=1)
    return (z[:, i] - z[:, j]).abs().mean(dim=(-2, -1)).flatten().numpy()


def scores(model, reference, frames: np.ndarray, twins: np.ndarray) -> tuple[float, float, float]:
    """(mean L1 latent(frame) vs latent(twin), mean L1 between consecutive twins' latents, Spearman correlation
    between the model's energies of frame pairs in the randomised scene and ``reference``'s energies of the same
    pairs in the nominal scene: 1 when the scene change leaves the order of distances as it was)."""
    from scipy.stats import spearmanr

    z = model.encode_frames(frames)  # (E, T, N, D)
    zn = model.encode_frames(twins)
    ref = reference.encode_frames(twins)
    rho = spearmanr(pair_energies(z), pair_energies(ref)).statistic
    return float((z - zn).abs().mean()), float((zn[:, 1:] - zn[:, :-1]).abs().mean()), float(rho)


def main() -> None:
    from agent.factory import model_view, resolve_model_path
    from world_model.checkpoint import load_world_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", help="world models (shipped names or path bases)")
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--seed", type=int, default=5000)
    args = parser.parse_args()
    torch.set_num_threads(2)
    paths = [resolve_model_path(m) for m in args.models]
    views = {model_view(p) for p in paths}
    if len(views) != 1:
        raise SystemExit(f"the models see different images (size, camera): {views}")
    (size, camera), = views
    models = [load_world_model(p).float() for p in paths]
    print(f"{size} px, camera {camera}; {args.episodes} episodes x {args.steps + 1} frames per axis, seeds "
          f"{args.seed}..{args.seed + args.episodes - 1}")
    print(f"rank correlation: of frame-pair energies in the randomised scene with {args.models[0]}'s in the nominal")
    print(f"| axis | {' | '.join(f'{m}: scene error / one step (ratio); rank corr.' for m in args.models)} |")
    print(f"|---|{'---|' * len(models)}")
    for axis in VARIANTS:
        frames, twins = paired_frames(axis, size, camera or "front", args.episodes, args.steps, args.seed)
        cells = []
        for model in models:
            err, step, rho = scores(model, models[0], frames, twins)
            cells.append(f"{err:.4f} / {step:.4f} ({err / step:.2f}); {rho:.2f}")
        print(f"| {axis} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
