"""Training precision (training.precision): ``precision: auto | fp32 | bf16`` for vjepa-pretrain / vjepa-posttrain."""

import json
import shutil
from pathlib import Path

import pytest
import torch

import world_model.precision as wm_precision
from training.distributed import DistContext
from training.posttrain import PosttrainConfig, posttrain
from training.precision import PRECISIONS, autocast, check_precision, resolve_training_bf16, with_precision
from training.pretrain import PretrainConfig, pretrain

from tests.training.test_hardening import post_cfg, pre_cfg, write_dataset

CPU = torch.device("cpu")


def _ctx(rank: int = 0) -> DistContext:
    return DistContext(rank=rank, world_size=1 if rank == 0 else 2, local_rank=rank, device=CPU)


def _rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("precision_data"))


# ---------------------------------------------------------------- the setting

@pytest.mark.parametrize("bad", ["fp16", "BF16", "", None, 16])
def test_unknown_precision_is_refused(bad):
    with pytest.raises(ValueError, match=r"Owner\.precision must be one of auto, fp32, bf16, got "):
        check_precision("Owner", bad)
    for cls in (PretrainConfig, PosttrainConfig):
        with pytest.raises(ValueError, match=rf"{cls.__name__}\.precision must be one of auto, fp32, bf16"):
            cls(precision=bad)


def test_defaults_are_auto():
    assert PRECISIONS == ("auto", "fp32", "bf16")
    assert PretrainConfig().precision == PosttrainConfig().precision == "auto"


def test_forced_precisions_do_not_probe(monkeypatch):
    def no_probe(*args, **kwargs):
        raise AssertionError("a forced precision must not be decided by world_model.precision")

    monkeypatch.setattr(wm_precision, "resolve_precision", no_probe)
    assert resolve_training_bf16("fp32", CPU) == (False, "forced: fp32")
    assert resolve_training_bf16("bf16", CPU) == (True, "forced: bf16")
    with pytest.raises(ValueError, match="training.precision must be one of"):
        resolve_training_bf16("fp16", CPU)


@pytest.mark.parametrize("fast", [True, False])
def test_auto_follows_the_planning_decision(monkeypatch, fast):
    calls = []

    def fake(bf16, device):
        calls.append((bf16, device))
        return wm_precision.PrecisionChoice(fast, "auto: fake probe")

    monkeypatch.setattr(wm_precision, "resolve_precision", fake)
    assert resolve_training_bf16("auto", CPU) == (fast, "auto: fake probe")
    assert calls == [("auto", CPU)]


def test_with_precision_sets_the_context_and_rank0_says_so(capsys):
    ctx = with_precision(_ctx(), "bf16")
    assert ctx.bf16 and ctx.device == CPU and ctx.rank == 0
    assert "training precision: bf16 autocast (forced: bf16)" in capsys.readouterr().out
    assert not with_precision(ctx, "fp32").bf16, "fp32 turns it off again"
    assert "training precision: fp32 (forced: fp32)" in capsys.readouterr().out
    assert with_precision(_ctx(rank=1), "bf16").bf16
    assert capsys.readouterr().out == "", "only rank 0 prints"
    assert DistContext(0, 1, 0, CPU).bf16 is False, "contexts default to fp32"


def test_autocast_context():
    a, b = torch.randn(4, 8), torch.randn(8, 3)
    with autocast(False, CPU):
        assert (a @ b).dtype == torch.float32 and not torch.is_autocast_enabled("cpu")
    with autocast(True, CPU):
        assert (a @ b).dtype == torch.bfloat16
    assert not torch.is_autocast_enabled("cpu")


# ---------------------------------------------------------------- tiny runs

def _record_loss_dtypes(monkeypatch, cls) -> list:
    """Wrap ``cls.forward`` (a training loss module) to record the dtypes of what it returns."""
    seen, forward = [], cls.forward

    def recording(self, *args, **kwargs):
        out = forward(self, *args, **kwargs)
        seen.extend(t.dtype for t in (out if isinstance(out, tuple) else (out,)))
        return out

    monkeypatch.setattr(cls, "forward", recording)
    return seen


def test_pretrain_bf16_then_resume_in_fp32(data, tmp_path, capsys, monkeypatch):
    from training.pretrain import JepaLoss

    run = tmp_path / "pre"
    dtypes = _record_loss_dtypes(monkeypatch, JepaLoss)
    pretrain(pre_cfg(data, run, steps=2, ckpt_every=1, precision="bf16"))
    assert dtypes and set(dtypes) == {torch.float32}, "the L1 loss stays fp32 under autocast"
    assert "training precision: bf16 autocast (forced: bf16)" in capsys.readouterr().out
    fp32 = tmp_path / "pre_fp32"
    pretrain(pre_cfg(data, fp32, steps=2, ckpt_every=1, precision="fp32"))
    bf16_rows, fp32_rows = _rows(run), _rows(fp32)
    assert [r["step"] for r in bf16_rows] == [1, 2]
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in bf16_rows)
    assert bf16_rows[0]["loss"] != fp32_rows[0]["loss"], "autocast was on"
    assert bf16_rows[0]["loss"] == pytest.approx(fp32_rows[0]["loss"], rel=0.05)
    state = torch.load(run / "last.pt", weights_only=True)
    for key in ("encoder", "target_encoder", "predictor"):
        assert {v.dtype for v in state[key].values() if v.is_floating_point()} == {torch.float32}, key
    pretrain(pre_cfg(data, run, steps=4, ckpt_every=1, precision="fp32"))  # precision may change on resume
    assert [r["step"] for r in _rows(run)] == [1, 2, 3, 4]
    assert torch.load(run / "last.pt", weights_only=True)["step"] == 4


def test_posttrain_bf16_then_resume_in_fp32(data, tmp_path, capsys, monkeypatch):
    from training.posttrain import ACLoss

    run = tmp_path / "post"
    dtypes = _record_loss_dtypes(monkeypatch, ACLoss)
    posttrain(post_cfg(data, run, steps=2, ckpt_every=1, precision="bf16"))
    assert dtypes and set(dtypes) == {torch.float32}, "the L1 losses stay fp32 under autocast"
    assert "training precision: bf16 autocast (forced: bf16)" in capsys.readouterr().out
    fp32 = tmp_path / "post_fp32"
    posttrain(post_cfg(data, fp32, steps=2, ckpt_every=1, precision="fp32"))
    bf16_rows, fp32_rows = _rows(run), _rows(fp32)
    assert [r["step"] for r in bf16_rows] == [1, 2]
    for key in ("loss", "teacher_forcing", "rollout"):
        assert bf16_rows[0][key] != fp32_rows[0][key], (key, "autocast was on")
        assert bf16_rows[0][key] == pytest.approx(fp32_rows[0][key], rel=0.05), key
    state = torch.load(run / "last.pt", weights_only=True)
    assert {v.dtype for v in state["predictor"].values() if v.is_floating_point()} == {torch.float32}
    other = shutil.copytree(run, tmp_path / "copy")  # at step 2
    posttrain(post_cfg(data, run, steps=4, ckpt_every=1, precision="fp32"))  # precision may change on resume
    assert [r["step"] for r in _rows(run)] == [1, 2, 3, 4]
    assert torch.load(run / "last.pt", weights_only=True)["step"] == 4
    posttrain(post_cfg(data, other, steps=3, ckpt_every=1, precision="auto"))  # and to auto
    assert torch.load(other / "last.pt", weights_only=True)["step"] == 3
