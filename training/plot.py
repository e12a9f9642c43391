"""Plot training curves from a run's ``log.jsonl`` (pretrain or post-train).

    python3 -m training.plot runs/posttrain [runs/pretrain ...] --out losses.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

LOSS_KEYS = ("loss", "teacher_forcing", "rollout")


def read_log(run_dir: str | Path) -> list[dict]:
    """Rows of ``<run_dir>/log.jsonl``; a resumed run may repeat steps, the last row per step wins."""
    path = Path(run_dir) / "log.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"no training log at {path}")
    rows: dict[int, dict] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[int(row["step"])] = row
    return [rows[s] for s in sorted(rows)]


def plot_runs(run_dirs: list[str | Path], out: str | Path) -> Path:
    """One panel per run, log-scale losses against step; writes a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(run_dirs), figsize=(5 * len(run_dirs), 3.5), squeeze=False)
    for ax, run in zip(axes[0], run_dirs):
        rows = read_log(run)
        steps = [r["step"] for r in rows]
        for key in LOSS_KEYS:
            if key in rows[0]:
                ax.plot(steps, [r[key] for r in rows], label=key, lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(Path(run).name)
        ax.legend()
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run directories containing log.jsonl")
    parser.add_argument("--out", default="losses.png")
    args = parser.parse_args(argv)
    print(plot_runs(args.runs, args.out))


if __name__ == "__main__":
    main()
