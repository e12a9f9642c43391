"""FrankaHardwareEnv: the physical arm behind exactly the sim envs' observation/action spaces.

step(action): validate against the action space -> safety check (hardware.safety) -> driver.move_delta ->
camera frame. Any driver/camera/safety failure stops the arm, is logged in ``episode_log`` and re-raised with a
clear message (the log stays intact). A watchdog stops the arm when no command arrives in time.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gymnasium as gym
import numpy as np

from envs.spec import make_action_space, make_observation_space, validate_action
from hardware.camera import Camera, CameraError, preprocess
from hardware.driver import ArmDriver, DriverError
from hardware.safety import SafetyConfig, SafetyViolation, check_action, state_in_workspace
from hardware.watchdog import Watchdog

log = logging.getLogger(__name__)


class SafeStop(RuntimeError):
    """The episode was stopped safely; the message says why."""


class FrankaHardwareEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, driver: ArmDriver, camera: Camera, image_size: int = 256,
                 safety: SafetyConfig = SafetyConfig(), use_watchdog: bool = False,
                 render_mode: str | None = None) -> None:
        self.driver = driver
        self.camera = camera
        self.image_size = image_size
        self.safety = safety
        self.render_mode = render_mode
        self.observation_space = make_observation_space(image_size)
        self.action_space = make_action_space()
        self.task_name = "hardware"
        self.control_hz = 4.0
        self.episode_log: list[dict[str, Any]] = []
        self._goal: dict[str, np.ndarray] | None = None
        self._last_image: np.ndarray | None = None
        self._watchdog = Watchdog(safety.watchdog_timeout_s, self._on_watchdog) if use_watchdog else None
        self._connected = False

    # ------------------------------------------------------------------ helpers
    def _on_watchdog(self) -> None:
        log.error("watchdog: no command for %.1f s, stopping the arm", self.safety.watchdog_timeout_s)
        self.driver.stop()
        self.episode_log.append({"event": "watchdog_stop", "time": time.time()})

    def _fail(self, reason: str, exc: BaseException) -> None:
        self.driver.stop()
        self.episode_log.append({"event": "safe_stop", "reason": reason, "error": str(exc), "time": time.time()})
        raise SafeStop(f"{reason}: {exc} (arm stopped; episode log kept)") from exc

    def _image(self) -> np.ndarray:
        try:
            image = preprocess(self.camera.read(), self.image_size)
        except (CameraError, ValueError) as exc:
            self._fail("camera failure", exc)
        self._last_image = image
        return image

    def _state(self) -> np.ndarray:
        try:
            state = np.asarray(self.driver.current_state(), dtype=np.float64)
        except DriverError as exc:
            self._fail("cannot read robot state", exc)
        if not state_in_workspace(state, self.safety):
            self._fail("robot outside the workspace", SafetyViolation(f"state {np.round(state[:3], 3).tolist()}"))
        return state

    def _obs(self) -> dict[str, np.ndarray]:
        return {"image": self._image(), "state": self._state().astype(np.float32)}

    # ------------------------------------------------------------------ goals
    def record_goal(self) -> dict[str, np.ndarray]:
        """Photograph the current configuration as the goal (drive the robot there first)."""
        self._goal = self._obs()
        return {k: v.copy() for k, v in self._goal.items()}

    def set_goal(self, goal: dict[str, np.ndarray]) -> None:
        self._goal = {"image": np.asarray(goal["image"], np.uint8), "state": np.asarray(goal["state"], np.float32)}

    def goal(self) -> dict[str, np.ndarray]:
        if self._goal is None:
            raise RuntimeError("no goal: call record_goal() or set_goal() first")
        return {k: v.copy() for k, v in self._goal.items()}

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        try:
            if not self._connected:
                self.driver.connect()
                self._connected = True
            if not (options or {}).get("skip_home", False):
                self.driver.home()
        except DriverError as exc:
            self._fail("reset failed", exc)
        self.episode_log = [{"event": "reset", "time": time.time()}]
        if self._watchdog is not None and self._watchdog._thread is None:
            self._watchdog.start()
        obs = self._obs()
        if self._goal is None:
            self._goal = {k: v.copy() for k, v in obs.items()}
        return obs, {"goal": self.goal()}

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        if self._watchdog is not None:
            self._watchdog.kick()
        try:
            action = validate_action(action, self.action_space)
            report = check_action(action, self._state(), self.safety)
        except (ValueError, SafetyViolation) as exc:
            self._fail("unsafe command rejected", exc)
        try:
            self.driver.move_delta(report.action)
        except DriverError as exc:
            try:
                self.driver.recover()
                self.episode_log.append({"event": "recovered", "error": str(exc), "time": time.time()})
                log.warning("driver error recovered: %s", exc)
            except DriverError as exc2:
                self._fail("driver error (recovery failed)", exc2)
        obs = self._obs()
        self.episode_log.append({"event": "step", "action": report.action.tolist(), "state": obs["state"].tolist(),
                                 "violations": report.violations, "time": time.time()})
        info = {"goal": self.goal(), "violations": report.violations}
        return obs, 0.0, False, False, info

    def render(self) -> np.ndarray | None:
        return self._last_image if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.stop()
        self.driver.stop()
        self.camera.close()
