"""Official checkpoint layouts, read as the official hub reads them (synthetic files of the tiny sim configs).

The hub (facebookresearch/vjepa2 src/hub/backbones.py) loads ``state_dict["encoder"]`` for vjepa2_vit_* and
vjepa2_ac_vit_giant, strips ``module.`` / ``backbone.`` and ignores ``pos_embed`` / ``predictor_pos_embed``.
"""

from __future__ import annotations

import pytest
import torch

from world_model.checkpoint import (
    CheckpointError,
    check_official_encoder,
    check_official_mask_predictor,
    load_official_ac_predictor,
    load_official_encoder,
    load_official_mask_predictor,
    load_official_world_model,
)
from world_model.mask_predictor import build_mask_predictor
from world_model.model import build_world_model

ENC, PRED = "vit_sim", "ac_sim"


def _prefixed(sd: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {prefix + k: v.clone() for k, v in sd.items()}


def _perturbed(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v + 1.0 for k, v in sd.items()}


def _assert_same(module: torch.nn.Module, sd: dict[str, torch.Tensor]) -> None:
    got = module.state_dict()
    assert set(got) == set(sd)
    for k, v in sd.items():
        assert torch.equal(got[k], v), k


@pytest.fixture(scope="module")
def wm():
    torch.manual_seed(0)
    return build_world_model("sim_tiny").eval()


@pytest.mark.parametrize("prefix", ["module.backbone.", "module.", ""])
def test_encoder_only_file_loads_by_default(tmp_path, wm, prefix):
    path = tmp_path / "enc.pt"
    enc_sd = _prefixed(wm.encoder.state_dict(), prefix)
    enc_sd[prefix + "pos_embed"] = torch.zeros(1, 4, 96)  # stray absolute embedding, ignored
    torch.save({"encoder": enc_sd, "epoch": 1}, path)
    assert check_official_encoder(path, ENC).ok
    _assert_same(load_official_encoder(path, name=ENC), wm.encoder.state_dict())
    with pytest.raises(CheckpointError, match=r"no 'target_encoder' section; sections found: \['encoder'\]"):
        load_official_encoder(path, name=ENC, which="target_encoder")


def test_encoder_plus_predictor_file_as_vjepa2_ac(tmp_path, wm):
    """vjepa2-ac-vitg.pt layout: 'encoder' + 'predictor' with 'module.' prefixes, no target_encoder."""
    path = tmp_path / "ac.pt"
    torch.save({"encoder": _prefixed(wm.encoder.state_dict(), "module."),
                "predictor": _prefixed(wm.predictor.state_dict(), "module.")}, path)
    loaded = load_official_world_model(path, encoder_name=ENC, predictor_name=PRED, image_size=64)
    _assert_same(loaded, wm.state_dict())
    _assert_same(load_official_ac_predictor(path, name=PRED), wm.predictor.state_dict())


def test_target_encoder_encoder_predictor_picks_encoder_unless_asked(tmp_path, wm):
    path = tmp_path / "pretrain.pt"
    enc = wm.encoder.state_dict()
    target = _perturbed(enc)
    torch.save({"encoder": _prefixed(enc, "module.backbone."), "target_encoder": _prefixed(target, "module.backbone."),
                "predictor": _prefixed(wm.predictor.state_dict(), "module.")}, path)
    _assert_same(load_official_encoder(path, name=ENC), enc)
    _assert_same(load_official_encoder(path, name=ENC, which="target_encoder"), target)
    default = load_official_world_model(path, encoder_name=ENC, predictor_name=PRED, image_size=64)
    _assert_same(default.encoder, enc)
    ema = load_official_world_model(path, encoder_name=ENC, predictor_name=PRED, image_size=64,
                                    which="target_encoder")
    _assert_same(ema.encoder, target)
    with pytest.raises(ValueError, match="which must be one of"):
        load_official_world_model(path, encoder_name=ENC, predictor_name=PRED, which="ema")


def test_mask_predictor_section_ignores_predictor_pos_embed(tmp_path, wm):
    """vitl.pt-style pretraining file: encoder + target_encoder + mask predictor with predictor_pos_embed."""
    torch.manual_seed(1)
    mask = build_mask_predictor("mask_sim").eval()
    pred_sd = _prefixed(mask.state_dict(), "module.backbone.")
    pred_sd["module.backbone.predictor_pos_embed"] = torch.zeros(1, 16, mask.config.dim)
    enc_sd = _prefixed(wm.encoder.state_dict(), "module.backbone.")
    enc_sd["module.backbone.pos_embed"] = torch.zeros(1, 16, 96)
    path = tmp_path / "vit.pt"
    torch.save({"encoder": enc_sd, "target_encoder": dict(enc_sd), "predictor": pred_sd}, path)
    assert check_official_mask_predictor(path, "mask_sim").ok
    _assert_same(load_official_mask_predictor(path, name="mask_sim"), mask.state_dict())
    _assert_same(load_official_encoder(path, name=ENC), wm.encoder.state_dict())


def test_zip_files_are_mmapped_and_legacy_files_still_load(tmp_path, wm, monkeypatch):
    sd = {"encoder": _prefixed(wm.encoder.state_dict(), "module.")}
    modern, legacy = tmp_path / "modern.pt", tmp_path / "legacy.pt"
    torch.save(sd, modern)
    torch.save(sd, legacy, _use_new_zipfile_serialization=False)
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("mmap"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    _assert_same(load_official_encoder(modern, name=ENC), wm.encoder.state_dict())
    _assert_same(load_official_encoder(legacy, name=ENC), wm.encoder.state_dict())
    assert calls == [True, False]


def test_unreadable_file_names_the_file(tmp_path):
    bad = tmp_path / "garbage.pt"
    bad.write_bytes(b"\x80\x02 definitely not a checkpoint")
    with pytest.raises(CheckpointError, match=r"cannot read .*garbage\.pt as a torch checkpoint \(not a zip"):
        load_official_encoder(bad, name=ENC)


def test_official_nan_weights_are_rejected_naming_file_and_tensor(tmp_path, wm):
    enc = _prefixed(wm.encoder.state_dict(), "module.")
    enc["module.blocks.1.mlp.fc1.weight"][0, 0] = float("nan")
    path = tmp_path / "nan.pt"
    torch.save({"encoder": enc, "predictor": _prefixed(wm.predictor.state_dict(), "module.")}, path)
    with pytest.raises(CheckpointError, match=r"nan\.pt: encoder .*non-finite .*blocks\.1\.mlp\.fc1\.weight \(1 NaN"):
        load_official_encoder(path, name=ENC)
    with pytest.raises(CheckpointError, match=r"nan\.pt: encoder .*blocks\.1\.mlp\.fc1\.weight"):
        load_official_world_model(path, encoder_name=ENC, predictor_name=PRED, image_size=64)
