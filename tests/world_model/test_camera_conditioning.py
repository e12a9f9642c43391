"""A world model conditioned on the camera pose (WorldModelConfig.camera_center / camera_scale)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from world_model.checkpoint import load_world_model, save_world_model
from world_model.config import ACPredictorConfig, EncoderConfig
from world_model.model import WorldModel, WorldModelConfig

PLAIN = WorldModelConfig(
    EncoderConfig("e", embed_dim=48, depth=2, num_heads=2, mlp_dim=96, img_size=32),
    ACPredictorConfig("p", enc_dim=48, dim=48, depth=2, num_heads=2, mlp_dim=96, img_size=32),
    image_size=32,
)
CENTER = (0.5, -1.7, 1.0, 0.0, 0.9, -0.4, 0.0, 0.4, 0.9, 0.42)
SCALE = (0.03,) * 9 + (0.02,)
CAM = replace(PLAIN, predictor=replace(PLAIN.predictor, extrinsics_dim=10), camera_center=CENTER, camera_scale=SCALE)


@pytest.fixture(scope="module")
def wm() -> WorldModel:
    torch.manual_seed(0)
    return WorldModel(CAM).eval()


def _inputs(wm, b=3, t=2):
    z = torch.nn.functional.layer_norm(torch.randn(b, t, wm.tokens_per_frame, wm.latent_dim), (wm.latent_dim,))
    return z, torch.randn(b, t, 7) * 0.05, torch.rand(b, t, 7)


def test_the_pose_is_standardised_and_broadcast(wm):
    pose = np.asarray(CENTER, np.float32) + np.asarray(SCALE, np.float32)
    got = wm.camera_input(pose, 3, 2)
    assert got.shape == (3, 2, 10)
    torch.testing.assert_close(got, torch.ones(3, 2, 10))
    per_sample = np.stack([pose, np.asarray(CENTER, np.float32), pose])
    torch.testing.assert_close(wm.camera_input(per_sample, 3, 2)[1], torch.zeros(2, 10))


def test_predict_and_rollout_use_the_pose(wm):
    z, a, s = _inputs(wm)
    other = np.asarray(CENTER, np.float32)
    other[0] += 0.05
    with torch.inference_mode():
        assert not torch.allclose(wm.predict(z, a, s, CENTER), wm.predict(z, a, s, other))
        cached = wm.rollout(z[:, :1], a, s, use_cache=True, camera_pose=other)
        full = wm.rollout(z[:, :1], a, s, use_cache=False, camera_pose=other)
        tf = wm.predict(z[:, :1], a[:, :1], s[:, :1], other)
    torch.testing.assert_close(cached, full, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(cached[:, 0], tf[:, 0], atol=1e-5, rtol=1e-5)


def test_a_missing_or_unexpected_pose_is_an_error(wm):
    z, a, s = _inputs(wm)
    with pytest.raises(ValueError, match="conditioned on the camera pose"):
        wm.rollout(z[:, :1], a, s)
    with pytest.raises(ValueError, match=r"\(\.\.\., 10\)"):
        wm.predict(z, a, s, np.zeros(6))
    with pytest.raises(ValueError, match="does not fit"):
        wm.predict(z, a, s, np.zeros((2, 10)))
    plain = WorldModel(PLAIN).eval()
    with pytest.raises(ValueError, match="without the camera pose"):
        plain.predict(z, a, s, CENTER)


def test_config_round_trip_and_validation(tmp_path, wm):
    assert WorldModelConfig.from_dict(CAM.to_dict()) == CAM
    assert "camera_center" not in PLAIN.to_dict(), "models without camera input keep their JSON unchanged"
    loaded = load_world_model(save_world_model(wm, tmp_path / "cam"))
    assert loaded.camera_conditioned and loaded.config == CAM
    with pytest.raises(ValueError, match="together"):
        replace(CAM, camera_scale=None)
    with pytest.raises(ValueError, match="extrinsics_dim"):
        replace(CAM, predictor=PLAIN.predictor)
    with pytest.raises(ValueError, match="> 0"):
        replace(CAM, camera_scale=(0.0,) * 10)


def test_state_mode_adds_the_pose_to_the_state_token():
    """extrinsics_mode="state": no extra token; with a zero extrinsics encoder the predictions equal those of the
    same weights without camera input (a fine-tune starts from the trained predictor's exact function); cached and
    full rollouts agree."""
    torch.manual_seed(1)
    cfg = replace(CAM, predictor=replace(CAM.predictor, extrinsics_mode="state"))
    wm = WorldModel(cfg).eval()
    plain = WorldModel(PLAIN).eval()
    state = {k: v for k, v in wm.state_dict().items() if not k.startswith("predictor.extrinsics_encoder.")}
    plain.load_state_dict(state, strict=False)
    z, a, s = _inputs(wm)
    with torch.no_grad():
        wm.predictor.extrinsics_encoder.weight.zero_()
        wm.predictor.extrinsics_encoder.bias.zero_()
        torch.testing.assert_close(wm.predict(z, a, s, CENTER), plain.predict(z, a, s))
        wm.predictor.extrinsics_encoder.weight.normal_(0, 0.1)
        moved = np.asarray(CENTER, np.float32) + 0.05
        assert not torch.allclose(wm.predict(z, a, s, CENTER), wm.predict(z, a, s, moved))
        cached = wm.rollout(z[:, :1], a, s, use_cache=True, camera_pose=moved)
        full = wm.rollout(z[:, :1], a, s, use_cache=False, camera_pose=moved)
    torch.testing.assert_close(cached, full, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="extrinsics_mode"):
        replace(CAM.predictor, extrinsics_mode="sum")
