"""Plans that move once and then hold still, searched beside the full-horizon plans.

A multi-step plan is scored by where it ends (the energy of its last frame). Near the goal many 3-step sequences
end close to it whatever their first step does, so the first action, the only one executed under MPC, need not
point at the goal: a horizon-3 agent hovers a few cm away (session 19: 4 of the 9 reach failures of the learned
``sim_wrist`` with CEM horizon 3 on seeds 3020-3059 ended 5-7 cm from the goal, while its horizon-1 runs failed
only far from it). :class:`OneStepAlternative` also searches sequences whose later steps are all zero (hold still:
no motion, gripper held), scored by the same cost at the same horizon, and returns whichever plan scores lower. Far
from the goal the full plan's look-ahead wins; near it one precise step does.
"""

from __future__ import annotations

import dataclasses

import torch

from planners.base import CostFn, Planner, PlanCallback, PlanResult


def hold_after_first(first: torch.Tensor, horizon: int) -> torch.Tensor:
    """``first`` (..., 1, action_dim) -> (..., horizon, action_dim): the first action, then zeros (hold still)."""
    if first.dim() < 2 or first.shape[-2] != 1:
        raise ValueError(f"first must be (..., 1, action_dim), got {tuple(first.shape)}")
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon must be an int >= 1, got {horizon!r}")
    rest = first.new_zeros(*first.shape[:-2], horizon - 1, first.shape[-1])
    return torch.cat([first, rest], dim=-2)


class OneStepAlternative:
    """A :class:`planners.base.Planner` that runs ``planner`` (the full horizon) and ``one_step`` (horizon 1, its
    action held still afterwards, see :func:`hold_after_first`) on the same cost and returns the lower-cost plan,
    as a full-horizon plan. ``one_step_chosen`` counts the plans where the one-step plan won (since construction)."""

    def __init__(self, planner: Planner, one_step: Planner) -> None:
        if one_step.horizon != 1:
            raise ValueError(f"the one-step planner must have horizon 1, got {one_step.horizon}")
        if one_step.action_dim != planner.action_dim:
            raise ValueError(f"action_dim differs: {planner.action_dim} vs {one_step.action_dim}")
        self.planner = planner
        self.one_step = one_step
        self.one_step_chosen = 0
        self.plans = 0

    @property
    def horizon(self) -> int:
        return self.planner.horizon

    @property
    def action_dim(self) -> int:
        return self.planner.action_dim

    def plan(self, cost_fn: CostFn, batch_size: int = 1, generator: torch.Generator | None = None,
             callback: PlanCallback | None = None) -> PlanResult:
        full = self.planner.plan(cost_fn, batch_size, generator, callback)
        horizon = self.horizon
        short = self.one_step.plan(lambda first: cost_fn(hold_after_first(first, horizon)), batch_size, generator,
                                   callback)
        take = short.costs <= full.costs  # (batch,)
        actions = torch.where(take[:, None, None], hold_after_first(short.actions, horizon), full.actions)
        self.plans += batch_size
        self.one_step_chosen += int(take.sum())
        return dataclasses.replace(full, actions=actions, costs=torch.minimum(short.costs, full.costs),
                                   history=full.history + short.history, time_s=full.time_s + short.time_s)

    def reset(self) -> None:
        self.planner.reset()
        self.one_step.reset()
