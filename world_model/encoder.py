"""V-JEPA 2 video encoder: ViT with Conv3d tubelet patch embedding and 3D RoPE (no cls token, no pos_embed)."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from world_model.attention import Block, init_weights
from world_model.config import EncoderConfig, get_encoder_config
from world_model.rope import RopeTables, grid_positions


class PatchEmbed3D(nn.Module):
    """Conv3d(in_chans, D, kernel=stride=(tubelet, patch, patch)); tokens ordered (t, h, w)."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        k = (cfg.tubelet_size, cfg.patch_size, cfg.patch_size)
        self.proj = nn.Conv3d(cfg.in_chans, cfg.embed_dim, kernel_size=k, stride=k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)  # (B, D, T', Hp, Wp) -> (B, T'*Hp*Wp, D)


class VisionTransformer(nn.Module):
    """Video ViT encoder. Keys: patch_embed.proj.*, blocks.N.*, norm.* (official names)."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.config = cfg
        self.embed_dim = cfg.embed_dim
        self.patch_embed = PatchEmbed3D(cfg)
        self.blocks = nn.ModuleList(
            Block(cfg.embed_dim, cfg.num_heads, cfg.mlp_dim, cfg.qkv_bias, cfg.norm_eps) for _ in range(cfg.depth)
        )
        self.norm = nn.LayerNorm(cfg.embed_dim, eps=cfg.norm_eps)
        init_weights(self, self.blocks)

    def grid(self, video_shape: torch.Size | tuple[int, ...]) -> tuple[int, int, int]:
        """(B, C, T, H, W) -> token grid (T', Hp, Wp); raises ValueError on incompatible sizes."""
        cfg = self.config
        if len(video_shape) != 5 or video_shape[1] != cfg.in_chans:
            raise ValueError(f"encoder expects video (B, {cfg.in_chans}, T, H, W), got {tuple(video_shape)}")
        _, _, T, H, W = video_shape
        if T % cfg.tubelet_size or T == 0:
            raise ValueError(f"T={T} must be a positive multiple of tubelet_size {cfg.tubelet_size}")
        if H % cfg.patch_size or W % cfg.patch_size or H == 0 or W == 0:
            raise ValueError(f"H={H}, W={W} must be positive multiples of patch_size {cfg.patch_size}")
        return T // cfg.tubelet_size, H // cfg.patch_size, W // cfg.patch_size

    def forward(self, video: torch.Tensor, masks: torch.Tensor | None = None) -> torch.Tensor:
        """video (B, 3, T, H, W) float (normalised pixels) -> tokens (B, T'*Hp*Wp, D), or (B, K, D) for
        ``masks`` (B, K) long: indices of the tokens to keep (context encoder); RoPE uses their true positions."""
        tp, hp, wp = self.grid(video.shape)
        x = self.patch_embed(video)  # (B, N, D)
        n = tp * hp * wp
        if masks is None:
            ids = torch.arange(n, device=x.device)  # (N,)
        else:
            if masks.dim() != 2 or masks.shape[0] != x.shape[0] or masks.dtype not in (torch.int64, torch.int32):
                raise ValueError(f"masks must be integer (B={x.shape[0]}, K), got {tuple(masks.shape)} {masks.dtype}")
            if masks.numel() and (int(masks.min()) < 0 or int(masks.max()) >= n):
                raise ValueError(f"mask indices must lie in [0, {n}), got [{int(masks.min())}, {int(masks.max())}]")
            ids = masks.long().to(x.device)
            x = torch.gather(x, 1, ids[..., None].expand(-1, -1, x.shape[-1]))  # (B, K, D)
        t, h, w = grid_positions(ids, hp, wp)
        rope = RopeTables.build(t, h, w, self.config.head_dim)
        for blk in self.blocks:
            x, _ = blk(x, rope)
        return self.norm(x)


def build_encoder(name_or_cfg: str | EncoderConfig, device: torch.device | str | None = None) -> VisionTransformer:
    """Encoder from a registry name (see config.ENCODER_CONFIGS) or a config; device='meta' allocates nothing."""
    cfg = get_encoder_config(name_or_cfg) if isinstance(name_or_cfg, str) else name_or_cfg
    with torch.device(device) if device is not None else contextlib.nullcontext():
        return VisionTransformer(cfg)

