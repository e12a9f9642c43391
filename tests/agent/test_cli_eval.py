"""`vjepa-eval` CLI rows of the hardening pass: one-line errors, refused typos and edge values, no cwd litter."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

import agent.cli as cli

CONFIG_DIR = str(Path(cli.__file__).resolve().parents[1] / "configs" / "eval")
ENV = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}


def _build(overrides, out_dir="unused"):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        cfg = compose(config_name="eval", overrides=overrides)
    return cli.build(cfg, out_dir)


def _cli(args, cwd, extra_env=None):
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**ENV, **(extra_env or {})}, timeout=180)


@pytest.mark.parametrize("override, match", [
    ("episodes=0", "episodes must be an integer >= 1, got 0"), ("episodes=-3", "episodes"),
    ("episodes=abc", "episodes must be an integer >= 1, got 'abc'"), ("seed=abc", "seed must be an integer"),
    ("max_steps=0", "max_steps must be an integer >= 1, got 0"), ("max_steps=-5", "max_steps"),
    ("bf16=maybe", "bf16 must be auto, true or false"), ("+epsiodes=50", "unknown config key 'epsiodes'.*episodes"),
    ("energy.state_weight=-5", "state_weight"), ("energy.state_weight=nan", "state_weight"),
    ("+energy.typo=1", "unknown config key 'energy.typo'"), ("energy.norm=l3", "energy.norm must be one of"), ("planner=bogus", "unknown planner 'bogus'.*cem"),
    ("agent=bogus", "unknown agent kind 'bogus'"), ("image_size=100", "image_size"), ("jobs=0", "jobs"),
    ("device=tpu", "device"), ("video=maybe", "video"), ("planner_overrides=5", "planner_overrides"),
    ("~episodes", "config key 'episodes' is missing"), ("release_in_place=maybe", "release_in_place"),
    ("agent=random release_in_place=true", "release_in_place applies"),
    ("planner_seeding=bogus", "planner_seeding must be one of per_episode, shared"),
    ("one_step_alternative=maybe", "one_step_alternative must be true or false"),
    ("agent=random one_step_alternative=true", "one_step_alternative applies to planning agents"),
])
def test_f6_cli_refuses_bad_settings(override, match):
    with pytest.raises(ValueError, match=match):
        _build(override.split())


def test_f6_cli_tasks_string_is_one_task():
    eval_cfg, _, _ = _build(["tasks=FrankaReach-v0"])
    assert eval_cfg.tasks == ("FrankaReach-v0",)


def test_cli_defaults_bf16_auto_device_auto_and_label():
    eval_cfg, spec, label = _build(["out_dir=x"], out_dir="x")
    assert spec.bf16 == "auto" and spec.device == "auto" and eval_cfg.jobs == 1
    assert label == "learned+cem" and eval_cfg.out_dir == "x"
    _, spec, _ = _build(["bf16=false", "device=cpu"])
    assert spec.bf16 is False and spec.device == "cpu" and spec.release_in_place is False
    assert _build(["release_in_place=true"])[1].release_in_place is True
    assert eval_cfg.planner_seeding == "per_episode" and spec.one_step_alternative is False
    assert _build(["one_step_alternative=true"])[1].one_step_alternative is True  # horizon checked by identity()
    assert _build(["planner_seeding=shared"])[0].planner_seeding == "shared"


@pytest.mark.parametrize("override, needle", [("bf16=maybe", "bf16"), ("+epsiodes=50", "epsiodes"),
                                              ("planner=bogus", "bogus"), ("tasks=[Bogus-v0]", "Bogus-v0")])
def test_f6_cli_error_is_one_line_without_traceback(tmp_path, override, needle):
    out = _cli(["agent=random", "episodes=1", "video=false", f"out_dir={tmp_path / 'out'}", override], tmp_path)
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("vjepa-eval: error: ") and needle in lines[0], out.stderr
    assert not (tmp_path / "out" / "results.json").exists()


def test_cli_debug_env_shows_traceback(tmp_path):
    out = _cli(["agent=random", "bf16=maybe", f"out_dir={tmp_path / 'out'}"], tmp_path, {"VJEPA_DEBUG": "1"})
    assert out.returncode == 1 and "Traceback" in out.stderr and "bf16" in out.stderr


def test_cli_leaves_no_hydra_litter_in_cwd_when_out_dir_given(tmp_path):
    out = _cli(["agent=random", "episodes=1", "max_steps=1", "video=false", f"out_dir={tmp_path / 'out'}"], tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".results.lock", "results.json"]


def test_f1_cli_refuses_resume_with_other_agent(tmp_path):
    first = _cli(["agent=random", "episodes=1", "max_steps=1", "video=false", f"out_dir={tmp_path}"], tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    second = _cli(["agent=oracle", "episodes=1", "max_steps=1", "video=false", f"out_dir={tmp_path}",
                   "planner_overrides={samples: 8, topk: 2, iterations: 1}"], tmp_path)
    assert second.returncode == 1
    assert "holds results of a different evaluation" in second.stderr and "'random' -> 'oracle'" in second.stderr
