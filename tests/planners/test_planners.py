"""Every planner finds known optima, respects its constraints and is deterministic under a seed."""

import math

import pytest
import torch

from planners import ActionBounds, make_planner, paper_bounds
from planners.constraints import apply_bounds

NAMES = ["cem", "mppi", "icem", "random"]
BOX = ActionBounds(low=[-1.0, -1.0], high=[1.0, 1.0])


def quadratic(target: torch.Tensor):
    def cost(a: torch.Tensor) -> torch.Tensor:  # a: (B, S, H, 2)
        return ((a - target) ** 2).sum(dim=(-1, -2))

    return cost


def _planner(name, bounds=BOX, horizon=2, action_dim=2, **kw):
    defaults = {"random": {"samples": 4000}, "cem": {"samples": 200, "topk": 10, "iterations": 15}}
    return make_planner(name, bounds, horizon=horizon, action_dim=action_dim, **{**defaults.get(name, {}), **kw})


@pytest.mark.parametrize("name", NAMES)
def test_quadratic_optimum(name):
    target = torch.tensor([0.3, -0.6])
    g = torch.Generator().manual_seed(0)
    res = _planner(name).plan(quadratic(target), generator=g)
    assert res.actions.shape == (1, 2, 2)
    tol = 0.25 if name == "random" else 0.03
    assert torch.allclose(res.actions[0], target.expand(2, 2), atol=tol), res.actions
    assert len(res.history) >= 1 and res.time_s > 0


@pytest.mark.parametrize("name", ["cem", "icem", "mppi"])
def test_nonconvex_global_minimum(name):
    # Rastrigin-like cost on [-1, 1]^2 shifted so the global minimum is at (0.5, -0.5); many local minima.
    opt = torch.tensor([0.5, -0.5])

    def cost(a):
        x = (a - opt) * 5.12
        return (20 + (x**2 - 10 * torch.cos(2 * math.pi * x)).sum(-1)).sum(-1)

    g = torch.Generator().manual_seed(1)
    planner = _planner(name, horizon=1, samples=600, iterations=12)
    res = planner.plan(cost, generator=g)
    assert torch.allclose(res.actions[0, 0], opt, atol=0.05), res.actions


@pytest.mark.parametrize("name", NAMES)
def test_paper_constraints_respected_by_every_sample(name):
    bounds = paper_bounds()
    seen = []

    def cost(a):
        seen.append(a.clone())
        return 10 * (a[..., :3] - 0.2).abs().sum(dim=(-1, -2)) + (a[..., 6] - 0.7).abs().sum(-1)

    res = make_planner(name, bounds, samples=256, horizon=3).plan(cost, generator=torch.Generator().manual_seed(0))
    for a in seen + [res.actions[:, None]]:
        assert torch.all(a[..., 3:6] == 0), "rotation dims must stay pinned to 0"
        assert torch.all(a[..., :3].norm(dim=-1) <= 0.05 + 1e-6), "maxnorm 0.05 violated"
        assert torch.all(a[..., 6].abs() <= 0.75 + 1e-6)
    # the optimum direction is +xyz at the maxnorm
    if name != "random":
        first = res.actions[0, 0, :3]
        direction = torch.nn.functional.cosine_similarity(first, torch.ones(3), dim=0)
        assert direction > 0.95 and first.norm() > 0.03, first


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_under_seed(name):
    cost = quadratic(torch.tensor([0.1, 0.2]))
    a = _planner(name).plan(cost, generator=torch.Generator().manual_seed(7)).actions
    b = _planner(name).plan(cost, generator=torch.Generator().manual_seed(7)).actions
    assert torch.equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_batch_problems_are_independent(name):
    targets = torch.tensor([[0.5, 0.5], [-0.5, 0.2]])

    def cost(a):  # a: (2, S, H, 2)
        return ((a - targets[:, None, None]) ** 2).sum(dim=(-1, -2))

    res = _planner(name).plan(cost, batch_size=2, generator=torch.Generator().manual_seed(0))
    tol = 0.25 if name == "random" else 0.05
    for i in range(2):
        assert torch.allclose(res.actions[i], targets[i].expand(2, 2), atol=tol)


@pytest.mark.parametrize("name", NAMES)
def test_bad_cost_shape_raises(name):
    with pytest.raises(ValueError, match="cost_fn returned shape"):
        _planner(name).plan(lambda a: a.sum(-1))


def test_nan_cost_raises():
    with pytest.raises(ValueError, match="NaN"):
        _planner("cem").plan(lambda a: torch.full(a.shape[:2], float("nan")))


def test_unknown_planner_and_field():
    with pytest.raises(ValueError, match="unknown planner"):
        make_planner("nope")
    with pytest.raises(ValueError, match="unknown cem config fields"):
        make_planner("cem", samples_typo=3)


def test_warm_start_shifts_previous_plan():
    planner = make_planner("mppi", BOX, horizon=3, action_dim=2, iterations=1, samples=8, warm_start=True)
    calls = []

    def cost(a):
        calls.append(a.clone())
        return ((a - 0.4) ** 2).sum(dim=(-1, -2))

    first = planner.plan(cost, generator=torch.Generator().manual_seed(0)).actions
    calls.clear()
    planner.plan(cost, generator=torch.Generator().manual_seed(0))
    # sample 0 is the (shifted) warm-start mean
    assert torch.allclose(calls[0][0, 0, :2], first[0, 1:], atol=1e-6)
    planner.reset()
    calls.clear()
    planner.plan(cost, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(calls[0][0, 0], torch.zeros(3, 2))


def test_apply_bounds_projection():
    b = ActionBounds(low=[-1, -1, -1], high=[1, 1, 1], fixed={2: 0.5}, maxnorm=((0, 1), 0.5))
    out = apply_bounds(torch.tensor([[3.0, 4.0, -1.0]]), b)
    assert torch.allclose(out, torch.tensor([[0.3, 0.4, 0.5]]))


def _gripper_spread(gripper_init_std=None, want=None, seeds=range(20), name="cem", seen=None, **kw):
    """The returned first gripper command of a CPU-sized planner (CEM 48 x 4, horizon 3, paper bounds) over
    ``seeds``, on a cost that depends on xyz only (want=None) or also pulls the gripper towards ``want``. ``seen``
    (a list) collects every sampled action sequence."""
    if name == "cem":
        kw = dict(samples=48, topk=10, iterations=4, keep_elites=True, gripper_init_std=gripper_init_std, **kw)
    out = []
    for seed in seeds:
        def cost(a):
            if seen is not None:
                seen.append(a.clone())
            c = 10 * (a[..., :3] - 0.02).abs().sum(dim=(-1, -2))
            return c if want is None else c + (a[..., 6] - want).abs().sum(-1)

        planner = make_planner(name, paper_bounds(), horizon=3, **kw)
        out.append(float(planner.plan(cost, generator=torch.Generator().manual_seed(seed)).actions[0, 0, 6]))
    return torch.tensor(out)


def test_cem_gripper_init_std_keeps_an_indifferent_gripper_near_its_mean():
    # The cost ignores the gripper: with the full initial std the returned plan's gripper is left to chance.
    # Executed step after step, such commands add up (a random walk of the gripper's closure).
    wide, narrow = _gripper_spread(None).abs(), _gripper_spread(0.1).abs()
    assert wide.mean() > 0.1 and wide.max() > 0.2
    assert narrow.max() < 0.08 and narrow.mean() < wide.mean() / 3


def test_cem_gripper_init_std_still_follows_a_cost_that_wants_the_gripper():
    # Narrower steps, the same direction: the gripper closes over a few MPC steps instead of one.
    toward = _gripper_spread(0.2, want=0.6)
    assert (toward > 0.05).all() and toward.mean() > 0.2


def test_cem_gripper_init_std_only_changes_the_gripper_dims():
    cost = quadratic(torch.tensor([0.3, -0.6]))
    kw = dict(action_dim=2, gripper_dims=(1,))
    wide = _planner("cem", **kw).plan(cost, generator=torch.Generator().manual_seed(0))
    narrow = _planner("cem", gripper_init_std=0.05, **kw).plan(cost, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(wide.actions[0, :, 0], narrow.actions[0, :, 0], atol=0.03)


def test_apply_bounds_deadband_zeroes_small_values_after_the_box_clip():
    b = ActionBounds(low=[-1, -0.5], high=[1, 0.5], deadband={1: 0.3})
    out = apply_bounds(torch.tensor([[0.1, 0.29], [0.1, -0.29], [0.1, 0.31], [0.1, -2.0]]), b)
    assert torch.equal(out, torch.tensor([[0.1, 0.0], [0.1, 0.0], [0.1, 0.31], [0.1, -0.5]]))


@pytest.mark.parametrize("constraint, message", [
    ({"deadband": {2: 0.1}}, "deadband dim 2 outside"),
    ({"deadband": {1: 0.5}}, r"must be a number in \[0, 0.5\)"),
    ({"deadband": {1: -0.1}}, "must be a number"),
    ({"deadband": {1: float("nan")}}, "must be a number"),
    ({"levels": {2: (0.0,)}}, "levels dim 2 outside"),
    ({"levels": {1: ()}}, "non-empty sequence"),
    ({"levels": {1: (0.5, 0.0)}}, "strictly ascending"),
    ({"levels": {1: (-1.0, 0.0)}}, r"lie in its bounds \[-0.5, 0.5\]"),
    ({"levels": {1: (0.0, float("inf"))}}, "finite numbers"),
])
def test_bad_deadband_or_levels_are_refused(constraint, message):
    with pytest.raises(ValueError, match=message):
        make_planner("cem", ActionBounds(low=[-1, -0.5], high=[1, 0.5], **constraint), action_dim=2)


@pytest.mark.parametrize("name", NAMES)
def test_gripper_deadband_applies_to_every_sample_of_every_planner(name):
    seen = []
    _gripper_spread(name=name, seeds=range(2), seen=seen, gripper_deadband=0.3)
    grip = torch.cat([a[..., 6].flatten() for a in seen])
    assert not ((grip != 0) & (grip.abs() < 0.3)).any()
    assert (grip == 0).any() and (grip.abs() >= 0.3).any()


@pytest.mark.parametrize("name", ["cem", "mppi"])
def test_gripper_deadband_drops_indifferent_commands(name):
    # (iCEM returns its best sample as it is: an indifferent gripper there is left to chance, deadband or not.)
    assert (_gripper_spread(name=name) != 0).all()
    assert (_gripper_spread(name=name, gripper_deadband=0.3) == 0).all()


@pytest.mark.parametrize("name", ["cem", "mppi", "icem"])
def test_gripper_deadband_keeps_wanted_commands(name):
    assert (_gripper_spread(name=name, want=0.6, gripper_deadband=0.3) >= 0.3).all()
    assert (_gripper_spread(name=name, want=-0.6, gripper_deadband=0.3) <= -0.3).all()


@pytest.mark.parametrize("name", NAMES)
def test_gripper_deadband_is_refused_when_negative(name):
    with pytest.raises(ValueError, match="gripper_deadband must be >= 0"):
        make_planner(name, paper_bounds(), gripper_deadband=-0.1)


def test_apply_bounds_levels_snap_to_the_nearest_level_after_the_box_clip():
    b = ActionBounds(low=[-1, -0.75], high=[1, 0.75], levels={1: (-0.75, 0.0, 0.75)})
    out = apply_bounds(torch.tensor([[0.1, 0.36], [0.1, 0.38], [0.1, -0.5], [0.1, 3.0], [0.1, 0.0]]), b)
    assert torch.equal(out, torch.tensor([[0.1, 0.0], [0.1, 0.75], [0.1, -0.75], [0.1, 0.75], [0.1, 0.0]]))


@pytest.mark.parametrize("name", NAMES)
def test_gripper_discrete_restricts_every_sample_of_every_planner_to_three_levels(name):
    seen = []
    _gripper_spread(name=name, seeds=range(2), seen=seen, gripper_discrete=True)
    grip = torch.cat([a[..., 6].flatten() for a in seen])
    assert set(grip.unique().tolist()) <= {-0.75, 0.0, 0.75}
    assert (grip == 0).any() and (grip.abs() == 0.75).any()


@pytest.mark.parametrize("name, held", [("cem", 1.0), ("mppi", 0.8)])
def test_gripper_discrete_holds_an_indifferent_gripper_and_follows_a_wanted_one(name, held):
    # Indifferent: mostly no command at all (the env adds every command to the closure; MPPI's peaked weights
    # sometimes pass on the winning sample's full step). Wanted: one full step, not a nudge.
    assert (_gripper_spread(name=name, gripper_discrete=True) == 0).float().mean() >= held
    assert (_gripper_spread(name=name, want=0.6, gripper_discrete=True) == 0.75).all()
    assert (_gripper_spread(name=name, want=-0.6, gripper_discrete=True) == -0.75).all()


def test_gripper_discrete_needs_gripper_bounds_around_zero():
    with pytest.raises(ValueError, match="gripper_discrete needs gripper bounds around 0"):
        make_planner("cem", ActionBounds(low=[-1, 0.0], high=[1, 1.0]), action_dim=2, gripper_dims=(1,),
                     gripper_discrete=True)


@pytest.mark.parametrize("name", NAMES)
def test_gripper_discrete_must_be_a_bool(name):
    with pytest.raises(ValueError, match="gripper_discrete must be true or false"):
        make_planner(name, paper_bounds(), gripper_discrete=1)
