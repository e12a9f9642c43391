"""The results.json of one evaluation directory, safe to resume and to share between concurrent runs.

* Identity: results.json records under ``"run"`` what produced its episodes (agent label and kind, planner and its
  overrides, model, precision/device request, energy, seed base, image size, max steps). A run whose identity differs
  is refused with :class:`ResultsMismatchError` naming the differing fields, so an eval never reports another run's
  episodes as its own. Files written before identities were recorded are checked on what they hold (label, seed,
  image size, max steps). A file without episodes (a run that failed before its first one) may be taken over.
* Concurrency: every read-modify-write of results.json happens under an exclusive ``fcntl.flock`` on
  ``<out_dir>/.results.lock`` and re-reads the file first, and the atomic replace uses a temporary name unique to the
  writer. Runs with the same identity into one directory (e.g. one per task, or a rerun) therefore merge without
  losing episodes; episodes are keyed by (task, seed).
* Strict JSON: summaries hold ``null`` (never NaN) for undefined means and the file is written with
  ``allow_nan=False``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from agent.stats import wilson_interval

RESULTS_NAME = "results.json"
LOCK_NAME = ".results.lock"


class ResultsMismatchError(ValueError):
    """The out_dir holds results of a different evaluation (other agent, planner, model, seed, ...)."""


def to_json_value(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, mappings plain dicts)."""
    return json.loads(json.dumps(value, allow_nan=False))


def write_json_atomic(path: Path, data: Any) -> None:
    """Write strict JSON to a temporary name unique to this writer, then rename it over ``path``."""
    text = json.dumps(data, indent=1, allow_nan=False)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


_TMP_NAME = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.tmp(\.\w+)?$")  # .<name>.<pid>.<hex>.tmp[.<ext>]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_tmp_files(folder: Path) -> list[Path]:
    """Delete temporary files (results.json or video writes) left in ``folder`` by writers that no longer run,
    e.g. after kill -9; files of live writers are kept. Returns the removed paths."""
    removed = []
    for path in folder.glob(".*.tmp*") if folder.is_dir() else []:
        match = _TMP_NAME.match(path.name)
        if match and not _pid_alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def read_results(path: Path) -> dict[str, Any]:
    """The parsed results file, ``{}`` if absent; ValueError naming the file if it is not a JSON object."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); move it away or choose another out_dir") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold an evaluation results object; choose another out_dir")
    return data


@contextlib.contextmanager
def locked(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<out_dir>/.results.lock`` (blocks while another process holds it)."""
    fd = os.open(out_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def summarise(episodes: list[dict]) -> dict[str, Any]:
    """Success count and rate with a Wilson 95% CI, and mean distance/steps/plan time (``None`` when empty)."""
    n = len(episodes)
    wins = sum(bool(e["success"]) for e in episodes)
    lo, hi = wilson_interval(wins, n)

    def mean(key: str) -> float | None:
        return float(np.mean([e[key] for e in episodes])) if n else None

    return {"episodes": n, "successes": wins, "success_rate": wins / n if n else 0.0, "ci95": [lo, hi],
            "mean_final_distance_m": mean("final_distance"), "mean_steps": mean("steps"),
            "mean_plan_time_s": mean("plan_time_s")}


def has_episodes(stored: Mapping[str, Any]) -> bool:
    """Whether a results dict holds at least one recorded episode."""
    tasks = stored.get("tasks") or {}
    return any(isinstance(entry, dict) and entry.get("episodes") for entry in tasks.values())


def _legacy_identity(stored: Mapping[str, Any]) -> dict[str, Any]:
    """What a results.json without a ``"run"`` record says about its run: label, seed, image size, max steps."""
    config = stored.get("config") or {}
    ident = {key: config[key] for key in ("seed", "image_size", "max_steps") if key in config}
    if "agent" in stored:
        ident["label"] = stored["agent"]
    return ident


def identity_differences(stored: Mapping[str, Any], identity: Mapping[str, Any]) -> list[str]:
    """``"field: stored -> requested"`` for each field where the stored results' run differs from ``identity``.

    Results without any episode (e.g. of a run that failed before its first episode) never conflict."""
    if not has_episodes(stored):
        return []
    recorded = stored.get("run")
    old = recorded if isinstance(recorded, dict) else _legacy_identity(stored)
    new = to_json_value(dict(identity))
    keys = sorted(set(old) | set(new)) if isinstance(recorded, dict) else sorted(old)
    missing = "<unset>"
    return [f"{key}: {old.get(key, missing)!r} -> {new.get(key, missing)!r}"
            for key in keys if old.get(key, missing) != new.get(key, missing)]


class ResultsStore:
    """Locked, identity-checked access to ``<out_dir>/results.json`` for one evaluation run."""

    def __init__(self, out_dir: str | Path, identity: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / RESULTS_NAME
        self.identity = to_json_value(dict(identity))
        self.config = to_json_value(dict(config))

    def _check(self, stored: Mapping[str, Any]) -> None:
        diffs = identity_differences(stored, self.identity)
        if diffs:
            raise ResultsMismatchError(
                f"{self.path} holds results of a different evaluation ({'; '.join(diffs)}); refusing to mix them: "
                "choose another out_dir (or move the old results away)")

    def _header(self, stored: dict[str, Any]) -> dict[str, Any]:
        stored.update({"agent": self.identity.get("label"), "run": self.identity, "config": self.config})
        stored.setdefault("tasks", {})
        return stored

    def open(self) -> dict[str, dict[int, dict]]:
        """Check the identity (ResultsMismatchError), claim the file, and return the done episodes per task."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with locked(self.out_dir):
            stored = read_results(self.path)
            self._check(stored)
            for folder in (self.out_dir, self.out_dir / "videos"):
                remove_stale_tmp_files(folder)
            write_json_atomic(self.path, self._header(stored))
        return {task: {int(e["seed"]): e for e in entry.get("episodes", [])}
                for task, entry in stored["tasks"].items()}

    def record(self, task: str, episode: Mapping[str, Any],
               runtime: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Add (or replace) one episode of env id ``task``, re-summarise the task and rewrite the file; returns the
        task summary."""
        ep = to_json_value(dict(episode))
        with locked(self.out_dir):
            stored = self._header(self._reread())
            entry = stored["tasks"].get(task, {})
            by_seed = {int(e["seed"]): e for e in entry.get("episodes", [])}
            by_seed[int(ep["seed"])] = ep
            episodes = [by_seed[s] for s in sorted(by_seed)]
            stored["tasks"][task] = {"episodes": episodes, "summary": summarise(episodes)}
            if runtime is not None:
                stored["runtime"] = to_json_value(dict(runtime))
            write_json_atomic(self.path, stored)
        return stored["tasks"][task]["summary"]

    def read(self) -> dict[str, Any]:
        """The current results (under the lock)."""
        with locked(self.out_dir):
            return self._reread()

    def _reread(self) -> dict[str, Any]:
        stored = read_results(self.path)
        self._check(stored)
        return stored
