"""One-line validation helpers for the training configs (``__post_init__``) and run/dataset paths.

Every check raises ``ValueError`` with a single line naming the config, the field and the offending value,
e.g. ``PretrainConfig.steps must be an integer >= 1, got 0``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_int(owner: str, name: str, value: Any, minimum: int | None = None) -> None:
    """``value`` is an int (not a bool) and ``>= minimum`` when given."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{owner}.{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{owner}.{name} must be an integer >= {minimum}, got {value}")


def check_float(owner: str, name: str, value: Any, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False) -> None:
    """``value`` is a finite real number inside [low, high] (open ends where asked)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{owner}.{name} must be a finite number, got {value!r}")
    lo_bad = low is not None and (value <= low if low_open else value < low)
    hi_bad = high is not None and (value >= high if high_open else value > high)
    if lo_bad or hi_bad:
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        span = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValueError(f"{owner}.{name} must be in {span}, got {value}")


def check_str(owner: str, name: str, value: Any, optional: bool = False) -> None:
    """``value`` is a non-empty string (or None when ``optional``)."""
    if optional and value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{owner}.{name} must be a non-empty string, got {value!r}")


def check_dir_list(cfg: Any) -> None:
    """``cfg.extra_data_dirs`` (a frozen training config's) is a list or tuple of non-empty strings, stored as a
    tuple; a bare string is refused (it would be read as its characters)."""
    owner, value = type(cfg).__name__, cfg.extra_data_dirs
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{owner}.extra_data_dirs must be a list of directories, got {value!r} (one directory: "
                         f"extra_data_dirs=[{value}])")
    object.__setattr__(cfg, "extra_data_dirs", tuple(value))
    for i, item in enumerate(cfg.extra_data_dirs):
        check_str(owner, f"extra_data_dirs[{i}]", item)


def data_dirs(cfg: Any) -> tuple[str, ...]:
    """Every dataset a run trains on: ``cfg.data_dir``, then ``cfg.extra_data_dirs``."""
    return (cfg.data_dir, *cfg.extra_data_dirs)


def check_schedule(owner: str, steps: int, warmup: int, decay: int) -> None:
    """Warmup and decay are >= 0 and fit in the run (``warmup + decay <= steps``)."""
    check_int(owner, "warmup", warmup, 0)
    check_int(owner, "decay", decay, 0)
    if warmup + decay > steps:
        raise ValueError(f"{owner}: warmup + decay must be <= steps, got {warmup} + {decay} > {steps}")


def check_file_name(owner: str, name: str, value: Any) -> None:
    """``value`` is a plain file name (letters, digits, ``._-``): no directory part, so it cannot leave its folder."""
    if not isinstance(value, str) or not _SAFE_NAME.match(value) or value in (".", ".."):
        raise ValueError(f"{owner}.{name} must be a plain file name (letters, digits, '._-', no '/' or '..'), "
                         f"got {value!r}")


def inside(folder: str | Path, relative: str, what: str) -> Path:
    """``folder / relative``, refused with ValueError when it would resolve outside ``folder``."""
    base = Path(folder).resolve()
    path = (base / relative).resolve()
    if path != base and base not in path.parents:
        raise ValueError(f"{what} {relative!r} escapes its folder {folder}")
    return Path(folder) / relative


def build_named(owner: str, name: str, build: Callable[[str], T], value: str) -> T:
    """``build(value)``, with the KeyError of an unknown config name turned into a ValueError naming the field."""
    try:
        return build(value)
    except KeyError as exc:
        reason = exc.args[0] if exc.args else f"unknown name {value!r}"
        raise ValueError(f"{owner}.{name}: {reason}") from None
