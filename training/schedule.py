"""Warmup-constant-decay learning-rate schedule (as in V-JEPA 2-AC post-training)."""

from __future__ import annotations


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
