"""Export a (possibly unfinished) post-training run to a shippable world-model checkpoint.

``python3 -m training.export <run_dir> <out_base> [--fp16]`` loads ``<run_dir>/last.pt`` safely
(``weights_only=True``), rebuilds the model from the config stored *in that checkpoint* (so a later failed or
different rerun that rewrote ``config.json`` cannot change what is exported), checks that the encoder checkpoint
file is the one the run was trained on, and writes ``<out_base>.safetensors`` + ``<out_base>.json`` via
world_model.checkpoint.save_world_model; ``--fp16`` stores the weights in float16 (they load back as float32;
metadata.stored_dtype records it).
The metadata records the camera preset of the run's training data (``camera``, from its ``collect.json``; null when
it cannot be told, e.g. a LeRobot dataset or a data directory that is not on this machine: a warning says so).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import torch

from training.collect import dataset_camera
from training.posttrain import PosttrainConfig, build_model, check_encoder_unchanged, encoder_fingerprint
from training.state import TrainingStateError, read_training_state


def run_config(checkpoint: Path, config: dict) -> PosttrainConfig:
    """The PosttrainConfig stored in a checkpoint (TrainingStateError naming the file if it is not one)."""
    try:
        return PosttrainConfig(**config)
    except (TypeError, ValueError) as exc:
        raise TrainingStateError(f"{checkpoint}: its stored config is not a valid PosttrainConfig ({exc})") from exc


def run_camera(cfg: PosttrainConfig) -> str | None:
    """The camera preset of the run's training data (see training.collect.dataset_camera); warns on stderr when an
    npz dataset's camera cannot be told (evaluation then assumes "front")."""
    camera = dataset_camera(cfg.data_dir, cfg.data_format)
    if camera is None and cfg.data_format == "npz":
        print(f"warning: cannot tell the camera of the training data {cfg.data_dir} (missing or unreadable "
              "collect.json); the exported model records camera null, which evaluation reads as 'front'",
              file=sys.stderr)
    return camera


def export_run(run_dir: str | Path, out_base: str | Path, fp16: bool = False) -> Path:
    """Build the run's model, load the latest predictor checkpoint, save it as a world model."""
    from world_model.checkpoint import save_world_model

    checkpoint = Path(run_dir) / "last.pt"
    state = read_training_state(checkpoint, "posttrain")
    if state is None:
        raise FileNotFoundError(f"{checkpoint} not found: nothing to export")
    cfg = run_config(checkpoint, state["config"])
    check_encoder_unchanged(checkpoint, state.get("encoder_sha256"), encoder_fingerprint(cfg))
    # the checkpoint's predictor replaces any init_model's; a camera-conditioned run recorded its camera statistics
    model = build_model(replace(cfg, init_model=None), state.get("camera"))
    model.predictor.load_state_dict(state["predictor"])
    model.eval()
    meta = {"trained_by": "training.posttrain", "config": state["config"], "step": int(state["step"]),
            "camera": run_camera(cfg)}
    return save_world_model(model, out_base, metadata=meta, dtype=torch.float16 if fp16 else None)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python3 -m training.export <run_dir> <out_base> [--fp16]`` (one-line errors)."""
    from agent.cli_errors import cli_errors

    @cli_errors("training.export")
    def run() -> None:
        args = sys.argv[1:] if argv is None else argv
        fp16 = "--fp16" in args
        args = [a for a in args if a != "--fp16"]
        if len(args) != 2:
            raise SystemExit("usage: python3 -m training.export <run_dir> <out_base> [--fp16]")
        print(export_run(args[0], args[1], fp16=fp16))

    run()


if __name__ == "__main__":
    main()
