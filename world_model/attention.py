"""Transformer pieces shared by the encoder and predictors (official sub-module names: qkv, proj, fc1, fc2)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from world_model.rope import RopeTables

KV = tuple[torch.Tensor, torch.Tensor]


class Attention(nn.Module):
    """Multi-head self-attention with fused qkv (bias) and optional RoPE / boolean mask / KV cache."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(
        self,
        x: torch.Tensor,
        rope: RopeTables | None = None,
        attn_mask: torch.Tensor | None = None,
        past_kv: KV | None = None,
    ) -> tuple[torch.Tensor, KV]:
        """x (B, N, C); attn_mask bool (N, N_past + N), True = attend. Returns (out (B, N, C), (k, v) incl. past)."""
        B, N, C = x.shape
        qkv = self.qkv(x).unflatten(-1, (3, self.num_heads, self.head_dim)).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # each (B, heads, N, head_dim)
        if rope is not None:
            q, k = rope.apply(q), rope.apply(k)
        if past_kv is not None:
            k = torch.cat([past_kv[0], k], dim=2)
            v = torch.cat([past_kv[1], v], dim=2)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)  # (B, heads, N, head_dim)
        out = out.transpose(1, 2).reshape(B, N, C)
        return self.proj(out), (k, v)


class MLP(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm1(x)); x + mlp(norm2(x))."""

    def __init__(self, dim: int, num_heads: int, mlp_dim: int, qkv_bias: bool = True, eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = MLP(dim, mlp_dim)

    def forward(
        self,
        x: torch.Tensor,
        rope: RopeTables | None = None,
        attn_mask: torch.Tensor | None = None,
        past_kv: KV | None = None,
    ) -> tuple[torch.Tensor, KV]:
        h, kv = self.attn(self.norm1(x), rope, attn_mask, past_kv)
        x = x + h
        return x + self.mlp(self.norm2(x)), kv


def init_weights(module: nn.Module, blocks: nn.ModuleList, std: float = 0.02) -> None:
    """Official-style init: truncated normal Linear/Conv weights, zero biases, unit LayerNorm,
    then attn.proj / mlp.fc2 weights divided by sqrt(2 * layer_id) (layer_id from 1)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv3d)):
            nn.init.trunc_normal_(m.weight, std=std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    with torch.no_grad():
        for i, blk in enumerate(blocks, start=1):
            blk.attn.proj.weight.div_((2.0 * i) ** 0.5)
            blk.mlp.fc2.weight.div_((2.0 * i) ** 0.5)
