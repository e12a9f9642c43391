"""The CUDA code paths, checked on a GPU machine (CI has none): inference parity, planning speed, training.

1. Parity: the shipped sim_multitask world model encodes 8 images and rolls out 32 two-step action sequences on
   the CPU (fp32) and on DEVICE (fp32 with TF32 off, then bf16 autocast); the largest absolute difference of the
   layer-normed latents is printed and must stay under 1e-3 (fp32) / 0.1 (bf16; latents are O(1)).
2. Planning: seconds per plan of the learned agent (CEM) with the package's CPU default budget (48 samples x 4
   iterations, horizon 1) and the paper's (800 x 10, horizon 1; 400 x 10, horizon 2), on DEVICE and on the CPU.
3. Training: V-JEPA pretraining and AC post-training for 20 steps on DEVICE (precision auto) on the small play
   dataset DATA (made with `vjepa-collect`), resumed to 30 steps; the post-trained model is then loaded on the
   CPU and must give the same latents as on DEVICE (to 1e-3).

Usage: python3 benchmarks/cuda_paths.py DATA [OUT] [DEVICE]   (DEVICE defaults to cuda; cpu dry-runs the script)
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from agent.agent import Agent, AgentConfig
from planners import make_planner, paper_bounds
from training.posttrain import PosttrainConfig, posttrain
from training.pretrain import PretrainConfig, pretrain
from world_model.checkpoint import load_world_model
from world_model.pretrained import load_pretrained, pretrained_path

MODEL = "sim_multitask"
BUDGETS = {"cpu default 48x4 h1": dict(samples=48, topk=10, iterations=4, horizon=1, keep_elites=True),
           "paper 800x10 h1": dict(samples=800, topk=10, iterations=10, horizon=1),
           "paper 400x10 h2": dict(samples=400, topk=10, iterations=10, horizon=2)}


def inputs(gen: torch.Generator) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    """8 random 96 px images, 32 two-step action sequences (m, rad, gripper) and their states."""
    images = torch.randint(0, 256, (8, 96, 96, 3), generator=gen, dtype=torch.uint8).numpy()
    actions = (torch.rand(32, 2, 7, generator=gen) - 0.5) * 0.1
    states = torch.rand(32, 2, 7, generator=gen) * 0.5
    return images, actions, states


@torch.inference_mode()
def latents(wm, images: np.ndarray, actions: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """Encoded frames (8, N, D) and the rollout from the first one (32, 2, N, D), flattened, on the CPU."""
    z = wm.encode(images)
    dev = z.device
    pred = wm.rollout(z[:1], actions.to(dev), states.to(dev))
    return torch.cat([z.float().flatten(), pred.float().flatten()]).cpu()


def parity(device: str) -> dict:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    data = inputs(torch.Generator().manual_seed(0))
    ref = latents(load_pretrained(MODEL), *data)
    fp32 = latents(load_pretrained(MODEL, device=device), *data)
    bf16 = latents(load_pretrained(MODEL, device=device, autocast_bf16=True), *data)
    out = {"fp32_max_abs_diff": float((fp32 - ref).abs().max()), "bf16_max_abs_diff": float((bf16 - ref).abs().max()),
           "latent_abs_mean": float(ref.abs().mean())}
    print("parity", out, flush=True)
    assert out["fp32_max_abs_diff"] < 1e-3 and out["bf16_max_abs_diff"] < 0.1, out
    return out


def plan_seconds(device: str, budget: dict) -> float:
    wm = load_pretrained(MODEL, device=device)
    agent = Agent(wm, make_planner("cem", paper_bounds(), **budget), AgentConfig(seed=0))
    images, _, _ = inputs(torch.Generator().manual_seed(1))
    obs = {"image": images[0], "state": np.array([0.5, 0.0, 0.3, np.pi, 0.0, 0.0, 0.0], np.float32)}
    goal = {"image": images[1]}
    repeats = 1 if device == "cpu" else 5
    agent.plan(obs, goal)  # warm-up (CUDA kernels, caches)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        agent.plan(obs, goal)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def planning(device: str) -> dict:
    out = {}
    for name, budget in BUDGETS.items():
        out[name] = {dev: round(plan_seconds(dev, budget), 4) for dev in (device, "cpu")}
        print("plan s", name, out[name], flush=True)
    return out


def training(data: str, out_dir: Path, device: str) -> dict:
    pre = dict(data_dir=data, out_dir=str(out_dir / "pretrain"), encoder="vit_sim96", image_size=96, warmup=5,
               decay=5, ckpt_every=10, device=device, batch_size=8)
    t0 = time.perf_counter()
    pretrain(PretrainConfig(**pre, steps=20))
    pretrain(PretrainConfig(**pre, steps=30))  # resumes at 20
    post = dict(data_dir=data, out_dir=str(out_dir / "posttrain"), model="sim_tiny96", warmup=5, decay=5,
                ckpt_every=10, device=device, batch_size=8,
                encoder_checkpoint=str(out_dir / "pretrain" / "encoder.pt"))
    posttrain(PosttrainConfig(**post, steps=20))
    path = posttrain(PosttrainConfig(**post, steps=30))
    seconds = time.perf_counter() - t0
    log = [json.loads(line) for line in (out_dir / "posttrain" / "log.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in log if "step" in r]
    base = Path(str(path).removesuffix(".safetensors"))
    data_in = inputs(torch.Generator().manual_seed(2))
    diff = float((latents(load_world_model(base, device=device), *data_in)
                  - latents(load_world_model(base, device="cpu"), *data_in)).abs().max())
    out = {"seconds": round(seconds, 1), "posttrain_steps_logged": len(steps), "last_step": max(steps),
           "cuda_vs_cpu_max_abs_diff": diff, "final_loss": log[-1].get("loss")}
    print("training", out, flush=True)
    assert max(steps) == 30 and diff < 1e-3, out
    return out


def main() -> None:
    data = sys.argv[1]
    out_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("outputs/cuda_paths")
    device = sys.argv[3] if len(sys.argv) > 3 else "cuda"
    out_dir.mkdir(parents=True, exist_ok=True)
    info = {"torch": torch.__version__, "device": device,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "cpu_threads": torch.get_num_threads(), "model": str(pretrained_path(MODEL))}
    print(info, flush=True)
    result = {"info": info, "parity": parity(device), "planning": planning(device),
              "training": training(data, out_dir, device)}
    (out_dir / "cuda_paths.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
