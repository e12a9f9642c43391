import pytest
import torch

from tests.world_model._reference import ref_attention_layer
from world_model.ac_predictor import block_causal_mask, build_ac_predictor
from world_model.config import ACPredictorConfig, get_ac_predictor_config

# 2x3 patch grid is passed explicitly; img_size only sets the default grid (2x2 here).
TINY = ACPredictorConfig("t", enc_dim=24, dim=48, depth=2, num_heads=2, mlp_dim=96, img_size=32)


def _inputs(B=2, T=3, Np=4, D=24, dtype=torch.float32):
    return (torch.randn(B, T, Np, D, dtype=dtype), torch.randn(B, T, 7, dtype=dtype), torch.randn(B, T, 7, dtype=dtype))


def test_paper_config_param_count_on_meta():
    cfg = get_ac_predictor_config("ac_vit_giant")
    assert (cfg.enc_dim, cfg.dim, cfg.depth, cfg.num_heads, cfg.mlp_dim) == (1408, 1024, 24, 16, 4096)
    pred = build_ac_predictor("ac_vit_giant", device="meta")
    n = sum(p.numel() for p in pred.parameters())
    assert next(pred.parameters()).is_meta
    assert 300e6 < n < 310e6, n


def test_state_dict_keys_official():
    sd = build_ac_predictor(TINY).state_dict()
    expected = set()
    for m in ("predictor_embed", "action_encoder", "state_encoder", "extrinsics_encoder", "predictor_norm",
              "predictor_proj"):
        expected |= {f"{m}.weight", f"{m}.bias"}
    for i in range(2):
        for sub in ("norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2"):
            expected |= {f"predictor_blocks.{i}.{sub}.weight", f"predictor_blocks.{i}.{sub}.bias"}
    assert set(sd) == expected
    assert tuple(sd["extrinsics_encoder.weight"].shape) == (48, 6)
    assert tuple(sd["predictor_proj.weight"].shape) == (24, 48)


def test_block_causal_mask():
    m = block_causal_mask(3, 2)
    assert m.dtype == torch.bool and m.shape == (6, 6)
    for i in range(6):
        for j in range(6):
            assert bool(m[i, j]) == (j // 2 <= i // 2)
    assert block_causal_mask(1, 5) is None
    mp = block_causal_mask(2, 2, past_frames=3)
    assert mp.shape == (4, 10)
    assert mp[:, :6].all() and mp[0, 6:8].all() and not mp[0, 8:].any() and mp[2:, 6:].all()


def test_matches_reference_official_layout():
    pred = build_ac_predictor(TINY).double().eval()
    B, T, hp, wp = 1, 2, 2, 3
    z, a, s = _inputs(B, T, hp * wp, dtype=torch.float64)
    with torch.no_grad():
        got = pred(z, a, s, grid=(hp, wp))[0]  # (T, Np, enc)
        n = 2 + hp * wp
        x = torch.cat([pred.action_encoder(a)[:, :, None], pred.state_encoder(s)[:, :, None],
                       pred.predictor_embed(z)], dim=2)[0].reshape(T * n, -1)
        pos, spatial = [], []
        for t in range(T):
            # official: spatial positions snapped to the training grid (2x2 here): h * 2/hp, w * 2/wp
            pos += [(float(t), 0.0, 0.0)] * 2 + [(float(t), (p // wp) * 2 / hp, (p % wp) * 2 / wp)
                                                 for p in range(hp * wp)]
            spatial += [False, False] + [True] * (hp * wp)
        for blk in pred.predictor_blocks:
            x = ref_attention_layer(blk, x, pos, spatial, lambda i, j: j // n <= i // n)
        x = x.reshape(T, n, -1)[:, 2:]
        ref = pred.predictor_proj(pred.predictor_norm(x))
    torch.testing.assert_close(got, ref, atol=1e-9, rtol=1e-9)


@pytest.mark.parametrize("t_change", [0, 1, 2])
@pytest.mark.parametrize("what", ["z", "actions", "states"])
def test_block_causality(t_change, what):
    pred = build_ac_predictor(TINY).eval()
    z, a, s = _inputs()
    with torch.no_grad():
        base = pred(z, a, s)
        inputs = {"z": z.clone(), "actions": a.clone(), "states": s.clone()}
        inputs[what][:, t_change] += 1.0
        out = pred(inputs["z"], inputs["actions"], inputs["states"])
    assert torch.equal(out[:, :t_change], base[:, :t_change])
    assert not torch.allclose(out[:, t_change], base[:, t_change], atol=1e-4)


def test_cached_forward_matches_full_and_flat_layout():
    pred = build_ac_predictor(TINY).eval()
    z, a, s = _inputs(T=4)
    with torch.no_grad():
        full = pred(z, a, s)
        o1, c = pred.forward_cached(z[:, :2], a[:, :2], s[:, :2])
        o2, c = pred.forward_cached(z[:, 2:3], a[:, 2:3], s[:, 2:3], c)
        o3, c = pred.forward_cached(z[:, 3:], a[:, 3:], s[:, 3:], c, last_frame_only=True)
        flat = pred(z.flatten(1, 2), a, s)
    assert c.frames == 4
    torch.testing.assert_close(torch.cat([o1, o2, o3], 1), full, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(flat, full.flatten(1, 2))


def test_extrinsics_optional_and_used():
    pred = build_ac_predictor(TINY).eval()
    z, a, s = _inputs()
    e = torch.randn(2, 3, 6)
    with torch.no_grad():
        assert not torch.allclose(pred(z, a, s, extrinsics=e), pred(z, a, s))


@pytest.mark.parametrize("bad", ["z_dim", "act_T", "state_dim", "grid"])
def test_bad_shapes_raise(bad):
    pred = build_ac_predictor(TINY)
    z, a, s = _inputs()
    if bad == "z_dim":
        z = torch.randn(2, 3, 4, 23)
    elif bad == "act_T":
        a = a[:, :2]
    elif bad == "state_dim":
        s = torch.randn(2, 3, 6)
    else:
        z = torch.randn(2, 3, 5, 24)
    with pytest.raises(ValueError):
        pred(z, a, s)
