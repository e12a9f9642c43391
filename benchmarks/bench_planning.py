"""Planning speed of the learned agent: today's default path against the earlier one, measured in the same run.

For each variant it runs the shipped world model + planner on real FrankaReach-v0 observations and image goals
(receding horizon, one plan per env step) and prints:
  * ms per action (median over all plans), and the ratio against the first variant (the old default);
  * world-model evaluations per plan (samples x predicted frames actually rolled out);
  * the achieved fp32-equivalent FLOP rate of the planning loop (predictor matmul FLOPs / plan time) beside this
    machine's own fp32 matmul peak measured in the same run (the physical limit for these shapes).

Variants (``--variants``, default all of them):
  old-default   CEM 100 samples x 5 iterations, horizon 2, bf16 autocast forced (the eval default until issue 11)
  old-fp32      the same planner in fp32
  new-default   the current ``vjepa-eval`` defaults (agent.factory.CPU_PLANNER_DEFAULTS, bf16 "auto")
  new-fp32      the current defaults forced to fp32
  h2-fp32       the current defaults with horizon 2, fp32
  h3-fp32       the current defaults with horizon 3, fp32 (docs/manipulation.md: reach 65% -> 82% on sim_multitask)
``--model`` picks the world model (default the shipped one; e.g. sim_multitask, 96 px, 36 tokens per frame).
``--paper`` adds the paper-size predictor (AC ViT-g: 24 x 1024-d, 258 tokens per frame, random weights): seconds per
sample per predicted frame, extrapolated to one CEM iteration of 800 samples and to one action of 800 x 10
(the paper reports ~16 s per action on an RTX 4090).

Usage:  MUJOCO_GL=egl python3 benchmarks/bench_planning.py [--plans 12] [--variants old-fp32 new-default] [--paper]
        MUJOCO_GL=egl python3 benchmarks/bench_planning.py --model sim_multitask --variants new-fp32 h2-fp32 h3-fp32
No assertions: numbers depend on the machine (its CPU model is printed first); compare ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym  # noqa: E402
import torch  # noqa: E402

from world_model.config import ACPredictorConfig  # noqa: E402
from world_model.precision import cpu_flags, cpu_name  # noqa: E402

# the pre-issue-11 CEM defaults, spelled out in full (overrides are merged into today's defaults)
OLD_CEM = {"samples": 100, "topk": 10, "iterations": 5, "horizon": 2, "keep_elites": False, "early_stop_tol": 0.0,
           "min_iterations": 1}
VARIANTS: dict[str, tuple[dict | None, bool | str]] = {  # name -> (planner overrides or None = defaults, bf16)
    "old-default": (OLD_CEM, True),
    "old-fp32": (OLD_CEM, False),
    "new-default": (None, "auto"),
    "new-fp32": (None, False),
    "h2-fp32": ({"horizon": 2}, False),
    "h3-fp32": ({"horizon": 3}, False),
}


def matmul_peak_gflops(n: int = 1536, repeats: int = 5) -> float:
    """Best fp32 GFLOP/s of an n x n x n matmul with the current torch threads (the machine's practical peak)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def shaped_peak_gflops(cfg: ACPredictorConfig, rows: int, repeats: int = 5) -> float:
    """Best fp32 GFLOP/s of the predictor's own matmul shapes (rows = samples x tokens): qkv, proj, fc1, fc2."""
    d, m = cfg.dim, cfg.mlp_dim
    shapes = [(d, 3 * d), (d, d), (d, m), (m, d)]
    mats = [(torch.randn(rows, k), torch.randn(k, n)) for k, n in shapes]
    flops = sum(2 * rows * k * n for k, n in shapes)
    for x, w in mats:
        x @ w
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for x, w in mats:
            x @ w
        best = min(best, time.perf_counter() - t0)
    return flops / best / 1e9


def frame_pass_flops(cfg: ACPredictorConfig, patches: int, past_frames: int) -> float:
    """Matmul FLOPs of one sample's predictor pass over one new frame (cond + patch tokens) attending to
    ``past_frames`` cached frames: embeddings, every block (qkv, attention, proj, MLP) and the output head."""
    n = 2 + patches
    keys = (past_frames + 1) * n
    d, m = cfg.dim, cfg.mlp_dim
    block = 2 * n * d * 3 * d + 2 * 2 * n * keys * d + 2 * n * d * d + 2 * 2 * n * d * m
    return 2 * patches * cfg.enc_dim * d + cfg.depth * block + 2 * patches * d * cfg.enc_dim


@dataclass
class Measured:
    name: str
    ms_per_action: float
    frames_per_plan: float
    gflop_per_plan: float
    precision: str

    @property
    def gflops(self) -> float:
        return self.gflop_per_plan / (self.ms_per_action / 1e3)


def _count_frames(agent) -> list[int]:
    """Wrap agent.cost_fn so every rollout adds samples x horizon to the returned counter (per plan)."""
    counter = [0]
    build = agent.cost_fn

    def counting_cost_fn(*args, **kwargs):
        cost = build(*args, **kwargs)

        def wrapped(actions: torch.Tensor) -> torch.Tensor:
            counter[0] += actions.shape[0] * actions.shape[1] * actions.shape[2]
            return cost(actions)

        return wrapped

    agent.cost_fn = counting_cost_fn
    return counter


def measure(name: str, overrides: dict | None, bf16: bool | str, plans: int, seed: int,
            model: str = "shipped") -> Measured:
    import envs  # noqa: F401 - registers the env ids
    from agent.factory import make_agent, model_env_kwargs

    env = gym.make("FrankaReach-v0", **model_env_kwargs(model))
    agent = make_agent("learned", env, "cem", overrides, model, bf16=bf16, seed=seed)
    counter = _count_frames(agent)
    times, frames = [], []
    obs, info = env.reset(seed=seed)
    agent.reset()
    agent.plan(obs, info["goal"])  # warm-up (kernel selection, allocator)
    while len(times) < plans:
        counter[0] = 0
        result = agent.plan(obs, info["goal"])
        times.append(agent.plan_times[-1])
        frames.append(counter[0])
        obs, _, terminated, truncated, info = env.step(result.actions[0, 0].numpy())
        if terminated or truncated or info["is_success"]:
            obs, info = env.reset(seed=seed + len(times))
            agent.reset()
    env.close()
    cfg = agent.world_model.config.predictor
    patches = agent.world_model.tokens_per_frame
    horizon = agent.planner.horizon
    per_rollout = sum(frame_pass_flops(cfg, patches, t) for t in range(horizon)) / horizon  # per predicted frame
    frames_per_plan = statistics.mean(frames)
    return Measured(name, 1e3 * statistics.median(times), frames_per_plan, frames_per_plan * per_rollout / 1e9,
                    agent.runtime_info().get("precision_reason", ""))


def paper_size(samples: int, repeats: int) -> None:
    """Time the paper-size AC predictor (random weights) for ``samples`` samples, one predicted frame."""
    from world_model.ac_predictor import build_ac_predictor

    pred = build_ac_predictor("ac_vit_giant").eval()
    cfg = pred.config
    z = torch.randn(samples, 1, 256, cfg.enc_dim)
    a, s = torch.zeros(samples, 1, 7), torch.zeros(samples, 1, 7)
    flops = frame_pass_flops(cfg, 256, 0) * samples
    for label, bf16 in (("fp32", False), ("bf16 autocast", True)):
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            pred.forward_cached(z, a, s, last_frame_only=True)
            best = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                pred.forward_cached(z, a, s, last_frame_only=True)
                best = min(best, time.perf_counter() - t0)
        per = best / samples
        print(f"paper AC predictor ({label}): {per:.2f} s per sample-frame ({flops / best / 1e9:.0f} GFLOP/s); "
              f"one CEM iteration of 800 samples, horizon 1: {800 * per:.0f} s; one action (800 x 10): "
              f"{8000 * per / 60:.0f} min  [paper: ~16 s per action on an RTX 4090]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plans", type=int, default=12, help="timed plans per variant (after one warm-up)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--model", default="shipped", help="world model (a shipped name or a path base)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--paper", action="store_true", help="also time the paper-size predictor")
    parser.add_argument("--paper-samples", type=int, default=2)
    args = parser.parse_args()
    if args.plans < 1:
        parser.error("--plans must be >= 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    native = sorted(f for f in cpu_flags() if "bf16" in f or f.startswith("amx"))
    print(f"CPU: {cpu_name()}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"native bf16 flags: {', '.join(native) or 'none'}")
    from world_model.config import get_ac_predictor_config

    cfg = get_ac_predictor_config("ac_sim")
    peak = matmul_peak_gflops()
    shaped = shaped_peak_gflops(cfg, rows=100 * 18)
    print(f"fp32 matmul peak: {peak:.0f} GFLOP/s (1536^3); at the predictor's shapes (1800 rows): {shaped:.0f} GFLOP/s")
    rows = [measure(name, *VARIANTS[name], args.plans, args.seed, args.model) for name in args.variants]
    base = rows[0]
    print(f"\n{'variant':<13}{'ms/action':>10}{'speed-up':>10}{'frames/plan':>13}{'GFLOP/plan':>12}"
          f"{'GFLOP/s':>9}{'% peak':>8}  precision")
    for r in rows:
        print(f"{r.name:<13}{r.ms_per_action:>10.1f}{base.ms_per_action / r.ms_per_action:>9.2f}x"
              f"{r.frames_per_plan:>13.0f}{r.gflop_per_plan:>12.2f}{r.gflops:>9.1f}{100 * r.gflops / peak:>7.0f}%  "
              f"{r.precision or '-'}")
    print("\nGFLOP/s counts predictor matmul FLOPs (fp32-equivalent) over the whole plan time (encoding of the "
          "current image, planner arithmetic and Python included); % peak is against the 1536^3 fp32 matmul.")
    if args.paper:
        paper_size(args.paper_samples, repeats=2)


if __name__ == "__main__":
    main()
