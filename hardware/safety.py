"""Safety layer for the real arm: pure functions, no I/O (unit- and property-tested).

Every command goes through :func:`check_action` before it reaches the driver. Frames/units: robot base frame,
metres, radians; gripper closure in [0, 1]. Actions follow envs.conventions ([dxyz, drot euler xyz, dgripper]).

The pipeline shapes the command (scale to the per-step limits, scale the rotation to the orientation bound, clamp
the target into the workspace box and gripper range, re-apply the step limit), then :func:`verify_command` checks
the final command against the *same* measured state, last, and raises :class:`SafetyViolation` if any limit is
still broken. The invariant every command that reaches a driver satisfies (``state`` = the measured state the
check used, ``target = integrate_action(state, action)``):

* ``|dxyz| <= max_translation`` and ``|drot| <= max_rotation`` (Euclidean norms, m and rad);
* per axis, ``target_xyz`` lies in the workspace box, or between the box and the measured TCP when the TCP is
  already outside it (a command never moves the TCP further out of the box);
* ``gripper_low <= target_gripper <= gripper_high``;
* per axis, the orientation deviation of the target from ``orientation_reference`` is within
  ``max_orientation_deviation``, or no larger than the measured state's when that is already past the bound;
* the measured TCP is inside the box grown by ``state_margin``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from envs.conventions import EULER_SEQ, integrate_action

# Numerical slack of the final verification: float64 rounding in the shaping steps, far below any real limit.
REL_TOL = 1e-9  # relative, on the per-step norms
ABS_TOL = 1e-9  # metres / radians / gripper closure, on targets
BISECTION_STEPS = 40  # rotation scale search: 2^-40 resolution


class SafetyViolation(RuntimeError):
    """A command that must not be executed (NaN, wrong shape, a limit broken, strict-mode workspace violation)."""


def _finite_vector(value: object, name: str, length: int = 3) -> tuple[float, ...]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (length,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"SafetyConfig.{name} must be {length} finite numbers, got {value!r}")
    return tuple(float(v) for v in arr)


def _finite_scalar(value: object, name: str, low: float, high: float = math.inf, low_open: bool = True) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"SafetyConfig.{name} must be a number, got {value!r}") from None
    too_low = v <= low if low_open else v < low
    if not math.isfinite(v) or too_low or v > high:
        bracket = "(" if low_open else "["
        raise ValueError(f"SafetyConfig.{name} must be finite and in {bracket}{low}, {high}], got {value!r}")
    return v


@dataclass(frozen=True)
class SafetyConfig:
    """Limits for every command sent to the arm (base frame).

    workspace_low/high: TCP box, metres. max_translation/max_rotation: per-step norm limits of dxyz (m) and of the
    Euler-xyz rotation delta (rad). gripper_low/high: allowed gripper closure range within [0, 1].
    orientation_reference: Euler xyz (rad) of the reference orientation (default: gripper pointing down, the
    home pose). max_orientation_deviation: per-axis bound (rad) on |roll|, |pitch|, |yaw| of
    ``R_target R_reference^T`` (the base-frame rotation from the reference to the target, Euler xyz as the
    actions use); pi disables an axis. The default bounds the tilt (roll, pitch <= 0.8 rad) and leaves yaw free.
    state_margin: the measured TCP may be this far (m) outside the box before the env stops instead of moving.
    strict: raise on a workspace or orientation violation instead of clamping/scaling the command.
    watchdog_timeout_s: longest wait (s) for the next command before the watchdog stops the arm and ends the
    episode. Every field is validated on construction (finite, positive limits, low < high).
    """

    workspace_low: tuple[float, float, float] = (0.25, -0.4, 0.02)
    workspace_high: tuple[float, float, float] = (0.75, 0.4, 0.6)
    max_translation: float = 0.05
    max_rotation: float = 0.2
    gripper_low: float = 0.0
    gripper_high: float = 1.0
    strict: bool = False
    watchdog_timeout_s: float = 2.0
    orientation_reference: tuple[float, float, float] = (math.pi, 0.0, 0.0)
    max_orientation_deviation: tuple[float, float, float] = (0.8, 0.8, math.pi)
    state_margin: float = 0.05

    def __post_init__(self) -> None:
        put = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 - frozen dataclass
        low = _finite_vector(self.workspace_low, "workspace_low")
        high = _finite_vector(self.workspace_high, "workspace_high")
        if any(lo >= hi for lo, hi in zip(low, high)):
            raise ValueError(f"workspace_low must be < workspace_high on every axis, got {low} and {high}")
        put("workspace_low", low)
        put("workspace_high", high)
        put("max_translation", _finite_scalar(self.max_translation, "max_translation", 0.0))
        put("max_rotation", _finite_scalar(self.max_rotation, "max_rotation", 0.0, math.pi))
        g_low = _finite_scalar(self.gripper_low, "gripper_low", 0.0, 1.0, low_open=False)
        g_high = _finite_scalar(self.gripper_high, "gripper_high", 0.0, 1.0, low_open=False)
        if g_low >= g_high:
            raise ValueError(f"gripper_low must be < gripper_high, got {g_low} and {g_high}")
        put("gripper_low", g_low)
        put("gripper_high", g_high)
        if not isinstance(self.strict, (bool, np.bool_)):
            raise ValueError(f"SafetyConfig.strict must be a bool, got {self.strict!r}")
        put("watchdog_timeout_s", _finite_scalar(self.watchdog_timeout_s, "watchdog_timeout_s", 0.0))
        put("orientation_reference", _finite_vector(self.orientation_reference, "orientation_reference"))
        dev = _finite_vector(self.max_orientation_deviation, "max_orientation_deviation")
        if any(not 0.0 < d <= math.pi for d in dev):
            raise ValueError(f"SafetyConfig.max_orientation_deviation must be in (0, pi] per axis, got {dev}")
        put("max_orientation_deviation", dev)
        put("state_margin", _finite_scalar(self.state_margin, "state_margin", 0.0, low_open=False))


@dataclass
class SafetyReport:
    action: np.ndarray  # the safe delta action (7,) float64, base frame
    target: np.ndarray  # the verified absolute target state (7,) = integrate_action(state, action)
    violations: list[str] = field(default_factory=list)


def real_vector(value: object, name: str) -> np.ndarray:
    """``value`` as a float64 array; SafetyViolation for complex, object, bool or string data (no silent cast)."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - ragged sequences and exotic objects
        raise SafetyViolation(f"{name} is not an array: {type(value).__name__}") from exc
    if arr.dtype.kind not in "fiu":
        raise SafetyViolation(f"{name} must be real numbers, got dtype {arr.dtype} ({type(value).__name__})")
    return arr.astype(np.float64)


def check_finite(action: object, state: object) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 (7,) vectors, or SafetyViolation naming what is wrong (type, shape, NaN/inf)."""
    a = real_vector(action, "action")
    s = real_vector(state, "robot state")
    if a.shape != (7,):
        raise SafetyViolation(f"action must have shape (7,), got {a.shape}")
    if s.shape != (7,):
        raise SafetyViolation(f"robot state must have shape (7,), got {s.shape}")
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


def orientation_deviation(euler: np.ndarray, cfg: SafetyConfig) -> np.ndarray:
    """|roll|, |pitch|, |yaw| (rad) of ``R R_ref^T``: the base-frame rotation from the reference to ``euler``."""
    rel = Rotation.from_euler(EULER_SEQ, euler) * Rotation.from_euler(EULER_SEQ, cfg.orientation_reference).inv()
    with warnings.catch_warnings():  # gimbal lock only far outside any sensible bound
        warnings.simplefilter("ignore")
        return np.abs(rel.as_euler(EULER_SEQ))


def orientation_allowance(state: np.ndarray, cfg: SafetyConfig) -> np.ndarray:
    """Per-axis allowed deviation (rad): the bound, or the measured deviation where that is already larger."""
    return np.maximum(np.asarray(cfg.max_orientation_deviation), orientation_deviation(state[3:6], cfg))


def _rotated_euler(state: np.ndarray, drot: np.ndarray) -> np.ndarray:
    return (Rotation.from_euler(EULER_SEQ, drot) * Rotation.from_euler(EULER_SEQ, state[3:6])).as_euler(EULER_SEQ)


def limit_orientation(state: np.ndarray, action: np.ndarray, cfg: SafetyConfig) -> tuple[np.ndarray, list[str]]:
    """Scale the rotation part down (bisection on its scale) until the target orientation is within the
    absolute bound (see :class:`SafetyConfig`); raises in strict mode. A zero rotation always qualifies."""
    allowed = orientation_allowance(state, cfg) + ABS_TOL

    def within(scale: float) -> bool:
        return bool(np.all(orientation_deviation(_rotated_euler(state, scale * action[3:6]), cfg) <= allowed))

    if within(1.0):
        return action, []
    msg = (f"target orientation deviates {np.round(orientation_deviation(_rotated_euler(state, action[3:6]), cfg), 3)}"
           f" rad from {list(cfg.orientation_reference)} (bound {list(cfg.max_orientation_deviation)})")
    if cfg.strict:
        raise SafetyViolation(msg)
    lo, hi = 0.0, 1.0
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if within(mid) else (lo, mid)
    a = action.copy()
    a[3:6] *= lo
    return a, [msg + f": rotation scaled by {lo:.3f}"]


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


def state_in_workspace(state: np.ndarray, cfg: SafetyConfig, margin: float | None = None) -> bool:
    """Whether the measured TCP is inside the box grown by ``margin`` (m; default ``cfg.state_margin``)."""
    margin = cfg.state_margin if margin is None else margin
    s = np.asarray(state, dtype=np.float64)
    low, high = np.asarray(cfg.workspace_low) - margin, np.asarray(cfg.workspace_high) + margin
    return bool(s.shape == (7,) and np.all(np.isfinite(s)) and np.all(s[:3] >= low) and np.all(s[:3] <= high))


def limit_breaches(state: np.ndarray, action: np.ndarray, cfg: SafetyConfig) -> tuple[np.ndarray, list[str]]:
    """(target, every limit the command ``action`` from the measured ``state`` breaks). Pure; no shaping."""
    problems = []
    if not state_in_workspace(state, cfg):
        problems.append(f"measured TCP {np.round(state[:3], 3).tolist()} is more than {cfg.state_margin} m "
                        "outside the workspace box")
    t, r = float(np.linalg.norm(action[:3])), float(np.linalg.norm(action[3:6]))
    if t > cfg.max_translation * (1 + REL_TOL):
        problems.append(f"translation {t:.6f} m > {cfg.max_translation} m")
    if r > cfg.max_rotation * (1 + REL_TOL):
        problems.append(f"rotation {r:.6f} rad > {cfg.max_rotation} rad")
    target = integrate_action(state, action, clip_gripper=False)
    low = np.minimum(np.asarray(cfg.workspace_low), state[:3]) - ABS_TOL
    high = np.maximum(np.asarray(cfg.workspace_high), state[:3]) + ABS_TOL
    if np.any(target[:3] < low) or np.any(target[:3] > high):
        problems.append(f"target {np.round(target[:3], 4).tolist()} moves out of the workspace box")
    if not cfg.gripper_low - ABS_TOL <= target[6] <= cfg.gripper_high + ABS_TOL:
        problems.append(f"gripper target {target[6]:.4f} outside [{cfg.gripper_low}, {cfg.gripper_high}]")
    dev, allowed = orientation_deviation(target[3:6], cfg), orientation_allowance(state, cfg)
    if np.any(dev > allowed + ABS_TOL):
        problems.append(f"target orientation deviation {np.round(dev, 4).tolist()} rad > {np.round(allowed, 4).tolist()}")
    return target, problems


def verify_command(state: np.ndarray, action: np.ndarray, cfg: SafetyConfig) -> np.ndarray:
    """The last check before the driver: return the absolute target (7,) of ``action`` from the measured ``state``,
    or raise SafetyViolation if the command breaks any limit (see the module docstring for the invariant)."""
    a, s = check_finite(action, state)
    target, problems = limit_breaches(s, a, cfg)
    if problems:
        raise SafetyViolation("command breaks the safety limits (not sent): " + "; ".join(problems))
    return target


def check_action(action: object, state: object, cfg: SafetyConfig = SafetyConfig()) -> SafetyReport:
    """The full pipeline: reject bad types/shapes/NaN, limit the step, bound the orientation, keep the target in
    the workspace and gripper range, re-limit the step (the box clamp can lengthen it when the measured TCP is
    outside the box), then verify the final command against the same state (raises SafetyViolation)."""
    a, s = check_finite(action, state)
    a, notes = limit_step(a, cfg)
    a, more = limit_orientation(s, a, cfg)
    notes += more
    a, _, more = clamp_target(s, a, cfg)
    notes += more
    a, more = limit_step(a, cfg)
    notes += [n + " (after the workspace clamp)" for n in more]
    return SafetyReport(a, verify_command(s, a, cfg), notes)
