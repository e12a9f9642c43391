"""Pure safety functions: every rule, values just inside and just outside the limits, and property tests of the
invariant "every command that reaches a driver satisfies every limit"."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from envs.conventions import integrate_action
from hardware.safety import (SafetyConfig, SafetyViolation, check_action, check_finite, clamp_target, limit_step,
                             orientation_deviation, state_in_workspace, verify_command)
from tests.hardware._helpers import SpyDriver, breaches, make_env

CFG = SafetyConfig()
STATE = np.array([0.5, 0.0, 0.3, np.pi, 0.0, 0.0, 0.0])
ZERO = np.zeros(7, np.float32)


def test_valid_action_passes_unchanged():
    a = np.array([0.01, -0.02, 0.01, 0, 0, 0.05, 0.5])
    rep = check_action(a, STATE, CFG)
    assert np.allclose(rep.action, a) and rep.violations == []
    assert np.allclose(rep.target[:3], STATE[:3] + a[:3])


@pytest.mark.parametrize("bad", [np.zeros(6), np.zeros((7, 1)), np.array([np.nan] + [0] * 6),
                                 np.array([0, 0, np.inf, 0, 0, 0, 0]), np.zeros(7, complex), {"dx": 0.1}, None])
def test_nan_type_and_shape_rejected(bad):
    with pytest.raises(SafetyViolation):
        check_action(bad, STATE, CFG)


def test_nan_state_rejected():
    with pytest.raises(SafetyViolation, match="robot state"):
        check_finite(np.zeros(7), np.full(7, np.nan))


def test_step_limits_scale_keeping_direction():
    a = np.array([0.3, 0.4, 0.0, 0.0, 0.0, 1.0, 0.0])
    out, notes = limit_step(a, CFG)
    assert np.isclose(np.linalg.norm(out[:3]), CFG.max_translation)
    assert np.allclose(out[:3] / np.linalg.norm(out[:3]), [0.6, 0.8, 0.0])
    assert np.isclose(np.linalg.norm(out[3:6]), CFG.max_rotation) and len(notes) == 2
    just_inside = np.array([CFG.max_translation * 0.999, 0, 0, 0, 0, 0, 0])
    assert limit_step(just_inside, CFG)[1] == []


def test_workspace_clamp_and_strict_mode():
    edge = STATE.copy()
    edge[2] = CFG.workspace_low[2] + 0.01
    a = np.array([0, 0, -0.04, 0, 0, 0, 0.0])
    safe, target, notes = clamp_target(edge, a, CFG)
    assert np.isclose(target[2], CFG.workspace_low[2]) and np.isclose(safe[2], -0.01) and notes
    with pytest.raises(SafetyViolation, match="outside workspace"):
        clamp_target(edge, a, SafetyConfig(strict=True))


def test_gripper_limits():
    s = STATE.copy()
    s[6] = 0.9
    rep = check_action(np.array([0, 0, 0, 0, 0, 0, 0.5]), s, CFG)
    assert np.isclose(rep.target[6], 1.0) and np.isclose(rep.action[6], 0.1)


def test_bad_config():
    with pytest.raises(ValueError, match="workspace_low"):
        SafetyConfig(workspace_low=(1, 0, 0), workspace_high=(0, 1, 1))


def test_state_in_workspace():
    assert state_in_workspace(STATE, CFG)
    far = STATE.copy()
    far[0] = 2.0
    assert not state_in_workspace(far, CFG)
    assert not state_in_workspace(np.full(7, np.nan), CFG)


def test_verify_command_rejects_each_broken_limit():
    assert np.allclose(verify_command(STATE, np.array([0.01, 0, 0, 0, 0, 0, 0]), CFG)[:3], [0.51, 0, 0.3])
    for bad, what in [([0.06, 0, 0, 0, 0, 0, 0], "translation"), ([0, 0, 0, 0.3, 0, 0, 0], "rotation"),
                      ([0, 0, 0, 0, 0, 0, 1.5], "gripper")]:
        with pytest.raises(SafetyViolation, match=what):
            verify_command(STATE, np.array(bad, float), CFG)
    at_wall = STATE.copy()
    at_wall[0] = CFG.workspace_high[0]
    with pytest.raises(SafetyViolation, match="out of the workspace"):
        verify_command(at_wall, np.array([0.01, 0, 0, 0, 0, 0, 0]), CFG)
    tilted = STATE.copy()
    tilted[3] = np.pi - 0.79
    with pytest.raises(SafetyViolation, match="orientation"):
        verify_command(tilted, np.array([0, 0, 0, -0.05, 0, 0, 0]), CFG)


# ------------------------------------------------------------------------------------------------ F15
def test_f15_margin_clamp_never_exceeds_step_limit():
    """The findings' repro: measured TCP 4 cm outside a shrunk box on 3 axes, zero action."""
    cfg = SafetyConfig(workspace_low=(0.49, 0.04, 0.39))
    driver = SpyDriver(cfg)
    env = make_env(driver, safety=cfg)
    env.reset()
    env.step(ZERO)
    step = np.linalg.norm(driver.commands[-1][:3])
    assert step <= cfg.max_translation + 1e-9, step
    assert not driver.breaches
    for _ in range(5):  # it walks back into the box, one limited step at a time
        env.step(ZERO)
    assert np.all(driver.state[:3] >= np.array(cfg.workspace_low) - 1e-9) and not driver.breaches


def test_f15_pure_pipeline_limits_the_step_after_the_clamp():
    cfg = SafetyConfig(workspace_low=(0.49, 0.04, 0.39))
    rep = check_action(np.zeros(7), np.array([0.45, 0.0, 0.35, np.pi, 0, 0, 0]), cfg)
    assert np.linalg.norm(rep.action[:3]) <= cfg.max_translation * (1 + 1e-9)
    assert np.allclose(rep.action[:3] / np.linalg.norm(rep.action[:3]), np.full(3, 1 / math.sqrt(3)))


# Property test: configs, measured poses (inside the box, at its walls, slightly outside within the margin),
# arbitrary orientations (away from the Euler gimbal lock) and actions far beyond the limits.
@st.composite
def configs(draw):
    low = np.array([draw(st.floats(0.2, 0.5)), draw(st.floats(-0.5, 0.0)), draw(st.floats(0.0, 0.3))])
    size = np.array([draw(st.floats(0.02, 0.5)) for _ in range(3)])
    g_low = draw(st.floats(0.0, 0.6))
    return SafetyConfig(workspace_low=tuple(low), workspace_high=tuple(low + size),
                        max_translation=draw(st.floats(1e-3, 0.2)), max_rotation=draw(st.floats(1e-3, 0.5)),
                        gripper_low=g_low, gripper_high=g_low + draw(st.floats(0.05, 1.0 - g_low)),
                        max_orientation_deviation=tuple(draw(st.floats(0.05, math.pi)) for _ in range(3)),
                        state_margin=draw(st.floats(0.0, 0.08)))


@st.composite
def poses(draw, cfg):
    low, high, m = np.array(cfg.workspace_low), np.array(cfg.workspace_high), cfg.state_margin
    xyz = np.array([draw(st.one_of(st.floats(lo - m, hi + m), st.sampled_from([lo - m, lo, hi, hi + m])))
                    for lo, hi in zip(low, high)])
    euler = [draw(st.floats(-math.pi, math.pi)), draw(st.floats(-1.3, 1.3)), draw(st.floats(-math.pi, math.pi))]
    return np.array([*xyz, *euler, draw(st.floats(0.0, 1.0))])


actions = st.lists(st.floats(-2.0, 2.0), min_size=7, max_size=7).map(np.array)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_f15_property_every_checked_command_satisfies_every_limit(data):
    cfg = data.draw(configs())
    state = data.draw(poses(cfg))
    action = data.draw(actions)
    deviation = orientation_deviation(state[3:6], cfg)
    assume(np.all(np.abs(deviation[1]) < 1.4))  # away from the gimbal lock of the deviation's Euler angles
    rep = check_action(action, state, cfg)  # non-strict: must always produce a command, never raise
    assert np.allclose(rep.target, integrate_action(state, rep.action, clip_gripper=False), atol=1e-12)
    assert np.linalg.norm(rep.action[:3]) <= cfg.max_translation * (1 + 1e-9)
    assert np.linalg.norm(rep.action[3:6]) <= cfg.max_rotation * (1 + 1e-9)
    assert breaches(state, rep.target, cfg) == []


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_f15_property_strict_mode_only_raises_or_satisfies_limits(data):
    cfg = SafetyConfig(**{**data.draw(configs()).__dict__, "strict": True})
    state = data.draw(poses(cfg))
    action = data.draw(actions)
    try:
        rep = check_action(action, state, cfg)
    except SafetyViolation:
        return
    assert breaches(state, rep.target, cfg) == []


# ------------------------------------------------------------------------------------------------ F21
@pytest.mark.parametrize("kwargs", [
    {"max_translation": float("nan")}, {"max_translation": float("inf")}, {"max_translation": 0.0},
    {"max_translation": -0.05}, {"max_rotation": float("nan")}, {"max_rotation": 4.0},
    {"gripper_low": 1.0, "gripper_high": 0.0}, {"gripper_low": 0.5, "gripper_high": 0.5}, {"gripper_high": 1.5},
    {"gripper_low": float("nan")}, {"workspace_low": (float("nan"), 0.0, 0.0)},
    {"workspace_high": (0.75, float("inf"), 0.6)},
    {"workspace_low": (0.25, -0.4)}, {"watchdog_timeout_s": 0.0}, {"watchdog_timeout_s": float("nan")},
    {"max_orientation_deviation": (0.0, 0.8, math.pi)}, {"max_orientation_deviation": (0.8, 0.8, 4.0)},
    {"orientation_reference": (float("nan"), 0, 0)}, {"state_margin": -0.01}, {"state_margin": float("nan")},
    {"max_translation": "abc"}, {"strict": "yes"},
], ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_f21_safety_config_rejects_nan_inf_and_inverted_limits(kwargs):
    with pytest.raises(ValueError, match="SafetyConfig|workspace_low|gripper_low"):
        SafetyConfig(**kwargs)


def test_f21_nan_limit_can_never_let_a_long_step_reach_the_driver():
    with pytest.raises(ValueError, match="max_translation"):
        SafetyConfig(max_translation=float("nan"))
    driver = SpyDriver()
    env = make_env(driver)
    env.reset()
    env.step(np.array([0.075, 0.075, 0.075, 0, 0, 0, 0], np.float32))
    assert np.linalg.norm(driver.commands[-1][:3]) <= CFG.max_translation + 1e-9 and not driver.breaches


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5)),
       name=st.sampled_from(["max_translation", "max_rotation", "watchdog_timeout_s", "gripper_high", "state_margin"]))
def test_f21_property_config_is_valid_or_refused(value, name):
    try:
        cfg = SafetyConfig(**{name: value})
    except ValueError:
        return
    v = getattr(cfg, name)
    assert math.isfinite(v) and v >= 0 and (v > 0 or name == "state_margin")
    assert cfg.gripper_low < cfg.gripper_high <= 1.0


# ------------------------------------------------------------------------------------------------ F22
def test_f22_orientation_bound_holds_over_40_roll_steps():
    driver = SpyDriver()
    env = make_env(driver)
    env.reset()
    for axis, n in ((3, 40), (4, 20), (3, -40)):
        for _ in range(abs(n)):
            a = np.zeros(7, np.float32)
            a[axis] = 0.25 * np.sign(n)
            env.step(a)
    devs = np.array([orientation_deviation(t[3:6], CFG) for t in driver.targets])
    assert devs[:, :2].max() <= 0.8 + 1e-7 and devs[:, :2].max() > 0.75  # reaches the bound, never beyond
    assert not driver.breaches


def test_f22_orientation_bound_yaw_free_and_strict_mode():
    rep = check_action(np.array([0, 0, 0, 0, 0, 0.2, 0]), np.array([0.5, 0, 0.3, np.pi, 0, 3.0, 0]), CFG)
    assert np.isclose(rep.action[5], 0.2)  # yaw is unbounded by default
    tilted = np.array([0.5, 0, 0.3, np.pi - 0.75, 0, 0, 0])
    with pytest.raises(SafetyViolation, match="orientation"):
        check_action(np.array([0, 0, 0, -0.1, 0, 0, 0]), tilted, SafetyConfig(strict=True))
    assert np.allclose(check_action(np.array([0, 0, 0, 0.1, 0, 0, 0]), tilted, CFG).action[3], 0.1)  # back


def test_f22_state_past_the_bound_may_hold_or_return_but_not_go_further():
    past = np.array([0.5, 0, 0.3, np.pi - 1.0, 0, 0, 0])  # 1.0 rad of roll from the reference, bound 0.8
    hold = check_action(np.zeros(7), past, CFG)
    assert np.allclose(hold.action, 0) and hold.violations == []
    further = check_action(np.array([0, 0, 0, -0.1, 0, 0, 0]), past, CFG)
    assert abs(further.action[3]) < 1e-6 and further.violations
