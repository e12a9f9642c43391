"""Validation of the observation/goal dicts passed to agents (clear errors instead of silent misuse).

Images must be uint8 (H, W, 3) with both sides at least :data:`MIN_IMAGE_SIDE` pixels. A non-square image is
centre-cropped to a square (as the hardware camera path does, :func:`hardware.camera.preprocess`) instead of being
squashed by the world model's resize; any square size is accepted and resized by the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MIN_IMAGE_SIDE = 8  # smaller frames carry no usable content; the encoder would upsample noise
# Plausible proprioceptive states (envs.conventions): xyz in metres in the robot base frame, Euler angles in
# radians, gripper 0 (open) .. 1 (closed). Anything beyond these is a unit or frame mistake, not a robot pose.
MAX_ABS_POSITION_M = 10.0
MAX_ABS_ANGLE_RAD = 2 * np.pi + 1e-3
GRIPPER_RANGE = (-0.5, 1.5)


def centre_crop_square(image: np.ndarray) -> np.ndarray:
    """The largest centred square of an (H, W, C) image (the image itself if already square)."""
    return crop_to_shape(image, 1, 1)


def crop_to_shape(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The largest centred crop of ``image`` (H, W, C) with the aspect ratio ``height`` : ``width``."""
    h, w = image.shape[:2]
    if h * width > w * height:  # too tall: crop rows
        rows = max(1, round(w * height / width))
        top = (h - rows) // 2
        return image[top:top + rows]
    cols = max(1, round(h * width / height))
    left = (w - cols) // 2
    return image[:, left:left + cols]


def check_image(image: Any, name: str = "obs['image']") -> np.ndarray:
    """Return a square uint8 (S, S, 3) image (centre-cropped if non-square); ValueError otherwise."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"{name} must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
    h, w = image.shape[:2]
    if min(h, w) < MIN_IMAGE_SIDE:
        raise ValueError(f"{name} is {h}x{w} pixels; both sides must be at least {MIN_IMAGE_SIDE}")
    return centre_crop_square(image)


def check_obs(obs: Any, name: str = "obs", need_state: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (image uint8 (S, S, 3), state float64 (7,) or None); ValueError/TypeError otherwise.

    A non-square image is centre-cropped to a square (see the module docstring)."""
    if not isinstance(obs, dict):
        raise TypeError(f"{name} must be a dict with 'image' (and 'state'), got {type(obs).__name__}")
    if "image" not in obs:
        raise ValueError(f"{name} has no 'image' (keys: {sorted(obs)})")
    image = check_image(obs["image"], f"{name}['image']")
    state = None
    if need_state or "state" in obs:
        if "state" not in obs:
            raise ValueError(f"{name} has no 'state' (keys: {sorted(obs)})")
        state = np.asarray(obs["state"], dtype=np.float64)
        if state.shape != (7,):
            raise ValueError(f"{name}['state'] must have shape (7,), got {state.shape}")
        if not np.all(np.isfinite(state)):
            raise ValueError(f"{name}['state'] contains NaN or inf: {state}")
        check_state_range(state, f"{name}['state']")
    return image, state


def check_state_range(state: np.ndarray, name: str = "state") -> None:
    """ValueError naming the entry when a (7,) state is outside plausible robot values (e.g. 1e30 or millimetres)."""
    if np.any(np.abs(state[:3]) > MAX_ABS_POSITION_M):
        raise ValueError(f"{name} xyz {state[:3].tolist()} is beyond {MAX_ABS_POSITION_M} m from the robot base "
                         f"(positions are metres in the base frame)")
    if np.any(np.abs(state[3:6]) > MAX_ABS_ANGLE_RAD):
        raise ValueError(f"{name} roll/pitch/yaw {state[3:6].tolist()} are not angles in radians")
    if not GRIPPER_RANGE[0] <= state[6] <= GRIPPER_RANGE[1]:
        raise ValueError(f"{name} gripper {state[6]} outside 0 (open) .. 1 (closed)")
