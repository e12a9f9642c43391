"""3D rotary position embedding exactly as the official V-JEPA 2 code (kept bit-compatible for checkpoints).

Per attention head of size ``head_dim`` the channels are split as ``[t | h | w | rest]`` with
``a = 2 * ((head_dim // 3) // 2)`` channels per axis; ``rest`` is left unrotated.
Within one axis of size ``a``: ``omega_i = 1 / 10000 ** (i / (a / 2))`` for ``i < a/2``, ``freq = pos * omega``;
the sin/cos tables of size ``a/2`` are *tiled* (``[f_0..f_{a/2-1}, f_0..f_{a/2-1}]``) while the rotation pairs
*adjacent* channels: ``y = (-x_1, x_0, -x_3, x_2, ...)``, ``out = x * cos + y * sin``. (The tiling/pairing
mismatch is an official quirk; we reproduce it for weight compatibility.)
Positions are integer grid indices (frame, row, column) as floats.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def rope_axis_dim(head_dim: int) -> int:
    """Channels rotated per axis (t, h, w)."""
    return 2 * ((head_dim // 3) // 2)


def _cos_sin(pos: torch.Tensor, axis_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """pos (..., N) float -> cos, sin (..., N, axis_dim), tiled (repeat, not interleave). Computed in float32."""
    omega = torch.arange(axis_dim // 2, dtype=torch.float32, device=pos.device) / (axis_dim / 2.0)
    omega = 1.0 / 10000.0**omega  # (a/2,)
    freq = pos.to(torch.float32)[..., None] * omega  # (..., N, a/2)
    freq = torch.cat([freq, freq], dim=-1)  # (..., N, a) tiled
    return freq.cos(), freq.sin()


def _rotate_pairs(x: torch.Tensor) -> torch.Tensor:
    """(x0, x1, x2, x3, ...) -> (-x1, x0, -x3, x2, ...) along the last dim."""
    y = x.unflatten(-1, (-1, 2))  # (..., a/2, 2)
    return torch.stack((-y[..., 1], y[..., 0]), dim=-1).flatten(-2)


def rotate_axis(x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Rotate all channels of ``x`` (..., N, a) by positions ``pos`` (broadcastable to x[..., 0])."""
    cos, sin = _cos_sin(pos, x.shape[-1])
    return x * cos.to(x.dtype) + _rotate_pairs(x) * sin.to(x.dtype)


def grid_positions(ids: torch.Tensor, h_patches: int, w_patches: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Flat token ids (ordered t, h, w) -> float (frame, row, column) positions of the same shape."""
    per_frame = h_patches * w_patches
    t = torch.div(ids, per_frame, rounding_mode="floor")
    rem = ids - t * per_frame
    h = torch.div(rem, w_patches, rounding_mode="floor")
    w = rem - h * w_patches
    return t.float(), h.float(), w.float()


@dataclass
class RopeTables:
    """Precomputed cos/sin for a token sequence, shared by every block of one forward pass.

    cos, sin: (N, 3a) or (B, 1, N, 3a) (the head axis broadcasts); channels beyond 3a are not rotated.
    Tokens whose h/w channels must stay unrotated (action/state tokens of the AC predictor) carry cos=1, sin=0
    there, which leaves those channels bit-exact.

    ``apply`` computes the even and odd channels of each pair directly (``out_2i = x_2i cos_2i - x_2i+1 sin_2i``,
    ``out_2i+1 = x_2i+1 cos_2i+1 + x_2i sin_2i+1``, tables padded with cos=1 / sin=0 up to head_dim) with two fused
    multiply-adds written in place, instead of a negate, a stack and a concatenation; tables are split and cast
    once per dtype/device and reused by every block.
    """

    cos: torch.Tensor
    sin: torch.Tensor

    def __post_init__(self) -> None:
        self._cast: dict[tuple[torch.dtype, torch.device], tuple[torch.Tensor, torch.Tensor]] = {}

    @classmethod
    def build(
        cls,
        t: torch.Tensor,
        h: torch.Tensor,
        w: torch.Tensor,
        head_dim: int,
        spatial: torch.Tensor | None = None,
    ) -> "RopeTables":
        """t, h, w: float positions (N,) or (B, N). spatial: bool (N,) — False rotates only the t channels."""
        a = rope_axis_dim(head_dim)
        parts = [_cos_sin(p, a) for p in (t, h, w)]
        cos = torch.cat([c for c, _ in parts], dim=-1)  # (..., N, 3a)
        sin = torch.cat([s for _, s in parts], dim=-1)
        if spatial is not None:
            keep = torch.ones(spatial.shape[-1], 3 * a, dtype=torch.bool, device=cos.device)
            keep[~spatial.to(cos.device), a:] = False  # (N, 3a)
            cos = torch.where(keep, cos, torch.ones_like(cos))
            sin = torch.where(keep, sin, torch.zeros_like(sin))
        if cos.dim() == 3:  # (B, N, 3a) -> (B, 1, N, 3a) to broadcast over heads
            cos, sin = cos[:, None], sin[:, None]
        return cls(cos, sin)

    def _tables(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(cos_even, cos_odd, sin_even, sin_odd) over all head_dim channels (sin signed: y = (-x1, x0, ...)),
        each (..., N, head_dim / 2), in x's dtype/device (cached)."""
        key = (x.dtype, x.device)
        if key not in self._cast:
            r, d = self.cos.shape[-1], x.shape[-1]
            pad = [0, d - r]
            cos = torch.nn.functional.pad(self.cos, pad, value=1.0)  # unrotated rest: cos 1, sin 0
            sin = torch.nn.functional.pad(self.sin, pad, value=0.0)
            tables = (cos[..., 0::2], cos[..., 1::2], -sin[..., 0::2], sin[..., 1::2])
            self._cast[key] = tuple(t.to(x.device, x.dtype).contiguous() for t in tables)
        return self._cast[key]

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, heads, N, head_dim) -> same shape, first 3a channels rotated."""
        if x.shape[-1] % 2:  # odd head_dim: rotate the first 3a channels, keep the rest as they are
            r = self.cos.shape[-1]
            xr = x[..., :r]
            out = xr * self.cos.to(x.dtype) + _rotate_pairs(xr) * self.sin.to(x.dtype)
            return torch.cat([out, x[..., r:]], dim=-1)
        c0, c1, s0, s1 = self._tables(x)
        pairs = x.unflatten(-1, (-1, 2))  # (..., head_dim/2, 2): channel pairs (2i, 2i+1)
        x0, x1 = pairs[..., 0], pairs[..., 1]
        if x.requires_grad and torch.is_grad_enabled():  # training: out= writes are not differentiable
            return torch.stack((torch.addcmul(x0 * c0, x1, s0), torch.addcmul(x1 * c1, x0, s1)), -1).flatten(-2)
        out = torch.empty_like(x)
        halves = out.unflatten(-1, (-1, 2))
        torch.addcmul(x0 * c0, x1, s0, out=halves[..., 0])  # out_2i   = x_2i cos_2i - x_2i+1 sin_2i
        torch.addcmul(x1 * c1, x0, s1, out=halves[..., 1])  # out_2i+1 = x_2i+1 cos_2i+1 + x_2i sin_2i+1
        return out


def apply_rope_3d(x: torch.Tensor, t: torch.Tensor, h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """x (B, heads, N, head_dim); t/h/w float positions (N,) or (B, N)."""
    return RopeTables.build(t, h, w, x.shape[-1]).apply(x)


def apply_rope_temporal(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Rotate only the temporal channels of x (B, heads, N, head_dim) by t (N,) or (B, N)."""
    a = rope_axis_dim(x.shape[-1])
    return torch.cat([rotate_axis(x[..., :a], t[..., None, :] if t.dim() == 2 else t), x[..., a:]], dim=-1)
