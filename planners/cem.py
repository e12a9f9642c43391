"""Cross-entropy method as used by V-JEPA 2-AC (Gaussian sampling, top-k elites, momentum updates)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from planners.base import GRIPPER_DIMS, ActionBounds, CostFn, IterationStats, PlanCallback, PlanResult
from planners.bounded import BoundedPlanner, gripper_dims
from planners.constraints import apply_bounds, evaluate
from planners.validation import check_config, check_real


@dataclass(frozen=True)
class CEMConfig:
    """Paper defaults: 400 samples, top-10 elites, 10 iterations, horizon 2, momentum 0.15.

    momentum: weight of the OLD mean/std in the update (new = m * old + (1 - m) * elite statistic).
    gripper_dims / gripper_momentum: separate momentum for the gripper dims, as in the official code.
    init_std: initial std as a fraction of each dim's half-range.
    gripper_init_std: the gripper dims' initial std, as a fraction of their half-range (None: ``init_std``). A
        small value keeps the gripper command near its current mean unless the cost clearly prefers a change:
        with few samples, a gripper dim the cost barely depends on is otherwise left to chance in the returned
        plan (a cube dropped on the way to a reach-with-object goal).
    gripper_deadband: gripper commands with |value| below this are 0, in every sample and in the returned plan
        (planners.bounded.with_gripper_deadband; every planner has it). Small indifferent commands would otherwise
        add up: the env clips the gripper's closure to [0, 1], so once closed only the opening ones act.
    gripper_discrete: gripper commands are snapped to the lower bound (open fully), 0 (hold) or the upper bound
        (close fully), in every sample and in the returned plan (planners.bounded.with_gripper_discrete; every
        planner has it).
    warm_start: shift the previous mean by one step at the next call (MPC); reset() forgets it.

    Budget savers (all off by default, i.e. the paper's CEM):
    keep_elites: the previous iteration's elites (costs already known) compete with the new samples for the
        top-k, without being evaluated again.
    samples_decay: iteration i draws ``max(topk, round(samples * samples_decay ** -i))`` new samples (iCEM).
    early_stop_tol: stop after ``min_iterations`` once the mean elite cost improved by less than this fraction
        of its value over the last iteration (the elites have converged); 0 disables it.
    """

    samples: int = 400
    topk: int = 10
    iterations: int = 10
    horizon: int = 2
    action_dim: int = 7
    momentum_mean: float = 0.15
    momentum_std: float = 0.15
    gripper_dims: tuple[int, ...] = GRIPPER_DIMS
    gripper_momentum_mean: float = 0.15
    gripper_momentum_std: float = 0.15
    init_std: float = 1.0
    gripper_init_std: float | None = None
    gripper_deadband: float = 0.0
    gripper_discrete: bool = False
    min_std: float = 1e-4
    warm_start: bool = False
    keep_elites: bool = False
    samples_decay: float = 1.0
    early_stop_tol: float = 0.0
    min_iterations: int = 1

    def __post_init__(self) -> None:
        check_config(self)
        check_real("CEMConfig.samples_decay", self.samples_decay, low=1.0)
        check_real("CEMConfig.early_stop_tol", self.early_stop_tol, low=0.0)
        if self.gripper_init_std is not None:
            check_real("CEMConfig.gripper_init_std", self.gripper_init_std, low=0.0, low_open=True)

    def samples_at(self, iteration: int) -> int:
        """New samples drawn at ``iteration`` (0-based)."""
        return max(self.topk, int(round(self.samples * self.samples_decay ** -iteration)))


class CEM(BoundedPlanner):
    """CEM over action sequences; see :class:`CEMConfig`."""

    def __init__(self, bounds: ActionBounds, config: CEMConfig = CEMConfig()) -> None:
        super().__init__(bounds, config)

    def _momenta(self) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        m_mean = torch.full((cfg.action_dim,), cfg.momentum_mean)
        m_std = torch.full((cfg.action_dim,), cfg.momentum_std)
        for d in gripper_dims(cfg):
            m_mean[d], m_std[d] = cfg.gripper_momentum_mean, cfg.gripper_momentum_std
        return m_mean, m_std

    def _converged(self, prev: torch.Tensor | None, current: torch.Tensor) -> bool:
        """Early stop: every batch row's mean elite cost improved by < early_stop_tol (relative) this iteration."""
        tol = self.config.early_stop_tol
        if tol <= 0 or prev is None or not torch.isfinite(current).all():
            return False
        gain = (prev - current) / current.abs().clamp_min(1e-12)
        return bool((gain < tol).all())

    def plan(
        self,
        cost_fn: CostFn,
        batch_size: int = 1,
        generator: torch.Generator | None = None,
        callback: PlanCallback | None = None,
    ) -> PlanResult:
        cfg = self.config
        t0 = time.perf_counter()
        mean, std = self.initial_gaussian(batch_size, cfg.init_std, cfg.warm_start)  # (B, H, A) each
        if cfg.gripper_init_std is not None:
            for d in gripper_dims(cfg):
                std[..., d] = cfg.gripper_init_std * (self.high[d] - self.low[d]) / 2
        m_mean, m_std = self._momenta()
        history: list[IterationStats] = []
        best_actions = apply_bounds(mean, self.bounds)
        best_costs = torch.full((batch_size,), float("inf"))
        kept: tuple[torch.Tensor, torch.Tensor] | None = None  # previous elites and their costs
        prev_elite_mean: torch.Tensor | None = None
        for it in range(cfg.iterations):
            noise = torch.randn(batch_size, cfg.samples_at(it), cfg.horizon, cfg.action_dim, generator=generator)
            samples = apply_bounds(mean[:, None] + std[:, None] * noise, self.bounds)  # (B, S, H, A)
            costs = evaluate(cost_fn, samples)  # (B, S)
            if kept is not None:  # previous elites compete again at no extra evaluation
                samples, costs = torch.cat([samples, kept[0]], dim=1), torch.cat([costs, kept[1]], dim=1)
            elite_costs, elite_idx = torch.topk(costs, cfg.topk, dim=1, largest=False)
            elites = torch.gather(samples, 1, elite_idx[:, :, None, None].expand(-1, -1, cfg.horizon, cfg.action_dim))
            if cfg.keep_elites:
                kept = (elites, elite_costs)
            mean = m_mean * mean + (1 - m_mean) * elites.mean(dim=1)
            std = (m_std * std + (1 - m_std) * elites.std(dim=1, unbiased=False)).clamp_min(cfg.min_std)
            improved = elite_costs[:, 0] < best_costs
            best_costs = torch.where(improved, elite_costs[:, 0], best_costs)
            best_actions = torch.where(improved[:, None, None], elites[:, 0], best_actions)
            stats = IterationStats(it, float(elite_costs[:, 0].min()), float(elite_costs.mean()), float(std.mean()))
            history.append(stats)
            if callback is not None:
                callback(stats)
            elite_mean = elite_costs.mean(dim=1)  # (B,)
            if it + 1 >= cfg.min_iterations and self._converged(prev_elite_mean, elite_mean):
                break
            prev_elite_mean = elite_mean
        # The paper executes the final mean; we return it, projected onto the constraints.
        plan = apply_bounds(mean, self.bounds)
        plan_costs = evaluate(cost_fn, plan[:, None])[:, 0]
        use_best = best_costs < plan_costs
        plan = torch.where(use_best[:, None, None], best_actions, plan)
        plan_costs = torch.where(use_best, best_costs, plan_costs)
        self._prev_plan = plan.clone()
        return PlanResult(plan, plan_costs, history, time.perf_counter() - t0)
