"""Frozen model configurations and named registries (names follow the official V-JEPA 2 code).

All sizes are in tokens / channels; ``img_size`` is the square image side in pixels the model was trained at
(the encoder itself accepts any H, W multiple of ``patch_size``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

_C = TypeVar("_C", bound="_DictMixin")


class _DictMixin:
    """JSON-safe round trip for flat frozen dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[_C], d: dict[str, Any]) -> _C:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"{cls.__name__}.from_dict: unknown keys {unknown}; expected a subset of {sorted(names)}")
        return cls(**d)


def _check_heads(kind: str, name: str, dim: int, num_heads: int) -> None:
    if dim <= 0 or num_heads <= 0 or dim % num_heads:
        raise ValueError(f"{kind} '{name}': dim {dim} must be a positive multiple of num_heads {num_heads}")
    if dim // num_heads < 6:
        raise ValueError(f"{kind} '{name}': head_dim {dim // num_heads} < 6 leaves no channels for 3D RoPE")


@dataclass(frozen=True)
class EncoderConfig(_DictMixin):
    """ViT video encoder (Conv3d tubelet patch embed, 3D RoPE, pre-norm blocks)."""

    name: str
    embed_dim: int
    depth: int
    num_heads: int
    mlp_dim: int
    patch_size: int = 16
    tubelet_size: int = 2
    in_chans: int = 3
    img_size: int = 256
    qkv_bias: bool = True
    norm_eps: float = 1e-6

    def __post_init__(self) -> None:
        _check_heads("EncoderConfig", self.name, self.embed_dim, self.num_heads)
        if self.img_size % self.patch_size:
            raise ValueError(f"EncoderConfig '{self.name}': img_size {self.img_size} not a multiple of {self.patch_size}")

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads

    @property
    def grid_size(self) -> int:
        """Patches per side at ``img_size``."""
        return self.img_size // self.patch_size


EXTRINSICS_MODES = ("token", "state")  # ACPredictorConfig.extrinsics_mode


@dataclass(frozen=True)
class ACPredictorConfig(_DictMixin):
    """Action-conditioned predictor (V-JEPA 2-AC). Tokens per frame: [action, state, Hp*Wp patches]."""

    name: str
    enc_dim: int
    dim: int
    depth: int
    num_heads: int
    mlp_dim: int
    action_dim: int = 7
    state_dim: int = 7
    extrinsics_dim: int = 6
    img_size: int = 256
    patch_size: int = 16
    qkv_bias: bool = True
    norm_eps: float = 1e-6
    # how given extrinsics enter: "token" (the official layout: a third conditioning token per frame) or "state"
    # (their embedding is added to the state token: no new token, and a zero-initialised extrinsics encoder leaves
    # a trained predictor's function unchanged)
    extrinsics_mode: str = "token"

    def __post_init__(self) -> None:
        _check_heads("ACPredictorConfig", self.name, self.dim, self.num_heads)
        if self.extrinsics_mode not in EXTRINSICS_MODES:
            raise ValueError(f"ACPredictorConfig {self.name}: extrinsics_mode must be 'token' or 'state', got "
                             f"{self.extrinsics_mode!r}")

    @property
    def grid_size(self) -> int:
        return self.img_size // self.patch_size


@dataclass(frozen=True)
class MaskPredictorConfig(_DictMixin):
    """Pretraining (mask-denoising) predictor: context + learned mask tokens -> target latents."""

    name: str
    enc_dim: int
    dim: int = 384
    depth: int = 12
    num_heads: int = 12
    mlp_dim: int = 1536
    num_mask_tokens: int = 10
    qkv_bias: bool = True
    norm_eps: float = 1e-6

    def __post_init__(self) -> None:
        _check_heads("MaskPredictorConfig", self.name, self.dim, self.num_heads)
        if self.num_mask_tokens < 1:
            raise ValueError(f"MaskPredictorConfig '{self.name}': num_mask_tokens must be >= 1")


ENCODER_CONFIGS: dict[str, EncoderConfig] = {
    c.name: c
    for c in (
        EncoderConfig("vit_large", 1024, 24, 16, 4096),
        EncoderConfig("vit_huge", 1280, 32, 16, 5120),
        EncoderConfig("vit_giant", 1408, 40, 22, 6144),
        EncoderConfig("vit_small", 384, 12, 6, 1536),
        EncoderConfig("vit_tiny", 192, 12, 3, 768),
        # CPU-sized encoder for the MuJoCo sim (64 px -> 4x4 patches).
        EncoderConfig("vit_sim", 192, 4, 3, 768, img_size=64),
        # The same at 96 px (6x6 patches): the multi-task manipulation model (docs/manipulation.md).
        EncoderConfig("vit_sim96", 192, 4, 3, 768, img_size=96),
    )
}
ENCODER_CONFIGS["vit_giant_xformers"] = dataclasses.replace(ENCODER_CONFIGS["vit_giant"], name="vit_giant_xformers")

AC_PREDICTOR_CONFIGS: dict[str, ACPredictorConfig] = {
    c.name: c
    for c in (
        ACPredictorConfig("ac_vit_giant", enc_dim=1408, dim=1024, depth=24, num_heads=16, mlp_dim=4096),
        ACPredictorConfig("ac_vit_large", enc_dim=1024, dim=1024, depth=24, num_heads=16, mlp_dim=4096),
        ACPredictorConfig("ac_sim", enc_dim=192, dim=192, depth=4, num_heads=3, mlp_dim=768, img_size=64),
        ACPredictorConfig("ac_sim96", enc_dim=192, dim=192, depth=4, num_heads=3, mlp_dim=768, img_size=96),
    )
}

MASK_PREDICTOR_CONFIGS: dict[str, MaskPredictorConfig] = {
    c.name: c
    for c in (
        MaskPredictorConfig("mask_vit_large", enc_dim=1024),
        MaskPredictorConfig("mask_vit_huge", enc_dim=1280),
        MaskPredictorConfig("mask_vit_giant", enc_dim=1408),
        MaskPredictorConfig("mask_sim", enc_dim=192, dim=96, depth=2, num_heads=3, mlp_dim=384),
    )
}


def _lookup(registry: dict[str, Any], kind: str, name: str) -> Any:
    try:
        return registry[name]
    except KeyError:
        raise KeyError(f"unknown {kind} config '{name}'; available: {sorted(registry)}") from None


def get_encoder_config(name: str) -> EncoderConfig:
    return _lookup(ENCODER_CONFIGS, "encoder", name)


def get_ac_predictor_config(name: str) -> ACPredictorConfig:
    return _lookup(AC_PREDICTOR_CONFIGS, "AC predictor", name)


def get_mask_predictor_config(name: str) -> MaskPredictorConfig:
    return _lookup(MASK_PREDICTOR_CONFIGS, "mask predictor", name)
