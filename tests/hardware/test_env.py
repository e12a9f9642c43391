"""Hardware env with the dry-run driver and a fake camera: spec, check_env, fault handling, deploy rehearsal."""

import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from hardware.camera import FakeCamera, preprocess
from hardware.driver import DriverError, DryRunDriver
from hardware.env import FrankaHardwareEnv, SafeStop
from hardware.safety import SafetyConfig
from hardware.watchdog import Watchdog


def _env(driver=None, size=64, **kw):
    driver = driver or DryRunDriver()

    def frame():  # a deterministic 'photo' of the arm: a bright square at the TCP's (x, y)
        img = np.zeros((120, 160, 3), np.uint8)
        x, y = driver.state[:2]
        r, c = int(np.clip((x - 0.2) * 150, 0, 110)), int(np.clip((y + 0.5) * 150, 0, 150))
        img[r:r + 10, c:c + 10] = 255
        return img

    return FrankaHardwareEnv(driver, FakeCamera(frame), image_size=size, **kw)


def test_same_spaces_as_sim_and_check_env():
    import envs  # noqa: F401

    hw = _env()
    sim = gym.make("FrankaReach-v0", image_size=64)
    assert hw.observation_space == sim.observation_space and hw.action_space == sim.action_space
    check_env(hw, skip_render_check=True)
    sim.close()


def test_step_moves_dry_run_driver_through_safety():
    driver = DryRunDriver()
    env = _env(driver)
    obs, info = env.reset()
    s0 = obs["state"].copy()
    obs, *_ = env.step(np.array([0.03, 0, 0, 0, 0, 0, 0], np.float32))
    assert np.isclose(obs["state"][0] - s0[0], 0.03, atol=1e-6)
    obs, _, _, _, info = env.step(np.array([0.07, 0, 0, 0, 0, 0, 0], np.float32))  # above the 0.05 m safety limit
    assert np.isclose(driver.commands[-1][0], 0.05) and info["violations"]


def test_preprocess_centre_crop_resize():
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, 50:150] = 255  # the centre square is white
    out = preprocess(img, 32)
    assert out.shape == (32, 32, 3) and out.min() == 255


class FlakyDriver(DryRunDriver):
    def __init__(self, fail_at, recover_ok=True):
        super().__init__()
        self.fail_at, self.recover_ok, self.n, self.recovered = fail_at, recover_ok, 0, 0

    def move_delta(self, action):
        self.n += 1
        if self.n == self.fail_at:
            raise DriverError("cartesian_reflex: simulated reflex")
        super().move_delta(action)

    def recover(self):
        if not self.recover_ok:
            raise DriverError("recovery refused")
        self.recovered += 1


def test_reflex_error_is_recovered_and_logged():
    driver = FlakyDriver(fail_at=2)
    env = _env(driver)
    env.reset()
    for _ in range(3):
        env.step(np.zeros(7, np.float32))
    assert driver.recovered == 1 and any(e["event"] == "recovered" for e in env.episode_log)


def test_unrecoverable_error_stops_safely_with_log_intact():
    driver = FlakyDriver(fail_at=2, recover_ok=False)
    env = _env(driver)
    env.reset()
    env.step(np.zeros(7, np.float32))
    with pytest.raises(SafeStop, match="recovery failed"):
        env.step(np.zeros(7, np.float32))
    assert driver.stopped >= 1
    assert [e["event"] for e in env.episode_log] == ["reset", "step", "safe_stop"]


def test_camera_drops():
    env = _env()
    env.reset()
    env.camera.drop = 2  # within the retry budget
    env.step(np.zeros(7, np.float32))
    env.camera.drop = 10
    with pytest.raises(SafeStop, match="camera failure"):
        env.step(np.zeros(7, np.float32))
    assert env.driver.stopped >= 1 and env.episode_log[-1]["event"] == "safe_stop"


def test_connection_drop():
    class Dropping(DryRunDriver):
        def current_state(self):
            if len(self.commands) >= 1:
                raise DriverError("libfranka: connection lost")
            return super().current_state()

    env = _env(Dropping())
    env.reset()
    with pytest.raises(SafeStop, match="cannot read robot state"):
        env.step(np.zeros(7, np.float32))
    assert env.driver.stopped >= 1


@pytest.mark.parametrize("action", [np.full(7, np.nan, np.float32), np.zeros(5, np.float32),
                                    np.array([0.5, 0, 0, 0, 0, 0, 0], np.float32)])
def test_bad_agent_output_is_a_safe_stop(action):
    env = _env()
    env.reset()
    with pytest.raises(SafeStop, match="unsafe command"):
        env.step(action)
    assert env.driver.stopped >= 1 and len(env.driver.commands) == 0


def test_out_of_workspace_target_strict_mode_stops():
    env = _env(safety=SafetyConfig(strict=True, workspace_high=(0.75, 0.4, 0.36)))
    env.reset()
    with pytest.raises(SafeStop, match="outside workspace"):
        env.step(np.array([0, 0, 0.05, 0, 0, 0, 0], np.float32))


def test_watchdog_fires_and_can_be_kicked():
    fired = []
    with Watchdog(0.15, lambda: fired.append(time.monotonic())) as wd:
        for _ in range(4):
            time.sleep(0.05)
            wd.kick()
        assert not fired
        time.sleep(0.4)
    assert len(fired) == 1


def test_deploy_dry_run_saves_episode(tmp_path):
    import torch

    from hardware.deploy import main
    from training.dataset import load_episodes
    from world_model.checkpoint import save_world_model
    from world_model.model import build_world_model

    torch.manual_seed(0)
    base = save_world_model(build_world_model("sim_tiny"), tmp_path / "wm")
    main(["--dry-run", "--camera", "fake", "--steps", "2", "--model", str(base), "--out", str(tmp_path / "run"),
          "--no-prompt"])
    episodes, bad = load_episodes(tmp_path / "run" / "episodes")
    assert episodes[0].actions.shape == (2, 7) and not bad
    assert (tmp_path / "run" / "episode.mp4").exists() and (tmp_path / "run" / "episode_log.json").exists()
