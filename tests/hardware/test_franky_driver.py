"""FrankyDriver against a stand-in ``franky`` module that records motions and lets the arm drift between state
reads (the real library and franky-sim are exercised in test_franky_sim.py)."""

import sys
import types

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from envs.conventions import EULER_SEQ
from hardware.camera import FakeCamera
from hardware.env import FrankaHardwareEnv
from hardware.franky_driver import MAX_WIDTH, FrankyDriver


class FakeRobot:
    """Each state read returns a pose that has drifted ``drift`` metres further along +x."""

    def __init__(self, host, realtime_config=None):
        self.translation = np.array([0.45, 0.0, 0.35])
        self.quaternion = Rotation.from_euler(EULER_SEQ, [np.pi, 0, 0]).as_quat()
        self.drift = 0.0
        self.motions, self.stops = [], 0
        self.relative_dynamics_factor = None

    @property
    def current_cartesian_state(self):
        self.translation = self.translation + np.array([self.drift, 0, 0])
        pose = types.SimpleNamespace(translation=self.translation.copy(), quaternion=self.quaternion.copy())
        return types.SimpleNamespace(pose=types.SimpleNamespace(end_effector_pose=pose))

    def move(self, motion):
        self.motions.append(motion)
        if isinstance(motion, FakeCartesianMotion):
            self.translation = np.asarray(motion.target.translation, float).copy()
            self.quaternion = np.asarray(motion.target.quaternion, float).copy()

    def recover_from_errors(self):
        pass

    def stop(self):
        self.stops += 1


class FakeGripper:
    def __init__(self, host):
        self.width, self.moves = MAX_WIDTH, []

    def move(self, width, speed):
        self.moves.append(width)
        self.width = width


class FakeCartesianMotion:
    def __init__(self, target, reference_type):
        self.target, self.reference_type = target, reference_type


@pytest.fixture
def fake_franky(monkeypatch):
    mod = types.ModuleType("franky")
    mod.RealtimeConfig = types.SimpleNamespace(Enforce="enforce", Ignore="ignore")
    mod.ReferenceType = types.SimpleNamespace(Absolute="absolute", Relative="relative")
    mod.Robot, mod.Gripper, mod.CartesianMotion = FakeRobot, FakeGripper, FakeCartesianMotion
    mod.Affine = lambda translation, quaternion: types.SimpleNamespace(translation=np.asarray(translation),
                                                                      quaternion=np.asarray(quaternion))
    mod.JointMotion = lambda joints: ("joints", list(joints))
    monkeypatch.setitem(sys.modules, "franky", mod)
    return mod


def _connected_driver():
    driver = FrankyDriver("10.0.0.2", require_realtime=False)
    driver.connect()
    return driver


def test_f23_franky_driver_targets_the_checked_state_not_a_fresh_read(fake_franky):
    """The arm drifts 3 cm between state reads: the motion must go to the target the safety layer checked."""
    driver = _connected_driver()
    env = FrankaHardwareEnv(driver, FakeCamera(lambda: np.zeros((64, 64, 3), np.uint8)), image_size=64)
    env.reset(options={"skip_home": True})
    driver.robot.drift = 0.03
    _, _, _, _, info = env.step(np.array([0.04, 0, 0, 0, 0, 0, 0], np.float32))
    step = [e for e in env.episode_log if e["event"] == "step"][-1]
    motion = driver.robot.motions[-1]
    assert motion.reference_type == "absolute"
    assert np.allclose(motion.target.translation, info["target"][:3])
    assert np.allclose(motion.target.translation, np.array(step["state_before"][:3]) + [0.04, 0, 0])
    assert np.isclose(motion.target.translation[0] - step["state_before"][0], 0.04)  # not 0.07 (a second read)


def test_franky_driver_sends_absolute_pose_and_gripper_only_on_change(fake_franky):
    driver = _connected_driver()
    s0 = driver.current_state()
    target = s0.copy()
    target[:3] += [0.01, -0.02, 0.0]
    target[5] = 0.3
    driver.move_to(target, s0)
    motion = driver.robot.motions[-1]
    assert np.allclose(motion.target.translation, target[:3])
    assert np.allclose(Rotation.from_quat(motion.target.quaternion).as_euler(EULER_SEQ)[2], 0.3)
    assert driver.gripper.moves == []  # closure unchanged: the gripper is not commanded
    target[6] = 0.5
    driver.move_to(target, s0)
    assert np.allclose(driver.gripper.moves, [0.5 * MAX_WIDTH])


@pytest.mark.parametrize("bad", [np.full(7, np.nan), np.zeros(6)])
def test_franky_driver_refuses_invalid_targets(fake_franky, bad):
    from hardware.driver import DriverError

    driver = _connected_driver()
    with pytest.raises(DriverError, match="invalid target"):
        driver.move_to(bad, driver.current_state())
    assert driver.robot.motions == []
