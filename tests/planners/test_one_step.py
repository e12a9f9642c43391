"""OneStepAlternative: beside the full-horizon search, plans that move once and then hold still, on the same cost."""

import pytest
import torch

from planners import make_planner, paper_bounds
from planners.one_step import OneStepAlternative, hold_after_first


def end_distance(goal: torch.Tensor):
    """Cost of an action sequence (B, S, H, 7): L1 distance from the summed xyz moves (where the hand ends) to
    ``goal``; like the planning energy, it looks only at where the sequence ends."""
    return lambda actions: (actions[..., :3].sum(dim=-2) - goal).abs().sum(-1)


def _pair(name="cem", horizon=3, **kw):
    full = make_planner(name, paper_bounds(), horizon=horizon, **kw)
    return OneStepAlternative(full, make_planner(name, paper_bounds(), horizon=1, **kw))


def test_hold_after_first_pads_with_zeros():
    first = torch.arange(14.0).reshape(2, 1, 7)
    out = hold_after_first(first, 3)
    assert out.shape == (2, 3, 7)
    assert torch.equal(out[:, 0], first[:, 0]) and not out[:, 1:].any()
    assert torch.equal(hold_after_first(first, 1), first)
    with pytest.raises(ValueError, match=r"\(\.\.\., 1, action_dim\)"):
        hold_after_first(torch.zeros(2, 3, 7), 3)
    with pytest.raises(ValueError, match="horizon must be an int >= 1"):
        hold_after_first(first, 0)


@pytest.mark.parametrize("name", ["cem", "mppi"])
def test_near_the_goal_the_first_action_points_at_it(name):
    """A goal 3 cm away: three-step sequences that end there are many and their first steps point anywhere; the
    one-step plan reaches it in one step and wins."""
    goal = torch.tensor([0.03, -0.01, 0.0])
    errors = {}
    for wrapped in (False, True):
        gen = torch.Generator().manual_seed(0)
        planner = _pair(name, samples=48, iterations=4) if wrapped else make_planner(
            name, paper_bounds(), horizon=3, samples=48, iterations=4)
        result = planner.plan(end_distance(goal), generator=gen)
        assert result.actions.shape == (1, 3, 7)
        errors[wrapped] = float((result.actions[0, 0, :3] - goal).norm())
        if wrapped:
            assert planner.one_step_chosen == 1 and planner.plans == 1
            assert not result.actions[0, 1:].any()  # then holds still
    assert errors[True] < 0.005 < errors[False], errors


def test_far_from_the_goal_the_full_plan_wins():
    goal = torch.tensor([0.13, 0.0, 0.0])  # three 5 cm steps away: no single step gets close
    planner = _pair(samples=48, iterations=4)
    result = planner.plan(end_distance(goal), generator=torch.Generator().manual_seed(0))
    assert planner.one_step_chosen == 0
    assert result.actions[0, 1:, :3].abs().sum() > 0.05  # a real three-step plan
    assert float(result.costs[0]) < 0.03


def test_costs_and_batches_are_per_problem():
    goals = torch.tensor([[0.03, 0.0, 0.0], [0.13, 0.0, 0.0]])  # near, far

    def cost(actions):  # (B, S, H, 7) -> (B, S)
        return (actions[..., :3].sum(dim=-2) - goals[:, None]).abs().sum(-1)

    planner = _pair(samples=48, iterations=4)
    result = planner.plan(cost, batch_size=2, generator=torch.Generator().manual_seed(1))
    assert planner.one_step_chosen == 1 and planner.plans == 2
    assert not result.actions[0, 1:].any() and result.actions[1, 1:].abs().sum() > 0
    assert torch.allclose(result.costs, cost(result.actions[:, None])[:, 0])  # the returned cost is the plan's


def test_refuses_mismatched_planners():
    with pytest.raises(ValueError, match="horizon 1"):
        OneStepAlternative(make_planner("cem", paper_bounds(), horizon=3), make_planner("cem", paper_bounds(),
                                                                                        horizon=2))
