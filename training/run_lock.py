"""One run per out_dir: collection, pretraining, post-training and distillation hold ``<out_dir>/.run.lock``.

Two runs writing one out_dir would overwrite each other's checkpoints (``last.pt`` would flip between two
trainings and the saved model would be whichever finished last) or each other's episodes, with no error. So each
run holds an exclusive ``fcntl.flock`` on ``<out_dir>/.run.lock`` from its start to its end, and a second run into
the same directory fails at once with :class:`OutDirBusyError` naming the first (its pid, program and start time,
which the holder writes into the lock file). The kernel drops the lock when its process dies, however it dies
(``kill -9`` included), so a killed run never blocks its resume. Under torchrun only rank 0 holds it (the other
ranks write nothing). Holding the directory, a run first deletes the temporary files of writers that no longer run
(``envs.atomic_files.remove_stale_tmp_files``: e.g. the half-written ``last.pt`` of a killed run).

Locks are advisory and local: they hold between processes of one machine (and on file systems whose ``flock``
reaches across machines); they do not stop a copy or an editor.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Iterator

from envs.atomic_files import remove_stale_tmp_files

LOCK_NAME = ".run.lock"


class OutDirBusyError(RuntimeError):
    """Another run holds the out_dir."""


def holder_description(text: str) -> str:
    """What the lock file says about its holder, in words ("pid 12 on host, vjepa-posttrain, since ...")."""
    try:
        info = json.loads(text)
        return (f"pid {info['pid']} on {info['host']}, {info['program']}, since "
                f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(info['since']))}")
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        return "a process that has not said who it is yet"


def _acquire(path: Path, program: str) -> int:
    """Open and lock ``path`` without waiting; the fd, with this process's description written in it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        text = os.pread(fd, 4096, 0).decode(errors="replace")
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
        raise OutDirBusyError(
            f"{path.parent} is in use by another run ({holder_description(text)}): two runs writing one out_dir "
            "would overwrite each other's checkpoints and data; wait for that run to end (or stop it) and rerun "
            "this command, which then resumes, or choose another out_dir") from None
    info = {"pid": os.getpid(), "host": socket.gethostname(), "program": program, "since": time.time()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)
    return fd


@contextlib.contextmanager
def exclusive_out_dir(out_dir: str | Path, program: str, enabled: bool = True) -> Iterator[Path]:
    """Hold ``<out_dir>/.run.lock`` while the block runs (creating ``out_dir``); yields ``out_dir`` as a Path.

    OutDirBusyError at once when another process holds it. A directory this call created is removed again when the
    block leaves nothing but the lock file in it (a run that failed before writing anything leaves no trace).
    ``enabled=False`` (the ranks other than 0 under torchrun) takes no lock and creates nothing.
    """
    out = Path(out_dir)
    if not enabled:
        yield out
        return
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    lock = out / LOCK_NAME
    fd = _acquire(lock, program)
    try:
        remove_stale_tmp_files(out)  # a killed run's half-written checkpoint (this run holds the directory now)
        yield out
    finally:
        if created:
            _remove_if_only_lock(out, lock)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _remove_if_only_lock(out: Path, lock: Path) -> None:
    """Remove ``out`` when it holds nothing but ``lock`` (which this process holds)."""
    with contextlib.suppress(OSError):
        if [p.name for p in out.iterdir()] == [LOCK_NAME]:
            lock.unlink()
            out.rmdir()
