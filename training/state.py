"""Atomic training checkpoints with everything needed to resume bit-for-bit (model, optimiser, RNG, step).

A checkpoint (``last.pt``) holds only tensors and plain Python types (dict, list, tuple, str, int, float, bool,
None), so it is loaded with ``torch.load(weights_only=True)``: a file carrying a pickled object is refused instead
of being executed. The global RNG states are stored as tensors and plain values for the same reason. Besides the
training state it records ``format``, ``kind`` ("pretrain" / "posttrain") and the run ``config``, which a resumed
run is compared against (:func:`check_resume_config`).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import zipfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from envs import atomic_files

STATE_FORMAT = "vjepa2-training-state/2"
REQUIRED_KEYS = ("format", "kind", "config", "step", "rng")


class TrainingStateError(ValueError):
    """A training checkpoint that cannot be used (unreadable, unsafe, of another kind or another run)."""


def rng_state() -> dict[str, Any]:
    """The torch, numpy and Python global RNG states as tensors and plain values (safe to load)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": str(kind), "keys": torch.from_numpy(np.asarray(keys, np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": {"version": int(version), "state": torch.tensor(internal, dtype=torch.int64),
                   "gauss_next": gauss_next},
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the global RNGs from :func:`rng_state` output."""
    torch.set_rng_state(state["torch"])
    np_state = state["numpy"]
    np.random.set_state((np_state["kind"], np_state["keys"].numpy().astype(np.uint32), np_state["pos"],
                         np_state["has_gauss"], np_state["cached_gaussian"]))
    py_state = state["python"]
    random.setstate((py_state["version"], tuple(int(v) for v in py_state["state"].tolist()), py_state["gauss_next"]))


def save_training_state(path: str | Path, payload: dict[str, Any]) -> Path:
    """torch.save ``payload`` + RNG states to ``path`` via a temporary file + os.replace (a kill never leaves a
    truncated file). A failed write (e.g. disk full) raises OSError naming the file and keeps the old one."""
    return save_torch_atomic(path, {**payload, "format": STATE_FORMAT, "rng": rng_state()})


def save_torch_atomic(path: str | Path, obj: Any) -> Path:
    """torch.save to a temporary name unique to the writer (envs.atomic_files.unique_tmp_path: two processes saving
    one path, e.g. the same episode's latents into a shared cache, never write one temporary file) + os.replace;
    OSError naming ``path`` on any write failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = atomic_files.unique_tmp_path(path)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(f"cannot write {path}: {' '.join(str(exc).split())}") from exc
    return path


def write_json_atomic(path: str | Path, data: Any) -> Path:
    """JSON to ``path`` atomically (envs.atomic_files; NaN allowed: a run's report must not fail at its end over
    one); OSError naming ``path`` on failure."""
    return atomic_files.write_json_atomic(path, data, allow_nan=True)


def _describe_load_failure(exc: BaseException) -> str:
    if isinstance(exc, pickle.UnpicklingError) and "weights only" in str(exc).lower():
        return ("refused: it holds pickled objects other than tensors and plain types (unsafe to load; checkpoints "
                f"written before {STATE_FORMAT} are refused too)")
    return f"unreadable ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"


def read_training_state(path: str | Path, kind: str) -> dict[str, Any] | None:
    """The checkpoint at ``path`` loaded safely (``weights_only=True``) and checked to be a ``kind`` training
    state, or None when there is no file. Any problem raises TrainingStateError naming the file."""
    path = Path(path)
    if not path.exists():
        return None
    if not zipfile.is_zipfile(path):
        raise TrainingStateError(f"training checkpoint {path} is not a torch checkpoint (empty, truncated or not a "
                                 f"zip archive); delete it to start this run afresh")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - every load failure becomes one error naming the file
        raise TrainingStateError(f"training checkpoint {path}: {_describe_load_failure(exc)}; "
                                 f"delete it to start this run afresh") from exc
    if not isinstance(payload, dict) or payload.get("format") != STATE_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise TrainingStateError(f"training checkpoint {path}: format {found!r}, expected {STATE_FORMAT!r}")
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise TrainingStateError(f"training checkpoint {path}: missing keys {missing}")
    if payload["kind"] != kind:
        raise TrainingStateError(f"training checkpoint {path} is a {payload['kind']!r} checkpoint, "
                                 f"not a {kind!r} one")
    return payload


def load_training_state(path: str | Path, kind: str) -> dict[str, Any] | None:
    """:func:`read_training_state`, then restore the global RNGs from it."""
    payload = read_training_state(path, kind)
    if payload is not None:
        set_rng_state(payload["rng"])
    return payload


def check_resume_config(path: str | Path, saved: dict[str, Any], current: dict[str, Any],
                        may_change: Iterable[str], defaults: dict[str, Any] | None = None) -> None:
    """Refuse (TrainingStateError naming the keys) to resume the checkpoint at ``path`` made with ``saved``
    under a ``current`` config that differs in any field outside ``may_change``. A field missing from ``saved``
    (added to the config after the checkpoint was written) counts as its value in ``defaults``."""
    allowed = set(may_change)
    saved = {**(defaults or {}), **saved}
    differing = sorted(k for k in set(saved) | set(current)
                       if k not in allowed and saved.get(k, "<absent>") != current.get(k, "<absent>"))
    if differing:
        changes = ", ".join(f"{k}: {saved.get(k, '<absent>')!r} -> {current.get(k, '<absent>')!r}"
                            for k in differing)
        raise TrainingStateError(
            f"cannot resume {path}: the config differs in {changes} (only {sorted(allowed)} may change on "
            f"resume); use a new out_dir, or delete the checkpoint to start over")


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resume_state(out_dir: str | Path, kind: str, config: dict[str, Any], may_change: Iterable[str],
                 steps: int, defaults: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The run's ``last.pt`` (None for a new run), checked to belong to a ``kind`` run with a compatible config
    (:func:`check_resume_config`) and to be at most at ``steps``. Restores nothing: call :func:`set_rng_state`
    when the run is rebuilt."""
    path = Path(out_dir) / "last.pt"
    state = read_training_state(path, kind)
    if state is None:
        return None
    check_resume_config(path, state["config"], config, may_change, defaults)
    if int(state["step"]) > steps:
        raise TrainingStateError(f"cannot resume {path}: it is at step {state['step']}, past steps={steps}")
    return state


def record_run_config(out_dir: str | Path, config: dict[str, Any]) -> Path:
    """Write ``<out_dir>/config.json`` (atomically). Call only once the run is validated and its data loaded."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return write_json_atomic(out / "config.json", config)


class LogWriter:
    """Append-only ``log.jsonl`` whose write failures (e.g. disk full) name the file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = self._guard(lambda: self.path.open("a"))

    def _guard(self, action):
        try:
            return action()
        except OSError as exc:
            raise OSError(f"cannot write {self.path}: {exc.strerror or exc}") from exc

    def write(self, row: dict[str, Any]) -> None:
        self._guard(lambda: self._file.write(json.dumps(row) + "\n"))

    def flush(self) -> None:
        self._guard(self._file.flush)

    def close(self) -> None:
        if not self._file.closed:
            self._guard(self._file.close)
