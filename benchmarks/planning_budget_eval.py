"""Does the paper's planning budget help the learned agent? Success with the CPU default CEM vs the paper's.

The package plans with CEM over 48 samples x 4 iterations (horizon 1) so that a CPU plans in ~0.1 s; the paper
uses 800 samples x 10 iterations (~18 s per plan on 1 CPU thread, ~0.07 s on a GPU: benchmarks/cuda_paths.py).
This runs one condition: MODEL on TASK for EPISODES seeded episodes (seeds 1000..), image goals, subgoal images
with the switch rule of docs/manipulation.md (12 steps or a 2-plan plateau), with BUDGET ("default", "paper" or
"h3", jepa-wms's 300 samples x 15 iterations at horizon 3), on DEVICE, and writes a JSON line of results to OUT.
A condition whose row OUT already holds (same model, task, budget, device, first seed and episodes) is skipped, so
a rerun resumes a set of conditions; a row is only written when its condition is complete.
Usage (SEED0, default 1000: the first episode seed):
    python3 benchmarks/planning_budget_eval.py MODEL TASK EPISODES BUDGET DEVICE OUT [SEED0]
"""
from __future__ import annotations

import json
import sys
import time

import gymnasium as gym
import torch

import envs  # noqa: F401  (registers the Franka envs)
from agent.eval import run_episode
from agent.factory import make_agent, model_env_kwargs
from agent.stats import wilson_interval
from agent.subgoals import SubgoalAgent, SubgoalConfig

BUDGETS = {"default": {},
           # the paper's: 800 samples x 10 iterations, horizon 1
           "paper": {"samples": 800, "topk": 10, "iterations": 10, "horizon": 1, "keep_elites": False,
                     "early_stop_tol": 0.0},
           # jepa-wms's CEM for V-JEPA 2-AC (arXiv 2512.24497): 300 samples x 15 iterations, horizon 3
           "h3": {"samples": 300, "topk": 10, "iterations": 15, "horizon": 3, "keep_elites": False,
                  "early_stop_tol": 0.0}}
SWITCH = SubgoalConfig(steps_per_subgoal=12, plateau_patience=2)


def has_row(out: str, condition: dict) -> bool:
    """Whether the JSON lines file ``out`` (absent: none) holds a row with every field of ``condition``."""
    try:
        with open(out) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return False
    return any(all(row.get(k) == v for k, v in condition.items()) for row in rows)


def main(model: str, task: str, episodes: int, budget: str, device: str, out: str, seed0: int = 1000) -> None:
    condition = {"model": model, "task": task, "budget": budget, "device": device, "seed0": seed0,
                 "episodes": episodes}
    if has_row(out, condition):
        print(f"already in {out}: {json.dumps(condition)}", flush=True)
        return
    torch.set_num_threads(1)
    env = gym.make(task, **model_env_kwargs(model))
    agent = SubgoalAgent(make_agent("learned", env, "cem", BUDGETS[budget], model, seed=0, bf16=False,
                                    device=device), SWITCH)
    start = time.perf_counter()
    results = [run_episode(env, agent, seed, env.unwrapped.task.max_episode_steps, None)
               for seed in range(seed0, seed0 + episodes)]
    wins = sum(r.success for r in results)
    low, high = wilson_interval(wins, episodes)
    row = {**condition, "successes": wins, "ci95": [round(low, 3), round(high, 3)],
           "seconds_per_step": round((time.perf_counter() - start) / sum(r.steps for r in results), 4)}
    print(json.dumps(row), flush=True)
    with open(out, "a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], int(a[2]), a[3], a[4], a[5], *(int(x) for x in a[6:7]))
