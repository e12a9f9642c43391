"""Pure safety functions: every rule, with values just inside and just outside the limits."""

import numpy as np
import pytest

from hardware.safety import (SafetyConfig, SafetyViolation, check_action, check_finite, clamp_target, limit_step,
                             state_in_workspace)

CFG = SafetyConfig()
STATE = np.array([0.5, 0.0, 0.3, np.pi, 0.0, 0.0, 0.0])


def test_valid_action_passes_unchanged():
    a = np.array([0.01, -0.02, 0.01, 0, 0, 0.05, 0.5])
    rep = check_action(a, STATE, CFG)
    assert np.allclose(rep.action, a) and rep.violations == []
    assert np.allclose(rep.target[:3], STATE[:3] + a[:3])


@pytest.mark.parametrize("bad", [np.zeros(6), np.zeros((7, 1)), np.array([np.nan] + [0] * 6),
                                 np.array([0, 0, np.inf, 0, 0, 0, 0])])
def test_nan_and_shape_rejected(bad):
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


def test_state_in_workspace():
    assert state_in_workspace(STATE, CFG)
    far = STATE.copy()
    far[0] = 2.0
    assert not state_in_workspace(far, CFG)
    assert not state_in_workspace(np.full(7, np.nan), CFG)


def test_bad_config():
    with pytest.raises(ValueError):
        SafetyConfig(workspace_low=(1, 0, 0), workspace_high=(0, 1, 1))
