"""Finished runs: a rerun of a training command that already completed returns its outputs at once.

A multi-step script (``scripts/train_sim_wrist.sh``) reruns every step when it is resumed; without this, each
finished step would load its data again and recompute what precedes its training loop (the distillation's teacher
latents of 1700 episodes took ~2-6 minutes on 2 cores) only to rewrite the same outputs.

After a run writes its final outputs, :func:`record_complete` writes ``<out_dir>/complete.json``: the run's config,
the SHA-256 of its ``last.pt`` and of every output. :func:`recorded_complete` recognises the finished run only when
the checkpoint is at its last step, the config is exactly the recorded one (any change, even one that resume
allows, such as ``threads``, goes the long way and writes the outputs again) and every file still has the recorded
bytes; a missing, changed or unreadable record means "not complete", never an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from training.distributed import SHARED_FILES_HINT, DistContext, check_same_on_all_ranks
from training.state import file_sha256, write_json_atomic

COMPLETE_NAME = "complete.json"
RECORD_FORMAT = "vjepa-complete-v1"


def _plain(config: dict[str, Any]) -> Any:
    """``config`` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(config))


def record_complete(out_dir: str | Path, config: dict[str, Any], outputs: Sequence[str | Path]) -> Path:
    """Write ``<out_dir>/complete.json`` for a run whose ``last.pt`` and ``outputs`` (files inside ``out_dir``)
    are final; returns its path."""
    out = Path(out_dir)
    files = {}
    for path in outputs:
        path = Path(path)
        files[path.resolve().relative_to(out.resolve()).as_posix()] = file_sha256(path)
    return write_json_atomic(out / COMPLETE_NAME, {
        "format": RECORD_FORMAT, "config": _plain(config), "last_sha256": file_sha256(out / "last.pt"),
        "outputs": files})


def recorded_complete(out_dir: str | Path, config: dict[str, Any], state: dict[str, Any] | None, steps: int) -> bool:
    """Whether the run in ``out_dir`` finished with exactly ``config`` (``state``: its ``last.pt`` as read by
    training.state.resume_state, at ``steps``) and nothing recorded has changed since; False when the run has to
    train or write its outputs."""
    out = Path(out_dir)
    if state is None or int(state["step"]) != steps:
        return False
    try:
        record = json.loads((out / COMPLETE_NAME).read_text())
        if record.get("format") != RECORD_FORMAT or record.get("config") != _plain(config):
            return False
        if file_sha256(out / "last.pt") != record["last_sha256"]:
            return False
        return all(file_sha256(out / name) == sha for name, sha in record["outputs"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def run_is_complete(ctx: DistContext, out_dir: str | Path, config: dict[str, Any], state: dict[str, Any] | None,
                    steps: int, program: str) -> bool:
    """:func:`recorded_complete` found the run finished: the main process says so (``program``: e.g.
    "post-training"). Under several processes every rank must find the same (ValueError on every rank otherwise)."""
    done = recorded_complete(out_dir, config, state, steps)
    check_same_on_all_ranks(ctx, "whether the run is complete (1: yes)", int(done), SHARED_FILES_HINT)
    if done and ctx.is_main:
        print(f"{program} already complete ({Path(out_dir) / COMPLETE_NAME}): nothing to do", flush=True)
    return done
