"""Regression tests for the training cases of the reliability findings (F9-F14, F25, CLI errors).

Each test is named after its case in the reliability findings (probes at commit 46344e6) and fails on that commit.
Runs are tiny: 2-3 fake episodes of 6 frames, a handful of steps, one thread.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from training.checks import inside
from training.collect import CollectConfig, collect
from training.dataset import MixedDatasetError, load_episodes, save_episode
from training.export import export_run
from training.posttrain import PosttrainConfig, build_model, posttrain
from training.pretrain import PretrainConfig, pretrain
from training.state import TrainingStateError, read_training_state, rng_state, set_rng_state

from tests.training._fakes import fake_episode

REPO = Path(__file__).resolve().parents[2]


def write_dataset(root: Path, n: int = 3, T: int = 6, size: int = 64, task: str = "fake") -> Path:
    rng = np.random.default_rng(0)
    for i in range(n):
        save_episode(root, i, *fake_episode(rng, T, size), {"task": task, "image_size": size, "seed": i})
    return root


def post_cfg(data: Path, out: Path, **kw) -> PosttrainConfig:
    base = dict(data_dir=str(data), out_dir=str(out), steps=4, batch_size=4, warmup=0, decay=0, ckpt_every=2,
                threads=1, lr=1e-3)
    return PosttrainConfig(**{**base, **kw})


def pre_cfg(data: Path, out: Path, **kw) -> PretrainConfig:
    base = dict(data_dir=str(data), out_dir=str(out), steps=4, batch_size=2, warmup=0, decay=0, ckpt_every=2,
                frames_per_clip=2, threads=1)
    return PretrainConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("hardening_data"))


@pytest.fixture(scope="module")
def encoder_file(tmp_path_factory) -> Path:
    """An encoder checkpoint that fits sim_tiny (the encoder of a differently seeded model)."""
    path = tmp_path_factory.mktemp("enc") / "encoder.pt"
    torch.save({"target_encoder": build_model(PosttrainConfig(seed=7)).encoder.state_dict()}, path)
    return path


@pytest.fixture(scope="module")
def finished_post(tmp_path_factory, data, encoder_file) -> Path:
    """A finished 4-step posttrain run (with an encoder checkpoint); copy it before changing anything."""
    out = tmp_path_factory.mktemp("post") / "run"
    posttrain(post_cfg(data, out, encoder_checkpoint=str(encoder_file)))
    return out


@pytest.fixture()
def post_run(finished_post, tmp_path) -> Path:
    return Path(shutil.copytree(finished_post, tmp_path / "run"))


@pytest.fixture(scope="module")
def finished_pre(tmp_path_factory, data) -> Path:
    out = tmp_path_factory.mktemp("pre") / "run"
    pretrain(pre_cfg(data, out))
    return out


class Payload:
    """Pickles to a call of os.mkdir(marker): loading it executes code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def inject_payload(checkpoint: Path, marker: Path) -> None:
    state = torch.load(checkpoint, weights_only=False)  # our own file: trusted here
    state["x"] = Payload(marker)
    torch.save(state, checkpoint)


def rerun_cfg(run: Path, data: Path, encoder_file: Path, **kw) -> PosttrainConfig:
    return post_cfg(data, run, encoder_checkpoint=str(encoder_file), **kw)


# ---------------------------------------------------------------- F12: no code execution from last.pt

def test_f12_last_pt_pickle_payload_is_refused(post_run, data, encoder_file, tmp_path):
    marker = tmp_path / "CODE-EXECUTED"
    inject_payload(post_run / "last.pt", marker)
    with pytest.raises(TrainingStateError, match="unsafe") as err:
        export_run(post_run, tmp_path / "exported")
    assert str(post_run / "last.pt") in str(err.value)
    with pytest.raises(TrainingStateError, match="unsafe"):
        posttrain(rerun_cfg(post_run, data, encoder_file, steps=6))
    assert not marker.exists()


def test_f12_pretrain_last_pt_pickle_payload_is_refused(finished_pre, data, tmp_path):
    run = Path(shutil.copytree(finished_pre, tmp_path / "run"))
    marker = tmp_path / "CODE-EXECUTED"
    inject_payload(run / "last.pt", marker)
    with pytest.raises(TrainingStateError, match="unsafe"):
        pretrain(pre_cfg(data, run, steps=6))
    assert not marker.exists()


def test_f12_checkpoint_holds_only_safe_types(finished_post, finished_pre):
    for path in (finished_post / "last.pt", finished_pre / "last.pt"):
        torch.load(path, weights_only=True)  # raises on anything but tensors and plain types


def test_f12_rng_state_round_trips_exactly_through_a_safe_load(tmp_path):
    import random

    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    np.random.normal(), random.gauss(0, 1)  # leave cached Gaussians in both states
    torch.save(rng_state(), tmp_path / "rng.pt")
    saved = torch.load(tmp_path / "rng.pt", weights_only=True)  # numpy arrays / tuples of ints would be refused
    expected = (torch.rand(3), np.random.normal(size=3), [random.gauss(0, 1) for _ in range(3)])
    torch.manual_seed(9), np.random.seed(9), random.seed(9)
    set_rng_state(saved)
    got = (torch.rand(3), np.random.normal(size=3), [random.gauss(0, 1) for _ in range(3)])
    assert torch.equal(expected[0], got[0]) and np.array_equal(expected[1], got[1]) and expected[2] == got[2]


def test_f12_pretrain_resume_is_bit_identical(data, tmp_path, monkeypatch):
    """A run killed right after its step-2 checkpoint and resumed equals an uninterrupted run exactly."""
    import training.pretrain as pre

    pretrain(pre_cfg(data, tmp_path / "full"))
    real_save = pre.save_training_state

    def save_then_die(path, payload):
        real_save(path, payload)
        raise KeyboardInterrupt("killed after the checkpoint")

    monkeypatch.setattr(pre, "save_training_state", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        pretrain(pre_cfg(data, tmp_path / "part"))
    monkeypatch.setattr(pre, "save_training_state", real_save)
    torch.manual_seed(1234)  # a fresh process has another global RNG state: resume must not depend on it
    pretrain(pre_cfg(data, tmp_path / "part"))
    a = torch.load(tmp_path / "full" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "part" / "last.pt", weights_only=True)
    assert a["step"] == b["step"] == 4
    for key in ("encoder", "target_encoder", "predictor"):
        for name, v in a[key].items():
            assert torch.equal(v, b[key][name]), (key, name)
    for name, v in a["optimizer"]["state"][0].items():
        assert torch.equal(v, b["optimizer"]["state"][0][name])
    enc_a = torch.load(tmp_path / "full" / "encoder.pt", weights_only=True)
    enc_b = torch.load(tmp_path / "part" / "encoder.pt", weights_only=True)
    assert all(torch.equal(v, enc_b["encoder"][k]) for k, v in enc_a["encoder"].items())


# ---------------------------------------------------------------- F11: corrupt checkpoints name the file

CORRUPTIONS = {
    "half": lambda b: b[: len(b) // 2],
    "minus_10_bytes": lambda b: b[:-10],
    "empty": lambda b: b"",
    "garbage": lambda b: bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_f11_corrupt_last_pt_error_names_the_file(post_run, data, encoder_file, tmp_path, corruption):
    ckpt = post_run / "last.pt"
    ckpt.write_bytes(CORRUPTIONS[corruption](ckpt.read_bytes()))
    with pytest.raises(TrainingStateError) as err:
        posttrain(rerun_cfg(post_run, data, encoder_file, steps=6))
    assert str(ckpt) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(TrainingStateError, match="last.pt"):
        export_run(post_run, tmp_path / "exported")


def test_f11_truncated_pretrain_last_pt_names_the_file(finished_pre, data, tmp_path):
    run = Path(shutil.copytree(finished_pre, tmp_path / "run"))
    ckpt = run / "last.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:1000])
    with pytest.raises(TrainingStateError, match=str(ckpt)):
        pretrain(pre_cfg(data, run, steps=6))


def test_f11_checkpoint_of_another_kind_is_refused(finished_pre, tmp_path):
    with pytest.raises(TrainingStateError, match="'pretrain' checkpoint, not a 'posttrain'"):
        read_training_state(finished_pre / "last.pt", "posttrain")


# ---------------------------------------------------------------- F9: a failed rerun keeps config.json

def test_f9_failed_rerun_keeps_config_and_export_builds_the_trained_model(post_run, encoder_file, tmp_path):
    before = (post_run / "config.json").read_bytes()
    with pytest.raises((ValueError, FileNotFoundError)):
        posttrain(rerun_cfg(post_run, tmp_path / "typo", encoder_file, seed=1))
    with pytest.raises((ValueError, FileNotFoundError)):
        posttrain(rerun_cfg(post_run, tmp_path / "typo", encoder_file))
    assert (post_run / "config.json").read_bytes() == before
    # even an edited config.json cannot change what is exported: the checkpoint's own config is used
    (post_run / "config.json").write_text(json.dumps({**json.loads(before), "seed": 1, "encoder_checkpoint": None}))
    export_run(post_run, tmp_path / "exported")
    from world_model.checkpoint import load_world_model

    exported = load_world_model(tmp_path / "exported")
    trained = build_model(rerun_cfg(post_run, tmp_path, encoder_file))
    for name, v in trained.encoder.state_dict().items():
        assert torch.equal(v, exported.encoder.state_dict()[name]), name


def test_f9_failed_new_run_writes_no_config(tmp_path):
    with pytest.raises(FileNotFoundError):
        posttrain(post_cfg(tmp_path / "typo", tmp_path / "run"))
    with pytest.raises(FileNotFoundError):
        pretrain(pre_cfg(tmp_path / "typo", tmp_path / "run_pre"))
    assert not (tmp_path / "run" / "config.json").exists() and not (tmp_path / "run_pre" / "config.json").exists()


def test_f9_export_refuses_a_changed_encoder_file(post_run, encoder_file, tmp_path):
    enc = tmp_path / "enc.pt"
    shutil.copy(encoder_file, enc)
    state = torch.load(post_run / "last.pt", weights_only=True)
    state["config"]["encoder_checkpoint"] = str(enc)
    torch.save(state, post_run / "last.pt")
    weights = torch.load(enc, weights_only=True)
    weights["target_encoder"] = {k: v + 1 for k, v in weights["target_encoder"].items()}
    torch.save(weights, enc)
    with pytest.raises(TrainingStateError, match="another encoder"):
        export_run(post_run, tmp_path / "exported")


# ---------------------------------------------------------------- F10: resume refuses result-changing edits

@pytest.mark.parametrize("change", [{"seed": 1}, {"lr": 0.01}, {"encoder_checkpoint": None}, {"batch_size": 2},
                                    {"rollout_steps": 1}, {"warmup": 1}])
def test_f10_posttrain_resume_with_changed_config_is_refused(post_run, data, encoder_file, change):
    before = (post_run / "last.pt").read_bytes()
    cfg = rerun_cfg(post_run, data, encoder_file, steps=6)
    cfg = PosttrainConfig(**{**cfg.__dict__, **change})
    with pytest.raises(TrainingStateError, match="config differs in " + next(iter(change))):
        posttrain(cfg)
    assert (post_run / "last.pt").read_bytes() == before


def test_f10_posttrain_resume_with_another_encoder_file_is_refused(post_run, data, encoder_file, tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"target_encoder": build_model(PosttrainConfig(seed=8)).encoder.state_dict()}, other)
    state = torch.load(post_run / "last.pt", weights_only=True)
    state["config"]["encoder_checkpoint"] = str(other)  # same path in the config, other bytes in the file
    torch.save(state, post_run / "last.pt")
    with pytest.raises(TrainingStateError, match="another encoder"):
        posttrain(post_cfg(data, post_run, encoder_checkpoint=str(other), steps=6))


def test_f10_resume_may_train_longer(post_run, data, encoder_file):
    posttrain(rerun_cfg(post_run, data, encoder_file, steps=6, threads=1, ckpt_every=3, save_name="longer"))
    assert torch.load(post_run / "last.pt", weights_only=True)["step"] == 6
    assert (post_run / "longer.safetensors").exists()
    assert json.loads((post_run / "config.json").read_text())["steps"] == 6
    with pytest.raises(TrainingStateError, match="past steps=4"):
        posttrain(rerun_cfg(post_run, data, encoder_file, steps=4))


def test_f10_pretrain_resume_with_changed_config_is_refused(finished_pre, data, tmp_path):
    run = Path(shutil.copytree(finished_pre, tmp_path / "run"))
    with pytest.raises(TrainingStateError, match="config differs in ema"):
        pretrain(pre_cfg(data, run, ema=0.5))


# ---------------------------------------------------------------- F13: dataset validation

def test_f13_wrong_size_frames_episode_is_named(tmp_path):
    root = write_dataset(tmp_path / "d")
    p = root / "episode_000001" / "data.npz"
    z = dict(np.load(p))
    z["frames"] = np.ascontiguousarray(z["frames"][:, ::2, ::2])
    np.savez_compressed(p, **z)
    with pytest.warns(UserWarning, match=r"episode_000001.*image_size 64 but the frames are 32x32"):
        good, bad = load_episodes(root)
    assert len(good) == 2 and len(bad) == 1


def test_f13_mixed_image_sizes_are_refused(tmp_path):
    root = write_dataset(tmp_path / "d", n=2)
    rng = np.random.default_rng(1)
    save_episode(root, 2, *fake_episode(rng, size=32), {"task": "fake", "image_size": 32})
    with pytest.raises(MixedDatasetError, match="episode_000002 has task 'fake' with 32x32"):
        load_episodes(root)


def test_f13_mixed_tasks_are_refused(tmp_path):
    root = write_dataset(tmp_path / "d", n=2)
    save_episode(root, 2, *fake_episode(np.random.default_rng(1)), {"task": "other", "image_size": 64})
    with pytest.raises(MixedDatasetError, match="episode_000002 has task 'other'"):
        load_episodes(root)


def test_f13_mixed_cameras_are_refused(tmp_path):
    """Same task and size, another camera preset (meta "camera"; absent = "front"): refused, the cameras named."""
    root = write_dataset(tmp_path / "d", n=2)
    save_episode(root, 2, *fake_episode(np.random.default_rng(1)), {"task": "fake", "image_size": 64,
                                                                    "camera": "workspace"})
    with pytest.raises(MixedDatasetError, match=r"episode_000002 has task 'fake' with 64x64 frames \(camera "
                                                r"'workspace'\), episode_000000 has task 'fake' with 64x64 frames "
                                                r"\(camera 'front'\); keep one task .*image size and camera"):
        load_episodes(root)


def test_f13_a_mixed_collection_is_one_dataset_but_not_with_a_single_task_episode(tmp_path):
    """Episodes of one mixed collection (same meta "mix") load together whatever their task; an episode without
    that "mix" (another collection) is refused."""
    root = tmp_path / "d"
    rng = np.random.default_rng(0)
    for i, task in enumerate(["a", "b", "a"]):
        save_episode(root, i, *fake_episode(rng), {"task": task, "image_size": 64, "mix": "a,b"})
    assert len(load_episodes(root)[0]) == 3
    save_episode(root, 3, *fake_episode(rng), {"task": "a", "image_size": 64})
    with pytest.raises(MixedDatasetError, match="episode_000003 has task 'a' .*episode_000000 has task 'a,b'"):
        load_episodes(root)


@pytest.mark.parametrize("field", ["states", "actions"])
def test_f13_absurd_states_actions_are_rejected_with_the_episode_named(tmp_path, field):
    root = write_dataset(tmp_path / "d")
    p = root / "episode_000002" / "data.npz"
    z = dict(np.load(p))
    z[field] = np.full_like(z[field], 1e6)
    np.savez_compressed(p, **z)
    with pytest.warns(UserWarning, match=rf"episode_000002.*{field}\[0, 0\].*= 1e\+06 is outside"):
        good, bad = load_episodes(root)
    assert len(good) == 2 and len(bad) == 1
    with pytest.raises(ValueError, match="outside the plausible range"):
        save_episode(root, 9, z["frames"], z["states"], z["actions"], {})


def test_f13_save_refuses_meta_image_size_that_disagrees_with_frames(tmp_path):
    with pytest.raises(ValueError, match="meta.json image_size 128 but the frames are 64x64"):
        save_episode(tmp_path, 0, *fake_episode(np.random.default_rng(0)), {"image_size": 128})
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("meta_change", [{"length": 999}, {"image_size": 256}])
def test_f13_meta_inconsistent_with_data_is_rejected(tmp_path, meta_change):
    root = write_dataset(tmp_path / "d")
    meta_path = root / "episode_000000" / "meta.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), **meta_change}))
    key = next(iter(meta_change))
    with pytest.warns(UserWarning, match=rf"episode_000000.*meta.json {key}"):
        good, bad = load_episodes(root)
    assert len(good) == 2 and len(bad) == 1


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("collect") / "data"
    collect(CollectConfig(out_dir=str(out), episodes=1, steps=2, image_size=64, seed=5))
    return out


@pytest.mark.parametrize("change", [{"task": "FrankaPickPlace-v0"}, {"image_size": 128}, {"steps": 3},
                                    {"seed": 6}])
def test_f13_collect_rerun_with_another_config_is_refused(collected, tmp_path, change):
    out = Path(shutil.copytree(collected, tmp_path / "data"))
    base = dict(out_dir=str(out), episodes=2, steps=2, image_size=64, seed=5)
    with pytest.raises(ValueError, match="collected with another config.*" + next(iter(change))):
        collect(CollectConfig(**{**base, **change}))
    assert len(list(out.glob("episode_*"))) == 1


def test_f13_collect_rerun_may_add_episodes_and_legacy_dirs_are_checked(collected, tmp_path):
    out = Path(shutil.copytree(collected, tmp_path / "data"))
    collect(CollectConfig(out_dir=str(out), episodes=2, steps=2, image_size=64, seed=5))
    assert len(list(out.glob("episode_*"))) == 2
    assert json.loads((out / "collect.json").read_text())["episodes"] == 2
    (out / "collect.json").unlink()  # a dataset collected before collect.json existed
    with pytest.raises(ValueError, match="holds 'FrankaReach-v0' episodes at 64 px"):
        collect(CollectConfig(out_dir=str(out), episodes=2, steps=2, image_size=128, seed=5))


# ---------------------------------------------------------------- F14: config edge values

@pytest.mark.parametrize("cls, field, value", [
    (PretrainConfig, "steps", 0), (PretrainConfig, "ema", 2.0), (PretrainConfig, "ema", 1.0),
    (PretrainConfig, "ckpt_every", 0), (PretrainConfig, "batch_size", 0), (PretrainConfig, "lr", -1e-3),
    (PretrainConfig, "lr", float("nan")), (PretrainConfig, "threads", 0), (PretrainConfig, "steps", "abc"),
    (PretrainConfig, "frames_per_clip", 1),
    (PosttrainConfig, "steps", 0), (PosttrainConfig, "batch_size", 0), (PosttrainConfig, "ckpt_every", 0),
    (PosttrainConfig, "lr", float("inf")), (PosttrainConfig, "weight_decay", -1.0), (PosttrainConfig, "seed", -1),
    (PosttrainConfig, "stop_after", 0), (PosttrainConfig, "rollout_steps", 0), (PosttrainConfig, "steps", 2.5),
    (CollectConfig, "episodes", 0), (CollectConfig, "steps", 0), (CollectConfig, "image_size", 0),
    (CollectConfig, "expert_fraction", 1.5), (CollectConfig, "gripper_prob", -0.1), (CollectConfig, "task", ""),
    (CollectConfig, "randomize_fraction", 1.5), (CollectConfig, "camera", ""),
    (PretrainConfig, "precision", "fp16"), (PosttrainConfig, "precision", "fp16"),
])
def test_f14_config_edge_values_are_refused(cls, field, value):
    kwargs = {field: value}
    if cls is not CollectConfig and field != "steps":
        kwargs.update(steps=1000)
    if cls is not CollectConfig and field == "steps":
        kwargs.update(warmup=0, decay=0)
    with pytest.raises(ValueError) as err:
        cls(**kwargs)
    message = str(err.value)
    assert f"{cls.__name__}.{field}" in message and repr(value)[:3] in message and "\n" not in message


@pytest.mark.parametrize("cls", [PretrainConfig, PosttrainConfig])
def test_f14_warmup_plus_decay_must_fit_in_steps(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: warmup \+ decay must be <= steps, got 3 \+ 3 > 5"):
        cls(steps=5, warmup=3, decay=3)
    assert cls(steps=6, warmup=3, decay=3).steps == 6


def test_f14_defaults_are_valid():
    assert PretrainConfig() and PosttrainConfig() and CollectConfig()


# ---------------------------------------------------------------- F25: paths stay in their folder

@pytest.mark.parametrize("name", ["../../escaped_model", "/tmp/abs", "sub/model", "..", ""])
def test_f25_save_name_cannot_escape_out_dir(name):
    with pytest.raises(ValueError, match="save_name must be a plain file name"):
        PosttrainConfig(save_name=name)


def test_f25_inside_refuses_escaping_paths(tmp_path):
    assert inside(tmp_path, "a/b.mp4", "video") == tmp_path / "a/b.mp4"
    with pytest.raises(ValueError, match="escapes its folder"):
        inside(tmp_path, "../../x", "video")


def test_f25_droid_camera_serial_cannot_escape_the_episode_folder(tmp_path):
    from training.droid import read_droid_clip, write_droid_sample

    folder = write_droid_sample(tmp_path / "a" / "ep", steps=20)
    outside = folder.parent.parent / "x" / "stolen.mp4"  # where recordings/MP4/../../../../x/stolen.mp4 points
    outside.parent.mkdir(parents=True)
    shutil.copy(folder / "recordings" / "MP4" / "12345678.mp4", outside)
    meta = folder / "metadata_sample.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "ext1_cam_serial": "../../../../x/stolen"}))
    with pytest.raises(ValueError, match="metadata_sample.json: ext1_cam_serial '../../../../x/stolen' is not"):
        read_droid_clip(folder, frames=2)


# ---------------------------------------------------------------- disk full names the file

def test_posttrain_disk_full_names_the_file(data, tmp_path, monkeypatch):
    import training.state as state

    def full(obj, path):
        Path(path).write_bytes(b"partial")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")

    monkeypatch.setattr(state.torch, "save", full)
    with pytest.raises(OSError, match=rf"cannot write {tmp_path / 'run' / 'last.pt'}: .*unexpected pos"):
        posttrain(post_cfg(data, tmp_path / "run"))
    assert not list((tmp_path / "run").glob("*.tmp")) and not (tmp_path / "run" / "last.pt").exists()


def test_posttrain_disk_full_on_model_save_names_the_file(data, tmp_path, monkeypatch):
    import world_model.checkpoint as wc

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wc, "save_world_model", full)
    with pytest.raises(OSError, match=rf"cannot write the world model {tmp_path / 'run' / 'model'}"):
        posttrain(post_cfg(data, tmp_path / "run", steps=2))


# ---------------------------------------------------------------- CLI: one line, non-zero, no litter

def run_cli(entry: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    code = f"import sys; sys.argv = ['x'] + {args!r}; from training.cli import {entry}; {entry}()"
    env = {**os.environ, "PYTHONPATH": str(REPO), "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    env.pop("VJEPA_DEBUG", None)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def assert_one_line_error(proc: subprocess.CompletedProcess, prog: str, *needles: str) -> None:
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr and len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{prog}: error:") and all(n in lines[0] for n in needles), lines[0]


def test_cli_pretrain_bad_value_is_one_line_and_leaves_no_litter(data, tmp_path):
    proc = run_cli("pretrain_main", [f"data_dir={data}", f"out_dir={tmp_path / 'run'}", "steps=0"], tmp_path)
    assert_one_line_error(proc, "vjepa-pretrain", "PretrainConfig.steps", "got 0")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_cli_posttrain_corrupt_checkpoint_is_one_line(post_run, data, encoder_file, tmp_path):
    (post_run / "last.pt").write_bytes(b"")
    work = tmp_path / "cwd"
    work.mkdir()
    args = [f"data_dir={data}", f"out_dir={post_run}", f"encoder_checkpoint={encoder_file}", "steps=6",
            "batch_size=4", "warmup=0", "decay=0", "ckpt_every=2", "threads=1", "lr=0.001"]
    proc = run_cli("posttrain_main", args, work)
    assert_one_line_error(proc, "vjepa-posttrain", str(post_run / "last.pt"), "is not a torch checkpoint")
    assert list(work.iterdir()) == []


def test_cli_collect_refused_rerun_is_one_line_and_success_leaves_no_litter(collected, tmp_path):
    out = Path(shutil.copytree(collected, tmp_path / "data"))
    work = tmp_path / "cwd"
    work.mkdir()
    proc = run_cli("collect_main", [f"out_dir={out}", "episodes=1", "steps=2", "image_size=64", "seed=5"], work)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("collect_main", [f"out_dir={out}", "episodes=1", "steps=2", "image_size=128", "seed=5"], work)
    assert_one_line_error(proc, "vjepa-collect", "image_size: 64 -> 128")
    assert list(work.iterdir()) == []


def test_f10_field_added_after_the_checkpoint_counts_as_its_default(tmp_path):
    from training.state import TrainingStateError, check_resume_config

    check_resume_config(tmp_path, {"lr": 1.0}, {"lr": 1.0, "new_field": "x"}, (), defaults={"new_field": "x"})
    with pytest.raises(TrainingStateError, match="new_field: 'x' -> 'y'"):
        check_resume_config(tmp_path, {"lr": 1.0}, {"lr": 1.0, "new_field": "y"}, (), defaults={"new_field": "x"})
