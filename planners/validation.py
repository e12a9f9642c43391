"""Checks shared by the planner configs: one-line errors naming the field and the bad value.

Every planner config calls :func:`check_config` from ``__post_init__``; counts must be real integers (not bools,
floats or strings), float settings finite, and each field inside its documented range.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

# field -> minimum allowed value for integer counts
_COUNTS = {"samples": 1, "topk": 1, "iterations": 1, "horizon": 1, "action_dim": 1, "min_iterations": 1}
# float fields that must be > 0
_POSITIVE = ("init_std", "min_std", "max_std", "temperature")
# float fields that must be >= 0
_NON_NEGATIVE = ("gripper_deadband",)
# float fields that must lie in [0, 1)
_FRACTIONS = ("momentum", "momentum_mean", "momentum_std", "gripper_momentum_mean", "gripper_momentum_std")
# fields that must be real bools
_BOOLS = ("gripper_discrete", "warm_start", "keep_elites")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_count(name: str, value: Any, minimum: int) -> None:
    if not _is_int(value):
        raise ValueError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def check_real(name: str, value: Any, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> None:
    """``value`` must be a finite real number in the interval given by low/high (open or closed ends)."""
    if not _is_real(value) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")


def check_config(cfg: Any) -> None:
    """Validate the common fields of a planner config dataclass (only those it has)."""
    names = {f.name for f in dataclasses.fields(cfg)}
    prefix = type(cfg).__name__
    for name, minimum in _COUNTS.items():
        if name in names:
            check_count(f"{prefix}.{name}", getattr(cfg, name), minimum)
    for name in _POSITIVE:
        if name in names:
            check_real(f"{prefix}.{name}", getattr(cfg, name), low=0.0, low_open=True)
    for name in _NON_NEGATIVE:
        if name in names:
            check_real(f"{prefix}.{name}", getattr(cfg, name), low=0.0)
    for name in _FRACTIONS:
        if name in names:
            check_real(f"{prefix}.{name}", getattr(cfg, name), 0.0, 1.0, high_open=True)
    for name in _BOOLS:
        if name in names and not isinstance(getattr(cfg, name), bool):
            raise ValueError(f"{prefix}.{name} must be true or false, got {getattr(cfg, name)!r}")
    if {"topk", "samples"} <= names and cfg.topk > cfg.samples:
        raise ValueError(f"{prefix}: need topk <= samples, got topk={cfg.topk} samples={cfg.samples}")
    if {"min_std", "max_std"} <= names and cfg.min_std > cfg.max_std:
        raise ValueError(f"{prefix}: need min_std <= max_std, got {cfg.min_std} > {cfg.max_std}")
