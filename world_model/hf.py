"""Convert Hugging Face ``transformers`` VJEPA2Model encoder weights into our VisionTransformer.

HF layout (``VJEPA2Model.state_dict()``): ``encoder.embeddings.patch_embeddings.proj.*``,
``encoder.layer.N.{norm1, attention.{query,key,value,proj}, norm2, mlp.fc1, mlp.fc2}.*``, ``encoder.layernorm.*``.
Ours: ``patch_embed.proj.*``, ``blocks.N.{norm1, attn.qkv (fused q|k|v), attn.proj, norm2, mlp.fc1, mlp.fc2}.*``,
``norm.*``. Note HF takes video as (B, T, C, H, W); ours is (B, C, T, H, W).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from world_model.config import EncoderConfig, get_encoder_config
from world_model.encoder import VisionTransformer
from world_model.state_dict import CheckpointError, load_checked

_HF_PREFIXES = ("vjepa2.encoder.", "encoder.")
_RENAMES = (
    (r"^embeddings\.patch_embeddings\.proj\.", "patch_embed.proj."),
    (r"^layer\.(\d+)\.attention\.proj\.", r"blocks.\1.attn.proj."),
    (r"^layer\.(\d+)\.(norm1|norm2|mlp\.fc1|mlp\.fc2)\.", r"blocks.\1.\2."),
    (r"^layernorm\.", "norm."),
)
_QKV = re.compile(r"^layer\.(\d+)\.attention\.(query|key|value)\.(weight|bias)$")


def hf_encoder_config(hf_config: Any, name: str = "hf_vjepa2") -> EncoderConfig:
    """EncoderConfig from a transformers VJEPA2Config (hidden_size, num_hidden_layers, num_attention_heads,
    mlp_ratio, patch_size, tubelet_size, in_chans, crop_size, qkv_bias, layer_norm_eps)."""
    patch = hf_config.patch_size
    if isinstance(patch, (list, tuple)):
        if len(set(patch)) != 1:
            raise ValueError(f"only square patches are supported, got patch_size {patch}")
        patch = patch[0]
    return EncoderConfig(
        name=name,
        embed_dim=int(hf_config.hidden_size),
        depth=int(hf_config.num_hidden_layers),
        num_heads=int(hf_config.num_attention_heads),
        mlp_dim=int(hf_config.hidden_size * hf_config.mlp_ratio),
        patch_size=int(patch),
        tubelet_size=int(hf_config.tubelet_size),
        in_chans=int(hf_config.in_chans),
        img_size=int(hf_config.crop_size),
        qkv_bias=bool(hf_config.qkv_bias),
        norm_eps=float(hf_config.layer_norm_eps),
    )


def convert_hf_encoder_state_dict(hf_state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """HF VJEPA2 encoder keys -> our VisionTransformer keys (q/k/v fused into qkv). Predictor / pooler keys
    are ignored; unknown encoder keys raise CheckpointError."""
    enc: dict[str, torch.Tensor] = {}
    for k, v in hf_state_dict.items():
        for p in _HF_PREFIXES:
            if k.startswith(p):
                enc[k[len(p):]] = v
                break
    if not enc:  # bare encoder state dict (VJEPA2Encoder.state_dict())
        enc = {k: v for k, v in hf_state_dict.items() if k.startswith(("embeddings.", "layer.", "layernorm."))}
    if not enc:
        raise CheckpointError("no VJEPA2 encoder keys found (expected 'encoder.layer.N...' or 'layer.N...')")
    out: dict[str, torch.Tensor] = {}
    qkv: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    unknown = []
    for k, v in enc.items():
        m = _QKV.match(k)
        if m:
            qkv.setdefault((m.group(1), m.group(3)), {})[m.group(2)] = v
            continue
        for pat, rep in _RENAMES:
            new, n = re.subn(pat, rep, k)
            if n:
                out[new] = v
                break
        else:
            unknown.append(k)
    if unknown:
        raise CheckpointError(f"unknown HF encoder keys ({len(unknown)}): {sorted(unknown)[:12]}")
    for (layer, kind), parts in sorted(qkv.items()):
        if set(parts) != {"query", "key", "value"}:
            raise CheckpointError(f"layer {layer} {kind}: need query/key/value, found {sorted(parts)}")
        out[f"blocks.{layer}.attn.qkv.{kind}"] = torch.cat([parts["query"], parts["key"], parts["value"]], dim=0)
    return out


def from_hf_vjepa2(
    hf_model_or_state_dict: nn.Module | Mapping[str, torch.Tensor],
    name: str | EncoderConfig | None = None,
    strict: bool = True,
) -> VisionTransformer:
    """Our VisionTransformer with the encoder weights of a transformers VJEPA2Model (or its state dict).

    ``name``: registry name or EncoderConfig; default for a model: derived from ``model.config``. A bare state
    dict needs ``name`` (the head count is not recoverable from weights).
    """
    if isinstance(hf_model_or_state_dict, nn.Module):
        sd = hf_model_or_state_dict.state_dict()
        hf_cfg = getattr(hf_model_or_state_dict, "config", None)
    elif isinstance(hf_model_or_state_dict, Mapping):
        sd, hf_cfg = hf_model_or_state_dict, None
    else:
        raise TypeError(f"expected a VJEPA2Model or a state dict, got {type(hf_model_or_state_dict).__name__}")
    if isinstance(name, EncoderConfig):
        cfg = name
    elif isinstance(name, str):
        cfg = get_encoder_config(name)
    elif hf_cfg is not None:
        cfg = hf_encoder_config(hf_cfg)
    else:
        raise ValueError("from_hf_vjepa2: pass name= (registry name or EncoderConfig) with a bare state dict")
    converted = {k: v.detach().clone() for k, v in convert_hf_encoder_state_dict(sd).items()}  # own storage
    with torch.device("meta"):
        enc = VisionTransformer(cfg)
    return load_checked(enc, converted, f"HF VJEPA2 encoder -> {cfg.name}", strict=strict)
