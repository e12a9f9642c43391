"""One-line errors for the command-line entry points (vjepa-eval, vjepa-collect, ..., vjepa-deploy).

A CLI wraps its body with :func:`cli_errors`: any exception becomes one line on stderr naming the program and the
problem (``vjepa-eval: error: ValueError: episodes must be >= 1, got 0``) and a non-zero exit status. Set the
environment variable ``VJEPA_DEBUG=1`` to get the full traceback instead.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

DEBUG_ENV = "VJEPA_DEBUG"
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def debug_enabled() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def format_error(prog: str, exc: BaseException) -> str:
    """``<prog>: error: <Type>: <message>`` on one line (newlines in the message folded)."""
    msg = " ".join(str(exc).split()) or "(no message)"
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        msg = f"missing key {exc.args[0]!r}"
    return f"{prog}: error: {type(exc).__name__}: {msg}"


def cli_errors(prog: str) -> Callable[[F], F]:
    """Decorator: run the CLI body; on an exception print one line to stderr and exit non-zero
    (1, or 130 on Ctrl-C). SystemExit passes through unchanged. VJEPA_DEBUG=1 re-raises."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except KeyboardInterrupt:
                if debug_enabled():
                    raise
                print(f"{prog}: interrupted", file=sys.stderr)
                raise SystemExit(EXIT_INTERRUPTED) from None
            except Exception as exc:  # noqa: BLE001 - the point is to catch everything
                if debug_enabled():
                    raise
                print(format_error(prog, exc) + f"  (set {DEBUG_ENV}=1 for the traceback)", file=sys.stderr)
                raise SystemExit(EXIT_ERROR) from None

        return run  # type: ignore[return-value]

    return wrap
