import pytest
import torch

from world_model.config import MaskPredictorConfig, get_mask_predictor_config
from world_model.mask_predictor import build_mask_predictor

TINY = MaskPredictorConfig("t", enc_dim=24, dim=24, depth=2, num_heads=2, mlp_dim=48, num_mask_tokens=3)
GRID = (2, 2, 3)  # 12 tokens


def _setup():
    pred = build_mask_predictor(TINY).eval()
    ctx_ids = torch.tensor([[0, 3, 5, 8, 11], [1, 2, 6, 7, 10]])
    tgt_ids = torch.tensor([[1, 4, 9], [0, 5, 11]])
    return pred, torch.randn(2, 5, 24), ctx_ids, tgt_ids


def test_output_shape_and_keys():
    pred, ctx, ci, ti = _setup()
    assert pred(ctx, ci, ti, GRID).shape == (2, 3, 24)
    keys = set(pred.state_dict())
    assert {"mask_tokens.0", "mask_tokens.1", "mask_tokens.2", "predictor_embed.weight", "predictor_norm.weight",
            "predictor_proj.bias", "predictor_blocks.1.attn.qkv.weight"} <= keys
    assert tuple(pred.state_dict()["mask_tokens.0"].shape) == (1, 1, 24)


def test_official_default_config_on_meta():
    cfg = get_mask_predictor_config("mask_vit_giant")
    assert (cfg.dim, cfg.depth, cfg.num_heads, cfg.num_mask_tokens, cfg.enc_dim) == (384, 12, 12, 10, 1408)
    pred = build_mask_predictor("mask_vit_giant", device="meta")
    assert len(pred.mask_tokens) == 10 and next(pred.parameters()).is_meta


def test_uses_only_given_context_and_true_positions():
    pred, ctx, ci, ti = _setup()
    with torch.no_grad():
        base = pred(ctx, ci, ti, GRID)
        # Order of context tokens does not matter when their ids move with them (positions are used, not order).
        p = torch.tensor([4, 2, 0, 1, 3])
        torch.testing.assert_close(pred(ctx[:, p], ci[:, p], ti, GRID), base, atol=1e-5, rtol=1e-5)
        # Order of targets permutes the outputs accordingly.
        q = torch.tensor([2, 0, 1])
        torch.testing.assert_close(pred(ctx, ci, ti[:, q], GRID), base[:, q], atol=1e-5, rtol=1e-5)
        # Changing one context token of sample 0 changes sample 0 only.
        c2 = ctx.clone()
        c2[0, 2] += 1.0
        out = pred(c2, ci, ti, GRID)
        assert not torch.allclose(out[0], base[0]) and torch.equal(out[1], base[1])
        # Moving a context token to another position changes the prediction.
        ci2 = ci.clone()
        ci2[0, 0] = 2
        assert not torch.allclose(pred(ctx, ci2, ti, GRID)[0], base[0])
        # A different mask token gives a different prediction; index wraps modulo K.
        assert not torch.allclose(pred(ctx, ci, ti, GRID, mask_index=1), base)
        torch.testing.assert_close(pred(ctx, ci, ti, GRID, mask_index=3), base)


def test_bad_ids_raise():
    pred, ctx, ci, ti = _setup()
    with pytest.raises(ValueError):
        pred(ctx, ci, ti + 12, GRID)
    with pytest.raises(ValueError):
        pred(ctx, ci[:, :4], ti, GRID)
