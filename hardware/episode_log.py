"""The episode log of the hardware env: an append-only list of events, mirrored to disk as it happens.

Each event (a JSON-serialisable dict with an ``event`` name and a ``time`` in Unix seconds) is kept in memory and,
when a path is given, appended to a JSON-lines file that is flushed and fsynced per event, so a crash or
``kill -9`` leaves every event logged so far. :meth:`EpisodeLog.write_json` writes the whole log atomically.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Iterator

from envs import atomic_files


def _plain(obj: Any) -> Any:
    """What JSON cannot encode: numpy values as lists/numbers (``tolist``), anything else as ``str``."""
    return obj.tolist() if hasattr(obj, "tolist") else str(obj)


def to_json_line(event: dict[str, Any]) -> str:
    """One compact JSON line (numpy values and other objects are written with ``str``/``tolist``)."""
    return json.dumps(event, default=_plain, allow_nan=True) + "\n"


def write_json_atomic(path: str | Path, payload: Any) -> Path:
    """``payload`` as indented JSON, written atomically and fsynced (envs.atomic_files); numpy values and other
    objects are written with ``tolist``/``str`` as in :func:`to_json_line`."""
    return atomic_files.write_json_atomic(path, payload, allow_nan=True, fsync=True, default=_plain)


class EpisodeLog:
    """Thread-safe event list (the watchdog thread appends too); with ``path``, also a JSON-lines file."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def append(self, event: dict[str, Any]) -> None:
        """Keep ``event`` in memory, then append it to the file (flush + fsync). OSError if the write fails
        (the event is still kept in memory)."""
        with self._lock:
            self._events.append(event)
            if self.path is not None:
                with open(self.path, "a") as f:
                    f.write(to_json_line(event))
                    f.flush()
                    os.fsync(f.fileno())

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._events)

    def write_json(self, path: str | Path, **summary: Any) -> Path:
        """Write ``{**summary, "events": [...]}`` atomically to ``path``."""
        return write_json_atomic(path, {**summary, "events": self.events()})

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.events())

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, index: int) -> dict[str, Any]:
        with self._lock:
            return self._events[index]


def read_json_lines(path: str | Path) -> list[dict[str, Any]]:
    """The events of a JSON-lines log; a torn last line (the process was killed mid-write) is skipped."""
    events = []
    for line in Path(path).read_text().splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events
