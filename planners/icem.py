"""iCEM (Pinneri et al. 2020): CEM with temporally coloured noise and elites kept across iterations."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from planners.base import ActionBounds, CostFn, IterationStats, PlanCallback, PlanResult
from planners.bounded import BoundedPlanner
from planners.constraints import apply_bounds, evaluate
from planners.validation import check_config, check_real


def colored_noise(shape: tuple[int, ...], beta: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Unit-variance Gaussian noise with power spectrum ~ 1/f^beta along dim -2 (time). shape: (..., H, A)."""
    horizon = shape[-2]
    white = torch.randn(*shape, generator=generator)
    if beta == 0 or horizon < 2:
        return white
    spectrum = torch.fft.rfft(white, dim=-2)  # (..., H//2+1, A)
    freqs = torch.fft.rfftfreq(horizon)
    freqs[0] = freqs[1]
    scale = freqs ** (-beta / 2)
    out = torch.fft.irfft(spectrum * scale[:, None], n=horizon, dim=-2)
    # normalise with the population std (a per-sequence normalisation is degenerate for short horizons)
    return out / out.std().clamp_min(1e-9)


@dataclass(frozen=True)
class ICEMConfig:
    samples: int = 300
    topk: int = 10
    iterations: int = 6
    horizon: int = 2
    action_dim: int = 7
    gripper_deadband: float = 0.0  # gripper commands with |value| below this become 0 (planners.bounded)
    gripper_discrete: bool = False  # gripper commands only open fully, 0 or close fully (planners.bounded)
    beta: float = 2.0
    keep_elite_fraction: float = 0.3
    momentum: float = 0.1
    init_std: float = 1.0
    min_std: float = 1e-4

    def __post_init__(self) -> None:
        check_config(self)
        check_real("ICEMConfig.beta", self.beta, low=0.0)
        check_real("ICEMConfig.keep_elite_fraction", self.keep_elite_fraction, 0.0, 1.0)


class ICEM(BoundedPlanner):
    def __init__(self, bounds: ActionBounds, config: ICEMConfig = ICEMConfig()) -> None:
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
        mean, std = self.initial_gaussian(batch_size, cfg.init_std)  # (B, H, A) each
        kept: torch.Tensor | None = None
        best, best_cost = mean.clone(), torch.full((batch_size,), float("inf"))
        history: list[IterationStats] = []
        n_keep = max(1, int(round(cfg.keep_elite_fraction * cfg.topk)))
        for it in range(cfg.iterations):
            noise = colored_noise((batch_size, cfg.samples, cfg.horizon, cfg.action_dim), cfg.beta, generator)
            samples = apply_bounds(mean[:, None] + std[:, None] * noise, self.bounds)
            if kept is not None:
                samples = torch.cat([samples, kept], dim=1)
            costs = evaluate(cost_fn, samples)
            elite_costs, idx = torch.topk(costs, cfg.topk, dim=1, largest=False)
            elites = torch.gather(samples, 1, idx[:, :, None, None].expand(-1, -1, cfg.horizon, cfg.action_dim))
            kept = elites[:, :n_keep]
            mean = cfg.momentum * mean + (1 - cfg.momentum) * elites.mean(dim=1)
            std = (cfg.momentum * std + (1 - cfg.momentum) * elites.std(dim=1, unbiased=False)).clamp_min(cfg.min_std)
            better = elite_costs[:, 0] < best_cost
            best = torch.where(better[:, None, None], elites[:, 0], best)
            best_cost = torch.where(better, elite_costs[:, 0], best_cost)
            stats = IterationStats(it, float(elite_costs[:, 0].min()), float(elite_costs.mean()), float(std.mean()))
            history.append(stats)
            if callback is not None:
                callback(stats)
        return PlanResult(best, best_cost, history, time.perf_counter() - t0)
