"""Warmup-constant-decay learning-rate schedule (as in V-JEPA 2-AC post-training)."""

from __future__ import annotations

from typing import Any, Iterable

import torch


def warmup_constant_decay(step: int, total: int, warmup: int, decay: int, start_factor: float = 0.1,
                          final_factor: float = 0.0) -> float:
    """LR multiplier: linear warmup start_factor -> 1 over ``warmup`` steps, constant, then linear decay to
    ``final_factor`` over the last ``decay`` steps."""
    if not (warmup >= 0 and decay >= 0 and warmup + decay <= total):
        raise ValueError(f"need warmup + decay <= total, got {warmup} + {decay} > {total}")
    if step < warmup:
        return start_factor + (1 - start_factor) * step / max(1, warmup)
    if step >= total - decay:
        frac = (step - (total - decay)) / max(1, decay)
        return 1.0 + (final_factor - 1.0) * min(1.0, frac)
    return 1.0


def training_loop_state(params: Iterable[torch.nn.Parameter], cfg: Any):
    """(AdamW optimiser, warmup-constant-decay LR scheduler, sampling generator seeded with ``cfg.seed``) of a
    training run; ``cfg`` has lr, weight_decay, steps, warmup, decay and seed."""
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: warmup_constant_decay(s, cfg.steps, cfg.warmup, cfg.decay))
    return opt, sched, torch.Generator().manual_seed(cfg.seed)


def restore_loop_state(state: dict[str, Any], opt, sched, gen: torch.Generator) -> int:
    """Load a checkpoint's optimiser, scheduler, sampling generator and global RNGs; returns its step."""
    from training.state import set_rng_state

    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    gen.set_state(state["generator"])
    set_rng_state(state["rng"])
    return int(state["step"])
