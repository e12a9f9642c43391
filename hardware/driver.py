"""Arm driver interface and a dry-run implementation (records commands, moves its state to each target).

State/actions follow envs.conventions (base frame, metres, radians, gripper closure 0=open..1).
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from envs.conventions import action_between

log = logging.getLogger(__name__)

HOME_STATE = np.array([0.45, 0.0, 0.35, np.pi, 0.0, 0.0, 0.0])


class DriverError(RuntimeError):
    """A failure reported by the arm (reflex, communication loss, ...)."""


class ArmDriver(Protocol):
    def connect(self) -> None: ...
    def current_state(self) -> np.ndarray:
        """(7,) [x, y, z, roll, pitch, yaw, gripper] in the base frame."""
    def move_to(self, target: np.ndarray, state: np.ndarray) -> None:
        """Move to the absolute, already safety-checked ``target`` (7,) [x, y, z, roll, pitch, yaw, gripper]
        (base frame, m, rad, closure) and block until done. ``state`` is the measured state the safety check used:
        the driver must not re-read the state to build the motion (the check would no longer hold)."""
    def home(self) -> None: ...
    def stop(self) -> None:
        """Stop any motion now (must never raise)."""
    def recover(self) -> None:
        """Clear a recoverable error (reflex) so motion can resume."""
    def close(self) -> None: ...


class DryRunDriver:
    """Moves nothing: records every target and jumps its state there (for tests and rehearsals)."""

    def __init__(self, start: np.ndarray = HOME_STATE) -> None:
        self._start = np.asarray(start, dtype=np.float64).copy()
        self.state = self._start.copy()
        self.commands: list[np.ndarray] = []  # delta (7,) of each target from the state the safety check used
        self.targets: list[np.ndarray] = []  # absolute targets (7,) received
        self.stopped = 0
        self.connected = False

    def connect(self) -> None:
        self.connected = True

    def current_state(self) -> np.ndarray:
        return self.state.copy()

    def move_to(self, target: np.ndarray, state: np.ndarray) -> None:
        """Record the target and the delta from ``state`` (``commands``), then jump to the target."""
        if not self.connected:
            raise DriverError("dry-run driver not connected")
        target = np.asarray(target, dtype=np.float64).copy()
        if target.shape != (7,) or not np.all(np.isfinite(target)):
            raise DriverError(f"dry-run driver got an invalid target {target.tolist()}")
        delta = action_between(np.asarray(state, dtype=np.float64), target)
        self.targets.append(target)
        self.commands.append(delta)
        log.info("dry-run move_to %s (delta %s)", np.round(target, 4).tolist(), np.round(delta, 4).tolist())
        self.state = target

    def home(self) -> None:
        self.state = self._start.copy()

    def stop(self) -> None:
        self.stopped += 1

    def recover(self) -> None:
        pass

    def close(self) -> None:
        self.connected = False
