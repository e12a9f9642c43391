"""Export a (possibly unfinished) post-training run to a shippable world-model checkpoint.

``python3 -m training.export <run_dir> <out_base> [--fp16]`` loads ``<run_dir>/config.json`` + ``<run_dir>/last.pt``
and writes ``<out_base>.safetensors`` + ``<out_base>.json`` via world_model.checkpoint.save_world_model;
``--fp16`` stores the weights in float16 (half the size; they load back as float32).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from training.posttrain import PosttrainConfig, build_model


def export_run(run_dir: str | Path, out_base: str | Path, fp16: bool = False) -> Path:
    """Build the run's model, load the latest predictor checkpoint, save it as a world model."""
    from world_model.checkpoint import save_world_model

    run_dir = Path(run_dir)
    if not (run_dir / "last.pt").exists():
        raise FileNotFoundError(f"{run_dir}/last.pt not found: nothing to export")
    config = json.loads((run_dir / "config.json").read_text())
    cfg = PosttrainConfig(**config)
    model = build_model(cfg)
    state = torch.load(run_dir / "last.pt", map_location="cpu", weights_only=False)
    model.predictor.load_state_dict(state["predictor"])
    model.eval()
    meta = {"trained_by": "training.posttrain", "config": config,
            "step": int(state["step"])}
    return save_world_model(model, out_base, metadata=meta, dtype=torch.float16 if fp16 else None)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    fp16 = "--fp16" in args
    args = [a for a in args if a != "--fp16"]
    if len(args) != 2:
        raise SystemExit("usage: python3 -m training.export <run_dir> <out_base> [--fp16]")
    print(export_run(args[0], args[1], fp16=fp16))


if __name__ == "__main__":
    main()
