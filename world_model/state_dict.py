"""State-dict checks with readable errors: missing / unexpected keys and shape mismatches.

Works on modules built on ``device="meta"`` (only names and shapes are compared), so giant configs can be
checked against a checkpoint without allocating them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

PREFIXES = ("module.", "backbone.")
# Stray absolute position embeddings of RoPE checkpoints, unused by RoPE models: ``pos_embed`` (encoder sections)
# and ``predictor_pos_embed`` (mask-predictor sections of the pretraining files).
IGNORED_KEYS = ("pos_embed", "predictor_pos_embed")


class CheckpointError(ValueError):
    """A checkpoint does not match the model it is loaded into (message lists the differences)."""


@dataclass(frozen=True)
class StateDictReport:
    """Differences between a model's expected keys/shapes and a state dict."""

    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    mismatched: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]  # (key, expected, found)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self, limit: int = 12) -> str:
        def fmt(items: list[str]) -> str:
            more = f" ... (+{len(items) - limit} more)" if len(items) > limit else ""
            return ", ".join(items[:limit]) + more

        lines = []
        if self.missing:
            lines.append(f"missing keys ({len(self.missing)}): {fmt(list(self.missing))}")
        if self.unexpected:
            lines.append(f"unexpected keys ({len(self.unexpected)}): {fmt(list(self.unexpected))}")
        if self.mismatched:
            lines.append(
                f"shape mismatches ({len(self.mismatched)}): "
                + fmt([f"{k}: expected {list(e)}, found {list(f)}" for k, e, f in self.mismatched])
            )
        return "\n".join(lines) if lines else "state dict matches"


def expected_shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    """Parameter/buffer name -> shape (persistent state only); valid on meta modules."""
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def compare_state_dict(expected: Mapping[str, tuple[int, ...]], state_dict: Mapping[str, torch.Tensor]) -> StateDictReport:
    """Compare expected key -> shape against a state dict (tensors may live on any device, incl. meta)."""
    missing = tuple(sorted(k for k in expected if k not in state_dict))
    unexpected = tuple(sorted(k for k in state_dict if k not in expected))
    mismatched = tuple(
        (k, expected[k], tuple(state_dict[k].shape))
        for k in sorted(expected)
        if k in state_dict and tuple(state_dict[k].shape) != expected[k]
    )
    return StateDictReport(missing, unexpected, mismatched)


def strip_prefixes(state_dict: Mapping[str, torch.Tensor], prefixes: tuple[str, ...] = PREFIXES,
                   ignored: tuple[str, ...] = IGNORED_KEYS) -> dict[str, torch.Tensor]:
    """Remove leading training-wrapper prefixes ('module.', 'backbone.', repeatedly) and drop ignored keys."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        k = key
        changed = True
        while changed:
            changed = False
            for p in prefixes:
                if k.startswith(p):
                    k, changed = k[len(p):], True
        if k in ignored:
            continue
        if k in out:
            raise CheckpointError(f"two checkpoint keys map to '{k}' after stripping prefixes {prefixes}")
        out[k] = value
    return out


def nonfinite_tensors(state_dict: Mapping[str, torch.Tensor]) -> list[tuple[str, int, int]]:
    """(key, NaN count, inf count) for every floating tensor holding NaN or inf, in state-dict order.

    Meta tensors (shape-only checks) are skipped. Reads every floating tensor once (an mmapped file is paged in).
    """
    bad = []
    for key, t in state_dict.items():
        if not isinstance(t, torch.Tensor) or t.is_meta or not t.is_floating_point():
            continue
        if bool(torch.isfinite(t).all()):
            continue
        n_nan = int(torch.isnan(t).sum())
        bad.append((key, n_nan, int((~torch.isfinite(t)).sum()) - n_nan))
    return bad


def check_finite(state_dict: Mapping[str, torch.Tensor], source: str, limit: int = 5) -> None:
    """Raise CheckpointError naming ``source`` and the first ``limit`` tensors holding NaN or inf weights."""
    bad = nonfinite_tensors(state_dict)
    if not bad:
        return
    listed = ", ".join(f"{k} ({n} NaN, {i} inf)" for k, n, i in bad[:limit])
    more = f" ... (+{len(bad) - limit} more)" if len(bad) > limit else ""
    raise CheckpointError(f"{source}: non-finite weights (NaN/inf) in {len(bad)} tensor(s): {listed}{more}; "
                          "the file is corrupt (re-export or re-download it)")


def load_checked(module: nn.Module, state_dict: Mapping[str, torch.Tensor], what: str, strict: bool = True) -> nn.Module:
    """Load ``state_dict`` into ``module`` after a readable check.

    Shape mismatches always raise; missing/unexpected keys raise when ``strict``. Meta modules are
    materialised with ``assign=True`` (tensors are taken over, float dtypes cast to the module's dtype).
    Returns the module.
    """
    report = compare_state_dict(expected_shapes(module), state_dict)
    if report.mismatched or (strict and not report.ok):
        raise CheckpointError(f"{what}: checkpoint does not match the model\n{report.describe()}")
    on_meta = any(p.is_meta for p in module.parameters())
    if on_meta and report.missing:
        raise CheckpointError(f"{what}: cannot materialise a meta model with missing keys\n{report.describe()}")
    target = {k: v.dtype for k, v in module.state_dict().items()}
    sd = {k: (v.to(target[k]) if v.is_floating_point() and v.dtype != target[k] else v)
          for k, v in state_dict.items() if k in target}
    module.load_state_dict(sd, strict=False, assign=on_meta)
    return module
