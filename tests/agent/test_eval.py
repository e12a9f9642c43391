"""Evaluation suite, oracle/random agents and the CLI."""

import json
import os
import subprocess
import sys

import gymnasium as gym
import pytest

import envs  # noqa: F401
from agent.eval import EvalConfig, format_table, run_suite
from agent.factory import make_agent
from agent.stats import wilson_interval


def test_wilson_interval():
    lo, hi = wilson_interval(45, 50)
    assert 0.78 < lo < 0.79 and 0.95 < hi < 0.97
    assert wilson_interval(0, 0) == (0.0, 0.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_suite_writes_json_and_resumes(tmp_path):
    cfg = EvalConfig(episodes=2, max_steps=3, out_dir=str(tmp_path), video=True)
    res = run_suite(cfg, lambda env: make_agent("random", env), "random")
    data = json.loads((tmp_path / "results.json").read_text())
    summary = data["tasks"]["FrankaReach-v0"]["summary"]
    assert summary["episodes"] == 2 and 0 <= summary["success_rate"] <= 1
    assert len(list((tmp_path / "videos").glob("*.mp4"))) == 2
    assert "FrankaReach-v0" in format_table(res)
    calls = []

    def factory(env):
        agent = make_agent("random", env)
        orig = agent.act
        agent.act = lambda *a: calls.append(1) or orig(*a)
        return agent

    res = run_suite(EvalConfig(episodes=3, max_steps=3, out_dir=str(tmp_path), video=False), factory, "random")
    assert res["tasks"]["FrankaReach-v0"]["summary"]["episodes"] == 3
    assert 0 < len(calls) <= 3, "only the one missing episode may run"


@pytest.mark.slow
def test_oracle_reaches_90_percent():
    env = gym.make("FrankaReach-v0", image_size=64)
    agent = make_agent("oracle", env, "cem")
    wins = 0
    for seed in range(10):
        obs, info = env.reset(seed=seed)
        agent.reset()
        for _ in range(env.spec.max_episode_steps):
            obs, _, _, _, info = env.step(agent.act(obs, info["goal"]))
            if info["is_success"]:
                break
        wins += info["is_success"]
    env.close()
    assert wins >= 9, f"oracle success {wins}/10"


def test_cli_random_smoke(tmp_path):
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    out = subprocess.run([sys.executable, "-m", "agent.cli", "agent=random", "episodes=1", "max_steps=2",
                          "video=false", f"out_dir={tmp_path}"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "results.json").exists() and "success" in out.stdout


def test_cli_planner_overrides(tmp_path):
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    out = subprocess.run([sys.executable, "-m", "agent.cli", "agent=oracle", "episodes=1", "max_steps=1", "video=false",
                          "planner_overrides={samples: 8, iterations: 2}", f"out_dir={tmp_path}"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    bad = subprocess.run([sys.executable, "-m", "agent.cli", "agent=oracle", "episodes=1", "video=false",
                          "planner_overrides={sampels: 8}", f"out_dir={tmp_path / 'bad'}"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode != 0 and "sampels" in bad.stderr


def test_missing_model_is_a_clear_error(tmp_path):
    env = gym.make("FrankaReach-v0", image_size=64)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        make_agent("learned", env, model=str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="unknown agent kind"):
        make_agent("psychic", env)
    env.close()


def test_one_step_alternative_wraps_the_agents_planner_and_joins_the_run_identity():
    from agent.eval import AgentSpec
    from planners.one_step import OneStepAlternative

    env = gym.make("FrankaReach-v0", image_size=64)
    try:
        agent = make_agent("oracle", env, "cem", {"horizon": 3}, one_step_alternative=True)
        assert isinstance(agent.planner, OneStepAlternative)
        assert agent.planner.horizon == 3 and agent.planner.one_step.horizon == 1
        assert not isinstance(make_agent("oracle", env, "cem", {"horizon": 3}).planner, OneStepAlternative)
        with pytest.raises(ValueError, match="planning agents"):
            make_agent("random", env, one_step_alternative=True)
        with pytest.raises(ValueError, match="needs a planner horizon > 1"):
            make_agent("oracle", env, "cem", {"horizon": 1}, one_step_alternative=True)
    finally:
        env.close()
    with pytest.raises(ValueError, match="needs a planner horizon > 1"):
        AgentSpec(kind="oracle", one_step_alternative=True).identity()  # the default horizon is 1
    on = AgentSpec(kind="oracle", planner_overrides={"horizon": 2}, one_step_alternative=True).identity()
    assert on["one_step_alternative"] is True
    assert "one_step_alternative" not in AgentSpec(kind="oracle").identity()  # older results resume
