"""The planner interface: minimise a batched cost over action sequences.

Planners never see a world model. They receive ``cost_fn(actions) -> costs`` where
``actions`` is a float tensor ``(batch, samples, horizon, action_dim)`` and ``costs`` is
``(batch, samples)`` (lower is better), and return a :class:`PlanResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import torch

CostFn = Callable[[torch.Tensor], torch.Tensor]
"""(batch, samples, horizon, action_dim) -> (batch, samples)."""

GRIPPER_DIMS = (6,)  # the gripper command's index in the 7-d action (envs.conventions)


@dataclass(frozen=True)
class ActionBounds:
    """Constraints applied to every sampled action sequence.

    low/high: per-dimension bounds, length action_dim.
    fixed: {dim: value} pinned dimensions (the paper pins the 3 rotation deltas to 0).
    maxnorm: optional (dims, max_norm) - the L2 norm of ``actions[..., dims]`` is clipped to max_norm
        (the paper clips |dxyz| to 0.05 m).
    deadband: {dim: width} - values with ``|a| < width`` become 0 (a command too small to mean anything, e.g. a
        gripper nudge the cost is indifferent to, which an env that clips the gripper's closure to [0, 1] would
        otherwise accumulate in one direction).
    levels: {dim: (v0, v1, ...)} - values snap to the nearest of these levels, after the deadband (e.g. a gripper
        that may only open fully, hold or close fully: (-1, 0, 1)). Levels must lie in [low, high], ascending.
    """

    low: Sequence[float]
    high: Sequence[float]
    fixed: dict[int, float] = field(default_factory=dict)
    maxnorm: tuple[tuple[int, ...], float] | None = None
    deadband: dict[int, float] = field(default_factory=dict)
    levels: dict[int, tuple[float, ...]] = field(default_factory=dict)


@dataclass
class IterationStats:
    iteration: int
    best_cost: float
    mean_elite_cost: float
    mean_std: float


@dataclass
class PlanResult:
    actions: torch.Tensor  # (batch, horizon, action_dim): the plan (first action is executed under MPC)
    costs: torch.Tensor  # (batch,): cost of the returned plan
    history: list[IterationStats]
    time_s: float


PlanCallback = Callable[[IterationStats], None]


class Planner(Protocol):
    action_dim: int
    horizon: int

    def plan(
        self,
        cost_fn: CostFn,
        batch_size: int = 1,
        generator: torch.Generator | None = None,
        callback: PlanCallback | None = None,
    ) -> PlanResult: ...

    def reset(self) -> None:
        """Forget any warm-start state (called at episode start)."""
