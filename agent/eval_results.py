"""The results.json of one evaluation directory, safe to resume and to share between concurrent runs.

* Identity: results.json records under ``"run"`` what produced its episodes (agent label and kind, planner, its
  overrides and resolved settings, model and its weights' SHA-256, precision/device request, energy, seed base,
  image size, camera, max steps, subgoal mode and its switch rule). A run whose identity differs is refused with
  :class:`ResultsMismatchError` naming the differing fields, so an eval never reports another run's episodes as its
  own. Files written before identities were recorded are checked on what they hold (label, seed, image size, max
  steps). A file without episodes (a run that failed before its first one) may be taken over.
* Concurrency: every read-modify-write of results.json happens under an exclusive ``fcntl.flock`` on
  ``<out_dir>/.results.lock`` and re-reads the file first, and the atomic replace uses a temporary name unique to the
  writer. Runs with the same identity into one directory (e.g. one per task, or a rerun) therefore merge without
  losing episodes; episodes are keyed by (task, variant, seed).
* Variants (the robustness suite, see :data:`agent.eval.VARIANTS`): ``results["tasks"]`` maps an entry key to
  ``{"task", "variant", "env_kwargs", "episodes", "summary"}``. The key of the nominal variant is the bare env id
  (the layout of files written before variants existed, which read back as nominal); any other variant's key is
  ``"<env id>@<variant>"``. Variants are not part of the run identity (like tasks, more can be added to a directory
  later), but a stored entry whose ``env_kwargs`` differ from the variant's current definition is refused.
* Fields added to the run identity later (``subgoals``, ``camera``) read as their default (:data:`IDENTITY_DEFAULTS`)
  in files written before them, so such files resume. Files written before the tasks' success tests were versioned
  (``success_test``) read as version 1 and are refused under a later one; files written before the planner was
  seeded per episode (``planner_seeding``) read as ``"shared"`` and are refused by a per-episode run. The model
  weights' SHA-256 (``model_sha256``) and the resolved planner settings (``planner_settings``) are compared only
  where the stored run recorded them: older files cannot tell which weights or defaults they used.
* Strict JSON: summaries hold ``null`` (never NaN) for undefined means and the file is written with
  ``allow_nan=False``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from agent.stats import wilson_interval
from envs.atomic_files import remove_stale_tmp_files, write_json_atomic  # strict JSON (no NaN)

RESULTS_NAME = "results.json"
LOCK_NAME = ".results.lock"
NOMINAL = "nominal"
VARIANT_SEPARATOR = "@"
# run-identity fields added later -> value of older runs (they rendered with the "front" camera)
IDENTITY_DEFAULTS: dict[str, Any] = {"subgoals": None, "camera": "front", "success_test": 1,
                                     "planner_seeding": "shared"}
# run-identity fields added later that older runs did not know (not compared when the stored run lacks them)
IDENTITY_UNKNOWN_IF_ABSENT = ("model_sha256", "planner_settings")


class ResultsMismatchError(ValueError):
    """The out_dir holds results of a different evaluation (other agent, planner, model, seed, ...)."""


def to_json_value(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, mappings plain dicts)."""
    return json.loads(json.dumps(value, allow_nan=False))


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


def entry_key(task: str, variant: str = NOMINAL) -> str:
    """The ``results["tasks"]`` key of (task, variant): the bare env id for the nominal variant, else
    ``"<task>@<variant>"``."""
    return task if variant == NOMINAL else f"{task}{VARIANT_SEPARATOR}{variant}"


def entry_task_variant(key: str, entry: Mapping[str, Any]) -> tuple[str, str]:
    """(env id, variant) of a ``results["tasks"]`` entry: its recorded fields, else parsed from the key (files
    written before variants existed hold only nominal entries keyed by the env id)."""
    task, _, variant = key.partition(VARIANT_SEPARATOR)
    return str(entry.get("task", task)), str(entry.get("variant", variant or NOMINAL))


def iter_entries(results: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(env id, variant, entry) for every entry of a results dict, in stored order."""
    for key, entry in (results.get("tasks") or {}).items():
        if isinstance(entry, dict):
            task, variant = entry_task_variant(key, entry)
            yield task, variant, entry


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
    if isinstance(recorded, dict):
        old = {**{k: v for k, v in IDENTITY_DEFAULTS.items() if k in new}, **old}
        new = {k: v for k, v in new.items() if k in old or k not in IDENTITY_UNKNOWN_IF_ABSENT}
    keys = sorted(set(old) | set(new)) if isinstance(recorded, dict) else sorted(old)
    missing = "<unset>"
    return [f"{key}: {old.get(key, missing)!r} -> {new.get(key, missing)!r}"
            for key in keys if old.get(key, missing) != new.get(key, missing)]


def variant_differences(stored: Mapping[str, Any], variants: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """``"key: env_kwargs stored -> current"`` for each stored entry (with episodes) of a variant in ``variants``
    whose recorded env kwargs differ from the current definition (entries without a record count as ``{}``)."""
    current = to_json_value({name: dict(kwargs) for name, kwargs in variants.items()})
    diffs = []
    for key, entry in (stored.get("tasks") or {}).items():
        if not isinstance(entry, dict) or not entry.get("episodes"):
            continue
        _, variant = entry_task_variant(key, entry)
        if variant in current and entry.get("env_kwargs", {}) != current[variant]:
            diffs.append(f"{key}: env_kwargs {entry.get('env_kwargs', {})!r} -> {current[variant]!r}")
    return diffs


def _first_seen(names: list[str]) -> list[str]:
    """``names`` without repeats, in order of first appearance."""
    return list(dict.fromkeys(names))


class ResultsStore:
    """Locked, identity-checked access to ``<out_dir>/results.json`` for one evaluation run.

    variants: name -> gym.make kwargs of the variants this run evaluates (recorded per entry and checked)."""

    def __init__(self, out_dir: str | Path, identity: Mapping[str, Any], config: Mapping[str, Any],
                 variants: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / RESULTS_NAME
        self.identity = to_json_value(dict(identity))
        self.config = to_json_value(dict(config))
        self.variants = to_json_value({name: dict(kw) for name, kw in (variants or {NOMINAL: {}}).items()})

    def _check(self, stored: Mapping[str, Any]) -> None:
        diffs = identity_differences(stored, self.identity) + variant_differences(stored, self.variants)
        if diffs:
            raise ResultsMismatchError(
                f"{self.path} holds results of a different evaluation ({'; '.join(diffs)}); refusing to mix them: "
                "choose another out_dir (or move the old results away)")

    def _header(self, stored: dict[str, Any]) -> dict[str, Any]:
        stored.update({"agent": self.identity.get("label"), "run": self.identity, "config": self.config})
        stored.setdefault("tasks", {})
        return stored

    def open(self) -> dict[str, dict[int, dict]]:
        """Check the identity (ResultsMismatchError), claim the file, and return the done episodes per entry key
        (see :func:`entry_key`) and seed."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with locked(self.out_dir):
            stored = read_results(self.path)
            self._check(stored)
            for folder in (self.out_dir, self.out_dir / "videos"):
                remove_stale_tmp_files(folder)
            write_json_atomic(self.path, self._header(stored))
        return {task: {int(e["seed"]): e for e in entry.get("episodes", [])}
                for task, entry in stored["tasks"].items()}

    def record(self, task: str, episode: Mapping[str, Any], runtime: Mapping[str, Any] | None = None,
               variant: str = NOMINAL) -> dict[str, Any]:
        """Add (or replace) one episode of env id ``task`` under ``variant``, re-summarise that entry and rewrite
        the file; returns the entry's summary."""
        ep = to_json_value(dict(episode))
        key = entry_key(task, variant)
        with locked(self.out_dir):
            stored = self._header(self._reread())
            entry = stored["tasks"].get(key, {})
            by_seed = {int(e["seed"]): e for e in entry.get("episodes", [])}
            by_seed[int(ep["seed"])] = ep
            episodes = [by_seed[s] for s in sorted(by_seed)]
            stored["tasks"][key] = {"task": task, "variant": variant,
                                    "env_kwargs": self.variants.get(variant, entry.get("env_kwargs", {})),
                                    "episodes": episodes, "summary": summarise(episodes)}
            stored["tasks"] = self._in_order(stored["tasks"])
            if runtime is not None:
                stored["runtime"] = to_json_value(dict(runtime))
            write_json_atomic(self.path, stored)
        return stored["tasks"][key]["summary"]

    def _in_order(self, entries: dict[str, Any]) -> dict[str, Any]:
        """``entries`` ordered by task, then variant: this run's tasks and variants in its order, followed by any
        others in stored order, so the file does not depend on which worker finished first."""
        pairs = [(entry_task_variant(key, entry), key, entry) for key, entry in entries.items()]
        tasks = _first_seen([*(self.config.get("tasks") or []), *(tv[0] for tv, _, _ in pairs)])
        variants = _first_seen([*self.variants, *(tv[1] for tv, _, _ in pairs)])
        pairs.sort(key=lambda p: (tasks.index(p[0][0]), variants.index(p[0][1])))
        return {key: entry for _, key, entry in pairs}

    def read(self) -> dict[str, Any]:
        """The current results (under the lock)."""
        with locked(self.out_dir):
            return self._reread()

    def _reread(self) -> dict[str, Any]:
        stored = read_results(self.path)
        self._check(stored)
        return stored
