"""Shipped sim world-model weights (package data in ``world_model/weights/``), e.g. ``sim_reach``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from world_model.checkpoint import load_world_model
from world_model.model import WorldModel

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def available_weights() -> list[str]:
    """Names with both ``<name>.safetensors`` and ``<name>.json`` in world_model/weights/."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.safetensors") if p.with_suffix(".json").is_file())


def pretrained_path(name: str) -> Path:
    """Base path (no suffix) of shipped weights ``name``; raises FileNotFoundError listing what is shipped."""
    base = WEIGHTS_DIR / name
    if not (base.with_suffix(".safetensors").is_file() and base.with_suffix(".json").is_file()):
        raise FileNotFoundError(
            f"no shipped world-model weights '{name}' in {WEIGHTS_DIR}; available: {available_weights() or 'none'}"
        )
    return base


def load_pretrained(name: str, device: torch.device | str = "cpu", **world_model_kwargs: Any) -> WorldModel:
    """Load shipped weights by name, e.g. ``load_pretrained("sim_reach")`` (eval mode)."""
    return load_world_model(pretrained_path(name), device=device, **world_model_kwargs)
