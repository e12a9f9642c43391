"""Under a moved camera, is it the image energy or the predictor that stops pointing at the reach goal?

For reach seeds 1000-1019 in the nominal scene and with the camera moved (the evaluation's "camera" variant: the
same start, goal and seed, only the view differs), 125 one-step moves from the start (dx, dy, dz each in -5, -2.5,
0, 2.5, 5 cm; gripper unchanged) are scored against the encoded goal image (the paper's mean L1 energy) two ways:
predicted by the world model, and true (executed in the simulator, the image encoded). Printed per scene, averaged
over the seeds: the cosine between the best move and the direction to the goal position, for the true and for the
predicted energies (1: straight at the goal), and the Spearman rank correlation of predicted and true energies.
A true-energy cosine that drops under the moved camera means the encoder's view of the goal is what fails, which no
predictor can fix; a predicted one that drops alone means the predictor does. Usage:
    MUJOCO_GL=egl python3 benchmarks/camera_energy_direction.py [model ...] [--scenes none,camera,lighting]

Models are shipped names or path bases; ``--scenes`` takes any randomize presets (default: none,camera). Under a
preset other than the camera the same question holds: does the scene change break the energy or the predictor?
"""
from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the Franka envs)
from agent.factory import model_env_kwargs, resolve_model_path
from predicted_pregrasp_landscape import landscape, spearman  # the script directory is on sys.path
from start_energy_direction import cosine, one_step_moves
from world_model.checkpoint import load_world_model

SEEDS = range(1000, 1020)
SCENES = ("none", "camera")  # default randomize presets: the nominal scene and the evaluation's moved camera


def scene_rows(wm, model: str, scene: str, acts: np.ndarray) -> np.ndarray:
    """(seeds, 3): cos(best true move), cos(best predicted move), Spearman(predicted, true) per seed."""
    env = gym.make("FrankaReach-v0", randomize=scene, **model_env_kwargs(model))
    u = env.unwrapped
    rows = []
    try:
        for seed in SEEDS:
            _, info = env.reset(seed=seed)
            goal_z = wm.encode(info["goal"]["image"][None])[0]
            offset = u.task.goal_pos - u.ee_pose()[0]
            direction = offset / np.linalg.norm(offset)
            e_pred, e_true = landscape(wm, u, acts, goal_z)
            rows.append((cosine(acts[e_true.argmin(), :3], direction), cosine(acts[e_pred.argmin(), :3], direction),
                         spearman(e_pred, e_true)))
    finally:
        env.close()
    return np.asarray(rows)


def main(models: list[str], scenes: tuple[str, ...] = SCENES) -> None:
    torch.set_num_threads(1)
    acts = one_step_moves()
    print(f"reach seeds {SEEDS.start}-{SEEDS.stop - 1}, {len(acts)} one-step moves; mean over seeds "
          "(cos: best move against the direction to the goal)")
    print("| model | scene | cos(best true move) | cos(best predicted move) | Spearman(predicted, true) |")
    print("|---|---|---|---|---|")
    for model in models:
        wm = load_world_model(resolve_model_path(model))
        for scene in scenes:
            r = scene_rows(wm, model, scene, acts)
            print(f"| {model} | {scene} | {r[:, 0].mean():+.2f} | {r[:, 1].mean():+.2f} | {r[:, 2].mean():.2f} |",
                  flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["sim_multitask_distilled"])
    parser.add_argument("--scenes", default=",".join(SCENES), help="comma-separated randomize presets")
    args = parser.parse_args()
    main(args.models, tuple(s for s in args.scenes.split(",") if s))
