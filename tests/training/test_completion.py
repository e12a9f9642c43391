"""A rerun of a finished training run returns its outputs without loading data (training.completion)."""

import json

import torch

import training.distill as distill_mod
import training.posttrain as pt
import training.pretrain as pre
from training.completion import COMPLETE_NAME, recorded_complete, record_complete
from training.distill import DistillConfig, distill
from training.posttrain import PosttrainConfig, posttrain
from training.pretrain import PretrainConfig, pretrain
from training.run_lock import LOCK_NAME
from world_model.checkpoint import load_world_model


def _refuse(*args, **kwargs):
    raise AssertionError("a finished run loaded its data again")


def _stamps(out):
    """Each file's mtime and bytes, the run lock aside (every run rewrites its holder line)."""
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(out.iterdir())
            if p.is_file() and p.name != LOCK_NAME}


def _distill_cfg(pairs, source, out, **kw):
    return DistillConfig(**{**dict(model=str(source), data_dir=str(pairs), out_dir=str(out), steps=4, batch_size=4,
                                   lr=1e-3, warmup=1, decay=2, val_episodes=1, ckpt_every=2, threads=1,
                                   precision="fp32", device="cpu", fp16=False), **kw})


def _post_cfg(data, out, **kw):
    return PosttrainConfig(**{**dict(data_dir=str(data), out_dir=str(out), batch_size=4, steps=4, warmup=1,
                                     decay=1, ckpt_every=2, frames_per_clip=3, threads=1, lr=1e-3), **kw})


def test_finished_distillation_is_not_run_again(pairs, source, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    base = distill(_distill_cfg(pairs, source, out))
    before = _stamps(out)
    assert set(json.loads((out / COMPLETE_NAME).read_text())["outputs"]) == {
        "invariance.json", "encoder.pt", "encoder.json", "model.safetensors", "model.json"}
    monkeypatch.setattr(distill_mod, "load_pairs", _refuse)
    assert distill(_distill_cfg(pairs, source, out)) == base
    assert "already complete" in capsys.readouterr().out
    assert _stamps(out) == before  # nothing rewritten
    load_world_model(base)


def test_a_changed_output_or_config_makes_the_run_write_its_outputs_again(pairs, source, tmp_path, monkeypatch):
    out = tmp_path / "run"
    distill(_distill_cfg(pairs, source, out))
    encoder = torch.load(out / "encoder.pt", weights_only=True)
    calls = []
    real = distill_mod.load_pairs
    monkeypatch.setattr(distill_mod, "load_pairs", lambda *a: calls.append(1) or real(*a))
    (out / "encoder.pt").unlink()  # an output gone: the run writes it again from last.pt
    distill(_distill_cfg(pairs, source, out))
    assert len(calls) == 1
    again = torch.load(out / "encoder.pt", weights_only=True)
    assert again.keys() == encoder.keys() and all(torch.equal(again[k], encoder[k]) for k in encoder)
    (out / "model.json").write_text((out / "model.json").read_text().replace('"trained_by"', '"trained_by" '))
    distill(_distill_cfg(pairs, source, out))  # an output edited
    assert len(calls) == 2
    distill(_distill_cfg(pairs, source, out, threads=2))  # a config resume allows, still the long way
    assert len(calls) == 3
    distill(_distill_cfg(pairs, source, out, threads=2))  # ... recorded again: now complete
    assert len(calls) == 3


def test_finished_posttrain_is_not_run_again_until_it_trains_longer(tiny_dataset, tmp_path, monkeypatch):
    out = tmp_path / "post"
    base = posttrain(_post_cfg(tiny_dataset, out))
    before = _stamps(out)
    real = pt.load_posttrain_episodes
    monkeypatch.setattr(pt, "load_posttrain_episodes", _refuse)
    assert posttrain(_post_cfg(tiny_dataset, out)) == base
    assert _stamps(out) == before
    monkeypatch.setattr(pt, "load_posttrain_episodes", real)
    posttrain(_post_cfg(tiny_dataset, out, steps=6))  # more steps: trains on, then records again
    assert torch.load(out / "last.pt", weights_only=True)["step"] == 6
    assert len((out / "log.jsonl").read_text().splitlines()) == 6
    monkeypatch.setattr(pt, "load_posttrain_episodes", _refuse)
    posttrain(_post_cfg(tiny_dataset, out, steps=6))


def test_finished_pretrain_is_not_run_again(tiny_dataset, tmp_path, monkeypatch):
    cfg = PretrainConfig(data_dir=str(tiny_dataset), out_dir=str(tmp_path), batch_size=4, steps=2, warmup=1,
                         decay=1, ckpt_every=1, frames_per_clip=2, threads=1)
    path = pretrain(cfg)
    before = _stamps(tmp_path)
    monkeypatch.setattr(pre, "load_episodes", _refuse)
    assert pretrain(cfg) == path
    assert _stamps(tmp_path) == before


def test_recorded_complete_needs_the_last_step_the_record_and_the_same_checkpoint(tmp_path):
    (tmp_path / "last.pt").write_bytes(b"state")
    (tmp_path / "out.bin").write_bytes(b"weights")
    config = {"steps": 3, "dirs": ("a", "b")}
    assert not recorded_complete(tmp_path, config, {"step": 3}, 3)  # no record yet
    record_complete(tmp_path, config, [tmp_path / "out.bin"])
    assert recorded_complete(tmp_path, config, {"step": 3}, 3)
    assert not recorded_complete(tmp_path, config, {"step": 2}, 3)  # stopped early
    assert not recorded_complete(tmp_path, config, None, 3)
    assert not recorded_complete(tmp_path, {**config, "steps": 4}, {"step": 3}, 3)
    (tmp_path / "out.bin").write_bytes(b"edited")
    assert not recorded_complete(tmp_path, config, {"step": 3}, 3)
    (tmp_path / "out.bin").write_bytes(b"weights")
    assert recorded_complete(tmp_path, config, {"step": 3}, 3)
    (tmp_path / "last.pt").write_bytes(b"other state")
    assert not recorded_complete(tmp_path, config, {"step": 3}, 3)
    (tmp_path / COMPLETE_NAME).write_text("{not json")
    assert not recorded_complete(tmp_path, config, {"step": 3}, 3)
    (tmp_path / COMPLETE_NAME).write_text("[]")
    assert not recorded_complete(tmp_path, config, {"step": 3}, 3)
