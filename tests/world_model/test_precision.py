"""Precision and device are chosen by the hardware (issue 11): bf16 only where it is native, CUDA when present,
and a model cast to bf16/fp16 works in encode / predict / rollout."""

import numpy as np
import pytest
import torch

from world_model import precision as P
from world_model.model import build_world_model


@pytest.mark.parametrize("value,expected", [("auto", None), (None, None), (True, True), ("true", True), ("1", True),
                                            (False, False), ("false", False), ("0", False)])
def test_parse_bf16(value, expected):
    assert P.parse_bf16(value) is expected


def test_parse_bf16_rejects_garbage():
    with pytest.raises(ValueError, match="bf16 must be auto, true or false, got 'maybe'"):
        P.parse_bf16("maybe")


def test_forced_precision_does_not_probe(monkeypatch):
    monkeypatch.setattr(P, "probe_cpu_bf16_speedup", lambda: pytest.fail("probed"))
    assert P.resolve_precision(True).bf16 and not P.resolve_precision(False).bf16


def _auto_with(monkeypatch, flags, speedup):
    P._auto_cpu.cache_clear()
    monkeypatch.setattr(P, "cpu_flags", lambda: set(flags))
    monkeypatch.setattr(P, "probe_cpu_bf16_speedup", lambda: speedup)
    try:
        return P.resolve_precision("auto", "cpu")
    finally:
        P._auto_cpu.cache_clear()


def test_auto_is_fp32_on_an_avx2_only_cpu_without_probing(monkeypatch):
    choice = _auto_with(monkeypatch, {"avx2", "fma"}, float("nan"))
    assert not choice.bf16 and "no native bf16" in choice.reason


def test_auto_is_bf16_only_when_native_and_measured_faster(monkeypatch):
    assert _auto_with(monkeypatch, {"avx2", "avx512_bf16"}, 2.5).bf16
    slow = _auto_with(monkeypatch, {"avx2", "amx_bf16"}, 0.2)  # flags say yes, the probe says emulated/slow
    assert not slow.bf16 and "0.20x" in slow.reason


def test_probe_returns_a_positive_ratio():
    assert P.probe_cpu_bf16_speedup(rows=64, dim=32, repeats=1) > 0


def test_resolve_device():
    assert P.resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert P.resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device must be"):
        P.resolve_device("tpu-ish")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            P.resolve_device("cuda")


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_model_cast_to_low_precision_encodes_predicts_and_rolls_out(dtype):
    """Regression (issue 11): rollout fed fp32 layer-normed latents into a bf16 predictor ('mat1 and mat2 must
    have the same dtype')."""
    torch.manual_seed(0)
    ref = build_world_model("sim_tiny").eval()
    low = build_world_model("sim_tiny").eval()
    low.load_state_dict(ref.state_dict())
    low = low.to(dtype)
    img = np.random.default_rng(0).integers(0, 255, (2, 64, 64, 3), dtype=np.uint8)
    actions, states = torch.randn(3, 2, 7) * 0.02, torch.randn(3, 2, 7) * 0.1
    with torch.inference_mode():
        z_ref, z = ref.encode(img), low.encode(img)
        roll_ref, roll = ref.rollout(z_ref[:1], actions, states), low.rollout(z[:1], actions, states)
        pred = low.predict(z[None], actions[:1], states[:1])
    assert z.dtype == roll.dtype == pred.dtype == torch.float32
    assert roll.shape == roll_ref.shape == (3, 2, 16, 192) and pred.shape == (1, 2, 16, 192)
    # layer-normed latents have unit scale: low precision stays close to fp32
    assert (z - z_ref).abs().mean() < 0.05 and (roll - roll_ref).abs().mean() < 0.05


def test_f24_eval_and_make_agent_default_to_auto_precision():
    """Regression (F24): vjepa-eval defaulted to bf16 autocast, 5-7x slower on AVX2-only CPUs."""
    import inspect
    from pathlib import Path

    from omegaconf import OmegaConf

    from agent.factory import make_agent

    cfg = OmegaConf.load(Path(__file__).resolve().parents[2] / "configs" / "eval" / "eval.yaml")
    assert str(cfg.bf16) == "auto"
    assert inspect.signature(make_agent).parameters["bf16"].default == "auto"
