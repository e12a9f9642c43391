"""Loading official V-JEPA 2 / V-JEPA 2-AC checkpoints and saving/loading our WorldModel.

Official torch-hub files (vitl.pt, vith.pt, vitg.pt, vitg-384.pt, vjepa2-ac-vitg.pt) are dicts with sections
``encoder`` / ``target_encoder`` / ``predictor`` whose keys carry ``module.`` / ``module.backbone.`` prefixes and
possibly a stray ``pos_embed`` (``predictor_pos_embed`` in mask-predictor sections). Like the official hub
(``src/hub/backbones.py``, facebookresearch/vjepa2 c2963a4), the encoder is read from the ``encoder`` section by
default, for both ``vjepa2_vit_*`` and ``vjepa2_ac_vit_giant``; ``which="target_encoder"`` picks the EMA copy.
Zip-format files are read with ``torch.load(weights_only=True, mmap=True)`` (legacy non-zip files without mmap)
and loaded into models built on the meta device, so no second copy of the weights is allocated.

Our own format: ``<path>.safetensors`` (WorldModel.state_dict()) + ``<path>.json``
(``{"format", "version", "config": WorldModelConfig.to_dict(), "metadata": {...}}``).
"""

from __future__ import annotations

import json
import os
import typing
import uuid
import zipfile
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
    MaskPredictorConfig,
    get_ac_predictor_config,
    get_encoder_config,
    get_mask_predictor_config,
)
from world_model.encoder import VisionTransformer
from world_model.hf import from_hf_vjepa2
from world_model.mask_predictor import MaskPredictor
from world_model.model import WorldModel, WorldModelConfig
from world_model.state_dict import (
    CheckpointError,
    StateDictReport,
    check_finite,
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
    "check_official_mask_predictor",
    "from_hf_vjepa2",
    "load_official_encoder",
    "load_official_ac_predictor",
    "load_official_mask_predictor",
    "load_official_world_model",
    "save_world_model",
    "load_world_model",
    "read_world_model_metadata",
    "world_model_camera",
]

FORMAT = "vjepa2_ac_sim.world_model"
FORMAT_VERSION = 1
PathOrStateDict = str | Path | Mapping[str, Any]
ENCODER_SECTIONS = ("encoder", "target_encoder")
DEFAULT_ENCODER_SECTION = "encoder"  # what the official hub loads (src/hub/backbones.py)


# -- reading official files ------------------------------------------------------------------------------------
def _torch_load(path: Path) -> Any:
    """torch.load on CPU with weights_only; mmap for zip-format files (torch >= 1.6 default), a plain read for
    legacy non-zip files, which torch cannot mmap. Any failure is a CheckpointError naming the file."""
    mmap = zipfile.is_zipfile(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as e:  # truncated / not a torch file / pickled objects (weights_only refuses them)
        how = "zip format, mmap" if mmap else "not a zip archive: legacy torch format or not a checkpoint, no mmap"
        raise CheckpointError(f"cannot read {path} as a torch checkpoint ({how}; {type(e).__name__}: {e})") from e


def read_checkpoint(path_or_sd: PathOrStateDict) -> Mapping[str, Any]:
    """A checkpoint dict from a path (torch.load weights_only, CPU, mmap when the file allows) or pass a
    mapping through."""
    if isinstance(path_or_sd, Mapping):
        return path_or_sd
    if not isinstance(path_or_sd, (str, Path)):
        raise TypeError(f"expected a checkpoint path or a state dict, got {type(path_or_sd).__name__}")
    path = Path(path_or_sd).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    ckpt = _torch_load(path)
    if not isinstance(ckpt, Mapping):
        raise CheckpointError(f"{path}: expected a dict checkpoint, got {type(ckpt).__name__}")
    return ckpt


def _is_state_dict(d: Mapping[str, Any]) -> bool:
    return bool(d) and all(isinstance(v, torch.Tensor) for v in d.values())


def select_section(ckpt: Mapping[str, Any], which: str) -> dict[str, torch.Tensor]:
    """Section ``which`` ('encoder', 'target_encoder', 'predictor') with prefixes stripped and ignored keys
    (``pos_embed``, ``predictor_pos_embed``) dropped; a bare state dict (only tensors) is used as is."""
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


def _mask_predictor_cfg(name: str | MaskPredictorConfig) -> MaskPredictorConfig:
    return name if isinstance(name, MaskPredictorConfig) else get_mask_predictor_config(name)


def _check_which(which: str) -> None:
    if which not in ENCODER_SECTIONS:
        raise ValueError(f"which must be one of {ENCODER_SECTIONS}, got {which!r}")


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
                           which: str = DEFAULT_ENCODER_SECTION) -> StateDictReport:
    """Compare a checkpoint's encoder section (``which``: 'encoder' as the hub, or 'target_encoder') with the
    named config without allocating the model."""
    _check_which(which)
    with torch.device("meta"):
        enc = VisionTransformer(_encoder_cfg(name))
    return compare_state_dict(expected_shapes(enc), select_section(read_checkpoint(path_or_sd), which))


def check_official_ac_predictor(path_or_sd: PathOrStateDict, name: str | ACPredictorConfig = "ac_vit_giant"
                                ) -> StateDictReport:
    """Compare a checkpoint's predictor section with the named AC predictor config (meta, no allocation)."""
    with torch.device("meta"):
        pred = ACPredictor(_predictor_cfg(name))
    return compare_state_dict(expected_shapes(pred), select_section(read_checkpoint(path_or_sd), "predictor"))


def check_official_mask_predictor(path_or_sd: PathOrStateDict, name: str | MaskPredictorConfig = "mask_vit_giant"
                                  ) -> StateDictReport:
    """Compare a pretraining checkpoint's predictor section with the named mask-predictor config (meta)."""
    with torch.device("meta"):
        pred = MaskPredictor(_mask_predictor_cfg(name))
    return compare_state_dict(expected_shapes(pred), select_section(read_checkpoint(path_or_sd), "predictor"))


def _source(path_or_sd: PathOrStateDict) -> str:
    """How error messages name a checkpoint: its path, or 'state dict' for an in-memory mapping."""
    return str(path_or_sd) if isinstance(path_or_sd, (str, Path)) else "state dict"


def _materialise(cls: type[nn.Module], cfg: Any, sd: Mapping[str, torch.Tensor], what: str, strict: bool,
                 device: torch.device | str) -> nn.Module:
    """``cls(cfg)`` built on the meta device (strict: every weight comes from ``sd``) or on ``device``, then
    loaded from ``sd`` after a finiteness check (shape-only for meta state dicts)."""
    with torch.device("meta" if strict else device):
        module = cls(cfg)
    if any(t.is_meta for t in sd.values()):  # shape-only check (synthetic / meta state dicts)
        return load_checked(module, sd, what, strict=strict)
    check_finite(sd, what)
    load_checked(module, sd, what, strict=strict)
    return module.to(device)


def load_official_encoder(
    path_or_state_dict: PathOrStateDict,
    name: str | EncoderConfig | None = "vit_giant",
    which: str = DEFAULT_ENCODER_SECTION,
    strict: bool = True,
    device: torch.device | str = "cpu",
) -> VisionTransformer:
    """VisionTransformer from an official checkpoint (file path, loaded dict, or a bare encoder state dict).

    which: 'encoder' (default; the section the official hub loads for vjepa2_vit_* and vjepa2_ac_vit_giant) or
    'target_encoder' (the EMA copy, present in pretraining checkpoints).
    name: registry name (vit_large / vit_huge / vit_giant) or config; None infers it from width and depth.
    Raises CheckpointError listing missing / unexpected keys and shape mismatches, or naming NaN/inf tensors.
    """
    _check_which(which)
    sd = select_section(read_checkpoint(path_or_state_dict), which)
    cfg = _encoder_cfg(infer_encoder_name(sd) if name is None else name)
    what = f"{_source(path_or_state_dict)}: encoder '{cfg.name}' ({which})"
    try:
        return _materialise(VisionTransformer, cfg, sd, what, strict, device)  # type: ignore[return-value]
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
    what = f"{_source(path_or_state_dict)}: AC predictor '{cfg.name}'"
    return _materialise(ACPredictor, cfg, sd, what, strict, device)  # type: ignore[return-value]


def load_official_mask_predictor(
    path_or_state_dict: PathOrStateDict,
    name: str | MaskPredictorConfig = "mask_vit_giant",
    strict: bool = True,
    device: torch.device | str = "cpu",
) -> MaskPredictor:
    """MaskPredictor (pretraining predictor) from vitl.pt / vith.pt / vitg.pt (their 'predictor' section,
    'module.backbone.' stripped, a stray 'predictor_pos_embed' ignored) or a state dict."""
    sd = select_section(read_checkpoint(path_or_state_dict), "predictor")
    cfg = _mask_predictor_cfg(name)
    what = f"{_source(path_or_state_dict)}: mask predictor '{cfg.name}'"
    return _materialise(MaskPredictor, cfg, sd, what, strict, device)  # type: ignore[return-value]


def load_official_world_model(
    encoder_path: PathOrStateDict,
    predictor_path: PathOrStateDict | None = None,
    encoder_name: str | EncoderConfig = "vit_giant",
    predictor_name: str | ACPredictorConfig = "ac_vit_giant",
    which: str = DEFAULT_ENCODER_SECTION,
    image_size: int = 256,
    device: torch.device | str = "cpu",
    **world_model_kwargs: Any,
) -> WorldModel:
    """WorldModel (paper: ViT-g encoder + AC predictor) from official files.

    ``vjepa2-ac-vitg.pt`` holds both the encoder and the predictor: pass it alone. Otherwise pass the
    encoder file (e.g. vitg.pt) and the predictor file. which: encoder section, 'encoder' (default, as the hub)
    or 'target_encoder'. ``world_model_kwargs`` go to WorldModel (use_cache, autocast_bf16).
    """
    _check_which(which)
    enc_ckpt = read_checkpoint(encoder_path)
    pred_ckpt = enc_ckpt if predictor_path is None else read_checkpoint(predictor_path)
    pred_source = encoder_path if predictor_path is None else predictor_path
    ecfg, pcfg = _encoder_cfg(encoder_name), _predictor_cfg(predictor_name)
    cfg = WorldModelConfig(ecfg, pcfg, image_size)
    with torch.device("meta"):
        wm = WorldModel(cfg, **world_model_kwargs)
    enc_what = f"{_source(encoder_path)}: encoder '{ecfg.name}' ({which})"
    pred_what = f"{_source(pred_source)}: AC predictor '{pcfg.name}'"
    parts = ((wm.encoder, select_section(enc_ckpt, which), enc_what),
             (wm.predictor, select_section(pred_ckpt, "predictor"), pred_what))
    for module, sd, what in parts:
        check_finite(sd, what)
        load_checked(module, sd, what)
    return wm.to(device).eval()


# -- our own format -----------------------------------------------------------------------------------------------
def _base(path: str | Path) -> Path:
    p = Path(path).expanduser()
    return p.with_suffix("") if p.suffix in (".safetensors", ".json") else p


def world_model_files(path: str | Path) -> tuple[Path, Path]:
    """The two files of a saved world model: ``(<base>.safetensors, <base>.json)`` for a base path (either file's
    path also names its base)."""
    base = _base(path)
    return base.with_suffix(".safetensors"), base.with_suffix(".json")


def save_world_model(model: WorldModel, path: str | Path, metadata: dict[str, Any] | None = None,
                     dtype: torch.dtype | None = None) -> Path:
    """Write ``<path>.safetensors`` (weights) and ``<path>.json`` (config + metadata), each complete under a
    temporary name first, so that a kill while saving never leaves a truncated file or replaces a previous
    model's files with half of a new one.

    metadata must be JSON-serialisable (e.g. training steps, env id, image size, notes). dtype: store floating
    tensors in this dtype (e.g. torch.float16 halves the file; loading casts back to the model's dtype), recorded
    as ``metadata["stored_dtype"]`` (e.g. "float16"); None keeps them as they are. Returns the base path.
    """
    from safetensors.torch import save_file

    if not isinstance(model, WorldModel):
        raise TypeError(f"save_world_model expects a WorldModel, got {type(model).__name__}")
    if dtype is not None and (not isinstance(dtype, torch.dtype) or not dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch.dtype or None, got {dtype!r}")
    base = _base(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    save_id = uuid.uuid4().hex  # in both files: a kill between the two renames leaves a pair load refuses
    header = {"format": FORMAT, "version": FORMAT_VERSION, "config": model.config.to_dict(),
              "metadata": dict(metadata or {}), "save_id": save_id}
    if dtype is not None:
        header["metadata"]["stored_dtype"] = str(dtype).removeprefix("torch.")
    try:
        text = json.dumps(header, indent=2, sort_keys=True)
    except TypeError as e:
        raise TypeError(f"metadata must be JSON-serialisable: {e}") from e
    tensors = {k: v.detach().to("cpu", dtype if dtype is not None and v.is_floating_point() else v.dtype).contiguous()
               for k, v in model.state_dict().items()}
    weights, header_path = world_model_files(base)
    # temporary names as envs.atomic_files makes them (not imported: world_model does not depend on the envs)
    tag = f"{os.getpid()}.{save_id[:8]}"
    tmp_weights = weights.with_name(f".{weights.name}.{tag}.tmp")
    tmp_header = header_path.with_name(f".{header_path.name}.{tag}.tmp")
    try:  # both complete under temporary names before either replaces a previous model's files
        save_file(tensors, str(tmp_weights), metadata={"format": FORMAT, "save_id": save_id})
        tmp_header.write_text(text + "\n")
        os.replace(tmp_weights, weights)
        os.replace(tmp_header, header_path)  # last: a .json always has its weights beside it
    except BaseException:
        tmp_weights.unlink(missing_ok=True)
        tmp_header.unlink(missing_ok=True)
        raise
    return base


def read_world_model_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON header written by save_world_model: {'format', 'version', 'config', 'metadata'} and, since
    session 21, 'save_id' (also in the weights file's metadata: see check_same_save)."""
    jpath = _base(path).with_suffix(".json")
    if not jpath.is_file():
        raise FileNotFoundError(f"world-model config not found: {jpath} (save_world_model writes <path>.json)")
    try:
        header = json.loads(jpath.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{jpath} is not valid JSON: {e}") from e
    if not isinstance(header, dict) or header.get("format") != FORMAT or "config" not in header:
        raise CheckpointError(f"{jpath} is not a world-model header (expected format '{FORMAT}' and 'config')")
    version = header.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise CheckpointError(f"{jpath}: 'version' must be an integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{jpath}: format version {header['version']} is newer than supported {FORMAT_VERSION}")
    return header


def world_model_camera(path: str | Path) -> str | None:
    """The camera preset (``envs.scene.CAMERAS`` name) of the model's training data, from ``metadata.camera`` of
    its JSON header; None when not recorded (models saved before it was, e.g. the shipped sim_reach, which was
    trained on "front" images, or models trained on data without a preset such as LeRobot datasets)."""
    header = read_world_model_metadata(path)
    metadata = header.get("metadata")
    camera = metadata.get("camera") if isinstance(metadata, dict) else None
    if camera is not None and not isinstance(camera, str):
        raise CheckpointError(f"{_base(path).with_suffix('.json')}: metadata.camera must be a string or null, "
                              f"got {camera!r}")
    return camera


_FIELD_TYPES: dict[type, tuple[type, ...]] = {int: (int,), float: (int, float), str: (str,), bool: (bool,)}


def _check_section_types(cls: type, section: Any, where: str) -> None:
    """Raise CheckpointError unless ``section`` is a dict whose values have the types of ``cls``'s fields
    (bools are not ints here: JSON ``true`` for a depth is an error)."""
    if not isinstance(section, dict):
        raise CheckpointError(f"{where} must be an object, got {type(section).__name__}")
    hints = typing.get_type_hints(cls)
    for key, value in section.items():
        allowed = _FIELD_TYPES.get(hints.get(key))  # type: ignore[arg-type]
        if allowed is None:
            continue  # unknown keys are reported by from_dict
        if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, allowed):
            raise CheckpointError(f"{where}.{key} must be {hints[key].__name__}, got {value!r} "
                                  f"({type(value).__name__})")


def config_from_header(header: Mapping[str, Any], source: str | Path) -> WorldModelConfig:
    """WorldModelConfig from a world-model JSON header; CheckpointError naming ``source`` and the bad key if
    a section is missing, a value has the wrong type, or the config is invalid (e.g. heads do not divide)."""
    config = header.get("config")
    if not isinstance(config, dict):
        raise CheckpointError(f"{source}: 'config' must be an object, got {type(config).__name__}")
    missing = [k for k in ("encoder", "predictor", "image_size") if k not in config]
    if missing:
        raise CheckpointError(f"{source}: config is missing {missing} (keys found: {sorted(config)})")
    _check_section_types(EncoderConfig, config["encoder"], f"{source}: config.encoder")
    _check_section_types(ACPredictorConfig, config["predictor"], f"{source}: config.predictor")
    size = config["image_size"]
    if isinstance(size, bool) or not isinstance(size, int):
        raise CheckpointError(f"{source}: config.image_size must be int, got {size!r} ({type(size).__name__})")
    try:
        return WorldModelConfig.from_dict(config)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{source}: invalid config ({e})") from e


def check_same_save(header: dict[str, Any], weights: Path) -> None:
    """CheckpointError unless the header and the weights file were written by the same save_world_model call
    (their ``save_id``; files written before it was recorded carry none and are not checked)."""
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as f:
        weights_id = (f.metadata() or {}).get("save_id")
    header_id = header.get("save_id")
    if header_id is not None and weights_id is not None and header_id != weights_id:
        raise CheckpointError(f"{weights} and its .json come from different saves (a save was interrupted between "
                              "writing the two): save the model again")


def load_world_model(path: str | Path, device: torch.device | str = "cpu", **world_model_kwargs: Any) -> WorldModel:
    """WorldModel from ``<path>.safetensors`` + ``<path>.json`` (eval mode). Raises CheckpointError naming the
    file: listing missing / unexpected keys and shape mismatches if the weights do not match the stored config,
    naming the bad key of an invalid JSON config, or the first tensors holding NaN / inf (a corrupt file)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    header = read_world_model_metadata(path)
    cfg = config_from_header(header, _base(path).with_suffix(".json"))
    spath = _base(path).with_suffix(".safetensors")
    if not spath.is_file():
        raise FileNotFoundError(f"world-model weights not found: {spath}")
    try:
        sd = load_file(str(spath), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"cannot read {spath} ({type(e).__name__}: {e})") from e
    check_same_save(header, spath)
    check_finite(sd, str(spath))
    try:
        with torch.device("meta"):
            wm = WorldModel(cfg, **world_model_kwargs)
    except (TypeError, ValueError, RuntimeError) as e:  # e.g. a negative depth that passed the type check
        raise CheckpointError(f"{spath}: cannot build the model its config describes ({type(e).__name__}: {e})") from e
    load_checked(wm, sd, f"world model {spath}")
    return wm.to(device).eval()
