"""Upper and lower bounds: the same planners over the TRUE simulator (oracle), and a random agent.

The oracle restores a MuJoCo snapshot for every candidate sequence, steps it with ``env.simulate`` and uses
``env.task_distance()`` (metres) as the cost, so it ignores the goal image and knows the true goal.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from agent.observation import check_obs
from envs.spec import clip_action
from planners.base import Planner, PlanResult


class OracleAgent:
    def __init__(self, env, planner: Planner, seed: int = 0) -> None:
        self.env = env.unwrapped
        self.planner = planner
        self.seed = seed
        self.last_plan: PlanResult | None = None
        self.reset()

    def reset(self) -> None:
        self.planner.reset()
        self._gen = torch.Generator().manual_seed(self.seed)
        self.plan_times: list[float] = []

    def _cost(self, actions: torch.Tensor) -> torch.Tensor:
        env = self.env
        snapshot = env.get_sim_state()
        b, s, h, _ = actions.shape
        costs = torch.empty(b, s)
        acts = actions.cpu().numpy()
        try:
            for i in range(b):
                for j in range(s):
                    env.set_sim_state(snapshot)
                    for k in range(h):
                        env.simulate(clip_action(acts[i, j, k], env.action_space))
                    costs[i, j] = env.task_distance()
        finally:
            env.set_sim_state(snapshot)
        return costs

    def act(self, obs: dict, goal: dict | None = None) -> np.ndarray:
        check_obs(obs, "obs")
        t0 = time.perf_counter()
        self.last_plan = self.planner.plan(self._cost, batch_size=1, generator=self._gen)
        self.plan_times.append(time.perf_counter() - t0)
        return clip_action(self.last_plan.actions[0, 0].numpy(), self.env.action_space)


class RandomAgent:
    """Uniform random dxyz in the planner's ball (|dxyz| <= max_translation), random gripper delta."""

    def __init__(self, action_space, max_translation: float = 0.05, seed: int = 0) -> None:
        self.action_space = action_space
        self.max_translation = max_translation
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.plan_times: list[float] = []

    def act(self, obs: dict, goal: dict | None = None) -> np.ndarray:
        check_obs(obs, "obs")
        d = self.rng.normal(size=3)
        d *= self.rng.uniform(0, self.max_translation) / max(np.linalg.norm(d), 1e-9)
        action = np.concatenate([d, np.zeros(3), [self.rng.uniform(-0.75, 0.75)]])
        self.plan_times.append(0.0)
        return clip_action(action, self.action_space)
