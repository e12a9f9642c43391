import pytest
import torch

from tests.world_model._reference import ref_attention_layer
from world_model.config import ENCODER_CONFIGS, EncoderConfig, get_encoder_config
from world_model.encoder import build_encoder

TINY = EncoderConfig("t", embed_dim=48, depth=2, num_heads=2, mlp_dim=96, img_size=32)


def _n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name,dim,depth,heads,millions", [
    ("vit_large", 1024, 24, 16, 303), ("vit_huge", 1280, 32, 16, 632), ("vit_giant", 1408, 40, 22, 1012),
    ("vit_giant_xformers", 1408, 40, 22, 1012),
])
def test_named_configs_param_counts_on_meta(name, dim, depth, heads, millions):
    cfg = get_encoder_config(name)
    assert (cfg.embed_dim, cfg.depth, cfg.num_heads) == (dim, depth, heads)
    enc = build_encoder(name, device="meta")
    assert next(enc.parameters()).is_meta
    assert abs(_n_params(enc) / 1e6 - millions) < 2


def test_state_dict_keys_official():
    keys = set(build_encoder(TINY).state_dict())
    expected = {"patch_embed.proj.weight", "patch_embed.proj.bias", "norm.weight", "norm.bias"}
    for i in range(2):
        for sub in ("norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2"):
            expected |= {f"blocks.{i}.{sub}.weight", f"blocks.{i}.{sub}.bias"}
    assert keys == expected
    sd = build_encoder("vit_giant", device="meta").state_dict()
    assert tuple(sd["patch_embed.proj.weight"].shape) == (1408, 3, 2, 16, 16)
    assert tuple(sd["blocks.0.attn.qkv.weight"].shape) == (3 * 1408, 1408)
    assert tuple(sd["blocks.39.mlp.fc1.weight"].shape) == (6144, 1408)


@pytest.mark.parametrize("T,H,W", [(2, 32, 32), (4, 32, 48), (2, 48, 16)])
def test_forward_shapes_any_size(T, H, W):
    enc = build_encoder(TINY).eval()
    out = enc(torch.randn(2, 3, T, H, W))
    assert out.shape == (2, (T // 2) * (H // 16) * (W // 16), 48)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("shape", [(1, 3, 3, 32, 32), (1, 3, 2, 30, 32), (1, 1, 2, 32, 32), (3, 2, 32, 32)])
def test_bad_input_shapes_raise(shape):
    with pytest.raises(ValueError):
        build_encoder(TINY)(torch.randn(*shape))


def test_matches_reference_attention():
    enc = build_encoder(TINY).double().eval()
    video = torch.randn(1, 3, 4, 32, 48, dtype=torch.float64)  # grid (2, 2, 3)
    with torch.no_grad():
        got = enc(video)[0]
        x = enc.patch_embed.proj(video).flatten(2).transpose(1, 2)[0]  # (12, D)
        pos = [(float(i // 6), float((i % 6) // 3), float(i % 3)) for i in range(12)]
        for blk in enc.blocks:
            x = ref_attention_layer(blk, x, pos, [True] * 12, lambda i, j: True)
        ref = enc.norm(x)
    torch.testing.assert_close(got, ref, atol=1e-9, rtol=1e-9)


def test_masks_use_true_positions_and_only_kept_tokens():
    enc = build_encoder(TINY).eval()
    video = torch.randn(2, 3, 2, 32, 48)  # 6 tokens
    with torch.no_grad():
        full = enc(video)
        all_ids = enc(video, torch.arange(6).repeat(2, 1))
        torch.testing.assert_close(all_ids, full)
        ids = torch.tensor([[4, 0, 2], [1, 5, 3]])
        sub = enc(video, ids)
        perm = enc(video, ids[:, [2, 0, 1]])
        torch.testing.assert_close(perm, sub[:, [2, 0, 1]], atol=1e-5, rtol=1e-5)
        # Pixels of a dropped patch (token 1 = row 0, col 1 of sample 0) do not matter.
        v2 = video.clone()
        v2[0, :, :, 0:16, 16:32] = 5.0
        torch.testing.assert_close(enc(v2, ids)[0], sub[0])
        assert not torch.allclose(enc(v2)[0], full[0])


def test_bad_masks_raise():
    enc = build_encoder(TINY)
    with pytest.raises(ValueError):
        enc(torch.randn(1, 3, 2, 32, 32), torch.tensor([[0, 4]]))
    with pytest.raises(ValueError):
        enc(torch.randn(1, 3, 2, 32, 32), torch.tensor([0, 1]))


def test_registry_and_config_roundtrip():
    assert {"vit_large", "vit_huge", "vit_giant", "vit_tiny", "vit_small", "vit_sim"} <= set(ENCODER_CONFIGS)
    with pytest.raises(KeyError, match="available"):
        get_encoder_config("vit_nope")
    cfg = get_encoder_config("vit_sim")
    assert EncoderConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError):
        EncoderConfig("bad", 100, 2, 3, 10)
