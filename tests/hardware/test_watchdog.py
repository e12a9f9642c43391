"""The watchdog thread: fires once per silence, stays fired until re-armed, pauses while held, restarts."""

import threading
import time

import pytest

from hardware.watchdog import Watchdog


def test_watchdog_fires_and_can_be_kicked():
    fired = []
    with Watchdog(0.15, lambda: fired.append(time.monotonic())) as wd:
        for _ in range(4):
            time.sleep(0.05)
            wd.kick()
        assert not fired
        time.sleep(0.4)
    assert len(fired) == 1


def test_f20_kick_does_not_clear_fired_only_rearm_does():
    fired = []
    with Watchdog(0.1, lambda: fired.append(1)) as wd:
        time.sleep(0.3)
        wd.kick()
        assert wd.fired.is_set() and len(fired) == 1
        wd.rearm()
        assert not wd.fired.is_set()
        time.sleep(0.3)
    assert len(fired) == 2


def test_f20_watchdog_restarts_after_stop():
    fired = []
    wd = Watchdog(0.1, lambda: fired.append(1))
    wd.start()
    wd.stop()
    assert not wd.running
    wd.start()
    assert wd.running
    time.sleep(0.3)
    wd.stop()
    assert fired == [1]


def test_f20_watchdog_never_fires_inside_hold_and_not_concurrently():
    inside = threading.Event()
    overlap = []

    def on_timeout():
        overlap.append(inside.is_set())

    with Watchdog(0.1, on_timeout) as wd:
        with wd.hold():
            inside.set()
            time.sleep(0.4)
            inside.clear()
        assert overlap == []  # the timer restarted when the hold ended
        time.sleep(0.3)
    assert overlap == [False]


@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_watchdog_rejects_bad_timeouts(timeout):
    with pytest.raises(ValueError):
        Watchdog(timeout, lambda: None)
