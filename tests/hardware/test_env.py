"""Hardware env with the dry-run driver and a fake camera: spec, check_env, fault handling, watchdog."""

import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from hardware.camera import FakeCamera
from hardware.driver import DriverError, DryRunDriver
from hardware.env import FrankaHardwareEnv, SafeStop
from hardware.safety import SafetyConfig
from tests.hardware._helpers import SpyDriver, make_env

ZERO = np.zeros(7, np.float32)
STEP_X = np.array([0.01, 0, 0, 0, 0, 0, 0], np.float32)


def events(env):
    return [e["event"] for e in env.episode_log]


def test_same_spaces_as_sim_and_check_env():
    import envs  # noqa: F401

    hw = make_env()
    sim = gym.make("FrankaReach-v0", image_size=64)
    assert hw.observation_space == sim.observation_space and hw.action_space == sim.action_space
    check_env(hw, skip_render_check=True)
    sim.close()


def test_step_moves_dry_run_driver_through_safety():
    driver = SpyDriver()
    env = make_env(driver)
    obs, info = env.reset()
    s0 = obs["state"].copy()
    obs, *_ = env.step(np.array([0.03, 0, 0, 0, 0, 0, 0], np.float32))
    assert np.isclose(obs["state"][0] - s0[0], 0.03, atol=1e-6)
    obs, _, _, _, info = env.step(np.array([0.07, 0, 0, 0, 0, 0, 0], np.float32))  # above the 0.05 m safety limit
    assert np.isclose(driver.commands[-1][0], 0.05) and info["violations"]
    assert np.allclose(info["action"][:3], [0.05, 0, 0]) and np.allclose(driver.targets[-1], info["target"])
    assert not driver.breaches


def test_step_before_reset_refuses_to_move():
    env = make_env()
    with pytest.raises(SafeStop, match="refusing to move"):
        env.step(ZERO)
    assert env.driver.commands == []


class FlakyDriver(DryRunDriver):
    def __init__(self, fail_at, recover_ok=True):
        super().__init__()
        self.fail_at, self.recover_ok, self.n, self.recovered = fail_at, recover_ok, 0, 0

    def move_to(self, target, state):
        self.n += 1
        if self.n == self.fail_at:
            raise DriverError("cartesian_reflex: simulated reflex")
        super().move_to(target, state)

    def recover(self):
        if not self.recover_ok:
            raise DriverError("recovery refused")
        self.recovered += 1


def test_reflex_error_is_recovered_and_logged():
    driver = FlakyDriver(fail_at=2)
    env = make_env(driver)
    env.reset()
    for _ in range(3):
        env.step(ZERO)
    assert driver.recovered == 1 and "recovered" in events(env)


def test_unrecoverable_error_stops_safely_with_log_intact():
    driver = FlakyDriver(fail_at=2, recover_ok=False)
    env = make_env(driver)
    env.reset()
    env.step(ZERO)
    with pytest.raises(SafeStop, match="recovery failed"):
        env.step(ZERO)
    assert driver.stopped >= 1
    assert events(env) == ["reset", "step", "safe_stop"]


def test_camera_drops():
    env = make_env()
    env.reset()
    env.camera.drop = 2  # within the retry budget
    env.step(ZERO)
    env.camera.drop = 10
    with pytest.raises(SafeStop, match="camera failure"):
        env.step(ZERO)
    assert env.driver.stopped >= 1 and env.episode_log[-1]["event"] == "safe_stop"


def test_connection_drop():
    class Dropping(DryRunDriver):
        def current_state(self):
            if len(self.commands) >= 1:
                raise DriverError("libfranka: connection lost")
            return super().current_state()

    env = make_env(Dropping())
    env.reset()
    with pytest.raises(SafeStop, match="cannot read robot state"):
        env.step(ZERO)
    assert env.driver.stopped >= 1


@pytest.mark.parametrize("action", [np.full(7, np.nan, np.float32), np.zeros(5, np.float32),
                                    np.array([0.5, 0, 0, 0, 0, 0, 0], np.float32)])
def test_bad_agent_output_is_a_safe_stop(action):
    env = make_env()
    env.reset()
    with pytest.raises(SafeStop, match="unsafe command"):
        env.step(action)
    assert env.driver.stopped >= 1 and len(env.driver.commands) == 0


def test_out_of_workspace_target_strict_mode_stops():
    env = make_env(safety=SafetyConfig(strict=True, workspace_high=(0.75, 0.4, 0.36)))
    env.reset()
    with pytest.raises(SafeStop, match="outside workspace"):
        env.step(np.array([0, 0, 0.05, 0, 0, 0, 0], np.float32))


# ------------------------------------------------------------------------------------------------ F16
class Boom(RuntimeError):
    pass


def _raise(exc):
    raise exc


class MoveFails(DryRunDriver):
    def __init__(self, exc):
        super().__init__()
        self.exc = exc

    def move_to(self, target, state):
        raise self.exc


class StateFails(DryRunDriver):
    def current_state(self):
        if self.connected and self.stopped == 0 and getattr(self, "armed", False):
            raise OSError("socket closed")
        return super().current_state()


def _frame_source(kind):
    frames = {"none": lambda: None, "0x0": lambda: np.zeros((0, 0, 3), np.uint8),
              "1x1": lambda: np.zeros((1, 1, 3), np.uint8), "10x10": lambda: np.zeros((10, 10, 3), np.uint8),
              "float": lambda: np.full((120, 160, 3), 0.5), "gray": lambda: np.zeros((120, 160), np.uint8),
              "raises": lambda: _raise(Boom("usb unplugged"))}
    return frames[kind]


@pytest.mark.parametrize("kind", ["none", "0x0", "1x1", "10x10", "float", "gray", "raises"])
def test_f16_any_camera_failure_is_a_safe_stop(kind):
    """Every bad frame or camera exception type stops the arm and is logged; the executed command is logged."""
    driver = DryRunDriver()
    good = np.zeros((120, 160, 3), np.uint8)
    calls = {"n": 0}

    def source():
        calls["n"] += 1
        return good if calls["n"] <= 1 else _frame_source(kind)()  # the reset frame is fine

    env = FrankaHardwareEnv(driver, FakeCamera(source), image_size=64)
    env.reset()
    with pytest.raises(SafeStop, match="camera failure"):
        env.step(STEP_X)
    assert driver.stopped >= 1 and events(env) == ["reset", "step", "safe_stop"]
    assert len(driver.commands) == 1 and np.allclose(env.episode_log[1]["action"], driver.commands[0])
    with pytest.raises(SafeStop, match="refusing to move"):
        env.step(STEP_X)
    assert len(driver.commands) == 1


def _assert_rejected(action):
    env = make_env()
    env.reset()
    with pytest.raises(SafeStop, match="unsafe command rejected"):
        env.step(action)
    assert env.driver.stopped >= 1 and env.driver.commands == [] and events(env)[-1] == "safe_stop"


@pytest.mark.parametrize("action", [{"dx": 0.1}, object(), np.array([0.01 + 1j, 0, 0, 0, 0, 0, 0])],
                         ids=["dict", "object", "complex"])
def test_f16_any_bad_action_type_is_a_safe_stop(action):
    _assert_rejected(action)


@pytest.mark.parametrize("action", ["0.01", [0.01, 0, 0, 0, 0, 0, None]], ids=["str", "None"])
def test_non_numeric_actions_are_a_safe_stop(action):
    _assert_rejected(action)


@pytest.mark.parametrize("exc", [ConnectionResetError("peer reset"), OSError("EPIPE"), KeyError("q"), Boom("x")],
                         ids=["ConnectionResetError", "OSError", "KeyError", "RuntimeError"])
def test_f16_any_driver_exception_on_move_is_a_safe_stop(exc):
    driver = MoveFails(exc)
    env = make_env(driver)
    env.reset()
    with pytest.raises(SafeStop, match="driver failure"):
        env.step(STEP_X)
    assert driver.stopped >= 1 and events(env) == ["reset", "safe_stop"]
    assert type(exc).__name__ in env.episode_log[-1]["error"]


def test_f16_state_read_exception_and_failed_recovery_are_safe_stops():
    driver = StateFails()
    env = make_env(driver)
    env.reset()
    driver.armed = True
    with pytest.raises(SafeStop, match="cannot read robot state"):
        env.step(STEP_X)
    assert driver.stopped >= 1 and events(env)[-1] == "safe_stop"

    class RecoverExplodes(FlakyDriver):
        def recover(self):
            raise Boom("recover crashed")

    env = make_env(RecoverExplodes(fail_at=1))
    env.reset()
    with pytest.raises(SafeStop, match="recovery failed"):
        env.step(STEP_X)
    assert env.driver.stopped >= 1


def test_f16_keyboard_interrupt_in_the_driver_stops_logs_and_propagates():
    driver = MoveFails(KeyboardInterrupt())
    env = make_env(driver)
    env.reset()
    with pytest.raises(KeyboardInterrupt):
        env.step(STEP_X)
    assert driver.stopped >= 1 and env.episode_log[-1]["event"] == "safe_stop"


def test_f16_reset_failure_of_any_type_is_a_safe_stop():
    class NoConnect(DryRunDriver):
        def connect(self):
            raise ConnectionRefusedError("127.0.0.1:1337 refused")

    env = make_env(NoConnect())
    with pytest.raises(SafeStop, match="reset failed"):
        env.reset()
    assert env.driver.stopped >= 1 and events(env) == ["reset", "safe_stop"]


def test_f16_log_write_failure_after_a_move_stops_the_arm(tmp_path):
    log = tmp_path / "log.jsonl"
    env = make_env(log_path=log)
    env.reset()
    env.step(STEP_X)
    log.unlink()
    log.mkdir()  # appending to the log now fails with IsADirectoryError
    with pytest.raises(SafeStop, match="unexpected failure during step"):
        env.step(STEP_X)
    assert env.driver.stopped >= 1 and events(env)[-1] == "safe_stop"


# ------------------------------------------------------------------------------------------------ F20
def _watchdog_env(timeout=0.3, **kw):
    return make_env(safety=SafetyConfig(watchdog_timeout_s=timeout), use_watchdog=True, **kw)


def test_f20_watchdog_stop_ends_the_episode():
    env = _watchdog_env()
    env.reset()
    env.step(STEP_X)
    time.sleep(0.8)
    for _ in range(2):
        with pytest.raises(SafeStop, match="refusing to move.*watchdog"):
            env.step(STEP_X)
    assert len(env.driver.commands) == 1 and env.driver.stopped >= 1
    assert events(env)[:3] == ["reset", "step", "watchdog_stop"] and "step" not in events(env)[3:]
    env.reset()  # a new episode may move again
    env.step(STEP_X)
    assert len(env.driver.commands) == 2
    env.close()


def test_f20_watchdog_event_during_the_goal_prompt_is_kept():
    env = _watchdog_env()
    env.reset()
    time.sleep(0.8)  # the user takes long to hand-guide the arm to the goal
    env.record_goal()
    env.reset()
    assert events(env).count("watchdog_stop") == 1 and events(env).count("reset") == 2
    env.step(STEP_X)  # the second reset started a fresh episode
    assert len(env.driver.commands) == 1
    env.close()


def test_f20_watchdog_works_again_after_close_and_reset():
    env = _watchdog_env()
    env.reset()
    env.close()
    with pytest.raises(SafeStop, match="refusing to move"):
        env.step(STEP_X)
    env.reset()
    env.step(STEP_X)
    time.sleep(0.8)
    assert "watchdog_stop" in events(env)
    with pytest.raises(SafeStop, match="watchdog"):
        env.step(STEP_X)
    assert len(env.driver.commands) == 1
    env.close()


def test_watchdog_does_not_fire_while_the_env_is_busy():
    class SlowDriver(SpyDriver):
        def move_to(self, target, state):
            time.sleep(0.5)  # a blocking motion longer than the timeout is not a missing command
            super().move_to(target, state)

    env = _watchdog_env(driver=SlowDriver())
    env.reset()
    for _ in range(2):
        env.step(STEP_X)
    assert "watchdog_stop" not in events(env) and len(env.driver.commands) == 2
    env.close()
