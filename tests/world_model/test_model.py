import numpy as np
import pytest
import torch
import torch.nn.functional as F

from world_model.config import ACPredictorConfig, EncoderConfig
from world_model.model import WORLD_MODEL_CONFIGS, WorldModel, WorldModelConfig, build_world_model

CFG = WorldModelConfig(
    EncoderConfig("e", embed_dim=48, depth=2, num_heads=2, mlp_dim=96, img_size=32),
    ACPredictorConfig("p", enc_dim=48, dim=48, depth=2, num_heads=2, mlp_dim=96, img_size=32),
    image_size=32,
)


@pytest.fixture(scope="module")
def wm() -> WorldModel:
    torch.manual_seed(0)
    return WorldModel(CFG).eval()


def _imgs(*shape):
    return np.random.randint(0, 256, size=(*shape, 3), dtype=np.uint8)


def test_encode_shape_layernorm_and_manual_equivalence(wm):
    imgs = _imgs(3, 32, 32)
    z = wm.encode(imgs)
    assert z.shape == (3, 4, 48) and z.dtype == torch.float32
    torch.testing.assert_close(z.mean(-1), torch.zeros(3, 4), atol=1e-5, rtol=0)
    x = (torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255 - torch.tensor([0.485, 0.456, 0.406])[:, None, None])
    x = x / torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    with torch.no_grad():
        ref = F.layer_norm(wm.encoder(x[:, :, None].repeat(1, 1, 2, 1, 1)), (48,))
    torch.testing.assert_close(z, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(wm.encode(torch.from_numpy(imgs)), z)


def test_encode_resizes_other_sizes_and_chunks(wm):
    assert wm.encode(_imgs(2, 48, 80)).shape == (2, 4, 48)
    imgs = _imgs(5, 32, 32)
    full = wm.encode(imgs)
    wm.encode_batch_size = 2
    try:
        torch.testing.assert_close(wm.encode(imgs), full, atol=1e-5, rtol=1e-5)
    finally:
        wm.encode_batch_size = 64


@pytest.mark.parametrize("bad", [np.zeros((2, 32, 32, 3), np.float32), np.zeros((32, 32, 3), np.uint8),
                                 np.zeros((1, 32, 32, 4), np.uint8), [[1, 2]]])
def test_encode_rejects_bad_images(wm, bad):
    with pytest.raises((TypeError, ValueError)):
        wm.encode(bad)


def test_encode_frames_is_per_frame(wm):
    frames = _imgs(2, 3, 32, 32)
    z = wm.encode_frames(frames)
    assert z.shape == (2, 3, 4, 48)
    torch.testing.assert_close(z[1, 2], wm.encode(frames[1, 2][None])[0], atol=1e-5, rtol=1e-5)


def test_predict_teacher_forcing(wm):
    z = wm.encode_frames(_imgs(2, 3, 32, 32))
    a, s = torch.randn(2, 3, 7) * 0.05, torch.rand(2, 3, 7)
    out = wm.predict(z, a, s)
    assert out.shape == z.shape
    torch.testing.assert_close(out.mean(-1), torch.zeros(2, 3, 4), atol=1e-5, rtol=0)
    out.sum().backward()  # follows grad mode: gradients reach the predictor
    assert wm.predictor.predictor_proj.weight.grad is not None
    wm.zero_grad(set_to_none=True)
    with pytest.raises(ValueError):
        wm.predict(z, a[:, :2], s)


@pytest.mark.parametrize("T0,H", [(1, 1), (1, 4), (2, 3)])
def test_rollout_cached_matches_recompute(wm, T0, H):
    z = wm.encode_frames(_imgs(3, T0, 32, 32))
    a, s = torch.randn(3, T0 - 1 + H, 7) * 0.05, torch.rand(3, T0 - 1 + H, 7)
    with torch.inference_mode():
        cached = wm.rollout(z, a, s, use_cache=True)
        full = wm.rollout(z, a, s, use_cache=False)
        tf = wm.predict(z, a[:, :T0], s[:, :T0])
    assert cached.shape == (3, H, 4, 48)
    torch.testing.assert_close(cached, full, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(cached[:, 0], tf[:, -1], atol=1e-5, rtol=1e-5)  # first step == teacher forcing


def test_rollout_feeds_predictions_back(wm):
    z = wm.encode(_imgs(2, 32, 32))  # (B, N, D): single context frame
    a, s = torch.randn(2, 2, 7) * 0.05, torch.rand(2, 2, 7)
    with torch.inference_mode():
        r = wm.rollout(z, a, s)
        z1 = wm.predict(z[:, None], a[:, :1], s[:, :1])  # (B, 1, N, D)
        step2 = wm.predict(torch.cat([z[:, None], z1], 1), a, s)[:, -1]
    torch.testing.assert_close(r[:, 1], step2, atol=1e-5, rtol=1e-5)


def test_rollout_broadcasts_single_context_over_samples(wm):
    z = wm.encode(_imgs(1, 32, 32))
    a, s = torch.randn(5, 2, 7) * 0.05, torch.rand(5, 2, 7)
    with torch.inference_mode():
        r = wm.rollout(z, a, s)
        r3 = wm.rollout(z.expand(5, -1, -1), a, s)
    assert r.shape == (5, 2, 4, 48)
    torch.testing.assert_close(r, r3)


def test_rollout_rejects_bad_shapes(wm):
    z = wm.encode(_imgs(2, 32, 32))
    with pytest.raises(ValueError):
        wm.rollout(z[:, None].repeat(1, 3, 1, 1), torch.zeros(2, 2, 7), torch.zeros(2, 2, 7))  # H = 0
    with pytest.raises(ValueError):
        wm.rollout(z, torch.zeros(2, 2, 6), torch.zeros(2, 2, 7))
    with pytest.raises(ValueError):
        wm.rollout(z, torch.full((2, 2, 7), float("nan")), torch.zeros(2, 2, 7))


def test_bf16_autocast_close(wm):
    z = wm.encode(_imgs(2, 32, 32))
    a, s = torch.randn(2, 3, 7) * 0.05, torch.rand(2, 3, 7)
    with torch.inference_mode():
        ref = wm.rollout(z, a, s)
        wm.autocast_bf16 = True
        try:
            zb = wm.encode(_imgs(2, 32, 32))
            got = wm.rollout(z, a, s)
        finally:
            wm.autocast_bf16 = False
    assert zb.dtype == got.dtype == torch.float32
    assert (got - ref).abs().mean() < 0.1 * ref.abs().mean()


def test_config_roundtrip_and_validation():
    for cfg in WORLD_MODEL_CONFIGS.values():
        assert WorldModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError):
        WorldModelConfig(CFG.encoder, CFG.predictor, image_size=64)
    with pytest.raises(KeyError, match="available"):
        build_world_model("nope")
    m = build_world_model("sim_tiny")
    assert m.image_size == 64 and m.tokens_per_frame == 16
    keys = set(m.state_dict())
    assert "encoder.patch_embed.proj.weight" in keys and "predictor.action_encoder.weight" in keys
    assert all(k.startswith(("encoder.", "predictor.")) for k in keys)
    assert not list(m.buffers())  # nothing left uninitialised by a meta build + to_empty


def test_paper_config_shapes_on_meta():
    with torch.device("meta"):
        m = build_world_model("ac_vit_giant")
    assert m.image_size == 256 and m.device.type == "meta"
    z = m.encode(np.zeros((2, 320, 240, 3), np.uint8))
    assert z.shape == (2, 256, 1408)
    a = torch.zeros(2, 3, 7, device="meta")
    with torch.inference_mode():
        assert m.rollout(z, a, a).shape == (2, 3, 256, 1408)
        assert m.rollout(z, a, a, use_cache=False).shape == (2, 3, 256, 1408)
        assert m.predict(z[:, None].expand(2, 3, -1, -1), a, a).shape == (2, 3, 256, 1408)
