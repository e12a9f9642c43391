"""`vjepa-energy-landscape`: plot the energy of one-step (dx, dy) actions for a sim episode's start and goal.

    vjepa-energy-landscape --task FrankaReach-v0 --seed 0 --model shipped --out landscape.png

Bad arguments (``--points 1``, ``--extent nan``, an unknown task or model) end with one line on stderr and a non-zero
exit status (``VJEPA_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from agent.cli_errors import cli_errors

PROG = "vjepa-energy-landscape"


def positive_extent(text: str) -> float:
    """argparse type: a finite number of metres > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of metres > 0, got {text!r}")
    return value


def int_at_least(minimum: int):
    """argparse type factory: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="FrankaReach-v0")
    parser.add_argument("--seed", type=int_at_least(0), default=0)
    parser.add_argument("--model", default="shipped", help='"shipped" or a path base to <path>.safetensors')
    parser.add_argument("--extent", type=positive_extent, default=0.05, help="half-width of the grid, metres")
    parser.add_argument("--points", type=int_at_least(2), default=21, help="grid points per axis (>= 2)")
    parser.add_argument("--image-size", type=int, default=None,
                        help="default: the model's (its camera is always the model's)")
    parser.add_argument("--out", default="energy_landscape.png")
    return parser.parse_args(argv)


def cosine_text(land) -> str:
    """Cosine between the energy minimum's direction and the true goal direction, or "n/a" if undefined."""
    mx, my = land.argmin()
    if land.goal_direction is None or math.hypot(mx, my) < 1e-12:
        return "n/a"
    return f"{float(np.dot([mx, my], land.goal_direction) / math.hypot(mx, my)):.2f}"


@cli_errors(PROG)
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)

    import gymnasium as gym

    from agent.eval import check_tasks
    from agent.factory import make_agent, model_env_kwargs
    from agent.landscape import energy_landscape, plot_landscape

    check_tasks((args.task,))
    view = model_env_kwargs(args.model)
    if args.image_size is not None:
        view["image_size"] = args.image_size  # a mismatch with the model is refused by make_agent
    env = gym.make(args.task, **view)
    try:
        obs, info = env.reset(seed=args.seed)
        agent = make_agent("learned", env, "cem", {}, args.model)
        if agent.needs_camera_pose:
            agent.set_camera_pose(env.unwrapped.camera_pose())
        land = energy_landscape(agent, obs, info["goal"], args.extent, args.points)
    finally:
        env.close()
    mx, my = land.argmin()
    print(f"energy minimum at dx={mx * 100:.1f} cm, dy={my * 100:.1f} cm; cosine to true goal direction "
          f"{cosine_text(land)}")
    print(f"saved {plot_landscape(land, args.out, f'{args.task} seed {args.seed}')}")


if __name__ == "__main__":
    main()
