"""Atomic training checkpoints with everything needed to resume bit-for-bit (model, optimiser, RNG, step)."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch


def rng_state() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def save_training_state(path: str | Path, payload: dict[str, Any]) -> Path:
    """torch.save to ``path`` via a temporary file + os.replace (a kill never leaves a truncated file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({**payload, "rng": rng_state()}, tmp)
    os.replace(tmp, path)
    return path


def load_training_state(path: str | Path) -> dict[str, Any] | None:
    """The saved payload (RNG restored), or None when there is no checkpoint to resume from."""
    path = Path(path)
    if not path.exists():
        return None
    payload = torch.load(path, map_location="cpu", weights_only=False)
    set_rng_state(payload["rng"])
    return payload
