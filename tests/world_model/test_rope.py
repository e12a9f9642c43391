import pytest
import torch

from tests.world_model._reference import ref_rotate_token
from world_model.rope import RopeTables, apply_rope_3d, apply_rope_temporal, grid_positions, rope_axis_dim, rotate_axis


@pytest.mark.parametrize("head_dim,expected", [(64, 20), (32, 10), (30, 10), (88, 28), (6, 2)])
def test_axis_dim(head_dim, expected):
    assert rope_axis_dim(head_dim) == expected


def test_grid_positions_order_t_h_w():
    ids = torch.arange(2 * 3 * 4)
    t, h, w = grid_positions(ids, 3, 4)
    for i in range(24):
        assert (t[i].item(), h[i].item(), w[i].item()) == (i // 12, (i % 12) // 4, i % 4)


@pytest.mark.parametrize("head_dim", [64, 32, 30, 20])
def test_rope_3d_matches_reference(head_dim):
    n = 7
    x = torch.randn(1, 2, n, head_dim, dtype=torch.float64)
    pos = [(float(i // 4), float(i % 3), float((5 * i) % 7)) for i in range(n)]
    t, h, w = (torch.tensor([p[k] for p in pos], dtype=torch.float64) for k in range(3))
    got = apply_rope_3d(x, t, h, w)
    for hh in range(2):
        for i in range(n):
            ref = ref_rotate_token(x[0, hh, i], pos[i])
            torch.testing.assert_close(got[0, hh, i], ref, atol=1e-6, rtol=1e-6)


def test_rope_is_not_interleaved_tables():
    # Channel 1 must use frequency index 1 (tiled table), not index 0 (interleaved).
    x = torch.zeros(1, 1, 1, 12, dtype=torch.float64)
    x[..., 1] = 1.0  # a = 4 per axis; pair (0,1) of the t axis
    out = apply_rope_3d(x, torch.tensor([1.0]), torch.tensor([0.0]), torch.tensor([0.0]))
    omega1 = 1.0 / 10000 ** (1 / 2)
    assert out[0, 0, 0, 1].item() == pytest.approx(torch.cos(torch.tensor(omega1)).item(), abs=1e-6)
    assert out[0, 0, 0, 0].item() == pytest.approx(-torch.sin(torch.tensor(1.0)).item(), abs=1e-6)


def test_batched_positions_and_temporal_only():
    hd, n = 32, 5
    x = torch.randn(2, 3, n, hd, dtype=torch.float64)
    t = torch.randint(0, 4, (2, n)).double()
    h = torch.randint(0, 4, (2, n)).double()
    w = torch.randint(0, 4, (2, n)).double()
    got = apply_rope_3d(x, t, h, w)
    got_t = apply_rope_temporal(x, t)
    for b in range(2):
        for i in range(n):
            p = (t[b, i].item(), h[b, i].item(), w[b, i].item())
            torch.testing.assert_close(got[b, 1, i], ref_rotate_token(x[b, 1, i], p), atol=1e-6, rtol=1e-6)
            torch.testing.assert_close(got_t[b, 1, i], ref_rotate_token(x[b, 1, i], p, spatial=False),
                                       atol=1e-6, rtol=1e-6)


def test_tables_spatial_flag_leaves_hw_channels_exact():
    hd, n = 64, 4
    x = torch.randn(1, 2, n, hd)
    t = torch.arange(n).float()
    spatial = torch.tensor([False, True, False, True])
    out = RopeTables.build(t, t + 1, t + 2, hd, spatial).apply(x)
    a = rope_axis_dim(hd)
    assert torch.equal(out[:, :, 0, a:], x[:, :, 0, a:])
    assert not torch.equal(out[:, :, 1, a:3 * a], x[:, :, 1, a:3 * a])
    torch.testing.assert_close(out[:, :, 0, :a], rotate_axis(x[:, :, 0:1, :a], t[0:1])[:, :, 0])


def test_position_zero_is_identity():
    x = torch.randn(1, 1, 3, 64)
    z = torch.zeros(3)
    torch.testing.assert_close(apply_rope_3d(x, z, z, z), x)
