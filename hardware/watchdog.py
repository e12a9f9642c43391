"""A watchdog thread that calls ``on_timeout`` (e.g. driver.stop) if ``kick()`` is not called in time."""

from __future__ import annotations

import threading
import time
from typing import Callable


class Watchdog:
    def __init__(self, timeout_s: float, on_timeout: Callable[[], None]) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        self.timeout_s = timeout_s
        self.on_timeout = on_timeout
        self.fired = threading.Event()
        self._last = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Watchdog":
        self._last = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def kick(self) -> None:
        self._last = time.monotonic()
        self.fired.clear()

    def _run(self) -> None:
        while not self._stop.wait(min(0.05, self.timeout_s / 4)):
            if not self.fired.is_set() and time.monotonic() - self._last > self.timeout_s:
                self.fired.set()
                self.on_timeout()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)

    def __enter__(self) -> "Watchdog":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
