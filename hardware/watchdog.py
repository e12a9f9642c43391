"""A watchdog thread that calls ``on_timeout`` (e.g. stop the arm and end the episode) if ``kick()`` is not
called in time.

``fired`` stays set after a timeout until :meth:`rearm` (a kick does not clear it), so the owner can refuse to
move again. While a :meth:`hold` block runs (the owner is busy executing a command) the timer does not run, and
the timeout callback never runs concurrently with a held block. The watchdog can be restarted after :meth:`stop`.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator


class Watchdog:
    def __init__(self, timeout_s: float, on_timeout: Callable[[], None]) -> None:
        """timeout_s: longest allowed gap between kicks (seconds, > 0)."""
        if not timeout_s > 0:  # also rejects NaN
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.timeout_s = timeout_s
        self.on_timeout = on_timeout
        self.fired = threading.Event()
        self._last = time.monotonic()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "Watchdog":
        """(Re)start the timer thread if it is not running, and re-arm."""
        with self._lock:
            self.rearm()
            if not self.running:
                self._stop = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(self._stop,), daemon=True,
                                                name="hardware-watchdog")
                self._thread.start()
        return self

    def rearm(self) -> None:
        """Clear ``fired`` and restart the timer (a new episode)."""
        with self._lock:
            self.fired.clear()
            self._last = time.monotonic()

    def kick(self) -> None:
        """Restart the timer (a command arrived). Does not clear ``fired``."""
        self._last = time.monotonic()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Suspend the timer while the block runs; the timer restarts when it ends."""
        with self._lock:
            try:
                yield
            finally:
                self._last = time.monotonic()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(min(0.05, self.timeout_s / 4)):
            with self._lock:
                if not self.fired.is_set() and time.monotonic() - self._last > self.timeout_s:
                    self.fired.set()
                    self.on_timeout()

    def stop(self) -> None:
        """Stop the timer thread (it can be started again)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)

    def __enter__(self) -> "Watchdog":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
