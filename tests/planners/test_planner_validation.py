"""Regression tests for the planner reliability cases (F4, F5, F26 in shared/reliability-findings.md):
configs are validated with one-line errors, MPPI handles infinite costs, and NaN blame is precise."""

import math

import pytest
import torch

from planners import ActionBounds, make_planner
from planners.mppi import softmin_weights

NAMES = ["cem", "mppi", "icem", "random"]
BOX = ActionBounds(low=[-1.0, -1.0], high=[1.0, 1.0])


def _sum_cost(a: torch.Tensor) -> torch.Tensor:
    return a.sum(dim=(-1, -2))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("field,value,match", [
    ("samples", 0, "samples must be >= 1"),
    ("samples", 10.5, "samples must be an integer"),
    ("samples", "10", "samples must be an integer"),
    ("samples", True, "samples must be an integer"),
    ("horizon", 0, "horizon must be >= 1"),
    ("action_dim", 0, "action_dim must be >= 1"),
])
def test_f5_counts_are_validated_for_every_planner(name, field, value, match):
    with pytest.raises(ValueError, match=match):
        make_planner(name, BOX, **{"action_dim": 2, field: value})


@pytest.mark.parametrize("name", ["cem", "mppi", "icem"])
def test_f5_iterations_zero_is_refused(name):
    with pytest.raises(ValueError, match="iterations must be >= 1"):
        make_planner(name, BOX, action_dim=2, iterations=0)


@pytest.mark.parametrize("name", ["cem", "icem"])
@pytest.mark.parametrize("topk", [0, 20])
def test_f5_topk_outside_samples_is_refused(name, topk):
    with pytest.raises(ValueError, match="topk"):
        make_planner(name, BOX, action_dim=2, samples=10, topk=topk)


@pytest.mark.parametrize("name,field", [("cem", "init_std"), ("mppi", "init_std"), ("icem", "init_std"),
                                        ("mppi", "temperature"), ("cem", "momentum_mean"), ("icem", "momentum"),
                                        ("cem", "gripper_init_std")])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
def test_f26_non_finite_or_negative_settings_are_refused(name, field, value):
    with pytest.raises(ValueError, match=field):
        make_planner(name, BOX, action_dim=2, **{field: value})


def test_f26_nan_bounds_are_refused():
    with pytest.raises(ValueError, match="finite"):
        make_planner("cem", ActionBounds(low=[float("nan"), -1.0], high=[1.0, 1.0]), action_dim=2)


def test_f26_nan_cost_error_blames_the_cost_function_with_counts():
    cost = lambda a: torch.where(a[..., 0, 0] > 0, float("nan"), 0.0)  # noqa: E731
    with pytest.raises(ValueError, match=r"NaN costs for \d+ of 10 .*cost function itself"):
        make_planner("random", BOX, action_dim=2, samples=10).plan(cost)


def test_f4_mppi_all_infinite_costs_give_a_finite_plan():
    planner = make_planner("mppi", BOX, action_dim=2, samples=10, iterations=3)
    res = planner.plan(lambda a: torch.full(a.shape[:2], float("inf")), generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(res.actions).all()
    assert math.isinf(float(res.costs[0]))


def test_f4_mppi_one_infinite_sample_is_ignored_not_nan():
    def cost(a: torch.Tensor) -> torch.Tensor:
        c = ((a - 0.5) ** 2).sum(dim=(-1, -2))
        if c.shape[1] > 1:  # not for the final one-sample evaluation of the plan
            c[:, 1] = float("inf")
        return c

    res = make_planner("mppi", BOX, action_dim=2, samples=64, iterations=8).plan(
        cost, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(res.actions).all()
    assert torch.allclose(res.actions[0], torch.full((2, 2), 0.5), atol=0.1)


def test_softmin_weights_rows_sum_to_one_and_inf_gets_zero():
    w = softmin_weights(torch.tensor([[1.0, float("inf"), 2.0], [float("inf")] * 3]), temperature=0.1)
    assert torch.allclose(w.sum(dim=1), torch.ones(2))
    assert w[0, 1] == 0 and w[0, 0] > w[0, 2]
    assert torch.allclose(w[1], torch.full((3,), 1 / 3))


def _quadratic(a: torch.Tensor) -> torch.Tensor:
    return ((a - torch.tensor([0.3, -0.6])) ** 2).sum(dim=(-1, -2))


class _Counter:
    def __init__(self, fn):
        self.fn, self.evaluated = fn, 0

    def __call__(self, a: torch.Tensor) -> torch.Tensor:
        self.evaluated += a.shape[0] * a.shape[1]
        return self.fn(a)


def test_cem_early_stop_saves_evaluations_and_still_finds_the_optimum():
    full, early = _Counter(_quadratic), _Counter(_quadratic)
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    make_planner("cem", BOX, action_dim=2, samples=200, iterations=30).plan(full, generator=g())
    res = make_planner("cem", BOX, action_dim=2, samples=200, iterations=30, early_stop_tol=0.05,
                       min_iterations=3).plan(early, generator=g())
    assert len(res.history) < 30 and early.evaluated < full.evaluated
    assert torch.allclose(res.actions[0], torch.tensor([0.3, -0.6]).expand(2, 2), atol=0.05)


def test_cem_samples_decay_and_kept_elites_are_not_reevaluated():
    counter = _Counter(_quadratic)
    planner = make_planner("cem", BOX, action_dim=2, samples=100, topk=5, iterations=4, samples_decay=2.0,
                           keep_elites=True)
    res = planner.plan(counter, generator=torch.Generator().manual_seed(0))
    # new samples only: 100 + 50 + 25 + 12, plus the final mean's evaluation
    assert counter.evaluated == 100 + 50 + 25 + 12 + 1
    # kept elites make the best cost monotone over iterations
    best = [h.best_cost for h in res.history]
    assert all(b2 <= b1 for b1, b2 in zip(best, best[1:]))
    with pytest.raises(ValueError, match="samples_decay"):
        make_planner("cem", BOX, action_dim=2, samples_decay=0.5)
