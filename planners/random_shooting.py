"""Random shooting: sample uniformly inside the bounds once, keep the best sequence (a baseline)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from planners.base import ActionBounds, CostFn, IterationStats, PlanCallback, PlanResult
from planners.bounded import BoundedPlanner
from planners.constraints import apply_bounds, evaluate
from planners.validation import check_config


@dataclass(frozen=True)
class RandomShootingConfig:
    samples: int = 400
    horizon: int = 2
    action_dim: int = 7
    gripper_deadband: float = 0.0  # gripper commands with |value| below this become 0 (planners.bounded)
    gripper_discrete: bool = False  # gripper commands only open fully, 0 or close fully (planners.bounded)

    def __post_init__(self) -> None:
        check_config(self)


class RandomShooting(BoundedPlanner):
    def __init__(self, bounds: ActionBounds, config: RandomShootingConfig = RandomShootingConfig()) -> None:
        super().__init__(bounds, config)

    def plan(
        self,
        cost_fn: CostFn,
        batch_size: int = 1,
        generator: torch.Generator | None = None,
        callback: PlanCallback | None = None,
    ) -> PlanResult:
        cfg = self.config
        t0 = time.perf_counter()
        u = torch.rand(batch_size, cfg.samples, cfg.horizon, cfg.action_dim, generator=generator)
        samples = apply_bounds(self.low + u * (self.high - self.low), self.bounds)  # (B, S, H, A)
        costs = evaluate(cost_fn, samples)
        best_cost, idx = costs.min(dim=1)
        plan = samples[torch.arange(batch_size), idx]
        stats = IterationStats(0, float(best_cost.min()), float(costs.mean()), 0.0)
        if callback is not None:
            callback(stats)
        return PlanResult(plan, best_cost, [stats], time.perf_counter() - t0)
