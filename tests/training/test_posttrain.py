"""AC post-training losses (loss decrease and resume are in test_training.py)."""

import torch

import training.posttrain as pt
from training.posttrain import PosttrainConfig


def _cfg(data, out, **kw):
    base = dict(data_dir=str(data), out_dir=str(out), batch_size=8, steps=8, warmup=2, decay=2, ckpt_every=4,
                frames_per_clip=3, threads=1, lr=1e-3)
    return PosttrainConfig(**{**base, **kw})




def test_rollout_loss_uses_fed_back_prediction(tiny_dataset):
    cfg = _cfg(tiny_dataset, "/tmp/unused")
    model = pt.build_model(cfg)
    z = torch.randn(2, 3, model.tokens_per_frame, model.latent_dim)
    z = torch.nn.functional.layer_norm(z, z.shape[-1:])
    tf, roll = pt.ac_losses(model, z, torch.zeros(2, 2, 7), torch.zeros(2, 3, 7), rollout_steps=2)
    assert tf.item() > 0 and roll.item() > 0 and not torch.isclose(tf, roll)


def test_clip_losses_are_each_clip_alone_and_average_to_the_batch_loss(tiny_dataset):
    """ac_clip_losses scores each clip of a batch as if it were alone (what training.validate reports per clip),
    and ac_losses (what post-training minimises) is their mean."""
    model = pt.build_model(_cfg(tiny_dataset, "/tmp/unused"))
    gen = torch.Generator().manual_seed(0)
    z = torch.nn.functional.layer_norm(torch.randn(3, 3, model.tokens_per_frame, model.latent_dim, generator=gen),
                                       (model.latent_dim,))
    actions, states = torch.randn(3, 2, 7, generator=gen) * 0.05, torch.randn(3, 3, 7, generator=gen) * 0.1
    with torch.no_grad():
        tf, roll = pt.ac_clip_losses(model, z, actions, states, rollout_steps=2)
        assert tf.shape == roll.shape == (3,) and len(set(tf.tolist())) == 3
        for j in range(3):
            alone = pt.ac_losses(model, z[j:j + 1], actions[j:j + 1], states[j:j + 1], rollout_steps=2)
            torch.testing.assert_close(torch.stack([tf[j], roll[j]]), torch.stack(alone), atol=1e-6, rtol=1e-5)
        batch = pt.ac_losses(model, z, actions, states, rollout_steps=2)
    torch.testing.assert_close(torch.stack(batch), torch.stack([tf.mean(), roll.mean()]))


def test_init_model_starts_the_predictor_from_a_saved_world_model(tiny_dataset, tmp_path):
    """init_model: fine-tuning starts from the saved model's predictor, not from the seeded init; a predictor of
    another shape is refused naming the file."""
    import pytest

    from world_model.checkpoint import save_world_model

    source = pt.build_model(_cfg(tiny_dataset, tmp_path, seed=7))
    with torch.no_grad():
        for p in source.predictor.parameters():
            p.add_(0.5)
    base = save_world_model(source, tmp_path / "source")
    fresh = pt.build_model(_cfg(tiny_dataset, tmp_path))
    tuned = pt.build_model(_cfg(tiny_dataset, tmp_path, init_model=str(base)))
    for a, b, c in zip(tuned.predictor.parameters(), source.predictor.parameters(), fresh.predictor.parameters()):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, c) for a, c in zip(tuned.predictor.parameters(), fresh.predictor.parameters()))
    from dataclasses import replace

    from world_model.model import WORLD_MODEL_CONFIGS, WorldModel

    tiny = WORLD_MODEL_CONFIGS["sim_tiny"]
    shallow = WorldModel(replace(tiny, predictor=replace(tiny.predictor, depth=2)))
    other = save_world_model(shallow, tmp_path / "other")
    with pytest.raises(ValueError, match="init_model .*other"):
        pt.build_model(_cfg(tiny_dataset, tmp_path, init_model=str(other)))


def test_export_of_a_fine_tuned_run_does_not_need_its_init_model(tiny_dataset, tmp_path):
    """The checkpoint holds the fine-tuned predictor: export rebuilds without reading init_model (which may be gone)."""
    from training.export import export_run
    from world_model.checkpoint import load_world_model, save_world_model

    base = save_world_model(pt.build_model(_cfg(tiny_dataset, tmp_path, seed=7)), tmp_path / "init")
    saved = pt.posttrain(_cfg(tiny_dataset, tmp_path / "run", init_model=str(base)))
    for suffix in (".safetensors", ".json"):
        (tmp_path / f"init{suffix}").unlink()
    exported = load_world_model(export_run(tmp_path / "run", tmp_path / "exported"))
    for a, b in zip(exported.predictor.parameters(), load_world_model(saved).predictor.parameters()):
        assert torch.equal(a, b)


def test_extra_data_dirs_train_on_several_datasets(tiny_dataset, tmp_path):
    """extra_data_dirs: every dataset's episodes, in order; a list from the command line becomes a tuple."""
    from omegaconf import OmegaConf

    from training.cli import to_dataclass
    from training.dataset import list_episodes

    cfg = to_dataclass(PosttrainConfig, OmegaConf.create({"data_dir": str(tiny_dataset),
                                                          "extra_data_dirs": [str(tiny_dataset)]}))
    assert cfg.extra_data_dirs == (str(tiny_dataset),)
    episodes, bad = pt.load_posttrain_episodes(_cfg(tiny_dataset, tmp_path, extra_data_dirs=[str(tiny_dataset)]))
    single, _ = pt.load_posttrain_episodes(_cfg(tiny_dataset, tmp_path))
    assert len(single) == len(list_episodes(tiny_dataset)) and len(episodes) == 2 * len(single) and not bad
    assert all((a.frames == b.frames).all() for a, b in zip(episodes[len(single):], single))


def test_extra_data_dirs_refuse_bad_input(tiny_dataset, tmp_path):
    """A bare string, an empty name and a dataset of another camera are refused, naming the problem."""
    import json
    import shutil

    import pytest

    from training.dataset import MixedDatasetError

    with pytest.raises(ValueError, match="must be a list of directories"):
        _cfg(tiny_dataset, tmp_path, extra_data_dirs=str(tiny_dataset))
    with pytest.raises(ValueError, match=r"extra_data_dirs\[1\]"):
        _cfg(tiny_dataset, tmp_path, extra_data_dirs=[str(tiny_dataset), ""])
    other = tmp_path / "other_camera"
    shutil.copytree(tiny_dataset, other)
    for meta in other.glob("*/meta.json"):
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "camera": "workspace"}))
    with pytest.raises(MixedDatasetError, match="other_camera .*camera 'workspace'"):
        pt.load_posttrain_episodes(_cfg(tiny_dataset, tmp_path, extra_data_dirs=[str(other)]))
    with pytest.raises(FileNotFoundError):
        pt.load_posttrain_episodes(_cfg(tiny_dataset, tmp_path, extra_data_dirs=[str(tmp_path / "missing")]))


def test_posttrain_keeps_no_nominal_twins_and_releases_frames_once_encoded(tiny_dataset, tmp_path):
    """Memory: paired episodes' nominal twins are dropped at load (post-training never reads them), and
    encode_dataset(release_frames=True) returns the same latents while leaving no episode's frames behind."""
    from training.dataset import load_episodes, save_episode

    episodes, _ = load_episodes(tiny_dataset)
    paired = tmp_path / "paired"
    for i, ep in enumerate(episodes):
        save_episode(paired, i, ep.frames, ep.states, ep.actions, ep.meta, nominal_frames=255 - ep.frames,
                     camera_pose=ep.camera_pose)
    assert all(ep.nominal_frames is not None for ep in load_episodes(paired)[0])
    loaded, _ = pt.load_posttrain_episodes(_cfg(paired, tmp_path / "out"))
    assert len(loaded) == len(episodes) and all(ep.nominal_frames is None for ep in loaded)
    torch.manual_seed(0)
    model = pt.build_model(_cfg(paired, tmp_path / "out")).eval()
    kept = pt.encode_dataset(model, loaded, show=False)
    assert all(ep.frames is not None for ep in loaded)
    released = pt.encode_dataset(model, loaded, show=False, release_frames=True)
    assert all(ep.frames is None for ep in loaded)
    assert all(torch.equal(a, b) for a, b in zip(kept, released))
