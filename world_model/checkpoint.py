"""Loading official V-JEPA 2 / V-JEPA 2-AC checkpoints and saving/loading our WorldModel.

Official torch-hub files (vitl.pt, vith.pt, vitg.pt, vitg-384.pt, vjepa2-ac-vitg.pt) are dicts with sections
``encoder`` / ``target_encoder`` / ``predictor`` whose keys carry ``module.`` / ``module.backbone.`` prefixes and
possibly a stray ``pos_embed``. They are read with ``torch.load(weights_only=True, mmap=True)`` and loaded
into models built on the meta device, so no second copy of the weights is allocated.

Our own format: ``<path>.safetensors`` (WorldModel.state_dict()) + ``<path>.json``
(``{"format", "version", "config": WorldModelConfig.to_dict(), "metadata": {...}}``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from world_model.ac_predictor import ACPredictor
from world_model.config import (
    ENCODER_CONFIGS,
    ACPredictorConfig,
    EncoderConfig,
    get_ac_predictor_config,
    get_encoder_config,
)
from world_model.encoder import VisionTransformer
from world_model.hf import from_hf_vjepa2
from world_model.model import WorldModel, WorldModelConfig
from world_model.state_dict import (
    CheckpointError,
    StateDictReport,
    compare_state_dict,
    expected_shapes,
    load_checked,
    strip_prefixes,
)

__all__ = [
    "CheckpointError",
    "StateDictReport",
    "check_official_encoder",
    "check_official_ac_predictor",
    "from_hf_vjepa2",
    "load_official_encoder",
    "load_official_ac_predictor",
    "load_official_world_model",
    "save_world_model",
    "load_world_model",
    "read_world_model_metadata",
]

FORMAT = "vjepa2_ac_sim.world_model"
FORMAT_VERSION = 1
PathOrStateDict = str | Path | Mapping[str, Any]


# -- reading official files ------------------------------------------------------------------------------------
def read_checkpoint(path_or_sd: PathOrStateDict) -> Mapping[str, Any]:
    """A checkpoint dict from a path (torch.load weights_only, mmap, CPU) or pass a mapping through."""
    if isinstance(path_or_sd, Mapping):
        return path_or_sd
    if not isinstance(path_or_sd, (str, Path)):
        raise TypeError(f"expected a checkpoint path or a state dict, got {type(path_or_sd).__name__}")
    path = Path(path_or_sd).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:  # truncated / not a torch zip file / pickled objects
        raise CheckpointError(f"cannot read {path} as a torch checkpoint ({type(e).__name__}: {e})") from e
    if not isinstance(ckpt, Mapping):
        raise CheckpointError(f"{path}: expected a dict checkpoint, got {type(ckpt).__name__}")
    return ckpt


def _is_state_dict(d: Mapping[str, Any]) -> bool:
    return bool(d) and all(isinstance(v, torch.Tensor) for v in d.values())


def select_section(ckpt: Mapping[str, Any], which: str) -> dict[str, torch.Tensor]:
    """Section ``which`` ('encoder', 'target_encoder', 'predictor') with prefixes stripped; a bare state dict
    (only tensors) is used as is."""
    if which in ckpt and isinstance(ckpt[which], Mapping):
        sd = ckpt[which]
    elif _is_state_dict(ckpt):
        sd = ckpt
    else:
        sections = sorted(k for k, v in ckpt.items() if isinstance(v, Mapping))
        raise CheckpointError(
            f"checkpoint has no '{which}' section; sections found: {sections or 'none'} (top-level keys: "
            f"{sorted(map(str, ckpt))[:12]})"
        )
    if not _is_state_dict(sd):
        raise CheckpointError(f"section '{which}' is not a state dict of tensors")
    return strip_prefixes(sd)


def _encoder_cfg(name: str | EncoderConfig) -> EncoderConfig:
    return name if isinstance(name, EncoderConfig) else get_encoder_config(name)


def _predictor_cfg(name: str | ACPredictorConfig) -> ACPredictorConfig:
    return name if isinstance(name, ACPredictorConfig) else get_ac_predictor_config(name)


def infer_encoder_name(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Registry name whose width and depth match an (already stripped) encoder state dict."""
    if "patch_embed.proj.weight" not in state_dict:
        raise CheckpointError("not an encoder state dict: 'patch_embed.proj.weight' missing")
    dim = state_dict["patch_embed.proj.weight"].shape[0]
    depth = len({k.split(".")[1] for k in state_dict if k.startswith("blocks.")})
    for name, cfg in ENCODER_CONFIGS.items():
        if cfg.embed_dim == dim and cfg.depth == depth:
            return name
    raise CheckpointError(f"no registered encoder with embed_dim {dim} and depth {depth}")


# -- official encoder / predictor -------------------------------------------------------------------------------
def check_official_encoder(path_or_sd: PathOrStateDict, name: str | EncoderConfig = "vit_giant",
                           which: str = "target_encoder") -> StateDictReport:
    """Compare a checkpoint's encoder section with the named config without allocating the model."""
    with torch.device("meta"):
        enc = VisionTransformer(_encoder_cfg(name))
    return compare_state_dict(expected_shapes(enc), select_section(read_checkpoint(path_or_sd), which))


def check_official_ac_predictor(path_or_sd: PathOrStateDict, name: str | ACPredictorConfig = "ac_vit_giant"
                                ) -> StateDictReport:
    """Compare a checkpoint's predictor section with the named AC predictor config (meta, no allocation)."""
    with torch.device("meta"):
        pred = ACPredictor(_predictor_cfg(name))
    return compare_state_dict(expected_shapes(pred), select_section(read_checkpoint(path_or_sd), "predictor"))


def _materialise(module: nn.Module, sd: Mapping[str, torch.Tensor], what: str, strict: bool,
                 device: torch.device | str) -> nn.Module:
    if any(t.is_meta for t in sd.values()):  # shape-only check (synthetic / meta state dicts)
        return load_checked(module, sd, what, strict=strict)
    load_checked(module, sd, what, strict=strict)
    return module.to(device)


def load_official_encoder(
    path_or_state_dict: PathOrStateDict,
    name: str | EncoderConfig | None = "vit_giant",
    which: str = "target_encoder",
    strict: bool = True,
    device: torch.device | str = "cpu",
) -> VisionTransformer:
    """VisionTransformer from an official checkpoint (file path, loaded dict, or a bare encoder state dict).

    which: 'target_encoder' (EMA weights; used for V-JEPA 2-AC and by the hub) or 'encoder'.
    name: registry name (vit_large / vit_huge / vit_giant) or config; None infers it from width and depth.
    Raises CheckpointError listing missing / unexpected keys and shape mismatches.
    """
    if which not in ("target_encoder", "encoder"):
        raise ValueError(f"which must be 'target_encoder' or 'encoder', got {which!r}")
    sd = select_section(read_checkpoint(path_or_state_dict), which)
    cfg = _encoder_cfg(infer_encoder_name(sd) if name is None else name)
    with torch.device("meta" if strict else device):
        enc = VisionTransformer(cfg)
    try:
        return _materialise(enc, sd, f"encoder '{cfg.name}' ({which})", strict, device)  # type: ignore[return-value]
    except CheckpointError as e:
        raise CheckpointError(f"{e}{_name_hint(sd, cfg.name)}") from None


def _name_hint(sd: Mapping[str, torch.Tensor], name: str) -> str:
    try:
        guess = infer_encoder_name(sd)
    except CheckpointError:
        return ""
    return f"\nhint: the checkpoint looks like '{guess}', not '{name}' (pass name='{guess}' or name=None)"


def load_official_ac_predictor(
    path_or_state_dict: PathOrStateDict,
    name: str | ACPredictorConfig = "ac_vit_giant",
    strict: bool = True,
    device: torch.device | str = "cpu",
) -> ACPredictor:
    """ACPredictor from vjepa2-ac-vitg.pt (its 'predictor' section, 'module.' stripped) or a state dict."""
    sd = select_section(read_checkpoint(path_or_state_dict), "predictor")
    cfg = _predictor_cfg(name)
    with torch.device("meta" if strict else device):
        pred = ACPredictor(cfg)
    return _materialise(pred, sd, f"AC predictor '{cfg.name}'", strict, device)  # type: ignore[return-value]


def load_official_world_model(
    encoder_path: PathOrStateDict,
    predictor_path: PathOrStateDict | None = None,
    encoder_name: str | EncoderConfig = "vit_giant",
    predictor_name: str | ACPredictorConfig = "ac_vit_giant",
    which: str = "target_encoder",
    image_size: int = 256,
    device: torch.device | str = "cpu",
    **world_model_kwargs: Any,
) -> WorldModel:
    """WorldModel (paper: ViT-g encoder + AC predictor) from official files.

    ``vjepa2-ac-vitg.pt`` holds both the encoder and the predictor: pass it alone. Otherwise pass the
    encoder file (e.g. vitg.pt) and the predictor file. ``world_model_kwargs`` go to WorldModel
    (use_cache, autocast_bf16).
    """
    enc_ckpt = read_checkpoint(encoder_path)
    pred_ckpt = enc_ckpt if predictor_path is None else read_checkpoint(predictor_path)
    ecfg, pcfg = _encoder_cfg(encoder_name), _predictor_cfg(predictor_name)
    cfg = WorldModelConfig(ecfg, pcfg, image_size)
    with torch.device("meta"):
        wm = WorldModel(cfg, **world_model_kwargs)
    load_checked(wm.encoder, select_section(enc_ckpt, which), f"encoder '{ecfg.name}' ({which})")
    load_checked(wm.predictor, select_section(pred_ckpt, "predictor"), f"AC predictor '{pcfg.name}'")
    return wm.to(device).eval()


# -- our own format -----------------------------------------------------------------------------------------------
def _base(path: str | Path) -> Path:
    p = Path(path).expanduser()
    return p.with_suffix("") if p.suffix in (".safetensors", ".json") else p


def save_world_model(model: WorldModel, path: str | Path, metadata: dict[str, Any] | None = None,
                     dtype: torch.dtype | None = None) -> Path:
    """Write ``<path>.safetensors`` (weights) and ``<path>.json`` (config + metadata).

    metadata must be JSON-serialisable (e.g. training steps, env id, image size, notes). dtype: store floating
    tensors in this dtype (e.g. torch.float16 halves the file; loading casts back to the model's dtype); None
    keeps them as they are. Returns the base path.
    """
    from safetensors.torch import save_file

    if not isinstance(model, WorldModel):
        raise TypeError(f"save_world_model expects a WorldModel, got {type(model).__name__}")
    base = _base(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    header = {"format": FORMAT, "version": FORMAT_VERSION, "config": model.config.to_dict(),
              "metadata": dict(metadata or {})}
    try:
        text = json.dumps(header, indent=2, sort_keys=True)
    except TypeError as e:
        raise TypeError(f"metadata must be JSON-serialisable: {e}") from e
    tensors = {k: v.detach().to("cpu", dtype if dtype is not None and v.is_floating_point() else v.dtype).contiguous()
               for k, v in model.state_dict().items()}
    save_file(tensors, str(base.with_suffix(".safetensors")), metadata={"format": FORMAT})
    base.with_suffix(".json").write_text(text + "\n")
    return base


def read_world_model_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON header written by save_world_model: {'format', 'version', 'config', 'metadata'}."""
    jpath = _base(path).with_suffix(".json")
    if not jpath.is_file():
        raise FileNotFoundError(f"world-model config not found: {jpath} (save_world_model writes <path>.json)")
    try:
        header = json.loads(jpath.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{jpath} is not valid JSON: {e}") from e
    if not isinstance(header, dict) or header.get("format") != FORMAT or "config" not in header:
        raise CheckpointError(f"{jpath} is not a world-model header (expected format '{FORMAT}' and 'config')")
    if int(header.get("version", 0)) > FORMAT_VERSION:
        raise CheckpointError(f"{jpath}: format version {header['version']} is newer than supported {FORMAT_VERSION}")
    return header


def load_world_model(path: str | Path, device: torch.device | str = "cpu", **world_model_kwargs: Any) -> WorldModel:
    """WorldModel from ``<path>.safetensors`` + ``<path>.json`` (eval mode). Raises CheckpointError listing
    missing / unexpected keys and shape mismatches if the weights do not match the stored config."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    header = read_world_model_metadata(path)
    cfg = WorldModelConfig.from_dict(header["config"])
    spath = _base(path).with_suffix(".safetensors")
    if not spath.is_file():
        raise FileNotFoundError(f"world-model weights not found: {spath}")
    try:
        sd = load_file(str(spath), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"cannot read {spath} ({type(e).__name__}: {e})") from e
    with torch.device("meta"):
        wm = WorldModel(cfg, **world_model_kwargs)
    load_checked(wm, sd, f"world model {spath.name}")
    return wm.to(device).eval()
