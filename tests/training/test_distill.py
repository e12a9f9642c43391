"""Scene-invariant encoder distillation (training.distill): data pairing, training, resume, refusals."""

import json

import numpy as np
import pytest
import torch

from training.distill import DistillConfig, distill, invariance_report, load_pairs, teacher_targets
from training.posttrain import PosttrainConfig
from training.state import TrainingStateError
from world_model.checkpoint import load_world_model, save_world_model


def _cfg(pairs, source, out, **kw):
    return DistillConfig(**{**dict(model=str(source), data_dir=str(pairs), out_dir=str(out), steps=24,
                                   batch_size=8, lr=1e-3, warmup=2, decay=4, val_episodes=2, ckpt_every=5,
                                   threads=1, precision="fp32", device="cpu", fp16=False), **kw})


def test_distilled_model_keeps_the_predictor_and_lowers_the_held_out_scene_error(pairs, source, tmp_path):
    base = distill(_cfg(pairs, source, tmp_path / "run"))
    out, src = load_world_model(base), load_world_model(source)
    for key, value in src.predictor.state_dict().items():
        torch.testing.assert_close(out.predictor.state_dict()[key], value, rtol=0, atol=0)
    assert any(not torch.equal(a, b) for a, b in zip(out.encoder.parameters(), src.encoder.parameters()))
    assert len((tmp_path / "run" / "log.jsonl").read_text().splitlines()) == 24
    meta = json.loads(base.with_suffix(".json").read_text())["metadata"]
    report = json.loads((tmp_path / "run" / "invariance.json").read_text())
    assert meta["invariance"] == report and meta["camera"] == "front" and meta["trained_by"] == "training.distill"
    assert set(report["before"]) == {"scene_error", "one_step_change", "ratio", "episodes"}
    assert report["after"]["scene_error"] < 0.8 * report["before"]["scene_error"]  # episodes it never saw
    encoder = torch.load(tmp_path / "run" / "encoder.pt", weights_only=True)  # encoder_checkpoint of vjepa-posttrain
    for key, value in out.encoder.state_dict().items():
        torch.testing.assert_close(encoder[key], value, rtol=0, atol=0)


def test_posttrain_records_the_distilled_encoders_provenance(pairs, source, tiny_dataset, tmp_path):
    """encoder.json beside encoder.pt names what made it; vjepa-posttrain on that encoder copies it into its
    model's metadata, and refuses a provenance file that describes another encoder (before training)."""
    from training.posttrain import posttrain
    from training.state import file_sha256

    distill(_cfg(pairs, source, tmp_path / "run", steps=6, ckpt_every=3))
    encoder = tmp_path / "run" / "encoder.pt"
    provenance = json.loads((tmp_path / "run" / "encoder.json").read_text())
    assert provenance["encoder_sha256"] == file_sha256(encoder) and provenance["source_model"] == str(source)
    assert provenance["trained_by"] == "training.distill" and "after" in provenance["invariance"]
    post = dict(data_dir=str(tiny_dataset), model="sim_tiny", encoder_checkpoint=str(encoder), steps=2,
                batch_size=2, warmup=0, decay=0, ckpt_every=2, threads=1)
    base = posttrain(PosttrainConfig(out_dir=str(tmp_path / "post"), **post))
    assert json.loads(base.with_suffix(".json").read_text())["metadata"]["encoder_distillation"] == provenance
    (tmp_path / "run" / "encoder.json").write_text(json.dumps({**provenance, "encoder_sha256": "0" * 64}))
    with pytest.raises(ValueError, match="describes another encoder"):
        posttrain(PosttrainConfig(out_dir=str(tmp_path / "post2"), **post))
    assert not (tmp_path / "post2" / "last.pt").exists()


def test_invariance_report_is_zero_for_the_teacher_on_nominal_frames(pairs, source):
    """The metric itself: the teacher scored on the twins it was given is exactly 0; on the randomised frames not."""
    model = load_world_model(source)
    _, val = load_pairs((str(pairs),), 3)
    targets = teacher_targets(model, val, show=False)
    swapped = [type(ep)(ep.nominal_frames, ep.states, ep.actions, ep.meta, ep.nominal_frames) for ep in val]
    assert invariance_report(model, model.encoder, swapped, targets)["scene_error"] < 2e-3  # float16 targets
    assert invariance_report(model, model.encoder, val, targets)["scene_error"] > 0.05


def test_resume_after_a_stop_gives_the_same_weights(pairs, source, tmp_path):
    whole = load_world_model(distill(_cfg(pairs, source, tmp_path / "whole", steps=12)))
    assert distill(_cfg(pairs, source, tmp_path / "split", steps=12, stop_after=5)).name == "last.pt"
    split = load_world_model(distill(_cfg(pairs, source, tmp_path / "split", steps=12)))
    for a, b in zip(whole.encoder.state_dict().values(), split.encoder.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_resume_refuses_another_config_or_a_changed_source(pairs, source, tmp_path):
    src = save_world_model(load_world_model(source), tmp_path / "src")
    out = tmp_path / "run"
    distill(_cfg(pairs, src, out, stop_after=5))
    with pytest.raises(TrainingStateError, match="lr"):
        distill(_cfg(pairs, src, out, lr=5e-4))
    changed = load_world_model(src)
    with torch.no_grad():
        next(changed.encoder.parameters()).add_(1.0)
    save_world_model(changed, src)
    with pytest.raises(TrainingStateError, match="weights changed"):
        distill(_cfg(pairs, src, out))


def test_unpaired_data_and_bad_config_are_refused(tiny_dataset, source, tmp_path):
    with pytest.raises(ValueError, match="nominal_frames=true"):
        distill(_cfg(tiny_dataset, source, tmp_path / "x"))
    with pytest.raises(ValueError, match="nominal_share"):
        DistillConfig(nominal_share=1.5)
    with pytest.raises(ValueError, match="val_episodes"):
        DistillConfig(val_episodes=0)



def test_too_few_episodes_for_the_held_out_split(pairs):
    with pytest.raises(ValueError, match="more than val_episodes=8"):
        load_pairs((str(pairs),), 8)


def test_several_paired_datasets_are_one_in_order(pairs, tiny_dataset, source, tmp_path):
    """extra_data_dirs: the datasets' episodes in order (the held-out ones are the last dataset's last), as if they
    were one directory; an unpaired or a bare-string extra dataset is refused by name."""
    first, second = tmp_path / "a", tmp_path / "b"
    episodes = sorted(pairs.glob("episode_*"))
    for folder, part in ((first, episodes[:5]), (second, episodes[5:])):
        folder.mkdir()
        for ep in part:
            (folder / ep.name).symlink_to(ep.resolve())
    one = load_pairs((str(pairs),), 2)
    split = load_pairs((str(first), str(second)), 2)
    for a, b in zip(one[0] + one[1], split[0] + split[1]):
        assert a.meta["seed"] == b.meta["seed"] and np.array_equal(a.frames, b.frames)
    assert [len(x) for x in split] == [6, 2]
    cfg = _cfg(first, source, tmp_path / "run", extra_data_dirs=[str(second)])
    assert cfg.extra_data_dirs == (str(second),)
    with pytest.raises(ValueError, match=f"under {tiny_dataset} have no nominal_frames"):
        distill(_cfg(pairs, source, tmp_path / "x", extra_data_dirs=[str(tiny_dataset)]))
    with pytest.raises(ValueError, match="extra_data_dirs must be a list"):
        _cfg(pairs, source, tmp_path / "y", extra_data_dirs=str(second))


def test_frames_come_in_pairs_of_one_episode_and_the_pair_term_ignores_a_scene_offset():
    from training.distill import distill_loss, sample_frames

    picks = sample_frames([5, 2, 9], 40, torch.Generator().manual_seed(0))
    assert len(picks) == 40
    for (e1, t1), (e2, t2) in zip(picks[:20], picks[20:]):
        assert e1 == e2 and t1 != t2 and max(t1, t2) < [5, 2, 9][e1]
    target = torch.randn(6, 4, 8)
    offset = torch.randn(1, 4, 8)  # the same shift of every latent of a scene: no change of any difference
    total, pair = distill_loss(target + offset, target, pair_weight=3.0)
    assert pair.item() == pytest.approx(0.0, abs=1e-6)
    assert total.item() == pytest.approx(offset.abs().mean().item(), rel=1e-5)
    _, pair = distill_loss(target + torch.randn(6, 4, 8), target, pair_weight=1.0)
    assert pair.item() > 0.5


def test_odd_batch_is_refused():
    with pytest.raises(ValueError, match="even"):
        DistillConfig(batch_size=63)
