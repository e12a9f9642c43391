"""The planning fast paths (issue 11) give the same numbers as the straightforward computation."""

import pytest
import torch

from world_model.model import build_world_model
from world_model.rope import RopeTables, _cos_sin, rope_axis_dim


def _reference_rope(x: torch.Tensor, t: torch.Tensor, h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The official formula written out: tiled sin/cos per axis, adjacent pairs rotated, rest unrotated."""
    a = rope_axis_dim(x.shape[-1])
    outs = []
    for i, pos in enumerate((t, h, w)):
        xa = x[..., i * a:(i + 1) * a]
        cos, sin = _cos_sin(pos, a)
        pairs = xa.unflatten(-1, (-1, 2))
        rotated = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)
        outs.append(xa * cos + rotated * sin)
    return torch.cat(outs + [x[..., 3 * a:]], dim=-1)


@pytest.mark.parametrize("head_dim", [64, 88, 30, 33])
def test_rope_apply_matches_the_written_out_formula(head_dim):
    torch.manual_seed(0)
    n = 12
    x = torch.randn(2, 3, n, head_dim)
    t, h, w = torch.arange(n).float() // 4, torch.arange(n).float() % 4, torch.arange(n).float() % 3
    got = RopeTables.build(t, h, w, head_dim).apply(x)
    torch.testing.assert_close(got, _reference_rope(x, t, h, w), rtol=1e-6, atol=1e-6)


def test_rope_tables_are_cast_once_per_dtype():
    tables = RopeTables.build(torch.zeros(4), torch.zeros(4), torch.zeros(4), 64)
    x = torch.randn(1, 1, 4, 64)
    tables.apply(x)
    tables.apply(x.to(torch.bfloat16))
    tables.apply(x)
    assert len(tables._cast) == 2


def test_broadcast_context_rollout_equals_materialised_context_exactly():
    """A (1, N, D) context expanded over samples is embedded once; results must not change (up to BLAS blocking
    of a different row count, which may differ in the last bits on some CPUs)."""
    torch.manual_seed(0)
    wm = build_world_model("sim_tiny").eval()
    z0 = torch.randn(1, 16, 192)
    actions, states = torch.randn(5, 2, 7) * 0.02, torch.randn(5, 2, 7) * 0.1
    with torch.inference_mode():
        shared = wm.rollout(z0, actions, states)  # broadcast (stride-0) context
        copied = wm.rollout(z0.expand(5, -1, -1).contiguous(), actions, states)
    torch.testing.assert_close(shared, copied, rtol=1e-6, atol=1e-6)


def test_rope_apply_is_differentiable_and_equal_with_and_without_grad():
    torch.manual_seed(0)
    tables = RopeTables.build(torch.arange(6).float(), torch.zeros(6), torch.ones(6), 64)
    x = torch.randn(2, 2, 6, 64, requires_grad=True)
    out = tables.apply(x)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    with torch.no_grad():
        torch.testing.assert_close(tables.apply(x), out, rtol=0, atol=0)
