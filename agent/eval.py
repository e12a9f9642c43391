"""The sim evaluation suite: N seeded episodes per task -> results.json, per-episode mp4, summary table.

An episode ends at success (judged from the TRUE simulator state by ``env.is_success()``) or after
``max_steps`` actions. results.json is rewritten atomically after every episode and an interrupted run
resumes where it stopped (episodes already in the file are skipped).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from agent.stats import wilson_interval


@dataclass(frozen=True)
class EvalConfig:
    tasks: tuple[str, ...] = ("FrankaReach-v0",)
    episodes: int = 10
    seed: int = 1000
    image_size: int = 64
    max_steps: int | None = None  # None: the task's max_episode_steps
    video: bool = True
    out_dir: str = "outputs/eval"


@dataclass
class EpisodeResult:
    task: str
    seed: int
    success: bool
    steps: int
    final_distance: float
    initial_distance: float
    plan_time_s: float  # mean planning time per action
    video: str | None = None


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def summarise(episodes: list[dict]) -> dict[str, Any]:
    n = len(episodes)
    wins = sum(e["success"] for e in episodes)
    lo, hi = wilson_interval(wins, n)
    mean = lambda k: float(np.mean([e[k] for e in episodes])) if n else float("nan")  # noqa: E731
    return {"episodes": n, "successes": wins, "success_rate": wins / n if n else 0.0, "ci95": [lo, hi],
            "mean_final_distance_m": mean("final_distance"), "mean_steps": mean("steps"),
            "mean_plan_time_s": mean("plan_time_s")}


def run_episode(env: gym.Env, agent, seed: int, max_steps: int, video_path: Path | None) -> EpisodeResult:
    from envs.video import write_video

    obs, info = env.reset(seed=seed)
    goal = info["goal"]
    agent.reset()
    frames = [obs["image"]]
    initial = info["task_distance"]
    steps, success = 0, bool(info["is_success"])
    while not success and steps < max_steps:
        action = agent.act(obs, goal)
        obs, _, terminated, truncated, info = env.step(action)
        frames.append(obs["image"])
        steps += 1
        success = bool(info["is_success"])
        if terminated:
            break
    times = getattr(agent, "plan_times", []) or [0.0]
    if video_path is not None:
        write_video(video_path, frames, fps=env.unwrapped.control_hz, goal=goal["image"])
    return EpisodeResult(env.unwrapped.task_name, seed, success, steps, float(info["task_distance"]), float(initial),
                         float(np.mean(times)), str(video_path) if video_path else None)


def run_suite(cfg: EvalConfig, make_agent: Callable[[gym.Env], Any], label: str = "agent") -> dict[str, Any]:
    """Evaluate ``make_agent(env)`` on every task; returns (and writes) the results dict."""
    import envs  # noqa: F401 - registers the env ids

    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    results.update({"agent": label, "config": asdict(cfg)})
    results.setdefault("tasks", {})
    for task in cfg.tasks:
        env = gym.make(task, image_size=cfg.image_size)
        max_steps = cfg.max_steps or env.spec.max_episode_steps
        agent = make_agent(env)
        done = {e["seed"]: e for e in results["tasks"].get(task, {}).get("episodes", [])}
        episodes = [done[s] for s in sorted(done)]
        bar = tqdm(range(cfg.episodes), desc=f"{label} {task}")
        for i in bar:
            seed = cfg.seed + i
            if seed in done:
                continue
            video = out / "videos" / f"{task}_seed{seed}.mp4" if cfg.video else None
            ep = asdict(run_episode(env, agent, seed, max_steps, video))
            episodes.append(ep)
            results["tasks"][task] = {"episodes": episodes, "summary": summarise(episodes)}
            _write_json(path, results)
            bar.set_postfix(success=f"{results['tasks'][task]['summary']['success_rate']:.2f}")
        results["tasks"][task] = {"episodes": episodes, "summary": summarise(episodes)}
        _write_json(path, results)
        env.close()
    return results


def format_table(results: dict[str, Any]) -> str:
    lines = [f"agent: {results.get('agent')}",
             f"{'task':<28}{'success':>10}{'95% CI':>16}{'final dist (m)':>16}{'steps':>8}{'plan s/act':>12}"]
    for task, r in results["tasks"].items():
        s = r["summary"]
        lines.append(f"{task:<28}{s['successes']:>4}/{s['episodes']:<5}{s['ci95'][0]:>8.2f}-{s['ci95'][1]:.2f}"
                     f"{s['mean_final_distance_m']:>14.3f}{s['mean_steps']:>10.1f}{s['mean_plan_time_s']:>12.3f}")
    return "\n".join(lines)
