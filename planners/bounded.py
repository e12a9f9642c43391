"""Set-up shared by the sampling planners: config, action bounds, the centred initial Gaussian, warm start."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from planners.base import GRIPPER_DIMS, ActionBounds
from planners.constraints import bound_tensors


class BoundedPlanner:
    """Holds ``config`` (with ``action_dim`` and ``horizon``), ``bounds`` and their (low, high) tensors.

    Subclasses implement ``plan``; those that warm-start store their returned plan in ``_prev_plan``.
    """

    def __init__(self, bounds: ActionBounds, config: Any) -> None:
        self.config = config
        self.bounds = with_gripper_discrete(with_gripper_deadband(bounds, config), config)
        self.action_dim = config.action_dim
        self.horizon = config.horizon
        self.low, self.high = bound_tensors(self.bounds, config.action_dim)
        self._prev_plan: torch.Tensor | None = None

    def reset(self) -> None:
        self._prev_plan = None

    def initial_gaussian(self, batch: int, init_std: float, warm_start: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean at the centre of the bounds (or, with ``warm_start``, the previous plan shifted one step, its
        last step kept at the centre) and std ``init_std`` times the half-range; both (batch, horizon, action_dim)."""
        mean = ((self.low + self.high) / 2).expand(batch, self.horizon, self.action_dim).clone()
        prev = self._prev_plan
        if warm_start and prev is not None and prev.shape[0] == batch:
            mean[:, :-1] = prev[:, 1:]
        std = (init_std * (self.high - self.low) / 2).expand_as(mean).clone()
        return mean, std


def gripper_dims(config: Any) -> list[int]:
    """The gripper dims of a planner config (``config.gripper_dims``, else :data:`planners.base.GRIPPER_DIMS`)
    that exist for its ``action_dim`` (a toy problem with fewer dims has none)."""
    return [d for d in getattr(config, "gripper_dims", GRIPPER_DIMS) if d < config.action_dim]


def with_gripper_deadband(bounds: ActionBounds, config: Any) -> ActionBounds:
    """``bounds`` plus a deadband of ``config.gripper_deadband`` on the config's :func:`gripper_dims`; unchanged
    when it is 0."""
    width = getattr(config, "gripper_deadband", 0.0)
    if not width:
        return bounds
    return dataclasses.replace(bounds, deadband={**bounds.deadband, **{d: float(width) for d in gripper_dims(config)}})


def with_gripper_discrete(bounds: ActionBounds, config: Any) -> ActionBounds:
    """``bounds`` with the config's :func:`gripper_dims` restricted to three levels when
    ``config.gripper_discrete``: open fully (the lower bound), hold (0) or close fully (the upper bound); unchanged
    otherwise. The gripper command is a change of closure that the env clips to [0, 1], so a full-range command
    always ends fully open or closed on whatever the fingers hold. An image energy sees that difference, while a
    small indifferent command it cannot see would only drift the fingers (docs/manipulation.md)."""
    if not getattr(config, "gripper_discrete", False):
        return bounds
    levels = {}
    for d in gripper_dims(config):
        low, high = float(bounds.low[d]), float(bounds.high[d])
        if not low < 0.0 < high:
            raise ValueError(f"gripper_discrete needs gripper bounds around 0 (open < 0 < close), got dim {d} in "
                             f"[{low}, {high}]")
        levels[d] = (low, 0.0, high)
    return dataclasses.replace(bounds, levels={**bounds.levels, **levels})
