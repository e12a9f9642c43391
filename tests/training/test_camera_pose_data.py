"""Camera poses in datasets: recorded by vjepa-collect, validated on load, recovered by training.camera_backfill,
and the camera-conditioned post-training that uses them."""

import json
import shutil

import numpy as np
import pytest
import torch

import training.posttrain as pt
from training.camera_backfill import NotReproducibleError, backfill_camera_pose, residual_correlation
from training.collect import CollectConfig, collect
from training.dataset import (CorruptEpisodeError, list_episodes, load_episode, load_episodes, save_episode)


@pytest.fixture(scope="module")
def camera_dataset(tmp_path_factory):
    """4 short reach episodes at 64 px with a jittered camera (and pixel noise: the noisy-scene check)."""
    out = tmp_path_factory.mktemp("camera_data")
    collect(CollectConfig(out_dir=str(out), episodes=4, steps=4, image_size=64, seed=5, randomize="all"))
    return out


def _strip_pose(root):
    for path in list_episodes(root):
        ep = load_episode(path)
        save_episode(root, int(path.name.split("_")[-1]), ep.frames, ep.states, ep.actions, ep.meta, ep.nominal_frames)


def test_collect_records_the_camera_pose_of_every_frame(camera_dataset):
    episodes, _ = load_episodes(camera_dataset)
    poses = [ep.camera_pose for ep in episodes]
    assert all(p is not None and p.shape == (len(ep.frames), 10) for p, ep in zip(poses, episodes))
    assert all(np.array_equal(p, np.repeat(p[:1], len(p), 0)) for p in poses), "a fixed camera per episode"
    assert not np.allclose(poses[0][0], poses[1][0]), "the jitter differs between episodes"


def test_camera_pose_is_validated(tmp_path, camera_dataset):
    ep = load_episode(list_episodes(camera_dataset)[0])
    bad = ep.camera_pose.copy()
    bad[:, 3:6] *= 2  # not a unit vector
    for pose, match in ((bad, "unit length"), (ep.camera_pose[:-1], r"float32 \("),
                        (ep.camera_pose.astype(np.float64), "float32")):
        with pytest.raises(CorruptEpisodeError, match=match):
            save_episode(tmp_path, 0, ep.frames, ep.states, ep.actions, ep.meta, camera_pose=pose)


def test_backfill_recovers_the_recorded_pose(tmp_path, camera_dataset):
    """Stripped of their poses, the episodes get back exactly the poses collect recorded; a second pass writes
    nothing; every other array is unchanged."""
    root = tmp_path / "data"
    shutil.copytree(camera_dataset, root)
    _strip_pose(root)
    assert all(load_episode(p).camera_pose is None for p in list_episodes(root))
    assert backfill_camera_pose(root, show=False) == (4, 0)
    for a, b in zip(list_episodes(root), list_episodes(camera_dataset)):
        got, want = load_episode(a), load_episode(b)
        np.testing.assert_array_equal(got.camera_pose, want.camera_pose)
        np.testing.assert_array_equal(got.frames, want.frames)
        assert got.meta == want.meta
    assert backfill_camera_pose(root, show=False) == (0, 4)


def test_backfill_refuses_an_episode_whose_scene_does_not_reproduce(tmp_path, camera_dataset):
    root = tmp_path / "data"
    shutil.copytree(camera_dataset, root)
    _strip_pose(root)
    meta_path = list_episodes(root)[1] / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["seed"] += 1  # another scene: another camera, colours and goal
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(NotReproducibleError, match="episode_000001"):
        backfill_camera_pose(root, show=False)
    assert load_episode(list_episodes(root)[1]).camera_pose is None, "nothing written for the refused episode"


def test_residual_correlation_tells_noise_from_moved_edges():
    rng = np.random.default_rng(0)
    image = np.zeros((64, 64, 3), np.uint8)
    image[:, 20:40] = 200  # a bright bar
    noisy = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    assert residual_correlation(noisy, image) < 0.1
    assert residual_correlation(np.roll(image, 2, axis=1), image) > 0.3


def _cfg(data, out, **kw):
    base = dict(data_dir=str(data), out_dir=str(out), batch_size=4, steps=4, warmup=1, decay=1, ckpt_every=2,
                frames_per_clip=3, threads=1, lr=1e-3, camera_conditioning=True)
    return pt.PosttrainConfig(**{**base, **kw})


def test_camera_conditioned_posttrain_saves_a_model_that_needs_the_pose(tmp_path, camera_dataset):
    """The saved model stores the data's camera statistics, its predictor uses the pose, and export rebuilds it."""
    from training.export import export_run
    from world_model.checkpoint import load_world_model

    saved = load_world_model(pt.posttrain(_cfg(camera_dataset, tmp_path / "run")))
    episodes, _ = load_episodes(camera_dataset)
    center, scale = pt.camera_statistics(episodes)
    assert saved.camera_conditioned and saved.config.camera_center == pytest.approx(center)
    assert saved.config.camera_scale == pytest.approx(scale) and min(scale) >= pt.CAMERA_SCALE_FLOOR
    z = torch.nn.functional.layer_norm(torch.randn(1, 2, saved.tokens_per_frame, saved.latent_dim), (saved.latent_dim,))
    a, s = torch.zeros(1, 2, 7), torch.zeros(1, 2, 7)
    poses = [ep.camera_pose[0] for ep in episodes[:2]]
    with torch.no_grad():
        assert not torch.allclose(saved.predict(z, a, s, poses[0]), saved.predict(z, a, s, poses[1]))
    exported = load_world_model(export_run(tmp_path / "run", tmp_path / "exported"))
    assert exported.config == saved.config


def test_camera_conditioning_refuses_episodes_without_poses(tmp_path, camera_dataset):
    root = tmp_path / "data"
    shutil.copytree(camera_dataset, root)
    _strip_pose(root)
    with pytest.raises(ValueError, match="camera_backfill"):
        pt.posttrain(_cfg(root, tmp_path / "run"))


def test_fine_tuning_adds_a_camera_input_to_a_predictor_without_one(tmp_path, camera_dataset):
    """init_model without a camera input: every other weight is the init model's, the new camera input starts at
    zero (the camera embedding does not depend on the pose before training)."""
    from world_model.checkpoint import save_world_model

    plain = pt.build_model(_cfg(camera_dataset, tmp_path, camera_conditioning=False, seed=3))
    base = save_world_model(plain, tmp_path / "plain")
    episodes, _ = load_episodes(camera_dataset)
    tuned = pt.build_model(_cfg(camera_dataset, tmp_path, init_model=str(base)), pt.camera_statistics(episodes))
    got, want = tuned.predictor.state_dict(), plain.predictor.state_dict()
    assert got["extrinsics_encoder.weight"].shape == (want["extrinsics_encoder.weight"].shape[0], 10)
    assert not got["extrinsics_encoder.weight"].any() and not got["extrinsics_encoder.bias"].any()
    for key in want:
        if not key.startswith("extrinsics_encoder."):
            assert torch.equal(got[key], want[key]), key


def test_camera_input_state_builds_a_state_mode_predictor(tmp_path, camera_dataset):
    episodes, _ = load_episodes(camera_dataset)
    model = pt.build_model(_cfg(camera_dataset, tmp_path, camera_input="state"), pt.camera_statistics(episodes))
    assert model.config.predictor.extrinsics_mode == "state" and model.camera_conditioned
    with pytest.raises(ValueError, match="camera_input"):
        _cfg(camera_dataset, tmp_path, camera_input="both")


def test_validate_scores_a_camera_conditioned_model_and_refuses_data_without_poses(tmp_path, camera_dataset):
    from training.validate import ValidateConfig, validate

    saved = pt.posttrain(_cfg(camera_dataset, tmp_path / "run"))
    cfg = ValidateConfig(count=4, clips=4, frames_per_clip=3, batch_size=4)
    assert validate(saved, camera_dataset, cfg, threads=1)["clips"] == 4
    root = tmp_path / "data"
    shutil.copytree(camera_dataset, root)
    _strip_pose(root)
    with pytest.raises(ValueError, match="camera_backfill"):
        validate(saved, root, cfg, threads=1)
