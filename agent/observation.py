"""Validation of the observation/goal dicts passed to agents (clear errors instead of silent misuse)."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_obs(obs: Any, name: str = "obs", need_state: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (image uint8 (H, W, 3), state float64 (7,) or None); ValueError/TypeError otherwise."""
    if not isinstance(obs, dict):
        raise TypeError(f"{name} must be a dict with 'image' (and 'state'), got {type(obs).__name__}")
    if "image" not in obs:
        raise ValueError(f"{name} has no 'image' (keys: {sorted(obs)})")
    image = np.asarray(obs["image"])
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"{name}['image'] must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
    state = None
    if need_state or "state" in obs:
        if "state" not in obs:
            raise ValueError(f"{name} has no 'state' (keys: {sorted(obs)})")
        state = np.asarray(obs["state"], dtype=np.float64)
        if state.shape != (7,):
            raise ValueError(f"{name}['state'] must have shape (7,), got {state.shape}")
        if not np.all(np.isfinite(state)):
            raise ValueError(f"{name}['state'] contains NaN or inf: {state}")
    return image, state
