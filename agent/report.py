"""Merge several evaluation results (``results.json`` from ``vjepa-eval``) into markdown tables.

    python3 -m agent.report outputs/eval/learned_cem outputs/eval/oracle ... > results.md

The first table has one row per (task, agent), or per (task, variant, agent) when any run holds a variant other
than ``nominal`` (the robustness suite, see ``agent.eval.VARIANTS``); then a per-variant table follows: one row per
(task, agent), one column per variant, each cell the success rate with its Wilson 95% CI; runs of the same agent
(equal run identity, e.g. a nominal run and its robustness run) share a row there. Files written before variants
existed read as nominal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from agent.eval_results import NOMINAL, iter_entries


def load_results(path: str | Path) -> dict[str, Any]:
    """Read ``<dir>/results.json`` (or the file itself); FileNotFoundError naming the path when there is none,
    ValueError naming it when it is not a ``vjepa-eval`` results file (e.g. a log passed by a shell glob)."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise FileNotFoundError(f"no evaluation results at {p}")
    try:
        results = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{p} is not a vjepa-eval results file (not JSON: {err})") from None
    if not isinstance(results, dict) or not isinstance(results.get("tasks"), dict):
        raise ValueError(f"{p} is not a vjepa-eval results file (no \"tasks\" mapping)")
    return results


def _num(value: float | None, spec: str) -> str:
    """``value`` formatted with ``spec``, or "-" when undefined (a summary of no episodes)."""
    return "-" if value is None else format(value, spec)


def _ordered(runs: list[dict[str, Any]], index: int) -> list[str]:
    """Task (index 0) or variant (index 1) names in order of first appearance over ``runs``."""
    names: list[str] = []
    for run in runs:
        for entry in iter_entries(run):
            if entry[index] not in names:
                names.append(entry[index])
    return names


def _entries(run: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(task, variant) -> entry of one run."""
    return {(task, variant): entry for task, variant, entry in iter_entries(run)}


def has_variants(runs: list[dict[str, Any]]) -> bool:
    """Whether any run holds a variant other than nominal."""
    return any(variant != NOMINAL for run in runs for _, variant, _ in iter_entries(run))


def _summary_cells(s: dict[str, Any]) -> str:
    return (f"{s['successes']}/{s['episodes']} ({100 * s['success_rate']:.0f}%) | "
            f"{100 * s['ci95'][0]:.0f}-{100 * s['ci95'][1]:.0f}% | {_num(s['mean_final_distance_m'], '.3f')} | "
            f"{_num(s['mean_steps'], '.1f')} | {_num(s['mean_plan_time_s'], '.2f')} |")


def markdown_table(runs: list[dict[str, Any]]) -> str:
    """One row per (task, agent), or (task, variant, agent) when variants are present: successes/episodes, rate
    with Wilson 95% CI, final distance, steps, s/action."""
    with_variant = has_variants(runs)
    head = "| task | variant | agent |" if with_variant else "| task | agent |"
    rows = [head + " success | 95% CI | final dist (m) | steps | plan s/action |",
            "|---" * (8 if with_variant else 7) + "|"]
    tables = [_entries(run) for run in runs]
    for task in _ordered(runs, 0):
        for variant in _ordered(runs, 1):
            for run, entries in zip(runs, tables):
                entry = entries.get((task, variant))
                if entry is None:
                    continue
                where = f"| {task} | {variant} |" if with_variant else f"| {task} |"
                rows.append(f"{where} {run.get('agent', '?')} | {_summary_cells(entry['summary'])}")
    return "\n".join(rows)


def _rate_cell(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "-"
    s = entry["summary"]
    return f"{100 * s['success_rate']:.0f}% ({100 * s['ci95'][0]:.0f}-{100 * s['ci95'][1]:.0f}) n={s['episodes']}"


def _same_agent_groups(runs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``runs`` grouped by their stored run identity (label, model, planner, subgoal rule, seeds...), in order of
    first appearance; a run without one (written before identities were stored) is a group of its own."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for i, run in enumerate(runs):
        key = json.dumps(run["run"], sort_keys=True) if "run" in run else f"#{i}"
        groups.setdefault(key, []).append(run)
    return list(groups.values())


def _merged_entries(group: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(task, variant) -> entry over the runs of one agent; the first run holding a (task, variant) wins."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for run in group:
        for key, entry in _entries(run).items():
            merged.setdefault(key, entry)
    return merged


def variant_table(runs: list[dict[str, Any]]) -> str:
    """One row per (task, agent), one column per variant: success rate (Wilson 95% CI) and episode count; "-"
    where no run has episodes of that variant. Runs of the same agent (equal stored run identity: e.g. the nominal
    run and the robustness run of one configuration) share a row."""
    variants = _ordered(runs, 1)
    rows = ["| task | agent | " + " | ".join(variants) + " |", "|---|---|" + "---|" * len(variants)]
    agents = [(group[0].get("agent", "?"), _merged_entries(group)) for group in _same_agent_groups(runs)]
    for task in _ordered(runs, 0):
        for label, entries in agents:
            if not any(t == task for t, _ in entries):
                continue
            cells = " | ".join(_rate_cell(entries.get((task, v))) for v in variants)
            rows.append(f"| {task} | {label} | {cells} |")
    return "\n".join(rows)


def report(runs: list[dict[str, Any]]) -> str:
    """The markdown report: the detailed table, then the per-variant table when variants are present."""
    text = markdown_table(runs)
    if has_variants(runs):
        text += "\n\nSuccess rate per variant (Wilson 95% CI, episodes):\n\n" + variant_table(runs)
    return text


def main(argv: list[str] | None = None) -> None:
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        raise SystemExit("usage: python3 -m agent.report <results dir or json> [...]")
    try:
        runs = [load_results(p) for p in paths]
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"agent.report: {err}") from None
    print(report(runs))


if __name__ == "__main__":
    main()
