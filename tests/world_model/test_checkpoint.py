"""Official-checkpoint loading (synthetic official-format files) and our save/load round trip."""

from __future__ import annotations

import json

import pytest
import torch

from world_model.ac_predictor import ACPredictor
from world_model.checkpoint import (
    CheckpointError,
    check_official_ac_predictor,
    check_official_encoder,
    load_official_ac_predictor,
    load_official_encoder,
    load_official_world_model,
    load_world_model,
    read_world_model_metadata,
    save_world_model,
)
from world_model.config import get_ac_predictor_config, get_encoder_config
from world_model.encoder import VisionTransformer
from world_model.model import build_world_model
from world_model.state_dict import strip_prefixes


def _meta_sd(module_cls, cfg, prefix: str) -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        m = module_cls(cfg)
    return {prefix + k: torch.empty(v.shape, device="meta") for k, v in m.state_dict().items()}


@pytest.mark.parametrize("name", ["vit_large", "vit_huge", "vit_giant"])
def test_official_encoder_layout_loads_strictly_on_meta(name):
    cfg = get_encoder_config(name)
    sd = _meta_sd(VisionTransformer, cfg, "module.backbone.")
    sd["module.backbone.pos_embed"] = torch.empty(1, 8, cfg.embed_dim, device="meta")  # stray, ignored
    ckpt = {"encoder": sd, "target_encoder": dict(sd), "predictor": {}, "epoch": 3}
    assert check_official_encoder(ckpt, name).ok
    enc = load_official_encoder(ckpt, name=name, which="target_encoder")
    assert isinstance(enc, VisionTransformer) and enc.config.embed_dim == cfg.embed_dim
    assert sum(p.numel() for p in enc.parameters()) > 250e6
    assert load_official_encoder(ckpt, name=None).config.depth == cfg.depth  # inferred from shapes


def test_official_ac_predictor_layout_loads_strictly_on_meta():
    cfg = get_ac_predictor_config("ac_vit_giant")
    ckpt = {"predictor": _meta_sd(ACPredictor, cfg, "module."),
            "encoder": _meta_sd(VisionTransformer, get_encoder_config("vit_giant"), "module.")}
    assert check_official_ac_predictor(ckpt).ok
    pred = load_official_ac_predictor(ckpt)
    n = sum(p.numel() for p in pred.parameters())
    assert 290e6 < n < 320e6  # ~305M (paper)


def test_wrong_size_reports_missing_and_shape_mismatch():
    ckpt = {"encoder": _meta_sd(VisionTransformer, get_encoder_config("vit_large"), "module.backbone.")}
    report = check_official_encoder(ckpt, "vit_giant")
    assert not report.ok and report.missing and report.mismatched
    with pytest.raises(CheckpointError, match=r"missing keys \(192\).*\n.*shape mismatches(?s:.*)looks like 'vit_large'"):
        load_official_encoder(ckpt, name="vit_giant")


def test_missing_section_and_bad_which_raise():
    ckpt = {"encoder": _meta_sd(VisionTransformer, get_encoder_config("vit_large"), "module.")}
    with pytest.raises(CheckpointError, match="no 'predictor' section; sections found: \\['encoder'\\]"):
        load_official_ac_predictor(ckpt)
    with pytest.raises(ValueError, match="which must be"):
        load_official_encoder(ckpt, name="vit_large", which="ema")


def test_unexpected_key_listed():
    sd = _meta_sd(VisionTransformer, get_encoder_config("vit_large"), "")
    sd["blocks.0.attn.extra"] = torch.empty(3, device="meta")
    with pytest.raises(CheckpointError, match=r"unexpected keys \(1\): blocks.0.attn.extra"):
        load_official_encoder({"encoder": sd}, name="vit_large")


def test_strip_prefixes_and_collision():
    t = torch.zeros(1)
    assert set(strip_prefixes({"module.backbone.norm.weight": t, "pos_embed": t})) == {"norm.weight"}
    with pytest.raises(CheckpointError, match="two checkpoint keys"):
        strip_prefixes({"module.norm.weight": t, "norm.weight": t})


def test_real_file_round_trip_official_format(tmp_path):
    wm = build_world_model("sim_tiny").eval()
    enc_sd = {"module.backbone." + k: v for k, v in wm.encoder.state_dict().items()}
    pred_sd = {"module." + k: v for k, v in wm.predictor.state_dict().items()}
    path = tmp_path / "ac.pt"
    torch.save({"encoder": enc_sd, "target_encoder": enc_sd, "predictor": pred_sd, "opt": {"lr": 1.0}}, path)
    enc = load_official_encoder(path, name="vit_sim").eval()
    x = torch.randn(1, 3, 2, 64, 64)
    with torch.no_grad():
        assert torch.equal(enc(x), wm.encoder(x))
    loaded = load_official_world_model(path, encoder_name="vit_sim", predictor_name="ac_sim", image_size=64)
    for k, v in wm.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    assert not any(p.is_meta for p in loaded.parameters())
    assert all(p.requires_grad for p in loaded.predictor.parameters())  # assign=True keeps trainability


def test_truncated_or_missing_file_raises(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointError, match="cannot read"):
        load_official_encoder(bad)
    with pytest.raises(FileNotFoundError):
        load_official_encoder(tmp_path / "nope.pt")


def test_save_load_world_model_round_trip(tmp_path):
    wm = build_world_model("sim_tiny").eval()
    base = save_world_model(wm, tmp_path / "w" / "sim_reach", metadata={"env": "FrankaReach-v0", "steps": 10})
    assert (tmp_path / "w" / "sim_reach.safetensors").is_file() and base.with_suffix(".json").is_file()
    assert read_world_model_metadata(base)["metadata"] == {"env": "FrankaReach-v0", "steps": 10}
    wm2 = load_world_model(str(base) + ".safetensors", use_cache=False)
    assert wm2.config == wm.config and wm2.use_cache is False and not wm2.training
    z = torch.randn(2, 1, wm.tokens_per_frame, wm.latent_dim)
    a, s = torch.randn(2, 2, 7), torch.randn(2, 2, 7)
    with torch.no_grad():
        torch.testing.assert_close(wm2.rollout(z, a, s), wm.rollout(z, a, s, use_cache=False), rtol=0, atol=0)
    for k, v in wm.state_dict().items():
        assert torch.equal(wm2.state_dict()[k], v), k


@pytest.mark.parametrize("fails", ["weights", "header"])
def test_a_failed_save_keeps_the_previous_model_whole(tmp_path, monkeypatch, fails):
    """A save that fails (or is killed) while writing leaves the previous model's two files as they were and no
    temporary file behind; killed between the two renames, it leaves a pair that load refuses."""
    import os as os_module

    import safetensors.torch

    old = save_world_model(build_world_model("sim_tiny").eval(), tmp_path / "m", metadata={"v": 1})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    new = build_world_model("sim_tiny").eval()
    torch.nn.init.zeros_(next(new.parameters()))
    if fails == "weights":
        def broken(*args, **kwargs):
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(safetensors.torch, "save_file", broken)
    else:
        real_replace = os_module.replace

        def broken(src, dst):
            if str(dst).endswith(".json"):
                raise KeyboardInterrupt  # killed between the two renames' preparation
            real_replace(src, dst)
        monkeypatch.setattr("world_model.checkpoint.os.replace", broken)
    with pytest.raises((OSError, KeyboardInterrupt)):
        save_world_model(new, old, metadata={"v": 2})
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(after) == set(before) and after["m.json"] == before["m.json"]  # no temporaries left
    if fails == "weights":
        assert after == before
        assert load_world_model(old) is not None
    else:  # the new weights beside the old header: refused, not loaded with the other save's metadata
        with pytest.raises(CheckpointError, match="different saves"):
            load_world_model(old)


def test_save_world_model_fp16_halves_file_and_loads_as_fp32(tmp_path):
    wm = build_world_model("sim_tiny").eval()
    full = save_world_model(wm, tmp_path / "full")
    half = save_world_model(wm, tmp_path / "half", dtype=torch.float16)
    size = lambda b: b.with_suffix(".safetensors").stat().st_size  # noqa: E731
    assert size(half) < 0.55 * size(full)
    wm2 = load_world_model(half)
    assert all(p.dtype == torch.float32 for p in wm2.parameters())
    for k, v in wm.state_dict().items():
        if v.is_floating_point():
            torch.testing.assert_close(wm2.state_dict()[k], v.half().float(), rtol=0, atol=0)


def test_save_world_model_records_the_stored_dtype(tmp_path):
    wm = build_world_model("sim_tiny")
    meta = lambda b: read_world_model_metadata(b)["metadata"]  # noqa: E731
    assert meta(save_world_model(wm, tmp_path / "half", {"steps": 3}, dtype=torch.float16)) == {
        "steps": 3, "stored_dtype": "float16"}
    assert "stored_dtype" not in meta(save_world_model(wm, tmp_path / "as_is", {"steps": 3}))
    with pytest.raises(TypeError, match="floating torch.dtype"):
        save_world_model(wm, tmp_path / "bad", dtype=torch.int8)


def test_load_world_model_errors(tmp_path):
    wm = build_world_model("sim_tiny")
    base = save_world_model(wm, tmp_path / "m")
    # config says 4 predictor blocks; drop one block's weights from the file -> listed missing keys
    from safetensors.torch import load_file, save_file

    sd = load_file(str(base.with_suffix(".safetensors")))
    save_file({k: v for k, v in sd.items() if not k.startswith("predictor.predictor_blocks.3.")},
              str(base.with_suffix(".safetensors")))
    with pytest.raises(CheckpointError, match=r"missing keys \(12\): predictor.predictor_blocks.3"):
        load_world_model(base)
    base.with_suffix(".safetensors").write_bytes(b"\x00" * 5)
    with pytest.raises(CheckpointError, match="cannot read"):
        load_world_model(base)
    base.with_suffix(".json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(CheckpointError, match="not a world-model header"):
        load_world_model(base)
    with pytest.raises(FileNotFoundError, match="config not found"):
        load_world_model(tmp_path / "absent")
    with pytest.raises(TypeError, match="JSON-serialisable"):
        save_world_model(wm, tmp_path / "x", metadata={"bad": object()})


def test_pretrained_lookup(tmp_path, monkeypatch):
    import world_model.pretrained as pre

    monkeypatch.setattr(pre, "WEIGHTS_DIR", tmp_path)
    assert pre.available_weights() == []
    with pytest.raises(FileNotFoundError, match="available: none"):
        pre.load_pretrained("sim_reach")
    save_world_model(build_world_model("sim_tiny"), tmp_path / "sim_reach")
    assert pre.available_weights() == ["sim_reach"]
    assert pre.load_pretrained("sim_reach").config.image_size == 64
