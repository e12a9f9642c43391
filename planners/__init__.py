"""Planners that minimise a batched cost over action sequences (batch, samples, horizon, action_dim)."""

from __future__ import annotations

import dataclasses
from typing import Any

from planners.base import ActionBounds, CostFn, IterationStats, Planner, PlanResult
from planners.cem import CEM, CEMConfig
from planners.icem import ICEM, ICEMConfig
from planners.mppi import MPPI, MPPIConfig
from planners.random_shooting import RandomShooting, RandomShootingConfig

PLANNERS: dict[str, tuple[type, type]] = {
    "cem": (CEM, CEMConfig),
    "mppi": (MPPI, MPPIConfig),
    "icem": (ICEM, ICEMConfig),
    "random": (RandomShooting, RandomShootingConfig),
}


def paper_bounds(max_translation: float = 0.05, max_gripper: float = 0.75, action_dim: int = 7) -> ActionBounds:
    """The paper's CEM constraints: plan dxyz (|dxyz| <= 0.05 m) and dgripper (+-0.75); rotation pinned to 0."""
    high = [max_translation] * 3 + [0.0] * 3 + [max_gripper]
    return ActionBounds(
        low=[-h for h in high][:action_dim],
        high=high[:action_dim],
        fixed={3: 0.0, 4: 0.0, 5: 0.0},
        maxnorm=((0, 1, 2), max_translation),
    )


def make_planner(name: str, bounds: ActionBounds | None = None, **overrides: Any) -> Planner:
    """Build a planner by name ("cem", "mppi", "icem", "random") with config field overrides."""
    if name not in PLANNERS:
        raise ValueError(f"unknown planner {name!r}; choose from {sorted(PLANNERS)}")
    cls, cfg_cls = PLANNERS[name]
    fields = {f.name for f in dataclasses.fields(cfg_cls)}
    unknown = set(overrides) - fields
    if unknown:
        raise ValueError(f"unknown {name} config fields {sorted(unknown)}; valid: {sorted(fields)}")
    return cls(bounds if bounds is not None else paper_bounds(), cfg_cls(**overrides))


__all__ = [
    "ActionBounds", "CostFn", "IterationStats", "Planner", "PlanResult", "CEM", "CEMConfig", "MPPI", "MPPIConfig",
    "ICEM", "ICEMConfig", "RandomShooting", "RandomShootingConfig", "make_planner", "paper_bounds", "PLANNERS",
]
