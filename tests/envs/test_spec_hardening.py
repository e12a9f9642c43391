"""Sim env action checks added in the hardening pass (probe row: env ``step`` with a complex action)."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401 - registers the env ids
from envs.spec import clip_action, make_action_space, validate_action


@pytest.mark.parametrize("check", [validate_action, clip_action])
def test_complex_action_refused_by_spec_checks(check):
    action = np.zeros(7, np.complex128)
    action[0] = 0.01 + 1j
    with pytest.raises(ValueError, match="complex"):
        check(action, make_action_space())


def test_complex_action_with_zero_imaginary_part_still_refused():
    with pytest.raises(ValueError, match="complex"):
        validate_action(np.zeros(7, np.complex64), make_action_space())


def test_sim_step_refuses_complex_action_and_leaves_sim_untouched():
    env = gym.make("FrankaReach-v0", image_size=64)
    try:
        env.reset(seed=0)
        before = env.unwrapped.get_sim_state()
        action = np.zeros(7, np.complex128)
        action[0] = 0 + 1j
        with pytest.raises(ValueError, match="complex"):
            env.step(action)
        after = env.unwrapped.get_sim_state()
        assert np.array_equal(before.qpos, after.qpos) and np.array_equal(before.mocap_pos, after.mocap_pos)
        assert before.time == after.time
    finally:
        env.close()
