"""Atomic file writes, shared by every package that leaves files behind (results, videos, configs, logs).

A file is written under a temporary name unique to its writer, in the folder of its final name, and then renamed
over that name (``os.replace``): a crash or ``kill -9`` never leaves a truncated file under the final name, the
previous file stays whole until the new one is complete, and two concurrent writers never share a temporary file.
Temporary names are ``.<name>.<pid>.<8 hex>.tmp`` (``.<stem>.<pid>.<8 hex>.tmp<suffix>`` where the writer needs the
suffix, e.g. ffmpeg for ``.mp4``); :func:`remove_stale_tmp_files` removes those whose writer no longer runs (on
this machine: the name holds the writer's pid).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any, Callable


def unique_tmp_path(path: str | Path, keep_suffix: bool = False) -> Path:
    """A temporary path beside ``path``, unique to this process and call (see the module docstring)."""
    path = Path(path)
    tag = f"{os.getpid()}.{uuid.uuid4().hex[:8]}"
    if keep_suffix:
        return path.with_name(f".{path.stem}.{tag}.tmp{path.suffix}")
    return path.with_name(f".{path.name}.{tag}.tmp")


TMP_NAME = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.tmp(\.\w+)?$")  # unique_tmp_path's names; group 1: the pid


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (one of another user counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_tmp_files(folder: str | Path) -> list[Path]:
    """Delete the temporary files of :func:`unique_tmp_path` in ``folder`` whose writer no longer runs (left by
    kill -9 or a power loss); those of live writers are kept. Returns the removed paths."""
    folder = Path(folder)
    removed = []
    for path in folder.glob(".*.tmp*") if folder.is_dir() else []:
        match = TMP_NAME.match(path.name)
        if match and not pid_alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def write_json_atomic(path: str | Path, data: Any, *, allow_nan: bool = False,
                      default: Callable[[Any], Any] | None = None, fsync: bool = False) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically; returns ``path``.

    allow_nan: write NaN/Infinity (not strict JSON; other readers may refuse the file); False raises ValueError
    before anything is written. default: called for objects JSON cannot encode (as in ``json.dumps``); None
    raises TypeError for them. fsync: flush the file to the disk before the rename (a power loss then keeps
    either the old or the new file; a crash of the process alone never needs it). A failed write (e.g. a full
    disk) raises OSError naming ``path`` and keeps the previous file.
    """
    path = Path(path)
    text = json.dumps(data, indent=1, allow_nan=allow_nan, default=default)
    tmp = unique_tmp_path(path)
    try:
        with open(tmp, "w") as f:
            f.write(text)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OSError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise
    return path
