"""V-JEPA 2-AC action-conditioned predictor.

Per frame t the token sequence is ``[action_t, state_t, (extrinsics_t,) patch_t,0 .. patch_t,Np-1]``; attention is
block-causal over frames (frame t sees frames <= t, everything inside its own frame). Patches get 3D RoPE with
t = frame index (0-based from the first frame passed in, or continuing the cache) and (row, column) scaled by
grid_size / (Hp, Wp) as the official code does (an identity at the training grid); conditioning tokens rotate only
their temporal channels with pos t. The output at frame slot t predicts the latents of frame t + 1.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch
from torch import nn

from world_model.attention import KV, Block, init_weights
from world_model.config import ACPredictorConfig, get_ac_predictor_config
from world_model.rope import RopeTables


def block_causal_mask(
    frames: int, tokens_per_frame: int, device: torch.device | str | None = None, past_frames: int = 0
) -> torch.Tensor | None:
    """Boolean mask (frames*n, (past_frames+frames)*n), True = attend; None when a single new frame
    (it sees everything: all past frames and its own frame). Built for the actual T only."""
    if frames == 1:
        return None
    n = tokens_per_frame
    q_frame = torch.arange(frames * n, device=device) // n + past_frames  # (Nq,)
    k_frame = torch.arange((past_frames + frames) * n, device=device) // n  # (Nk,)
    return q_frame[:, None] >= k_frame[None, :]


@dataclass
class PredictorCache:
    """Keys/values of every block for the frames processed so far (batch-specific)."""

    kv: list[KV] = field(default_factory=list)
    frames: int = 0
    cond_tokens: int = 2


class ACPredictor(nn.Module):
    """Keys: predictor_embed, action_encoder, state_encoder, extrinsics_encoder, predictor_blocks.N.*,
    predictor_norm, predictor_proj (official names)."""

    def __init__(self, cfg: ACPredictorConfig) -> None:
        super().__init__()
        self.config = cfg
        self.predictor_embed = nn.Linear(cfg.enc_dim, cfg.dim)
        self.action_encoder = nn.Linear(cfg.action_dim, cfg.dim)
        self.state_encoder = nn.Linear(cfg.state_dim, cfg.dim)
        self.extrinsics_encoder = nn.Linear(cfg.extrinsics_dim, cfg.dim)  # used only when extrinsics are given
        self.predictor_blocks = nn.ModuleList(
            Block(cfg.dim, cfg.num_heads, cfg.mlp_dim, cfg.qkv_bias, cfg.norm_eps) for _ in range(cfg.depth)
        )
        self.predictor_norm = nn.LayerNorm(cfg.dim, eps=cfg.norm_eps)
        self.predictor_proj = nn.Linear(cfg.dim, cfg.enc_dim)
        init_weights(self, self.predictor_blocks)

    # -- input handling -------------------------------------------------------------------------------------
    def _grid(self, n_patches: int, grid: tuple[int, int] | None) -> tuple[int, int]:
        if grid is None:
            g = self.config.grid_size
            grid = (g, g)
        if grid[0] * grid[1] != n_patches:
            raise ValueError(
                f"{n_patches} patch tokens per frame do not match the predictor grid {grid} "
                f"(img_size {self.config.img_size}, patch {self.config.patch_size}); pass grid=(Hp, Wp)"
            )
        return grid

    def _check(self, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor, extr: torch.Tensor | None) -> None:
        cfg = self.config
        if z.dim() != 4 or z.shape[-1] != cfg.enc_dim:
            raise ValueError(f"z must be (B, T, Np, {cfg.enc_dim}), got {tuple(z.shape)}")
        B, T = z.shape[:2]
        for name, a, d in (("actions", actions, cfg.action_dim), ("states", states, cfg.state_dim)):
            if tuple(a.shape) != (B, T, d):
                raise ValueError(f"{name} must be (B={B}, T={T}, {d}), got {tuple(a.shape)}")
        if extr is not None and tuple(extr.shape) != (B, T, cfg.extrinsics_dim):
            raise ValueError(f"extrinsics must be (B={B}, T={T}, {cfg.extrinsics_dim}), got {tuple(extr.shape)}")

    def _tokens(
        self, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor, extr: torch.Tensor | None
    ) -> torch.Tensor:
        """-> (B, T, C + Np, dim) with C conditioning tokens first in each frame."""
        if z.shape[0] > 1 and z.stride(0) == 0:  # one context broadcast over samples: embed it once
            x = self.predictor_embed(z[:1]).expand(z.shape[0], -1, -1, -1)  # (B, T, Np, dim)
        else:
            x = self.predictor_embed(z)  # (B, T, Np, dim)
        cond = [self.action_encoder(actions.to(x.dtype)), self.state_encoder(states.to(x.dtype))]
        if extr is not None and self.config.extrinsics_mode == "state":
            cond[1] = cond[1] + self.extrinsics_encoder(extr.to(x.dtype))
        elif extr is not None:
            cond.append(self.extrinsics_encoder(extr.to(x.dtype)))
        return torch.cat([c[:, :, None] for c in cond] + [x], dim=2)

    def _rope(self, t0: int, frames: int, cond: int, grid: tuple[int, int], device: torch.device) -> RopeTables:
        hp, wp = grid
        n = cond + hp * wp
        t = (torch.arange(frames, device=device) + t0).repeat_interleave(n).float()  # (frames*n,)
        within = torch.arange(n, device=device)
        patch = (within - cond).clamp(min=0)
        # official ACRoPEAttention snaps spatial positions to the training grid: h *= grid_size / Hp (1.0 normally)
        g = self.config.grid_size
        h = ((patch // wp).float() * (g / hp)).repeat(frames)
        w = ((patch % wp).float() * (g / wp)).repeat(frames)
        spatial = (within >= cond).repeat(frames)  # conditioning tokens: temporal channels only
        return RopeTables.build(t, h, w, self.config.dim // self.config.num_heads, spatial)

    # -- forward --------------------------------------------------------------------------------------------
    def forward_cached(
        self,
        z: torch.Tensor,
        actions: torch.Tensor,
        states: torch.Tensor,
        cache: PredictorCache | None = None,
        extrinsics: torch.Tensor | None = None,
        grid: tuple[int, int] | None = None,
        last_frame_only: bool = False,
    ) -> tuple[torch.Tensor, PredictorCache]:
        """Process T new frames after the cached ones.

        z (B, T, Np, enc_dim) latents of the new frames; actions/states (B, T, 7) their conditioning.
        Returns predictions (B, T, Np, enc_dim) (or (B, 1, Np, enc_dim) with last_frame_only) of frames
        t+1 for each new frame t, NOT layer-normed, and the extended cache.
        """
        self._check(z, actions, states, extrinsics)
        B, T, Np, _ = z.shape
        grid = self._grid(Np, grid)
        cond = 2 if extrinsics is None or self.config.extrinsics_mode == "state" else 3
        past = 0 if cache is None else cache.frames
        if cache is not None and cache.cond_tokens != cond:
            raise ValueError("extrinsics must be given for all frames or none (cache mismatch)")
        n = cond + Np
        x = self._tokens(z, actions, states, extrinsics).flatten(1, 2)  # (B, T*n, dim)
        rope = self._rope(past, T, cond, grid, x.device)
        mask = block_causal_mask(T, n, x.device, past_frames=past)
        new_kv: list[KV] = []
        for i, blk in enumerate(self.predictor_blocks):
            x, kv = blk(x, rope, mask, None if cache is None else cache.kv[i])
            new_kv.append(kv)
        x = x.view(B, T, n, -1)[:, :, cond:]  # drop conditioning tokens -> (B, T, Np, dim)
        if last_frame_only:
            x = x[:, -1:]
        out = self.predictor_proj(self.predictor_norm(x))
        return out, PredictorCache(new_kv, past + T, cond)

    def forward(
        self,
        z: torch.Tensor,
        actions: torch.Tensor,
        states: torch.Tensor,
        extrinsics: torch.Tensor | None = None,
        grid: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        """z (B, T, Np, enc_dim) or official flat (B, T*Np, enc_dim); actions/states (B, T, 7).
        Returns the predictions (frame t slot -> frame t+1) in the same layout as z, not layer-normed."""
        flat = z.dim() == 3
        if flat:
            T = actions.shape[1]
            if T == 0 or z.shape[1] % T:
                raise ValueError(f"flat z with {z.shape[1]} tokens is not divisible into T={T} frames")
            z = z.unflatten(1, (T, z.shape[1] // T))  # (B, T, Np, enc_dim)
        out, _ = self.forward_cached(z, actions, states, None, extrinsics, grid)
        return out.flatten(1, 2) if flat else out


def build_ac_predictor(name_or_cfg: str | ACPredictorConfig, device: torch.device | str | None = None) -> ACPredictor:
    """AC predictor from a registry name (see config.AC_PREDICTOR_CONFIGS) or a config; device='meta' allocates nothing."""
    cfg = get_ac_predictor_config(name_or_cfg) if isinstance(name_or_cfg, str) else name_or_cfg
    with torch.device(device) if device is not None else contextlib.nullcontext():
        return ACPredictor(cfg)
