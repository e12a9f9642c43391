"""Where does a cube land when the hand lets go above the target? The physics behind ``release_in_place``.

For each seed the noise-free pick-and-place expert grasps the cube and carries it to ~10 cm above the target (the
start of its lowering phase, where session 17's learned agent let go), then opens the hand in one step while the arm
makes one of several motions, and the cube is left to settle for 8 steps. Printed per motion: the mean horizontal
distance (cm) from where it lands to the target, and in how many seeds that is within the 5 cm success radius.

Usage:
    MUJOCO_GL=egl python3 benchmarks/release_drop.py [--seeds 1000:1012] [--camera workspace_wrist]
"""
from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the Franka envs)
from envs.experts import PickPlaceExpert
from envs.tasks import SUCCESS_RADIUS

# arm motion (dx, dy, dz in metres, base frame) in the step in which the hand opens
MOTIONS = {"still": (0.0, 0.0, 0.0), "up 5 cm": (0.0, 0.0, 0.05), "down 3 cm": (0.0, 0.0, -0.03),
           "sideways 3 cm": (0.03, 0.0, 0.0), "up 4 cm + sideways 3 cm": (0.03, 0.0, 0.04)}


def carry_above_target(env, seed: int) -> float:
    """Reset to ``seed`` and run the expert until it is above the target, about to lower; the cube's height above
    the table (m)."""
    env.reset(seed=seed)
    expert = PickPlaceExpert(env, noise=0.0, seed=0)
    for _ in range(60):
        if expert.phase >= 5:
            break
        env.step(expert.act(None))
    if expert.phase < 5:
        raise RuntimeError(f"seed {seed}: the expert did not reach the target")
    return float(env.data.body("cube0").xpos[2] - env.task.scene.cube_size)


def drop(env, seed: int, motion: tuple[float, float, float], settle_steps: int = 8) -> float:
    """Placement error (m) after opening the hand with the arm making ``motion`` in the same step."""
    carry_above_target(env, seed)
    action = np.zeros(7, np.float32)
    action[:3], action[6] = motion, env.action_space.low[6]
    env.step(action)
    for _ in range(settle_steps):
        env.step(np.zeros(7, np.float32))
    return env.task.placement_error(env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1000:1012", help="first:end (end excluded)")
    parser.add_argument("--camera", default="workspace_wrist")
    args = parser.parse_args()
    first, end = (int(x) for x in args.seeds.split(":"))
    env = gym.make("FrankaPickPlace-v0", camera=args.camera, image_size=64).unwrapped
    heights = [carry_above_target(env, seed) for seed in range(first, end)]
    print(f"seeds {first}-{end - 1}: the cube let go {100 * min(heights):.1f}-{100 * max(heights):.1f} cm above "
          f"the table")
    for name, motion in MOTIONS.items():
        errors = np.array([drop(env, seed, motion) for seed in range(first, end)])
        print(f"{name:>24}: lands {100 * errors.mean():5.1f} cm from the target (max {100 * errors.max():4.1f}); "
              f"{int((errors < SUCCESS_RADIUS).sum())}/{len(errors)} within {100 * SUCCESS_RADIUS:.0f} cm")
    env.close()


if __name__ == "__main__":
    main()
