"""Close every live env (and so its MuJoCo renderer) at interpreter exit, before MuJoCo's EGL teardown.

Envs call :func:`track` when built and :func:`register_exit_close` right after creating their first renderer:
that registration happens after MuJoCo's EGL module has registered its own exit hooks, so (atexit runs LIFO)
our renderers are freed while the EGL display still exists, avoiding EGLError noise from MuJoCo's ``__del__``.
"""

from __future__ import annotations

import atexit
import weakref
from typing import Any

_LIVE_ENVS: "weakref.WeakSet[Any]" = weakref.WeakSet()
_REGISTERED = False


def track(env: Any) -> None:
    """Remember ``env`` (weakly) so that it is closed at exit if still alive."""
    _LIVE_ENVS.add(env)


def register_exit_close() -> None:
    """Register the exit hook once (idempotent)."""
    global _REGISTERED
    if not _REGISTERED:
        atexit.register(_close_live_envs)
        _REGISTERED = True


def _close_live_envs() -> None:
    for env in list(_LIVE_ENVS):
        try:
            env.close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
