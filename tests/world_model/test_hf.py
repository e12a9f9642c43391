"""Encoder parity with transformers' VJEPA2Model after from_hf_vjepa2 conversion."""

from __future__ import annotations

import pytest
import torch

transformers = pytest.importorskip("transformers")

from world_model.checkpoint import CheckpointError, from_hf_vjepa2  # noqa: E402
from world_model.hf import convert_hf_encoder_state_dict  # noqa: E402


@pytest.fixture(scope="module")
def hf_model():
    torch.manual_seed(0)
    cfg = transformers.VJEPA2Config(
        hidden_size=96, num_hidden_layers=2, num_attention_heads=3, crop_size=32, frames_per_clip=4,
        pred_hidden_size=48, pred_num_hidden_layers=1, pred_num_attention_heads=3, num_pooler_layers=1,
    )
    m = transformers.VJEPA2Model(cfg).eval()
    with torch.no_grad():  # non-trivial weights everywhere (HF init zeroes biases)
        for p in m.parameters():
            p.normal_(0.0, 0.2)
    return m


def test_encoder_parity_video_and_single_image(hf_model):
    enc = from_hf_vjepa2(hf_model).eval()
    assert enc.config.head_dim == 32 and enc.config.mlp_dim == 384
    video = torch.randn(2, 4, 3, 32, 32)  # HF layout (B, T, C, H, W)
    with torch.no_grad():
        ref = hf_model.get_vision_features(video)
        ours = enc(video.permute(0, 2, 1, 3, 4))  # (B, C, T, H, W)
        assert ours.shape == ref.shape == (2, 8, 96)
        assert (ours - ref).abs().max().item() < 1e-5
        image = torch.randn(2, 1, 3, 32, 32)  # HF repeats T=1 to a tubelet; we do it explicitly
        ref1 = hf_model.get_vision_features(image)
        ours1 = enc(image.permute(0, 2, 1, 3, 4).repeat(1, 1, 2, 1, 1))
        assert (ours1 - ref1).abs().max().item() < 1e-5


def test_conversion_fuses_qkv_in_order(hf_model):
    sd = convert_hf_encoder_state_dict(hf_model.state_dict())
    att = hf_model.encoder.layer[1].attention
    qkv = sd["blocks.1.attn.qkv.weight"]
    assert torch.equal(qkv[96:192], att.key.weight) and torch.equal(qkv[:96], att.query.weight)
    assert not any(k.startswith("predictor") for k in sd)


def test_bare_state_dict_needs_name_and_bad_keys_raise(hf_model):
    sd = hf_model.state_dict()
    with pytest.raises(ValueError, match="pass name="):
        from_hf_vjepa2(sd)
    with pytest.raises(KeyError, match="unknown encoder config"):
        from_hf_vjepa2(sd, name="vit_nope")
    with pytest.raises(CheckpointError, match="checkpoint does not match"):
        from_hf_vjepa2(sd, name="vit_small")
    with pytest.raises(CheckpointError, match="no VJEPA2 encoder keys"):
        from_hf_vjepa2({"foo": torch.zeros(1)}, name="vit_small")
