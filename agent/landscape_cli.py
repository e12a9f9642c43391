"""`vjepa-energy-landscape`: plot the energy of one-step (dx, dy) actions for a sim episode's start and goal.

    vjepa-energy-landscape --task FrankaReach-v0 --seed 0 --model shipped --out landscape.png
"""

from __future__ import annotations

import argparse

import numpy as np


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="FrankaReach-v0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="shipped", help='"shipped" or a path base to <path>.safetensors')
    parser.add_argument("--extent", type=float, default=0.05, help="half-width of the grid, metres")
    parser.add_argument("--points", type=int, default=21)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--out", default="energy_landscape.png")
    args = parser.parse_args(argv)

    import gymnasium as gym

    import envs  # noqa: F401
    from agent.factory import make_agent
    from agent.landscape import energy_landscape, plot_landscape

    env = gym.make(args.task, image_size=args.image_size)
    obs, info = env.reset(seed=args.seed)
    agent = make_agent("learned", env, "cem", {}, args.model)
    land = energy_landscape(agent, obs, info["goal"], args.extent, args.points)
    env.close()
    mx, my = land.argmin()
    cos = float(np.dot([mx, my], land.goal_direction) / max(np.hypot(mx, my), 1e-9)) if land.goal_direction is not None else float("nan")
    print(f"energy minimum at dx={mx * 100:.1f} cm, dy={my * 100:.1f} cm; cosine to true goal direction {cos:.2f}")
    print(f"saved {plot_landscape(land, args.out, f'{args.task} seed {args.seed}')}")


if __name__ == "__main__":
    main()
