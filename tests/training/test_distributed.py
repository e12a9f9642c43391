"""Training on several processes (torchrun + DDP, gloo on CPU) against one process with the same global batch.

The two-process runs go through the real console scripts under ``torchrun``. A 2-process run with micro-batches
of b clips is the same computation as a 1-process run with gradient accumulation over the same micro-batches
(DDP's mean over 2 ranks = the sum of halves, exact in floating point), so those are compared bit for bit; the
comparison with a plain 1-process run (one batch of 4) differs only by float32 summation order, amplified by
Adam for weights whose gradient is ~0 (measured: loss <= 3e-7 relative, weights <= 6e-6 absolute after 4 steps).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from tests.training.test_hardening import write_dataset
from training.distributed import (DistContext, check_same_on_all_ranks, distributed_context, micro_batch_size,
                                  rank_micro_batches, training_device)
from training.posttrain import PosttrainConfig, posttrain
from training.pretrain import PretrainConfig, pretrain

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOSS_RTOL = 1e-5  # relative, per logged loss
# absolute, per weight (lr 1e-3 x 4 steps: a weight moves by up to 4e-3). Adam divides by the gradient's running
# scale, so a weight whose gradient is near 0 turns a rounding difference of the 2-process all-reduce into a visible
# one: 2.5e-5 for 1 of 147456 weights on a 2-core AMD EPYC (AVX2), under 2e-5 on an Intel Xeon. The norm check
# below (1e-5 of each module) is the tight one.
WEIGHT_ATOL = 1e-4
WEIGHT_NORM_RTOL = 1e-5  # ||W_1proc - W_2proc|| / ||W_1proc|| per module


def post_cfg(data: Path, out: Path, **kw) -> PosttrainConfig:
    base = dict(data_dir=str(data), out_dir=str(out), steps=4, batch_size=4, warmup=0, decay=0, ckpt_every=2,
                threads=1, lr=1e-3, device="cpu", precision="fp32")  # fp32: the tolerances below are fp32's
    return PosttrainConfig(**{**base, **kw})


def pre_cfg(data: Path, out: Path, **kw) -> PretrainConfig:
    base = dict(data_dir=str(data), out_dir=str(out), steps=4, batch_size=4, warmup=0, decay=0, ckpt_every=2,
                frames_per_clip=2, threads=1, device="cpu", precision="fp32")
    return PretrainConfig(**{**base, **kw})


def cli_args(cfg) -> list[str]:
    """``key=value`` overrides reproducing ``cfg`` on the command line."""
    def text(v):
        if isinstance(v, (list, tuple)):
            return "[" + ",".join(map(str, v)) + "]"
        return "null" if v is None else v

    return [f"{k}={text(v)}" for k, v in asdict(cfg).items()]


def torchrun(prog: str, cfg, nproc: int = 2) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node=<nproc> <prog> <cfg as overrides>`` (the installed console script)."""
    script = BIN / prog
    if not script.exists():
        pytest.skip(f"console script {script} is not installed")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1",
           "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    env.pop("VJEPA_DEBUG", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "--no-python", str(script), *cli_args(cfg)]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def check_ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def log_rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def checkpoint(run: Path) -> dict:
    return torch.load(run / "last.pt", weights_only=True)


def assert_same_weights(a: dict, b: dict, groups: tuple[str, ...]) -> None:
    """Bit-identical modules and optimizer state."""
    for group in groups:
        for name, value in a[group].items():
            assert torch.equal(value, b[group][name]), (group, name)
    for index, state in a["optimizer"]["state"].items():
        for key, value in state.items():
            assert torch.equal(value, b["optimizer"]["state"][index][key]), (index, key)


def assert_close_weights(a: dict, b: dict, groups: tuple[str, ...]) -> None:
    for group in groups:
        diff = sum(float(((v - b[group][k]) ** 2).sum()) for k, v in a[group].items()) ** 0.5
        norm = sum(float((v ** 2).sum()) for v in a[group].values()) ** 0.5
        assert diff <= WEIGHT_NORM_RTOL * norm, (group, diff / norm)
        for name, value in a[group].items():
            torch.testing.assert_close(b[group][name], value, rtol=0, atol=WEIGHT_ATOL,
                                       msg=lambda m, g=group, n=name: f"{g}.{n}: {m}")


def assert_close_losses(a: list[dict], b: list[dict], keys: tuple[str, ...]) -> None:
    assert [r["step"] for r in a] == [r["step"] for r in b]
    for ra, rb in zip(a, b):
        for key in keys:
            assert rb[key] == pytest.approx(ra[key], rel=LOSS_RTOL), (ra["step"], key)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("ddp_data"))


@pytest.fixture(scope="module")
def post_refs(tmp_path_factory, data) -> dict[str, Path]:
    """1-process post-training runs of 4 steps: one batch of 4 ("plain"), 2 micro-batches of 2 ("accum")."""
    root = tmp_path_factory.mktemp("post_refs")
    posttrain(post_cfg(data, root / "plain"))
    posttrain(post_cfg(data, root / "accum", accum_steps=2))
    return {"plain": root / "plain", "accum": root / "accum"}


@pytest.fixture(scope="module")
def pre_refs(tmp_path_factory, data) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pre_refs")
    pretrain(pre_cfg(data, root / "plain"))
    pretrain(pre_cfg(data, root / "accum", accum_steps=2))
    return {"plain": root / "plain", "accum": root / "accum"}


POST_LOSSES = ("loss", "teacher_forcing", "rollout")
POST_GROUPS = ("predictor",)
PRE_GROUPS = ("encoder", "target_encoder", "predictor")


# ---------------------------------------------------------------- the data split and the device (no processes)

def test_rank_micro_batches_partition_the_global_batch():
    batch = list(range(12))
    for world, accum in ((1, 1), (2, 1), (2, 3), (3, 2), (4, 3)):
        parts = [rank_micro_batches(batch, DistContext(r, world, r, torch.device("cpu")), accum)
                 for r in range(world)]
        flat = [i for rank in parts for micro in rank for i in micro]
        assert flat == batch, (world, accum)
        assert all(len(micro) == 12 // (world * accum) for rank in parts for micro in rank)
        assert all(len(rank) == accum for rank in parts)


def test_global_batch_must_split_evenly():
    assert micro_batch_size("PosttrainConfig", 32, 4, 2) == 4
    with pytest.raises(ValueError, match=r"PosttrainConfig.batch_size=6 \(the global batch\) must be divisible by "
                                         r"the number of processes \(2\) x accum_steps \(2\) = 4"):
        micro_batch_size("PosttrainConfig", 6, 2, 2)
    with pytest.raises(ValueError, match="PretrainConfig.batch_size=6 .* accum_steps \\(4\\)"):
        PretrainConfig(batch_size=6, accum_steps=4)
    with pytest.raises(ValueError, match="PosttrainConfig.accum_steps must be an integer >= 1, got 0"):
        PosttrainConfig(accum_steps=0)


@pytest.mark.parametrize("cls", [PretrainConfig, PosttrainConfig])
def test_device_field_is_checked(cls):
    for ok in ("auto", "cpu", "cuda", "cuda:1", "CPU"):
        assert cls(device=ok).device == ok
    with pytest.raises(ValueError, match=rf"{cls.__name__}.device must be 'auto', 'cpu', 'cuda' or 'cuda:N', "
                                         r"got 'gpu'"):
        cls(device="gpu")


def test_training_device_auto_and_forced(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert training_device("auto", 0, 1) == torch.device("cpu")
    assert training_device("cpu", 1, 2) == torch.device("cpu")
    with pytest.raises(ValueError, match="CUDA is not available"):
        training_device("cuda", 0, 1)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert training_device("auto", 1, 2) == torch.device("cuda", 1)  # each process its LOCAL_RANK GPU
    assert training_device("cuda:1", 0, 1) == torch.device("cuda", 1)
    with pytest.raises(ValueError, match="names one GPU, but this run has 2 processes"):
        training_device("cuda:1", 0, 2)
    with pytest.raises(ValueError, match="LOCAL_RANK=2 but this machine has 2 GPUs"):
        training_device("cuda", 2, 4)


def test_without_torchrun_there_is_no_process_group(monkeypatch):
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    with distributed_context("cpu") as ctx:
        assert (ctx.rank, ctx.world_size, ctx.distributed, ctx.is_main) == (0, 1, False, True)
        assert not torch.distributed.is_initialized()


@pytest.mark.parametrize("rank, shown", [(0, 1), (1, 0)])
def test_only_rank_zero_reports_data_warnings(rank, shown):
    from training.distributed import quiet_unless_main

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_unless_main(DistContext(rank, 2, rank, torch.device("cpu"))):
            warnings.warn("skipping corrupt episode: x", UserWarning)
    assert len(seen) == shown


def _compare_counts(rank: int, init_file: str, results: str) -> None:
    """Spawned worker: rank r reports 10 + r episodes (they disagree), then both report 5 (they agree)."""
    torch.distributed.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    ctx = DistContext(rank, 2, rank, torch.device("cpu"))
    try:
        check_same_on_all_ranks(ctx, "the number of training episodes", 10 + rank, "share the data_dir")
        message = "no error"
    except ValueError as exc:
        message = str(exc)
    check_same_on_all_ranks(ctx, "the number of training episodes", 5, "share the data_dir")
    Path(results, f"{rank}.txt").write_text(message)
    torch.distributed.destroy_process_group()


def test_ranks_that_see_different_files_stop_together(tmp_path):
    torch.multiprocessing.spawn(_compare_counts, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=2)
    expected = ("the processes disagree on the number of training episodes (rank 0: 10, rank 1: 11); "
                "share the data_dir")
    assert [(tmp_path / f"{r}.txt").read_text() for r in (0, 1)] == [expected, expected]


# ---------------------------------------------------------------- post-training: 2 processes vs 1

def test_posttrain_two_processes_match_one_process(data, post_refs, tmp_path):
    run = tmp_path / "two"
    proc = torchrun("vjepa-posttrain", post_cfg(data, run))
    check_ok(proc)
    assert proc.stdout.strip().splitlines()[-1] == str(run / "model")  # printed once, by rank 0
    assert proc.stdout.count(str(run / "model")) == 1
    two, rows = checkpoint(run), log_rows(run)
    assert len(rows) == 4 and two["step"] == 4 and two["world_size"] == 2  # rank 0 alone logs
    assert not list(run.glob("*.tmp")) and (run / "model.safetensors").exists()
    # the same micro-batches (2 clips) as one process accumulating 2 of them: bit for bit
    assert rows == log_rows(post_refs["accum"])
    assert_same_weights(checkpoint(post_refs["accum"]), two, POST_GROUPS)
    # one process, one batch of 4: the same up to float32 summation order
    assert_close_losses(log_rows(post_refs["plain"]), rows, POST_LOSSES)
    assert_close_weights(checkpoint(post_refs["plain"]), two, POST_GROUPS)


def test_posttrain_resumes_on_one_process_what_two_started(data, post_refs, tmp_path):
    """2 steps on 2 processes, then steps 3-4 on 1 process = 4 steps on 1 process."""
    run = tmp_path / "part"
    check_ok(torchrun("vjepa-posttrain", post_cfg(data, run, stop_after=2)))
    assert checkpoint(run)["step"] == 2 and len(log_rows(run)) == 2
    other = Path(shutil.copytree(run, tmp_path / "part_plain"))
    posttrain(post_cfg(data, run, accum_steps=2))  # the world size is not part of the resume check
    assert log_rows(run) == log_rows(post_refs["accum"])
    assert_same_weights(checkpoint(post_refs["accum"]), checkpoint(run), POST_GROUPS)
    posttrain(post_cfg(data, other))  # accum_steps may change on resume too
    assert_close_losses(log_rows(post_refs["plain"]), log_rows(other), POST_LOSSES)
    assert_close_weights(checkpoint(post_refs["plain"]), checkpoint(other), POST_GROUPS)


def test_uneven_global_batch_fails_on_every_rank_before_joining(data, tmp_path, monkeypatch, capsys):
    """What each torchrun process does with a global batch that does not split: one line naming its rank, exit
    status 1, before it waits for the others (no process group, nothing written)."""
    from training.cli import posttrain_main

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.delenv("VJEPA_DEBUG", raising=False)
    monkeypatch.setattr(sys, "argv", ["vjepa-posttrain", *cli_args(post_cfg(data, tmp_path / "run", batch_size=3))])
    with pytest.raises(SystemExit) as exit_:
        posttrain_main()
    assert exit_.value.code == 1 and not torch.distributed.is_initialized()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vjepa-posttrain[rank 1]: error: ValueError: PosttrainConfig."
                                                   "batch_size=3 (the global batch) must be divisible by the number "
                                                   "of processes (2) x accum_steps (1) = 2"), lines
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- pretraining: 2 processes vs 1

def test_pretrain_two_processes_match_one_process(data, pre_refs, tmp_path):
    run = tmp_path / "two"
    check_ok(torchrun("vjepa-pretrain", pre_cfg(data, run)))
    two, rows = checkpoint(run), log_rows(run)
    assert len(rows) == 4 and two["world_size"] == 2 and (run / "encoder.pt").exists()
    assert rows == log_rows(pre_refs["accum"])
    assert_same_weights(checkpoint(pre_refs["accum"]), two, PRE_GROUPS)
    assert_close_losses(log_rows(pre_refs["plain"]), rows, ("loss",))
    assert_close_weights(checkpoint(pre_refs["plain"]), two, PRE_GROUPS)


def test_pretrain_resumes_on_one_process_what_two_started(data, pre_refs, tmp_path):
    """steps=2 on 2 processes, then resumed with steps=4 on 1 process (constant LR: the schedule is unchanged)."""
    run = tmp_path / "part"
    check_ok(torchrun("vjepa-pretrain", pre_cfg(data, run, steps=2)))
    assert checkpoint(run)["step"] == 2
    pretrain(pre_cfg(data, run, accum_steps=2))
    assert log_rows(run) == log_rows(pre_refs["accum"])
    assert_same_weights(checkpoint(pre_refs["accum"]), checkpoint(run), PRE_GROUPS)
    enc_a = torch.load(pre_refs["accum"] / "encoder.pt", weights_only=True)
    enc_b = torch.load(run / "encoder.pt", weights_only=True)
    assert all(torch.equal(v, enc_b["target_encoder"][k]) for k, v in enc_a["target_encoder"].items())
