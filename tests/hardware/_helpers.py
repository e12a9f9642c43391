"""Shared set-up for the hardware tests: a dry-run driver that checks every command it receives against the
SafetyConfig limits (the "spy"), and an env builder with a fake camera."""

import numpy as np

from envs.conventions import action_between
from hardware.camera import FakeCamera
from hardware.driver import DryRunDriver
from hardware.env import FrankaHardwareEnv
from hardware.safety import SafetyConfig, orientation_allowance, orientation_deviation

TOL = 1e-7


def breaches(state, target, cfg: SafetyConfig) -> list[str]:
    """Every limit the command state -> target breaks, computed independently of hardware.safety's shaping."""
    state, target = np.asarray(state, np.float64), np.asarray(target, np.float64)
    out = []
    delta = target[:3] - state[:3]
    if np.linalg.norm(delta) > cfg.max_translation + TOL:
        out.append(f"translation {np.linalg.norm(delta):.4f} m")
    low = np.minimum(cfg.workspace_low, state[:3]) - TOL
    high = np.maximum(cfg.workspace_high, state[:3]) + TOL
    if np.any(target[:3] < low) or np.any(target[:3] > high):
        out.append(f"target {target[:3]} leaves the box")
    if not cfg.gripper_low - TOL <= target[6] <= cfg.gripper_high + TOL:
        out.append(f"gripper {target[6]}")
    if np.any(orientation_deviation(target[3:6], cfg) > orientation_allowance(state, cfg) + TOL):
        out.append(f"orientation {orientation_deviation(target[3:6], cfg)}")
    return out


class SpyDriver(DryRunDriver):
    """A dry-run driver that records every limit breach of the targets it receives (against its own state)."""

    def __init__(self, cfg: SafetyConfig = SafetyConfig(), start=None):
        super().__init__() if start is None else super().__init__(np.asarray(start, np.float64))
        self.cfg = cfg
        self.breaches: list[str] = []

    def move_to(self, target, state):
        assert np.allclose(state, self.state), "the env must pass the state its safety check used"
        rot_step = np.linalg.norm(action_between(self.state, np.asarray(target, np.float64))[3:6])
        if rot_step > self.cfg.max_rotation + TOL:
            self.breaches.append(f"rotation {rot_step:.4f} rad")
        self.breaches += breaches(self.state, target, self.cfg)
        super().move_to(target, state)


def square_at_tcp(driver):
    """A deterministic 'photo' of the arm: a bright square at the TCP's (x, y), 120x160 RGB uint8."""

    def frame():
        img = np.zeros((120, 160, 3), np.uint8)
        x, y = driver.state[:2]
        r, c = int(np.clip((x - 0.2) * 150, 0, 110)), int(np.clip((y + 0.5) * 150, 0, 150))
        img[r:r + 10, c:c + 10] = 255
        return img

    return frame


def make_env(driver=None, size=64, source=None, **kw) -> FrankaHardwareEnv:
    driver = driver or SpyDriver(kw.get("safety", SafetyConfig()))
    return FrankaHardwareEnv(driver, FakeCamera(source or square_at_tcp(driver)), image_size=size, **kw)
