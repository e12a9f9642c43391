"""Save the frozen encoder of a saved world model as an ``encoder_checkpoint`` for ``vjepa-posttrain``.

``python3 -m training.export_encoder <model> <out.pt>``: ``model`` is a name in world_model/weights/ (e.g.
``sim_multitask_distilled``) or a path base (``<base>.safetensors`` + ``<base>.json``). With ``init_model=<model>``
and ``encoder_checkpoint=<out.pt>``, ``vjepa-posttrain`` then fine-tunes that model's predictor on the same encoder
(a shipped model carries no pretraining run directory to take ``encoder.pt`` from).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch


def export_encoder(model: str, out: str | Path) -> Path:
    """Write ``model``'s encoder state dict to ``out`` (parents created); returns the path."""
    from agent.factory import resolve_model_path
    from world_model.checkpoint import load_world_model

    wm = load_world_model(resolve_model_path(model))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.detach().clone() for k, v in wm.encoder.state_dict().items()}, out)
    return out


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: python3 -m training.export_encoder <model name or path base> <out.pt>")
    try:
        path = export_encoder(*args)
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"error: {exc}") from exc
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
