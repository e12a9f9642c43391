"""The observation and action spec shared by every env (sim and real).

Observation: ``Dict(image=Box(uint8, (H, W, 3)), state=Box(float32, (7,)))`` with the state and
action conventions of :mod:`envs.conventions` (robot base frame, metres, radians, gripper in [0, 1]).
Action: ``Box(float32, (7,))`` of per-step end-effector deltas bounded by :class:`ActionLimits`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from envs.conventions import ACTION_DIM, STATE_DIM

SUPPORTED_IMAGE_SIZES = (64, 96, 128, 256)
DEFAULT_IMAGE_SIZE = 256


@dataclass(frozen=True)
class ActionLimits:
    """Per-step bounds of the 7-D delta action.

    max_translation: |dx|, |dy|, |dz| bound per step, metres (the paper's planner uses maxnorm 0.05).
    max_rotation: |droll|, |dpitch|, |dyaw| bound per step, radians.
    max_gripper: |dgripper| bound per step (gripper closure lives in [0, 1]).
    """

    max_translation: float = 0.075
    max_rotation: float = 0.25
    max_gripper: float = 1.0

    def high(self) -> np.ndarray:
        return np.array([self.max_translation] * 3 + [self.max_rotation] * 3 + [self.max_gripper], dtype=np.float32)

    def low(self) -> np.ndarray:
        return -self.high()


DEFAULT_ACTION_LIMITS = ActionLimits()


def make_action_space(limits: ActionLimits = DEFAULT_ACTION_LIMITS) -> spaces.Box:
    return spaces.Box(low=limits.low(), high=limits.high(), shape=(ACTION_DIM,), dtype=np.float32)


def make_observation_space(image_size: int = DEFAULT_IMAGE_SIZE) -> spaces.Dict:
    if image_size not in SUPPORTED_IMAGE_SIZES:
        raise ValueError(f"image_size must be one of {SUPPORTED_IMAGE_SIZES}, got {image_size}")
    return spaces.Dict(
        {
            "image": spaces.Box(low=0, high=255, shape=(image_size, image_size, 3), dtype=np.uint8),
            "state": spaces.Box(low=-np.inf, high=np.inf, shape=(STATE_DIM,), dtype=np.float32),
        }
    )


def _real_array(action: object) -> np.ndarray:
    """``action`` as float64; ValueError for complex input (casting would silently drop the imaginary part)."""
    if np.iscomplexobj(action):
        raise ValueError(f"action must be real-valued, got complex values: {np.asarray(action)}")
    return np.asarray(action, dtype=np.float64)


def validate_action(action: np.ndarray, space: spaces.Box, atol: float = 1e-6) -> np.ndarray:
    """Return ``action`` as float64 (7,) or raise ``ValueError`` naming what is wrong.

    Rejects complex values, wrong shapes, NaN/inf and values outside ``space`` by more than ``atol`` (values
    within ``atol`` of a bound are clipped onto it). Use :func:`clip_action` to clip explicitly.
    """
    arr = _real_array(action)
    if arr.shape != space.shape:
        raise ValueError(f"action must have shape {space.shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"action contains NaN or inf: {arr}")
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    bad = (arr < low - atol) | (arr > high + atol)
    if np.any(bad):
        idx = np.flatnonzero(bad).tolist()
        raise ValueError(
            f"action out of bounds at dims {idx}: values {arr[idx].tolist()}, bounds low={low[idx].tolist()} "
            f"high={high[idx].tolist()} (use envs.spec.clip_action to clip explicitly)"
        )
    return np.clip(arr, low, high)


def clip_action(action: np.ndarray, space: spaces.Box) -> np.ndarray:
    """Clip a finite, real action of the right shape into ``space`` (float32)."""
    arr = _real_array(action)
    if arr.shape != space.shape:
        raise ValueError(f"action must have shape {space.shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"action contains NaN or inf: {arr}")
    return np.clip(arr, space.low, space.high).astype(np.float32)
