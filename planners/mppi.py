"""Model predictive path integral control: softmax(-cost / temperature) weighted mean updates."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from planners.base import ActionBounds, CostFn, IterationStats, PlanCallback, PlanResult
from planners.bounded import BoundedPlanner
from planners.constraints import apply_bounds, evaluate


@dataclass(frozen=True)
class MPPIConfig:
    """temperature: in cost units (costs are normalised by their per-batch range before weighting, so the
    value is relative). std is re-estimated from the weighted samples and kept in [min_std, max_std] as a
    fraction of each dim's half-range. warm_start shifts the previous plan one step (reset() forgets it)."""

    samples: int = 400
    iterations: int = 6
    horizon: int = 2
    action_dim: int = 7
    temperature: float = 0.05
    init_std: float = 0.5
    min_std: float = 0.02
    max_std: float = 1.0
    warm_start: bool = True

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if not 0 < self.min_std <= self.max_std:
            raise ValueError("need 0 < min_std <= max_std")


class MPPI(BoundedPlanner):
    def __init__(self, bounds: ActionBounds, config: MPPIConfig = MPPIConfig()) -> None:
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
        half = (self.high - self.low) / 2
        mean, std = self.initial_gaussian(batch_size, cfg.init_std, cfg.warm_start)  # (B, H, A) each
        history: list[IterationStats] = []
        for it in range(cfg.iterations):
            noise = torch.randn(batch_size, cfg.samples, cfg.horizon, cfg.action_dim, generator=generator)
            samples = apply_bounds(mean[:, None] + std[:, None] * noise, self.bounds)  # (B, S, H, A)
            samples[:, 0] = apply_bounds(mean, self.bounds)  # always keep the current mean as a candidate
            costs = evaluate(cost_fn, samples)
            cmin = costs.min(dim=1, keepdim=True).values
            span = (costs.max(dim=1, keepdim=True).values - cmin).clamp_min(1e-9)
            weights = torch.softmax(-(costs - cmin) / span / cfg.temperature, dim=1)  # (B, S)
            w = weights[:, :, None, None]
            mean = (w * samples).sum(dim=1)
            var = (w * (samples - mean[:, None]) ** 2).sum(dim=1)
            std = torch.maximum(torch.minimum(var.sqrt(), cfg.max_std * half), cfg.min_std * half)
            stats = IterationStats(it, float(cmin.min()), float((weights * costs).sum(dim=1).mean()), float(std.mean()))
            history.append(stats)
            if callback is not None:
                callback(stats)
        plan = apply_bounds(mean, self.bounds)
        plan_costs = evaluate(cost_fn, plan[:, None])[:, 0]
        self._prev_plan = plan.clone()
        return PlanResult(plan, plan_costs, history, time.perf_counter() - t0)
