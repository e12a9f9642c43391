"""Arm driver interface and a dry-run implementation (logs commands, integrates state kinematically).

State/actions follow envs.conventions (base frame, metres, radians, gripper closure 0=open..1).
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from envs.conventions import integrate_action

log = logging.getLogger(__name__)

HOME_STATE = np.array([0.45, 0.0, 0.35, np.pi, 0.0, 0.0, 0.0])


class DriverError(RuntimeError):
    """A failure reported by the arm (reflex, communication loss, ...)."""


class ArmDriver(Protocol):
    def connect(self) -> None: ...
    def current_state(self) -> np.ndarray:
        """(7,) [x, y, z, roll, pitch, yaw, gripper] in the base frame."""
    def move_delta(self, action: np.ndarray) -> None:
        """Execute one (already safety-checked) 7-D delta action; blocks until done."""
    def home(self) -> None: ...
    def stop(self) -> None:
        """Stop any motion now (must never raise)."""
    def recover(self) -> None:
        """Clear a recoverable error (reflex) so motion can resume."""
    def close(self) -> None: ...


class DryRunDriver:
    """Moves nothing: logs every command and integrates the state kinematically (for tests and rehearsals)."""

    def __init__(self, start: np.ndarray = HOME_STATE) -> None:
        self._start = np.asarray(start, dtype=np.float64).copy()
        self.state = self._start.copy()
        self.commands: list[np.ndarray] = []
        self.stopped = 0
        self.connected = False

    def connect(self) -> None:
        self.connected = True

    def current_state(self) -> np.ndarray:
        return self.state.copy()

    def move_delta(self, action: np.ndarray) -> None:
        if not self.connected:
            raise DriverError("dry-run driver not connected")
        self.commands.append(np.asarray(action, dtype=np.float64).copy())
        log.info("dry-run move_delta %s", np.round(action, 4).tolist())
        self.state = integrate_action(self.state, action)

    def home(self) -> None:
        self.state = self._start.copy()

    def stop(self) -> None:
        self.stopped += 1

    def recover(self) -> None:
        pass

    def close(self) -> None:
        self.connected = False
