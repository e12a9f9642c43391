"""Planning time per action for each planner, printed as seconds and as a ratio vs random shooting.

(a) synthetic quadratic cost, (b) tiny random-weight world model ("sim_tiny") L1 latent energy to a goal
image, both at the paper's settings (400 samples, horizon 2; CEM 10 iterations, others their defaults with
iterations=10 where the config has them). Usage: python3 benchmarks/bench_planners.py [--repeats N]
Numbers are CPU wall-clock; no assertions (timings are machine dependent).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from planners import make_planner, paper_bounds

NAMES = ("random", "cem", "mppi", "icem")


def paper_overrides(name: str) -> dict:
    """The paper's sampling budget for every planner: 400 samples, horizon 2, 10 iterations (not random)."""
    over = {"samples": 400, "horizon": 2}
    if name != "random":
        over["iterations"] = 10
    return over


def synthetic_cost(target: torch.Tensor):
    """Quadratic cost: (batch, samples, horizon, 7) -> (batch, samples)."""
    def cost(actions: torch.Tensor) -> torch.Tensor:
        return ((actions - target) ** 2).sum(dim=(-1, -2))
    return cost


def world_model_cost():
    """L1 energy between the final rolled-out latent and the goal latent of a random-weight sim_tiny model."""
    from world_model.model import build_world_model

    wm = build_world_model("sim_tiny").eval()
    rng = np.random.default_rng(0)
    S = wm.image_size
    obs_img = rng.integers(0, 255, (1, S, S, 3), dtype=np.uint8)
    goal_img = rng.integers(0, 255, (1, S, S, 3), dtype=np.uint8)
    with torch.no_grad():
        z0 = wm.encode(obs_img)  # (1, N, D)
        z_goal = wm.encode(goal_img)  # (1, N, D)
    state0 = torch.zeros(1, 7)

    def cost(actions: torch.Tensor) -> torch.Tensor:
        B, K, H, A = actions.shape
        flat = actions.reshape(B * K, H, A)  # (B*K, H, 7)
        # states along the plan: integrate actions naively (translation + gripper) from state0
        states = state0[:, None, :] + torch.cumsum(flat, dim=1) - flat  # state before each action
        with torch.no_grad():
            z = wm.rollout(z0, flat, states)  # (B*K, H, N, D)
        energy = (z[:, -1] - z_goal).abs().mean(dim=(-1, -2))  # (B*K,)
        return energy.reshape(B, K)
    return cost


def time_planner(name: str, cost_fn, repeats: int) -> float:
    planner = make_planner(name, bounds=paper_bounds(), **paper_overrides(name))
    times = []
    for r in range(repeats):
        planner.reset()
        gen = torch.Generator().manual_seed(r)
        t0 = time.perf_counter()
        planner.plan(cost_fn, batch_size=1, generator=gen)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))  # one plan = one executed action under MPC


def report(title: str, cost_fn, repeats: int) -> None:
    print(f"\n== {title} (s per action, median of {repeats}) ==")
    res = {n: time_planner(n, cost_fn, repeats) for n in NAMES}
    for n in NAMES:
        print(f"{n:>8s}: {res[n]:.4f} s   ratio vs random: {res[n] / res['random']:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--wm-repeats", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    target = torch.tensor([0.02, -0.01, 0.03, 0.0, 0.0, 0.0, 0.5])
    report("(a)+(c) synthetic quadratic, paper settings", synthetic_cost(target), args.repeats)
    report("(b)+(c) sim_tiny world model L1 energy, paper settings", world_model_cost(), args.wm_repeats)


if __name__ == "__main__":
    main()
