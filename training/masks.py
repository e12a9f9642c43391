"""V-JEPA multi-block 3D masking: spatial blocks repeated over the full temporal extent.

Token ids are flat indices over the grid (T', Hp, Wp) ordered (t, h, w). Targets are the union of the
blocks; the context is the complement (never empty).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class BlockMaskConfig:
    """num_blocks blocks, each covering ``scale`` of the spatial grid with aspect ratio in aspect_range."""

    num_blocks: int
    scale: float
    aspect_range: tuple[float, float] = (0.75, 1.5)


# The paper's two configurations per clip: 8 small blocks (0.15) and 2 large blocks (0.7).
DEFAULT_MASKS = (BlockMaskConfig(8, 0.15), BlockMaskConfig(2, 0.7))


def sample_block_mask(grid: tuple[int, int, int], cfg: BlockMaskConfig, gen: torch.Generator) -> torch.Tensor:
    """Boolean target mask (T', Hp, Wp) (True = masked/predicted)."""
    t, h, w = grid
    spatial = torch.zeros(h, w, dtype=torch.bool)
    for _ in range(cfg.num_blocks):
        area = max(1.0, cfg.scale * h * w)
        lo, hi = cfg.aspect_range
        aspect = lo + (hi - lo) * float(torch.rand(1, generator=gen))
        bh = max(1, min(h, round((area * aspect) ** 0.5)))
        bw = max(1, min(w, round((area / aspect) ** 0.5)))
        top = int(torch.randint(h - bh + 1, (1,), generator=gen))
        left = int(torch.randint(w - bw + 1, (1,), generator=gen))
        spatial[top:top + bh, left:left + bw] = True
    if spatial.all():  # keep at least one context column
        spatial[int(torch.randint(h, (1,), generator=gen)), int(torch.randint(w, (1,), generator=gen))] = False
    return spatial.expand(t, h, w)


def context_target_ids(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(T', Hp, Wp) bool -> (context ids (Nc,), target ids (Nt,)) as flat long indices."""
    flat = mask.reshape(-1)
    return torch.nonzero(~flat).flatten(), torch.nonzero(flat).flatten()
