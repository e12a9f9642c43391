"""Model predictive path integral control: softmax(-cost / temperature) weighted mean updates."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from planners.base import ActionBounds, CostFn, IterationStats, PlanCallback, PlanResult
from planners.bounded import BoundedPlanner
from planners.constraints import apply_bounds, evaluate
from planners.validation import check_config


@dataclass(frozen=True)
class MPPIConfig:
    """temperature: in cost units (costs are normalised by their per-batch range before weighting, so the
    value is relative). std is re-estimated from the weighted samples and kept in [min_std, max_std] as a
    fraction of each dim's half-range. warm_start shifts the previous plan one step (reset() forgets it)."""

    samples: int = 400
    iterations: int = 6
    horizon: int = 2
    action_dim: int = 7
    gripper_deadband: float = 0.0  # gripper commands with |value| below this become 0 (planners.bounded)
    gripper_discrete: bool = False  # gripper commands only open fully, 0 or close fully (planners.bounded)
    temperature: float = 0.05
    init_std: float = 0.5
    min_std: float = 0.02
    max_std: float = 1.0
    warm_start: bool = True

    def __post_init__(self) -> None:
        check_config(self)


def softmin_weights(costs: torch.Tensor, temperature: float) -> torch.Tensor:
    """costs (B, S), finite or +inf -> weights (B, S) summing to 1 per row: softmax(-normalised cost / T).

    Costs are normalised by the per-row range of the finite costs; +inf costs get weight 0; a row whose costs
    are all +inf gets uniform weights (nothing to prefer), never NaN.
    """
    finite = torch.isfinite(costs)
    big = torch.finfo(costs.dtype).max
    cmin = torch.where(finite, costs, big).min(dim=1, keepdim=True).values
    cmax = torch.where(finite, costs, -big).max(dim=1, keepdim=True).values
    span = (cmax - cmin).clamp_min(1e-9)
    logits = torch.where(finite, -(costs - cmin) / span / temperature, float("-inf"))
    logits = torch.where(finite.any(dim=1, keepdim=True), logits, torch.zeros_like(logits))
    return torch.softmax(logits, dim=1)


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
            weights = softmin_weights(costs, cfg.temperature)  # (B, S)
            w = weights[:, :, None, None]
            mean = (w * samples).sum(dim=1)
            var = (w * (samples - mean[:, None]) ** 2).sum(dim=1)
            std = torch.maximum(torch.minimum(var.sqrt(), cfg.max_std * half), cfg.min_std * half)
            weighted = (weights * costs.nan_to_num(posinf=0.0)).sum(dim=1)  # inf costs carry weight 0
            stats = IterationStats(it, float(costs.min()), float(weighted.mean()), float(std.mean()))
            history.append(stats)
            if callback is not None:
                callback(stats)
        plan = apply_bounds(mean, self.bounds)
        plan_costs = evaluate(cost_fn, plan[:, None])[:, 0]
        self._prev_plan = plan.clone()
        return PlanResult(plan, plan_costs, history, time.perf_counter() - t0)
