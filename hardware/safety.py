"""Safety layer for the real arm: pure functions, no I/O (exhaustively unit-tested).

Every command goes through :func:`check_action` before it reaches the driver. Frames/units: robot base frame,
metres, radians; gripper closure in [0, 1]. Actions follow envs.conventions ([dxyz, drot euler xyz, dgripper]).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from envs.conventions import integrate_action


class SafetyViolation(RuntimeError):
    """A command that must not be executed (NaN, wrong shape, target outside the workspace in strict mode)."""


@dataclass(frozen=True)
class SafetyConfig:
    """workspace_low/high: TCP box (m, base frame). max_translation/max_rotation: per-step limits (m, rad).
    strict: raise on a workspace violation instead of clamping the target into the box."""

    workspace_low: tuple[float, float, float] = (0.25, -0.4, 0.02)
    workspace_high: tuple[float, float, float] = (0.75, 0.4, 0.6)
    max_translation: float = 0.05
    max_rotation: float = 0.2
    gripper_low: float = 0.0
    gripper_high: float = 1.0
    strict: bool = False
    watchdog_timeout_s: float = 2.0

    def __post_init__(self) -> None:
        if np.any(np.asarray(self.workspace_low) >= np.asarray(self.workspace_high)):
            raise ValueError("workspace_low must be < workspace_high on every axis")
        if self.max_translation <= 0 or self.max_rotation <= 0:
            raise ValueError("per-step limits must be > 0")


@dataclass
class SafetyReport:
    action: np.ndarray  # the safe action (7,) float64
    target: np.ndarray  # the resulting target state (7,)
    violations: list[str] = field(default_factory=list)


def check_finite(action: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(action, dtype=np.float64)
    s = np.asarray(state, dtype=np.float64)
    if a.shape != (7,):
        raise SafetyViolation(f"action must have shape (7,), got {a.shape}")
    if s.shape != (7,):
        raise SafetyViolation(f"state must have shape (7,), got {s.shape}")
    if not np.all(np.isfinite(a)):
        raise SafetyViolation(f"action contains NaN/inf: {a.tolist()}")
    if not np.all(np.isfinite(s)):
        raise SafetyViolation(f"robot state contains NaN/inf: {s.tolist()}")
    return a, s


def limit_step(action: np.ndarray, cfg: SafetyConfig) -> tuple[np.ndarray, list[str]]:
    """Scale the translation/rotation parts down to the per-step limits (direction kept)."""
    a = action.copy()
    notes = []
    t = np.linalg.norm(a[:3])
    if t > cfg.max_translation:
        a[:3] *= cfg.max_translation / t
        notes.append(f"translation {t:.3f} m > {cfg.max_translation} m: scaled down")
    r = np.linalg.norm(a[3:6])
    if r > cfg.max_rotation:
        a[3:6] *= cfg.max_rotation / r
        notes.append(f"rotation {r:.3f} rad > {cfg.max_rotation} rad: scaled down")
    return a, notes


def clamp_target(state: np.ndarray, action: np.ndarray, cfg: SafetyConfig) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Target = integrate_action(state, action) with its xyz clamped into the workspace box and the gripper into
    its limits; returns (action reaching the clamped target, target, notes). Raises in strict mode."""
    target = integrate_action(state, action, clip_gripper=False)
    low, high = np.asarray(cfg.workspace_low), np.asarray(cfg.workspace_high)
    notes = []
    outside = (target[:3] < low) | (target[:3] > high)
    if np.any(outside):
        msg = f"target {np.round(target[:3], 3).tolist()} outside workspace box {list(low)}..{list(high)}"
        if cfg.strict:
            raise SafetyViolation(msg)
        notes.append(msg + ": clamped")
        target[:3] = np.clip(target[:3], low, high)
    if not cfg.gripper_low <= target[6] <= cfg.gripper_high:
        notes.append(f"gripper target {target[6]:.2f} outside [{cfg.gripper_low}, {cfg.gripper_high}]: clamped")
        target[6] = np.clip(target[6], cfg.gripper_low, cfg.gripper_high)
    safe = action.copy()
    safe[:3] = target[:3] - state[:3]
    safe[6] = target[6] - state[6]
    return safe, target, notes


def check_action(action: np.ndarray, state: np.ndarray, cfg: SafetyConfig = SafetyConfig()) -> SafetyReport:
    """The full pipeline: reject NaN/shape, limit the step, keep the target in the workspace and gripper range."""
    a, s = check_finite(action, state)
    a, notes = limit_step(a, cfg)
    a, target, more = clamp_target(s, a, cfg)
    return SafetyReport(a, target, notes + more)


def state_in_workspace(state: np.ndarray, cfg: SafetyConfig, margin: float = 0.05) -> bool:
    """Whether the measured TCP is inside the box grown by ``margin`` (m) (outside: stop, do not move)."""
    s = np.asarray(state, dtype=np.float64)
    low, high = np.asarray(cfg.workspace_low) - margin, np.asarray(cfg.workspace_high) + margin
    return bool(np.all(np.isfinite(s)) and np.all(s[:3] >= low) and np.all(s[:3] <= high))
