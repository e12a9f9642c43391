"""Pick the device and the numeric precision for planning from the hardware, not from a fixed default.

bf16 is ~2.5x faster than fp32 on CPUs with native bf16 matrix kernels (AVX512-BF16 / AMX) and on CUDA GPUs, but
5-7x SLOWER on CPUs that only emulate it (e.g. AVX2-only AMD EPYC). ``resolve_precision("auto", device)`` uses bf16
only where it pays: on CUDA when the GPU supports bf16, on a CPU only when the CPU advertises native bf16
instructions AND a short measured probe (the same matmul in fp32 and in bf16 autocast, ~50 ms) shows bf16 faster.
``True``/``False`` (or "true"/"false") force the choice. The decision and its reason are reported in
:class:`PrecisionChoice` (written into the eval results JSON).
"""

from __future__ import annotations

import functools
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
PROBE_MIN_SPEEDUP = 1.2  # bf16 must beat fp32 by this factor in the probe to be chosen


@dataclass(frozen=True)
class PrecisionChoice:
    """bf16: use bf16 autocast for the world model. reason: why (for logs / results JSON)."""

    bf16: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """"auto" -> CUDA when available, else CPU; "cuda" without a GPU is an error (never a silent CPU run)."""
    if isinstance(device, torch.device):
        return device
    name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available (use device=auto or cpu)")
    return dev


def parse_bf16(value: bool | str | None) -> bool | None:
    """True/False/"auto"/None (None = auto) from a bool or a string ("true", "false", "auto", "1", "0")."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "auto":
        return None
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"bf16 must be auto, true or false, got {value!r}")


def _cpuinfo_field(key: str) -> str | None:
    """The value of the first ``key`` line of /proc/cpuinfo (None where unavailable, e.g. macOS)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags() -> set[str]:
    """CPU feature flags from /proc/cpuinfo (empty where unavailable, e.g. macOS)."""
    return set((_cpuinfo_field("flags") or "").split())


def cpu_name() -> str:
    """The CPU model name (as lscpu prints it) for timing reports."""
    return _cpuinfo_field("model name") or platform.processor() or platform.machine()


def _autocast(bf16: bool) -> torch.autocast:
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)


def probe_cpu_bf16_speedup(rows: int = 1024, dim: int = 512, repeats: int = 5) -> float:
    """fp32 time / bf16-autocast time of a (rows x dim) @ (dim x 2*dim) matmul on this CPU (> 1: bf16 faster).

    Both variants are warmed up twice (library initialisation, kernel JIT, weight packing), then timed in
    alternation; the best time of each is compared, which is robust to other processes sharing the CPU."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(rows, dim, generator=g)
    w = torch.randn(dim, 2 * dim, generator=g)
    best = {False: float("inf"), True: float("inf")}
    with torch.inference_mode():
        for rep in range(repeats + 2):
            for bf16 in (False, True):
                with _autocast(bf16):
                    t0 = time.perf_counter()
                    x @ w
                    if rep >= 2:
                        best[bf16] = min(best[bf16], time.perf_counter() - t0)
    return best[False] / best[True]


@functools.lru_cache(maxsize=None)
def _auto_cpu() -> PrecisionChoice:
    flags = cpu_flags()
    native = sorted(f for f in BF16_CPU_FLAGS if f in flags)
    if flags and not native:
        return PrecisionChoice(False, "auto: fp32 (CPU has no native bf16 instructions: bf16 would be emulated)")
    speedup = probe_cpu_bf16_speedup()
    which = ", ".join(native) if native else "flags unknown"
    if speedup >= PROBE_MIN_SPEEDUP:
        return PrecisionChoice(True, f"auto: bf16 (CPU {which}; probe bf16 {speedup:.2f}x faster than fp32)")
    return PrecisionChoice(False, f"auto: fp32 (CPU {which}; probe bf16 only {speedup:.2f}x the fp32 speed)")


def resolve_precision(bf16: bool | str | None = "auto", device: str | torch.device = "cpu") -> PrecisionChoice:
    """Decide bf16 autocast for a world model on ``device`` (see the module docstring)."""
    forced = parse_bf16(bf16)
    if forced is not None:
        return PrecisionChoice(forced, f"forced: {'bf16' if forced else 'fp32'}")
    dev = resolve_device(device)
    if dev.type == "cuda":
        ok = torch.cuda.is_bf16_supported()
        return PrecisionChoice(ok, f"auto: {'bf16' if ok else 'fp32'} on CUDA ({torch.cuda.get_device_name(dev)})")
    if dev.type != "cpu":
        return PrecisionChoice(False, f"auto: fp32 on {dev.type}")
    return _auto_cpu()
