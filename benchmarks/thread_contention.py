"""How much a multi-threaded torch job slows down when other processes keep the cores busy.

Measured on one machine, in one run: the frozen encoder of a world model encoding 31-frame episodes (what
post-training does before its first step, ``training.posttrain.encode_dataset``) with 1 and ``--threads`` torch
threads, first on an idle CPU, then beside ``--busy`` processes that each step and render a simulated env (as an
evaluation worker or a data collector does; ``--load spin``: a pure Python loop instead). Prints frames per second
and each row's ratio to the idle one-thread row.

Why: on the 2-core development machine (AMD EPYC, AVX2) a post-training run with ``threads=2`` encoded ~1 episode
per second while two evaluation workers ran beside it, against ~6 per second for a one-thread process beside the
same load: torch's worker threads wait for each other at every parallel region, and a thread that lost its core
holds the others up. Give a torch job no more threads than the cores left free (``vjepa-posttrain threads=1``
beside one other busy process on 2 cores), or pause the other work.

Usage::

    python3 benchmarks/thread_contention.py                       # shipped sim_wrist, threads 1 and 2, 2 busy
    python3 benchmarks/thread_contention.py --model sim_multitask_distilled --threads 2 --busy 1 --seconds 5

No assertions: numbers depend on the CPU (quote ``lscpu`` with them).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import time

import numpy as np
import torch


def spin(stop) -> None:
    """Keep one core busy until ``stop`` is set (pure Python)."""
    x = 0
    while not stop.is_set():
        for _ in range(10000):
            x += 1


def simulate(stop) -> None:
    """Step and render a reach env with random actions until ``stop`` is set: what an evaluation worker or a data
    collector does (MuJoCo physics and offscreen rendering, which on a CPU is Mesa llvmpipe with its own threads)."""
    import gymnasium as gym

    import envs  # noqa: F401  (registers the envs)

    env = gym.make("FrankaReach-v0", image_size=96, camera="workspace_wrist", max_episode_steps=10**9)
    env.reset(seed=0)
    env.action_space.seed(0)
    while not stop.is_set():
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()


LOADS = {"simulate": simulate, "spin": spin}


def frames_per_second(model, frames: np.ndarray, threads: int, seconds: float) -> float:
    """Frames encoded per second by ``model`` with ``threads`` torch threads, over about ``seconds``."""
    torch.set_num_threads(threads)
    with torch.no_grad():
        model.encode(frames)  # warm-up
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            model.encode(frames)
            done += len(frames)
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="sim_wrist", help="shipped world model name or path base")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="the multi-threaded row's count")
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2, help="busy processes in the loaded rows")
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring time per row")
    parser.add_argument("--load", choices=sorted(LOADS), default="simulate",
                        help="what each busy process does: simulate (step + render an env, as an evaluation "
                             "worker) or spin (a pure Python loop)")
    args = parser.parse_args()

    from agent.factory import resolve_model_path
    from world_model.checkpoint import load_world_model

    model = load_world_model(resolve_model_path(args.model)).eval()
    size = model.image_size
    frames = np.random.default_rng(0).integers(0, 255, (31, size, size, 3), dtype=np.uint8)  # one episode
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; torch {torch.__version__}; "
          f"model {args.model} ({size} px), 31-frame batches")
    rows = []
    for busy in (0, args.busy):
        ctx = mp.get_context("spawn")  # a fresh interpreter: no torch threads or GL state inherited
        stop = ctx.Event()
        workers = [ctx.Process(target=LOADS[args.load], args=(stop,), daemon=True) for _ in range(busy)]
        for w in workers:
            w.start()
        time.sleep(5.0 if busy else 0.0)  # let them start up (imports, scene build) before measuring
        try:
            for threads in sorted({1, args.threads}):
                rows.append((busy, threads, frames_per_second(model, frames, threads, args.seconds)))
            if not all(w.is_alive() for w in workers):
                raise RuntimeError("a busy process died during the measurement (its traceback is above)")
        finally:
            stop.set()
            for w in workers:
                w.join()
    base = rows[0][2]
    print(f"busy processes: {args.load}")
    print(f"{'busy processes':>15} {'torch threads':>14} {'frames/s':>9} {'vs idle, 1 thread':>18}")
    for busy, threads, fps in rows:
        print(f"{busy:>15} {threads:>14} {fps:>9.1f} {fps / base:>17.2f}x")


if __name__ == "__main__":
    main()
