"""Mixed precision for the training loops: ``precision: auto | fp32 | bf16`` in the pretrain/posttrain configs.

``auto`` trains under bf16 autocast only where bf16 is fast (CUDA with bf16, or a CPU with native bf16 matmul
kernels, decided like planning in :mod:`world_model.precision`); on an AVX2-only CPU, where bf16 is emulated and
several times slower, it stays fp32. Parameters, optimiser state, checkpoints and the L1 losses stay fp32; only the
matmuls inside the autocast region run in bf16. The choice is a speed setting, not part of a run's identity: a run
may resume under another precision.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch

PRECISIONS = ("auto", "fp32", "bf16")


def check_precision(owner: str, value: str) -> None:
    if value not in PRECISIONS:
        raise ValueError(f"{owner}.precision must be one of {', '.join(PRECISIONS)}, got {value!r}")


def resolve_training_bf16(precision: str, device: torch.device) -> tuple[bool, str]:
    """(use bf16 autocast, why) for ``precision`` on ``device``."""
    from world_model.precision import resolve_precision

    check_precision("training", precision)
    if precision != "auto":
        return precision == "bf16", f"forced: {precision}"
    choice = resolve_precision("auto", device)
    return choice.bf16, choice.reason


def with_precision(ctx, precision: str):
    """``ctx`` (a training.distributed.DistContext) with ``bf16`` set for ``precision``; rank 0 prints the choice."""
    from dataclasses import replace

    bf16, why = resolve_training_bf16(precision, ctx.device)
    if ctx.is_main:
        print(f"training precision: {'bf16 autocast' if bf16 else 'fp32'} ({why})", flush=True)
    return replace(ctx, bf16=bf16)


def autocast(enabled: bool, device: torch.device) -> AbstractContextManager:
    """bf16 autocast on ``device`` when ``enabled``, else a no-op context."""
    if not enabled:
        return nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)
