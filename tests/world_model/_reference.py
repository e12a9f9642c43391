"""Independent reference computations written from /work/shared/vjepa2-reference.md (not from world_model code)."""

from __future__ import annotations

import math

import torch


def ref_rotate_token(x: torch.Tensor, pos: tuple[float, float, float], spatial: bool = True) -> torch.Tensor:
    """x (head_dim,) float64 for one token at (t, h, w). Loops over channels; returns a new tensor.

    a = 2*((hd//3)//2) channels per axis in order t, h, w; omega_i = 1/10000^(i/(a/2)); the table entry of
    channel c (0..a-1) uses i = c mod a/2 (tiled); pairs (2j, 2j+1) rotate: y = (-x1, x0); out = x cos + y sin.
    If not spatial, only the t channels rotate.
    """
    hd = x.shape[0]
    a = 2 * ((hd // 3) // 2)
    out = x.clone()
    for axis in range(3 if spatial else 1):
        off = axis * a
        for j in range(a // 2):
            c0, c1 = 2 * j, 2 * j + 1
            f0 = pos[axis] / 10000 ** ((c0 % (a // 2)) / (a / 2))
            f1 = pos[axis] / 10000 ** ((c1 % (a // 2)) / (a / 2))
            x0, x1 = x[off + c0].item(), x[off + c1].item()
            out[off + c0] = x0 * math.cos(f0) - x1 * math.sin(f0)
            out[off + c1] = x1 * math.cos(f1) + x0 * math.sin(f1)
    return out


def ref_attention_layer(blk, x: torch.Tensor, pos: list, spatial: list, allowed) -> torch.Tensor:
    """One pre-norm block on x (N, C) float64 with per-token positions/spatial flags and allowed(i, j) -> bool.
    Uses the block's weights (norm1, attn.qkv, attn.proj, norm2, mlp.fc1/fc2) but its own attention math."""
    W = {k: v.detach().double() for k, v in blk.state_dict().items()}
    N, C = x.shape
    heads = blk.attn.num_heads
    hd = C // heads

    def ln(v, p):
        return torch.nn.functional.layer_norm(v, (C,), W[p + ".weight"], W[p + ".bias"], eps=blk.norm1.eps)

    h = ln(x, "norm1")
    qkv = h @ W["attn.qkv.weight"].T + W["attn.qkv.bias"]  # (N, 3C), layout [q | k | v], heads contiguous
    out = torch.zeros(N, C, dtype=torch.float64)
    for hh in range(heads):
        sl = slice(hh * hd, (hh + 1) * hd)
        q = torch.stack([ref_rotate_token(qkv[i, 0 * C:1 * C][sl], pos[i], spatial[i]) for i in range(N)])
        k = torch.stack([ref_rotate_token(qkv[i, 1 * C:2 * C][sl], pos[i], spatial[i]) for i in range(N)])
        v = qkv[:, 2 * C:3 * C][:, sl]
        for i in range(N):
            js = [j for j in range(N) if allowed(i, j)]
            s = torch.stack([q[i] @ k[j] for j in js]) / math.sqrt(hd)
            p = torch.softmax(s, 0)
            out[i, sl] = sum(p[n] * v[j] for n, j in enumerate(js))
    x = x + out @ W["attn.proj.weight"].T + W["attn.proj.bias"]
    m = ln(x, "norm2") @ W["mlp.fc1.weight"].T + W["mlp.fc1.bias"]
    m = torch.nn.functional.gelu(m) @ W["mlp.fc2.weight"].T + W["mlp.fc2.bias"]
    return x + m
