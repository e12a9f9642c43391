"""Env throughput benchmark: step + render at 64/128/256 px, and oracle ``simulate()`` cost.

Measures, in one run and on the same machine:

* our Franka envs (``FrankaReach-v0`` ... from :mod:`envs`, skipped with a note if not importable),
* the robosuite adapters (``RobosuiteLift-v0`` ...) with the fast renderer (no shadows/reflections/skybox)
  and with MuJoCo's default scene flags (``fast_render=False``),
* robosuite's own default pipeline (``robosuite.make(..., use_camera_obs=True)`` with its offscreen
  renderer at the same camera size) as the reference: ``ratio`` = reference ms/step / this ms/step
  (> 1 means faster than robosuite's default),
* ``simulate()`` (one control step without rendering), ms per call,
* ``reset()`` including building the goal (robosuite adapters: scripted goal policy), ms per call,
* with ``--randomize PRESET ...``: the Franka envs again with scene randomisation (:mod:`envs.randomization`).

Usage::

    MUJOCO_GL=egl python3 benchmarks/bench_envs.py                # all envs, 64/128/256 px
    MUJOCO_GL=egl python3 benchmarks/bench_envs.py --steps 20 --sizes 64 --envs RobosuiteLift-v0
    MUJOCO_GL=egl python3 benchmarks/bench_envs.py --envs FrankaPickPlace-v0 --randomize all --no-reference

No assertions: numbers depend on the machine (CPU count, EGL vs OSMesa).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Callable

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

FRANKA_IDS = ("FrankaReach-v0", "FrankaGrasp-v0", "FrankaReachWithObject-v0", "FrankaPickPlace-v0")
ROBOSUITE_IDS = ("RobosuiteLift-v0", "RobosuiteStack-v0", "RobosuitePickPlace-v0")
ROBOSUITE_NATIVE_NAME = {"RobosuiteLift-v0": "Lift", "RobosuiteStack-v0": "Stack", "RobosuitePickPlace-v0": "PickPlaceCan"}


def _time_calls(fn: Callable[[], object], steps: int, warmup: int = 3) -> float:
    """Mean milliseconds per call of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - start) * 1e3 / steps


def _random_actions(space: gym.spaces.Box, seed: int = 0) -> Callable[[], np.ndarray]:
    rng = np.random.default_rng(seed)
    scale = 0.2  # small actions keep the arm in its workspace for the whole run
    return lambda: (rng.uniform(space.low, space.high) * scale).astype(np.float32)


def bench_gym_env(env_id: str, image_size: int, steps: int, **kwargs: object) -> tuple[float, float, float]:
    """(ms per step+render, ms per simulate(), ms per reset incl. goal) of a gymnasium id built with ``kwargs``."""
    env = gym.make(env_id, image_size=image_size, max_episode_steps=10 * steps + 100, **kwargs)
    try:
        seeds = iter(range(10**6))
        reset_ms = _time_calls(lambda: env.reset(seed=next(seeds)), steps=3, warmup=1)
        env.reset(seed=0)
        sample = _random_actions(env.action_space)
        step_ms = _time_calls(lambda: env.step(sample()), steps)
        env.reset(seed=0)
        sim_ms = _time_calls(lambda: env.unwrapped.simulate(sample()), steps)
    finally:
        env.close()
    return step_ms, sim_ms, reset_ms


def bench_robosuite_native(env_id: str, image_size: int, steps: int) -> float:
    """ms per ``env.step`` of robosuite with its default offscreen renderer producing camera obs."""
    import robosuite
    from robosuite.controllers import load_composite_controller_config

    env = robosuite.make(
        ROBOSUITE_NATIVE_NAME[env_id],
        robots="Panda",
        controller_configs=load_composite_controller_config(controller="BASIC", robot="Panda"),
        has_renderer=False,
        has_offscreen_renderer=True,
        use_camera_obs=True,
        camera_names="agentview",
        camera_heights=image_size,
        camera_widths=image_size,
        hard_reset=False,
        ignore_done=True,
    )
    try:
        env.reset()
        low, high = env.action_spec
        rng = np.random.default_rng(0)
        step_ms = _time_calls(lambda: env.step(rng.uniform(low, high) * 0.2), steps)
    finally:
        env.close()
    return step_ms


def _row(name: str, size: int, step_ms: float, sim_ms: float | None, ref_ms: float | None,
         reset_ms: float | None = None) -> str:
    sim = f"{sim_ms:9.2f}" if sim_ms is not None else f"{'-':>9}"
    reset = f"{reset_ms:9.1f}" if reset_ms is not None else f"{'-':>9}"
    ratio = f"{ref_ms / step_ms:6.2f}x" if ref_ms is not None else f"{'-':>7}"
    return f"{name:<44} {size:>4} {step_ms:9.2f} {1e3 / step_ms:9.1f} {sim} {reset} {ratio}"


def _franka_extra_rows(env_id: str, size: int, args: argparse.Namespace) -> None:
    """One row per requested randomisation preset for a Franka env."""
    for preset in args.randomize:
        step_ms, sim_ms, reset_ms = bench_gym_env(env_id, size, args.steps, randomize=preset)
        print(_row(f"{env_id} (randomize={preset})", size, step_ms, sim_ms, None, reset_ms), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per measurement")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--envs", nargs="+", default=None, help="subset of ids (default: all available)")
    parser.add_argument("--randomize", nargs="+", default=[], help="also time the Franka envs with these "
                        "scene-randomisation presets (e.g. all lighting noise)")
    parser.add_argument("--no-reference", action="store_true", help="skip robosuite's own renderer rows")
    args = parser.parse_args()

    import envs  # noqa: F401  (registers the Franka ids if the envs package provides them)
    from envs.robosuite_adapters import register_robosuite_envs

    register_robosuite_envs()
    wanted = args.envs or list(FRANKA_IDS[:1]) + list(ROBOSUITE_IDS)
    available = [e for e in wanted if e in gym.registry]
    for missing in sorted(set(wanted) - set(available)):
        print(f"# skipping {missing}: not registered (import envs did not provide it)")

    print(f"# {args.steps} timed steps per row; ratio = robosuite default renderer ms/step / row ms/step")
    print(f"{'env':<44} {'px':>4} {'ms/step':>9} {'steps/s':>9} {'sim ms':>9} {'reset ms':>9} {'ratio':>7}")
    for size in args.sizes:
        for env_id in available:
            ref_ms = None
            if env_id in ROBOSUITE_NATIVE_NAME and not args.no_reference:
                ref_ms = bench_robosuite_native(env_id, size, args.steps)
            step_ms, sim_ms, reset_ms = bench_gym_env(env_id, size, args.steps)
            print(_row(env_id, size, step_ms, sim_ms, ref_ms, reset_ms), flush=True)
            if env_id in ROBOSUITE_NATIVE_NAME and not args.no_reference:
                slow_ms, _, _ = bench_gym_env(env_id, size, args.steps, fast_render=False)
                print(_row(f"{env_id} (fast_render=False)", size, slow_ms, None, ref_ms), flush=True)
                print(_row(f"robosuite {ROBOSUITE_NATIVE_NAME[env_id]} default renderer", size, ref_ms, None, ref_ms))
            elif env_id in FRANKA_IDS:
                _franka_extra_rows(env_id, size, args)
            if env_id in FRANKA_IDS and not args.no_reference:
                lift_ref = bench_robosuite_native("RobosuiteLift-v0", size, args.steps)
                print(_row(f"  (vs robosuite Lift default renderer)", size, step_ms, None, lift_ref), flush=True)


if __name__ == "__main__":
    main()
