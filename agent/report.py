"""Merge several evaluation results (``results.json`` from ``vjepa-eval``) into one markdown table per task.

    python3 -m agent.report outputs/eval/learned_cem outputs/eval/oracle ... > results.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def load_results(path: str | Path) -> dict[str, Any]:
    """Read ``<dir>/results.json`` (or the file itself); raises FileNotFoundError naming the path."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise FileNotFoundError(f"no evaluation results at {p}")
    return json.loads(p.read_text())


def _num(value: float | None, spec: str) -> str:
    """``value`` formatted with ``spec``, or "-" when undefined (a summary of no episodes)."""
    return "-" if value is None else format(value, spec)


def markdown_table(runs: list[dict[str, Any]]) -> str:
    """One row per (task, agent): successes/episodes, rate with Wilson 95% CI, final distance, steps, s/action."""
    rows = ["| task | agent | success | 95% CI | final dist (m) | steps | plan s/action |",
            "|---|---|---|---|---|---|---|"]
    tasks: list[str] = []
    for run in runs:
        tasks += [t for t in run["tasks"] if t not in tasks]
    for task in tasks:
        for run in runs:
            r = run["tasks"].get(task)
            if r is None:
                continue
            s = r["summary"]
            rows.append(f"| {task} | {run.get('agent', '?')} | {s['successes']}/{s['episodes']} "
                        f"({100 * s['success_rate']:.0f}%) | {100 * s['ci95'][0]:.0f}-{100 * s['ci95'][1]:.0f}% | "
                        f"{_num(s['mean_final_distance_m'], '.3f')} | {_num(s['mean_steps'], '.1f')} | "
                        f"{_num(s['mean_plan_time_s'], '.2f')} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        raise SystemExit("usage: python3 -m agent.report <results dir or json> [...]")
    print(markdown_table([load_results(p) for p in paths]))


if __name__ == "__main__":
    main()
