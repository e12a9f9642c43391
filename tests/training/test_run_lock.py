"""training.run_lock: one run per out_dir, for collection, pretraining, post-training and distillation.

A run of another process holds the directory in most tests; a second open file of this process conflicts with the
first as well (flock locks belong to open files), so the entry points are also refused inside this process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from envs.atomic_files import unique_tmp_path
from training.collect import CollectConfig, collect
from training.distill import DistillConfig, distill
from training.posttrain import PosttrainConfig, posttrain
from training.pretrain import PretrainConfig, pretrain
from training.run_lock import LOCK_NAME, OutDirBusyError, exclusive_out_dir
from training.state import save_torch_atomic

REPO = Path(__file__).resolve().parents[2]
HOLD = ("import sys; from training.run_lock import exclusive_out_dir\n"
        "with exclusive_out_dir(sys.argv[1], 'holder-program'):\n"
        "    print('held', flush=True); sys.stdin.read()\n")


@pytest.fixture()
def holder(tmp_path):
    """A process of its own holding ``tmp_path / "run"`` until killed; yields (out_dir, process)."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield out, proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_second_run_is_refused_naming_the_first_and_a_killed_holder_frees_the_directory(holder):
    out, proc = holder
    with pytest.raises(OutDirBusyError, match=rf"{out} is in use by another run \(pid {proc.pid} on .*"
                                              r"holder-program, since 20\d\d-.*choose another out_dir"):
        with exclusive_out_dir(out, "second"):
            pytest.fail("entered a held directory")
    os.kill(proc.pid, signal.SIGKILL)  # no cleanup runs: the kernel drops the lock with the process
    proc.wait()
    with exclusive_out_dir(out, "after the kill") as held:
        assert held == out and (out / LOCK_NAME).exists()


def test_the_lock_is_released_at_the_end_and_on_an_error(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    with pytest.raises(ValueError, match="inside"):
        with exclusive_out_dir(out, "one"):
            raise ValueError("inside")
    with exclusive_out_dir(out, "two"):
        (out / "kept.txt").write_text("x")
    with exclusive_out_dir(out, "three"):
        pass
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, "kept.txt"]


def test_a_directory_it_created_goes_again_when_the_run_wrote_nothing(tmp_path):
    out = tmp_path / "a" / "b"
    with pytest.raises(RuntimeError):
        with exclusive_out_dir(out, "failing"):
            assert out.is_dir()
            raise RuntimeError("bad config found late")
    assert not out.exists() and (tmp_path / "a").is_dir()
    with exclusive_out_dir(out, "writing"):
        (out / "x").write_text("1")
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, "x"]


def test_disabled_takes_no_lock_and_creates_nothing(tmp_path):
    with exclusive_out_dir(tmp_path / "run", "rank 1", enabled=False) as out:
        assert not out.exists()
        with exclusive_out_dir(out, "rank 0"):  # not refused: nothing was held
            pass


def test_stale_temporaries_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = out / f".last.pt.{int(dead.stdout)}.0123abcd.tmp"
    stale.write_bytes(b"half a checkpoint")
    live = unique_tmp_path(out / "last.pt")
    live.write_bytes(b"being written")
    with exclusive_out_dir(out, "resume"):
        assert not stale.exists() and live.exists()


def test_save_torch_atomic_uses_a_temporary_name_of_its_own(tmp_path, monkeypatch):
    seen = []
    real_save = torch.save

    def spy(obj, path):
        seen.append(Path(path))
        real_save(obj, path)

    monkeypatch.setattr(torch, "save", spy)
    for value in (1, 2):
        save_torch_atomic(tmp_path / "z.pt", torch.tensor([value]))
    assert seen[0] != seen[1] and all(p.name.startswith(".z.pt.") and p.parent == tmp_path for p in seen)
    assert torch.load(tmp_path / "z.pt").item() == 2 and [p.name for p in tmp_path.iterdir()] == ["z.pt"]


@pytest.mark.parametrize("run", ["collect", "pretrain", "posttrain", "distill"])
def test_every_training_entry_point_refuses_a_held_out_dir_before_writing(tmp_path, run):
    out = tmp_path / "run"
    out.mkdir()
    (out / "mine.txt").write_text("the holder's file")
    data = str(tmp_path / "no_data")  # never read: the lock is taken first
    start = {"collect": lambda: collect(CollectConfig(out_dir=str(out), episodes=1, steps=1, image_size=64)),
             "pretrain": lambda: pretrain(PretrainConfig(data_dir=data, out_dir=str(out))),
             "posttrain": lambda: posttrain(PosttrainConfig(data_dir=data, out_dir=str(out))),
             "distill": lambda: distill(DistillConfig(model="sim_reach", data_dir=data, out_dir=str(out)))}[run]
    with exclusive_out_dir(out, "holder"):
        with pytest.raises(OutDirBusyError, match=f"{out} is in use by another run"):
            start()
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, "mine.txt"]
