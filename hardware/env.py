"""FrankaHardwareEnv: the physical arm behind exactly the sim envs' observation/action spaces.

step(action): refuse if the episode has ended -> validate against the action space -> read the robot state ->
safety check (hardware.safety, verified last against that same state) -> driver.move_to(target, state) -> log the
executed command -> camera frame. Any failure, of any exception type, from the camera, driver, safety check or
the caller's action stops the arm, is logged in ``episode_log`` (mirrored to disk per event when ``log_path`` is
given) and raises :class:`SafeStop`; the episode then stays ended, and every later ``step`` refuses to move until
``reset()``. A watchdog (``use_watchdog``) stops the arm and ends the episode when no command arrives within
``SafetyConfig.watchdog_timeout_s`` (time spent inside the env's own calls does not count).
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any, ContextManager, NoReturn

import gymnasium as gym
import numpy as np

from envs.spec import make_action_space, make_observation_space, validate_action
from hardware.camera import Camera, preprocess
from hardware.driver import ArmDriver, DriverError
from hardware.episode_log import EpisodeLog
from hardware.safety import SafetyConfig, SafetyReport, SafetyViolation, check_action, real_vector, state_in_workspace
from hardware.watchdog import Watchdog

log = logging.getLogger(__name__)


class SafeStop(RuntimeError):
    """The episode was stopped safely (the arm was told to stop and the reason logged); the message says why."""


def describe(exc: BaseException) -> str:
    """``Type: message`` (the message alone can be empty or ambiguous, e.g. a KeyError)."""
    return f"{type(exc).__name__}: {exc}"


class FrankaHardwareEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, driver: ArmDriver, camera: Camera, image_size: int = 256,
                 safety: SafetyConfig = SafetyConfig(), use_watchdog: bool = False,
                 render_mode: str | None = None, log_path: str | Path | None = None) -> None:
        """log_path: optional JSON-lines file that receives every log event as it happens (flushed + fsynced)."""
        self.driver = driver
        self.camera = camera
        self.image_size = image_size
        self.safety = safety
        self.render_mode = render_mode
        self.observation_space = make_observation_space(image_size)
        self.action_space = make_action_space()
        self.task_name = "hardware"
        self.control_hz = 4.0
        self.episode_log = EpisodeLog(log_path)
        self._goal: dict[str, np.ndarray] | None = None
        self._last_image: np.ndarray | None = None
        self._watchdog = Watchdog(safety.watchdog_timeout_s, self._on_watchdog) if use_watchdog else None
        self._connected = False
        self._ended: str | None = "not started"  # why the episode is over (safe stop, watchdog, close); None while running

    # ------------------------------------------------------------------ stopping
    @property
    def ended(self) -> str | None:
        """Why the current episode ended (then ``step`` refuses to move until ``reset``), or None."""
        return self._ended

    def _stop_arm(self) -> None:
        try:
            self.driver.stop()
        except Exception as exc:  # noqa: BLE001 - stop must never raise; log and carry on
            log.error("driver.stop() raised %s", describe(exc))

    def log_event(self, event: dict[str, Any]) -> None:
        """Append an event to the episode log; never raises (a failing write is reported, the event kept in
        memory), so logging can never prevent a stop."""
        try:
            self.episode_log.append(event)
        except OSError as exc:
            log.error("could not write the episode log (%s); event kept in memory: %s", describe(exc), event)

    def _on_watchdog(self) -> None:
        """Watchdog thread: stop the arm and end the episode."""
        log.error("watchdog: no command for %.1f s, stopping the arm and ending the episode",
                  self.safety.watchdog_timeout_s)
        self._ended = self._ended or f"watchdog: no command for {self.safety.watchdog_timeout_s} s"
        self._stop_arm()
        self.log_event({"event": "watchdog_stop", "timeout_s": self.safety.watchdog_timeout_s, "time": time.time()})

    def safe_stop(self, reason: str, exc: BaseException) -> None:
        """Stop the arm, end the episode and log ``safe_stop`` with the reason (never raises)."""
        self._ended = self._ended or reason
        self._stop_arm()
        self.log_event({"event": "safe_stop", "reason": reason, "error": describe(exc), "time": time.time()})

    def _fail(self, reason: str, exc: BaseException) -> NoReturn:
        self.safe_stop(reason, exc)
        raise SafeStop(f"{reason}: {describe(exc)} (arm stopped; episode log kept)") from exc

    def _held(self) -> ContextManager[None]:
        """The watchdog does not fire while the env itself is busy (moving, reading the camera)."""
        return self._watchdog.hold() if self._watchdog is not None else contextlib.nullcontext()

    @contextlib.contextmanager
    def _guarded(self, reason: str):
        """Turn any exception of the block into a safe stop (SafeStop passes through; Ctrl-C and other
        BaseExceptions stop the arm, are logged and re-raised)."""
        try:
            yield
        except SafeStop:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure type must end in a safe stop
            self._fail(reason, exc)
        except BaseException as exc:
            self.safe_stop("interrupted", exc)
            raise

    # ------------------------------------------------------------------ sensors
    def _image(self) -> np.ndarray:
        try:
            image = preprocess(self.camera.read(), self.image_size)
        except Exception as exc:  # noqa: BLE001 - any camera failure (driver errors, cv2, bad frames)
            self._fail("camera failure", exc)
        self._last_image = image
        return image

    def _state(self) -> np.ndarray:
        try:
            state = real_vector(self.driver.current_state(), "robot state")
        except Exception as exc:  # noqa: BLE001 - connection loss, protocol errors, garbage
            self._fail("cannot read robot state", exc)
        if not state_in_workspace(state, self.safety):
            self._fail("robot outside the workspace",
                       SafetyViolation(f"state {np.round(state, 3).tolist()} (shape {state.shape})"))
        return state

    def _obs(self) -> dict[str, np.ndarray]:
        return {"image": self._image(), "state": self._state().astype(np.float32)}

    # ------------------------------------------------------------------ goals
    def record_goal(self) -> dict[str, np.ndarray]:
        """Photograph the current configuration as the goal (drive the robot there first)."""
        with self._held(), self._guarded("goal recording failed"):
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
        """Connect if needed, home (unless ``options={"skip_home": True}``), start a new episode (re-arming the
        watchdog, restarting it after close()). The log is never cleared: a reset appends a ``reset`` event."""
        super().reset(seed=seed)
        with self._held(), self._guarded("reset failed"):
            self._ended = None
            self.episode_log.append({"event": "reset", "time": time.time()})
            if not self._connected:
                self.driver.connect()
                self._connected = True
            if not (options or {}).get("skip_home", False):
                self.driver.home()
            obs = self._obs()
            if self._goal is None:
                self._goal = {k: v.copy() for k, v in obs.items()}
            if self._watchdog is not None:
                self._watchdog.start()
        return obs, {"goal": self.goal()}

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        """Execute one action (see the module docstring); info has the executed ``action``, its ``target`` and
        the safety ``violations`` (notes on how the command was shaped)."""
        with self._held():
            if self._watchdog is not None:
                self._watchdog.kick()
            if self._ended is not None:
                self._fail("refusing to move", RuntimeError(f"the episode is over ({self._ended}); call reset() "
                                                            "to start a new one"))
            with self._guarded("unexpected failure during step"):
                report, state = self._checked_command(action)
                self._execute(report, state)
                self.episode_log.append({"event": "step", "action": report.action.tolist(),
                                         "target": report.target.tolist(), "state_before": state.tolist(),
                                         "violations": report.violations, "time": time.time()})
                obs = self._obs()
        info = {"goal": self.goal(), "violations": report.violations, "action": report.action.astype(np.float32),
                "target": report.target.copy()}
        return obs, 0.0, False, False, info

    def _checked_command(self, action: object) -> tuple[SafetyReport, np.ndarray]:
        """(safety report, measured state it was checked against); SafeStop for any bad action."""
        try:
            action = validate_action(real_vector(action, "action"), self.action_space)
        except (ValueError, TypeError, SafetyViolation) as exc:
            self._fail("unsafe command rejected", exc)
        state = self._state()
        try:
            return check_action(action, state, self.safety), state
        except SafetyViolation as exc:
            self._fail("unsafe command rejected", exc)

    def _execute(self, report: SafetyReport, state: np.ndarray) -> None:
        """Send the verified target; a DriverError (reflex) is recovered once, anything else is a safe stop."""
        try:
            self.driver.move_to(report.target, state)
        except DriverError as exc:
            try:
                self.driver.recover()
            except Exception as exc2:  # noqa: BLE001
                self._fail("driver error (recovery failed)", exc2)
            self.episode_log.append({"event": "recovered", "error": describe(exc), "time": time.time()})
            log.warning("driver error recovered: %s", exc)
        except Exception as exc:  # noqa: BLE001 - e.g. ConnectionResetError from a driver
            self._fail("driver failure", exc)

    def render(self) -> np.ndarray | None:
        return self._last_image if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        """Stop the watchdog and the arm, close the camera; the episode ends (reset() starts a new one)."""
        self._ended = self._ended or "env closed"
        if self._watchdog is not None:
            self._watchdog.stop()
        self._stop_arm()
        try:
            self.camera.close()
        except Exception as exc:  # noqa: BLE001 - closing must not mask the original failure
            log.error("camera.close() raised %s", describe(exc))
