"""V-JEPA pretraining predictor: predicts target-token latents from context tokens + learned mask tokens."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from world_model.attention import Block, init_weights
from world_model.config import MaskPredictorConfig, get_mask_predictor_config
from world_model.rope import RopeTables, grid_positions


class MaskPredictor(nn.Module):
    """Keys: predictor_embed, mask_tokens.{0..K-1} (each (1, 1, dim)), predictor_blocks.N.*, predictor_norm,
    predictor_proj (official names)."""

    def __init__(self, cfg: MaskPredictorConfig) -> None:
        super().__init__()
        self.config = cfg
        self.predictor_embed = nn.Linear(cfg.enc_dim, cfg.dim)
        self.mask_tokens = nn.ParameterList(nn.Parameter(torch.zeros(1, 1, cfg.dim)) for _ in range(cfg.num_mask_tokens))
        self.predictor_blocks = nn.ModuleList(
            Block(cfg.dim, cfg.num_heads, cfg.mlp_dim, cfg.qkv_bias, cfg.norm_eps) for _ in range(cfg.depth)
        )
        self.predictor_norm = nn.LayerNorm(cfg.dim, eps=cfg.norm_eps)
        self.predictor_proj = nn.Linear(cfg.dim, cfg.enc_dim)
        init_weights(self, self.predictor_blocks)
        for p in self.mask_tokens:
            nn.init.trunc_normal_(p, std=0.02)

    def forward(
        self,
        ctx: torch.Tensor,
        ctx_ids: torch.Tensor,
        tgt_ids: torch.Tensor,
        grid: tuple[int, int, int],
        mask_index: int = 0,
    ) -> torch.Tensor:
        """ctx (B, Nc, enc_dim) context-encoder tokens at flat positions ctx_ids (B, Nc); tgt_ids (B, Nt) flat
        positions to predict; grid (T', Hp, Wp) of the full clip (ids ordered t, h, w). mask_index picks the
        learned mask token (one per masking config, modulo K). Returns (B, Nt, enc_dim)."""
        B, Nc, _ = ctx.shape
        if ctx.dim() != 3 or ctx.shape[-1] != self.config.enc_dim:
            raise ValueError(f"ctx must be (B, Nc, {self.config.enc_dim}), got {tuple(ctx.shape)}")
        if tuple(ctx_ids.shape) != (B, Nc) or tgt_ids.dim() != 2 or tgt_ids.shape[0] != B:
            raise ValueError(f"ctx_ids must be (B, Nc)={B, Nc} and tgt_ids (B, Nt); got {tuple(ctx_ids.shape)}, "
                             f"{tuple(tgt_ids.shape)}")
        n = grid[0] * grid[1] * grid[2]
        ids = torch.cat([ctx_ids, tgt_ids], dim=1).long().to(ctx.device)  # (B, Nc+Nt)
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= n):
            raise ValueError(f"token ids must lie in [0, {n}) for grid {grid}")
        Nt = tgt_ids.shape[1]
        tok = self.mask_tokens[mask_index % len(self.mask_tokens)].to(ctx.dtype)
        x = torch.cat([self.predictor_embed(ctx), tok.expand(B, Nt, -1)], dim=1)  # (B, Nc+Nt, dim)
        order = torch.argsort(ids, dim=1)  # sort tokens by position
        ids = torch.gather(ids, 1, order)
        x = torch.gather(x, 1, order[..., None].expand(-1, -1, x.shape[-1]))
        t, h, w = grid_positions(ids, grid[1], grid[2])
        rope = RopeTables.build(t, h, w, self.config.dim // self.config.num_heads)
        for blk in self.predictor_blocks:
            x, _ = blk(x, rope)
        x = self.predictor_norm(x)
        unsort = torch.argsort(order, dim=1)
        x = torch.gather(x, 1, unsort[..., None].expand(-1, -1, x.shape[-1]))[:, Nc:]  # (B, Nt, dim)
        return self.predictor_proj(x)


def build_mask_predictor(
    name_or_cfg: str | MaskPredictorConfig, device: torch.device | str | None = None
) -> MaskPredictor:
    cfg = get_mask_predictor_config(name_or_cfg) if isinstance(name_or_cfg, str) else name_or_cfg
    with torch.device(device) if device is not None else contextlib.nullcontext():
        return MaskPredictor(cfg)
