"""World-model throughput: predictor rollout (samples x horizon predicted frames per second), KV-cached vs
recompute, fp32 vs bf16 autocast; optionally encoder images/s.

Usage (CPU laptop):
    python3 benchmarks/bench_world_model.py                      # sim_tiny, 64 samples, horizon 2
    python3 benchmarks/bench_world_model.py --config ac_vit_giant --samples 2 --repeats 1
    python3 benchmarks/bench_world_model.py --config all --device cuda --samples 400 --paper-samples 100

Random weights (timing does not depend on values). Prints absolute rates and ratios; no assertions.
The paper config is ViT-g encoder (1408/40/22) + AC predictor (1024/24/16, 256 patch tokens per frame).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import torch

from world_model.model import WORLD_MODEL_CONFIGS, WorldModel


@dataclass
class Result:
    config: str
    mode: str
    samples: int
    horizon: int
    seconds: float

    @property
    def frames_per_s(self) -> float:
        return self.samples * self.horizon / self.seconds


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def build(name: str, device: torch.device) -> WorldModel:
    """Random-weight model without the slow truncated-normal init (meta -> empty -> N(0, 0.02))."""
    with torch.device("meta"):
        wm = WorldModel(WORLD_MODEL_CONFIGS[name])
    wm = wm.to_empty(device=device).eval()
    with torch.no_grad():
        for p in wm.parameters():
            p.normal_(0.0, 0.02)
    return wm


def time_rollout(wm: WorldModel, samples: int, horizon: int, cached: bool, bf16: bool, repeats: int,
                 device: torch.device) -> float:
    """Median seconds of one rollout call from one context frame (B=samples, H=horizon)."""
    n, d = wm.tokens_per_frame, wm.latent_dim
    z = torch.randn(1, 1, n, d, device=device)
    actions = torch.randn(samples, horizon, 7, device=device) * 0.05
    states = torch.randn(samples, horizon, 7, device=device)
    wm.autocast_bf16 = bf16
    times = []
    with torch.inference_mode():
        wm.rollout(z, actions, states, use_cache=cached)  # warm-up
        for _ in range(repeats):
            _sync(device)
            t0 = time.perf_counter()
            wm.rollout(z, actions, states, use_cache=cached)
            _sync(device)
            times.append(time.perf_counter() - t0)
    wm.autocast_bf16 = False
    return sorted(times)[len(times) // 2]


def time_encode(wm: WorldModel, batch: int, repeats: int, device: torch.device, bf16: bool) -> float:
    images = torch.randint(0, 256, (batch, wm.image_size, wm.image_size, 3), dtype=torch.uint8)
    wm.autocast_bf16 = bf16
    wm.encode(images[:1])
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        wm.encode(images)
        _sync(device)
        times.append(time.perf_counter() - t0)
    wm.autocast_bf16 = False
    return sorted(times)[len(times) // 2]


def bench_config(name: str, samples: int, horizon: int, repeats: int, device: torch.device,
                 encode_batch: int) -> list[Result]:
    t0 = time.perf_counter()
    wm = build(name, device)
    n_pred = sum(p.numel() for p in wm.predictor.parameters()) / 1e6
    n_enc = sum(p.numel() for p in wm.encoder.parameters()) / 1e6
    print(f"\n[{name}] encoder {n_enc:.0f}M + predictor {n_pred:.0f}M params, {wm.tokens_per_frame} tokens/frame, "
          f"built in {time.perf_counter() - t0:.1f}s; samples={samples} horizon={horizon} repeats={repeats}")
    results = []
    for bf16 in (False, True):
        for cached in (True, False):
            mode = f"{'cached' if cached else 'recompute'}-{'bf16' if bf16 else 'fp32'}"
            s = time_rollout(wm, samples, horizon, cached, bf16, repeats, device)
            r = Result(name, mode, samples, horizon, s)
            results.append(r)
            print(f"  rollout {mode:17s} {s * 1e3:10.1f} ms/call  {r.frames_per_s:10.1f} sample-steps/s")
    by = {r.mode: r.seconds for r in results}
    print(f"  speed-up cached vs recompute: fp32 x{by['recompute-fp32'] / by['cached-fp32']:.2f}, "
          f"bf16 x{by['recompute-bf16'] / by['cached-bf16']:.2f}")
    print(f"  speed-up bf16 vs fp32 (cached): x{by['cached-fp32'] / by['cached-bf16']:.2f}")
    if encode_batch > 0:
        for bf16 in (False, True):
            s = time_encode(wm, encode_batch, repeats, device, bf16)
            print(f"  encode {'bf16' if bf16 else 'fp32'}: {encode_batch / s:8.2f} images/s (batch {encode_batch})")
    del wm
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="sim_tiny", choices=["sim_tiny", "ac_vit_giant", "all"])
    ap.add_argument("--samples", type=int, default=64, help="rollout batch (planner samples) for sim_tiny")
    ap.add_argument("--paper-samples", type=int, default=2, help="rollout batch for ac_vit_giant (CPU: keep small)")
    ap.add_argument("--horizon", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--encode-batch", type=int, default=8, help="images per encode call (0 = skip)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch threads on CPU (0 = torch default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    names = ["sim_tiny", "ac_vit_giant"] if args.config == "all" else [args.config]
    for name in names:
        paper = name == "ac_vit_giant"
        samples = args.paper_samples if paper else args.samples
        bench_config(name, samples, args.horizon, args.repeats, device,
                     min(args.encode_batch, 2) if paper and device.type == "cpu" else args.encode_batch)
        if paper and device.type == "cpu":
            print(f"  note: paper config measured per call with {samples} samples (planner uses 400 x 10 iterations)")


if __name__ == "__main__":
    main()
