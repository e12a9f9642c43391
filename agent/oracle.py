"""Upper and lower bounds: the same planners over the TRUE simulator (oracle), and a random agent.

The oracle restores a MuJoCo snapshot for every candidate sequence, steps it with ``env.simulate`` and uses
``env.task_distance()`` (metres) as the cost, so it ignores the goal image and knows the true goal.
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

import numpy as np
import torch

from agent.observation import check_obs
from agent.seeding import planner_seed
from envs.spec import clip_action
from planners.base import Planner, PlanResult

T = TypeVar("T")


def simulate_sequences(env, actions: np.ndarray, observe: Callable[[], T]) -> list[list[T]]:
    """For each action sequence of ``actions`` (S, H, 7), started from the env's current MuJoCo state: each action
    clipped to the action space and executed with ``env.simulate``, ``observe()`` called after it. Returns the
    (S, H) observations as nested lists. The env is back in its starting state afterwards, also on an error."""
    snapshot = env.get_sim_state()
    out = []
    try:
        for sequence in actions:
            env.set_sim_state(snapshot)
            row = []
            for action in sequence:
                env.simulate(clip_action(action, env.action_space))
                row.append(observe())
            out.append(row)
    finally:
        env.set_sim_state(snapshot)
    return out


class OracleAgent:
    def __init__(self, env, planner: Planner, seed: int = 0) -> None:
        self.env = env.unwrapped
        self.planner = planner
        self.seed = seed
        self.last_plan: PlanResult | None = None
        self.reset()

    def reset(self, episode_seed: int | None = None) -> None:
        """Start an episode: planner cleared, generator re-seeded (see :meth:`agent.agent.Agent.reset`)."""
        self.planner.reset()
        self._gen = torch.Generator().manual_seed(planner_seed(self.seed, episode_seed))
        self.plan_times: list[float] = []

    def _cost(self, actions: torch.Tensor) -> torch.Tensor:
        b, s, h, a = actions.shape
        distances = simulate_sequences(self.env, actions.cpu().numpy().reshape(b * s, h, a), self.env.task_distance)
        return torch.tensor([row[-1] for row in distances], dtype=torch.float32).reshape(b, s)  # final distances

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

    def reset(self, episode_seed: int | None = None) -> None:
        """Start an episode: the action stream re-seeded (see :meth:`agent.agent.Agent.reset`)."""
        self.rng = np.random.default_rng(planner_seed(self.seed, episode_seed))
        self.plan_times: list[float] = []

    def act(self, obs: dict, goal: dict | None = None) -> np.ndarray:
        check_obs(obs, "obs")
        d = self.rng.normal(size=3)
        d *= self.rng.uniform(0, self.max_translation) / max(np.linalg.norm(d), 1e-9)
        action = np.concatenate([d, np.zeros(3), [self.rng.uniform(-0.75, 0.75)]])
        self.plan_times.append(0.0)
        return clip_action(action, self.action_space)
