"""Eval result integrity (F1 resume identity, F2 concurrent writers, F6 edge values and strict JSON)."""

import json
import multiprocessing as mp
import os
import subprocess
import sys

import gymnasium as gym
import pytest

import envs  # noqa: F401 - registers the env ids
from agent.energy import EnergyConfig
from agent.eval import AgentSpec, EvalConfig, format_table, run_suite
from agent.eval_results import (ResultsMismatchError, ResultsStore, identity_differences, summarise,
                                to_json_value)
from agent.factory import make_agent
from agent.report import markdown_table


FAST_CEM = {"samples": 8, "topk": 2, "iterations": 1}


def _strict_load(path):
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name} in {path}")

    return json.loads(path.read_text(), parse_constant=refuse)


def _random_run(out, **kw):
    cfg = EvalConfig(**{"episodes": 1, "max_steps": 1, "video": False, "out_dir": str(out), **kw})
    return run_suite(cfg, AgentSpec(kind="random", seed=cfg.seed), "random")


# -- F1: never report another run's episodes as this run's ---------------------------------------------------

def test_f1_resume_refuses_other_agents_results(tmp_path):
    _random_run(tmp_path, episodes=2)
    before = (tmp_path / "results.json").read_text()
    oracle = AgentSpec(kind="oracle", planner_overrides=FAST_CEM, seed=1000)
    cfg = EvalConfig(episodes=3, max_steps=1, video=False, out_dir=str(tmp_path))
    with pytest.raises(ResultsMismatchError, match="agent_kind: 'random' -> 'oracle'.*another out_dir"):
        run_suite(cfg, oracle, "oracle+cem")
    assert (tmp_path / "results.json").read_text() == before, "a refused run must not touch the results"


@pytest.mark.parametrize("change, field", [({"seed": 2000}, "seed"), ({"max_steps": 2}, "max_steps"),
                                           ({"image_size": 128}, "image_size")])
def test_f1_resume_refuses_other_seed_max_steps_or_image_size(tmp_path, change, field):
    _random_run(tmp_path)
    with pytest.raises(ResultsMismatchError, match=field):
        _random_run(tmp_path, **change)


def test_f1_resume_refuses_other_label_planner_or_model(tmp_path):
    env = gym.make("FrankaReach-v0", image_size=64)
    env.close()
    cfg = EvalConfig(episodes=1, max_steps=1, video=False, out_dir=str(tmp_path))
    oracle = AgentSpec(kind="oracle", planner="cem", planner_overrides=FAST_CEM, seed=1000)
    run_suite(cfg, oracle, "oracle+cem")
    for spec, label, field in [
        (AgentSpec(kind="oracle", planner="mppi", planner_overrides={"samples": 8, "iterations": 1}, seed=1000),
         "oracle+cem", "planner"),
        (AgentSpec(kind="oracle", planner="cem", planner_overrides={**FAST_CEM, "samples": 16}, seed=1000),
         "oracle+cem", "planner_overrides"),
        (oracle, "renamed", "label"),
    ]:
        with pytest.raises(ResultsMismatchError, match=field):
            run_suite(cfg, spec, label)
    learned = ResultsStore(tmp_path, {"label": "oracle+cem", **AgentSpec(kind="learned", model="a").identity()}, {})
    with pytest.raises(ResultsMismatchError, match="model"):
        learned.open()


def test_energy_norm_in_identity_only_when_not_the_paper_l1():
    """Results stored before energy.norm existed (paper L1) keep their identity; an L2 run has another one."""
    l1 = AgentSpec(kind="learned", model="a").identity()["energy"]
    assert l1 == {"all_frames": False, "state_weight": 0.0}
    l2 = AgentSpec(kind="learned", model="a", energy=EnergyConfig(norm="l2")).identity()["energy"]
    assert l2 == {**l1, "norm": "l2"}


def test_release_in_place_in_identity_only_when_on():
    """Results stored before release_in_place existed keep their identity; a run with it has another one."""
    off = AgentSpec(kind="learned", model="a").identity()
    assert "release_in_place" not in off
    assert AgentSpec(kind="learned", model="a", release_in_place=True).identity() == {**off, "release_in_place": True}
    with pytest.raises(ValueError, match="release_in_place applies to the learned"):
        AgentSpec(kind="oracle", release_in_place=True)
    with pytest.raises(ValueError, match="release_in_place must be true or false"):
        AgentSpec(kind="learned", release_in_place="yes")


def test_f1_legacy_results_checked_on_label_and_config(tmp_path):
    """results.json written before run identities were recorded: label, seed, image_size, max_steps are compared."""
    ep = {"task": "reach", "seed": 1000, "success": False, "steps": 1, "final_distance": 0.2,
          "initial_distance": 0.2, "plan_time_s": 0.0, "video": None}
    legacy = {"agent": "random", "config": {"tasks": ["FrankaReach-v0"], "episodes": 1, "seed": 1000, "image_size": 64,
                                            "max_steps": 1, "video": False, "out_dir": str(tmp_path)},
              "tasks": {"FrankaReach-v0": {"episodes": [ep], "summary": summarise([ep])}}}
    (tmp_path / "results.json").write_text(json.dumps(legacy))
    oracle = AgentSpec(kind="oracle", planner_overrides=FAST_CEM, seed=1000)
    with pytest.raises(ResultsMismatchError, match="label: 'random' -> 'oracle\\+cem'"):
        run_suite(EvalConfig(episodes=1, max_steps=1, video=False, out_dir=str(tmp_path)), oracle, "oracle+cem")
    with pytest.raises(ResultsMismatchError, match="max_steps: 1 -> 3"):
        _random_run(tmp_path, max_steps=3)
    res = _random_run(tmp_path, episodes=2)  # same label and settings: resumes, adds seed 1001 only
    episodes = res["tasks"]["FrankaReach-v0"]["episodes"]
    assert [e["seed"] for e in episodes] == [1000, 1001] and episodes[0] == ep
    assert res["run"]["label"] == "random"


def test_f1_same_run_resumes_and_only_runs_missing_episodes(tmp_path):
    _random_run(tmp_path, episodes=2)
    res = _random_run(tmp_path, episodes=3)
    assert [e["seed"] for e in res["tasks"]["FrankaReach-v0"]["episodes"]] == [1000, 1001, 1002]
    assert res["tasks"]["FrankaReach-v0"]["summary"]["episodes"] == 3


def test_f1_corrupt_results_file_is_a_clear_error(tmp_path):
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(ValueError, match="results.json is not valid JSON"):
        _random_run(tmp_path)


# -- F2: concurrent writers into one out_dir -----------------------------------------------------------------

def _record_many(out_dir, task, seeds):
    store = ResultsStore(out_dir, {"label": "x"}, {})
    store.open()
    for seed in seeds:
        store.record(task, {"task": task, "seed": seed, "success": seed % 2 == 0, "steps": 1, "final_distance": 0.1,
                            "initial_distance": 0.2, "plan_time_s": 0.0, "video": None})


def test_f2_concurrent_writers_keep_every_episode(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_record_many, args=(str(tmp_path), task, range(start, start + 25)))
             for task, start in [("A-v0", 0), ("A-v0", 100), ("B-v0", 0)]]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    data = _strict_load(tmp_path / "results.json")
    assert [e["seed"] for e in data["tasks"]["A-v0"]["episodes"]] == list(range(25)) + list(range(100, 125))
    assert data["tasks"]["A-v0"]["summary"]["episodes"] == 50 and data["tasks"]["B-v0"]["summary"]["episodes"] == 25
    assert sorted(p.name for p in tmp_path.iterdir()) == [".results.lock", "results.json"], "no tmp file left"


def test_f2_concurrent_cli_runs_on_different_tasks_keep_both(tmp_path):
    """Two `vjepa-eval` runs of the same agent into one out_dir at once, one per task: both tasks are kept."""
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    procs = [subprocess.Popen([sys.executable, "-m", "agent.cli", "agent=random", "episodes=3", "max_steps=3",
                               "video=false", f"tasks=[{task}]", f"out_dir={tmp_path}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
             for task in ("FrankaReach-v0", "FrankaReachWithObject-v0")]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    data = _strict_load(tmp_path / "results.json")
    for task in ("FrankaReach-v0", "FrankaReachWithObject-v0"):
        assert [e["seed"] for e in data["tasks"][task]["episodes"]] == [1000, 1001, 1002], task


# -- F6: edge values, strict JSON ----------------------------------------------------------------------------

@pytest.mark.parametrize("kw, match", [
    ({"episodes": 0}, "episodes"), ({"episodes": -3}, "episodes"), ({"episodes": "abc"}, "episodes"),
    ({"episodes": 2.5}, "episodes"), ({"episodes": True}, "episodes"), ({"seed": "abc"}, "seed"),
    ({"seed": -1}, "seed"), ({"max_steps": 0}, "max_steps"), ({"max_steps": -5}, "max_steps"),
    ({"image_size": 100}, "image_size"), ({"image_size": "64"}, "image_size"), ({"tasks": []}, "tasks"),
    ({"tasks": ["FrankaReach-v0", "FrankaReach-v0"]}, "more than once"), ({"tasks": [3]}, "tasks"),
    ({"video": "maybe"}, "video"), ({"jobs": 0}, "jobs"), ({"out_dir": ""}, "out_dir"),
])
def test_f6_eval_config_refuses_edge_values(kw, match):
    with pytest.raises(ValueError, match=match):
        EvalConfig(**kw)


def test_f6_tasks_string_is_one_task_not_characters():
    assert EvalConfig(tasks="FrankaReach-v0").tasks == ("FrankaReach-v0",)


def test_f6_max_steps_one_runs_exactly_one_step(tmp_path):
    res = _random_run(tmp_path, max_steps=1)
    assert res["tasks"]["FrankaReach-v0"]["episodes"][0]["steps"] == 1


@pytest.mark.parametrize("kw, match", [
    ({"kind": "psychic"}, "agent kind"), ({"planner": "bogus"}, "unknown planner 'bogus'.*cem"),
    ({"bf16": "maybe"}, "bf16"), ({"bf16": 1}, "bf16"), ({"device": "tpu"}, "device"),
    ({"energy": EnergyConfig(state_weight=-5.0)}, "state_weight"),
    ({"energy": EnergyConfig(state_weight=float("nan"))}, "state_weight"),
    ({"energy": EnergyConfig(state_weight=float("inf"))}, "state_weight"),
    ({"planner_overrides": 5}, "planner_overrides"), ({"seed": "abc"}, "seed"),
])
def test_f6_agent_spec_refuses_bad_settings(kw, match):
    with pytest.raises(ValueError, match=match):
        AgentSpec(**kw)


@pytest.mark.parametrize("bf16", ["auto", True, False])
def test_f6_agent_spec_accepts_bf16_choices(bf16):
    assert AgentSpec(bf16=bf16).bf16 == bf16


def test_f6_unknown_planner_is_a_value_error_listing_choices():
    env = gym.make("FrankaReach-v0", image_size=64)
    try:
        for kind in ("oracle", "learned"):
            with pytest.raises(ValueError, match="unknown planner 'bogus'; choose one of cem, icem, mppi, random"):
                make_agent(kind, env, "bogus")
    finally:
        env.close()


def test_f6_summary_of_no_episodes_has_no_nan():
    s = summarise([])
    assert s["episodes"] == 0 and s["mean_steps"] is None and s["mean_final_distance_m"] is None
    json.dumps(s, allow_nan=False)
    run = {"agent": "x", "tasks": {"FrankaReach-v0": {"summary": s}}}
    assert "nan" not in format_table(run).lower() and "nan" not in markdown_table([run]).lower()


def test_f6_results_json_is_strict_json(tmp_path):
    _random_run(tmp_path, episodes=2)
    data = _strict_load(tmp_path / "results.json")
    assert data["tasks"]["FrankaReach-v0"]["summary"]["episodes"] == 2


def test_f2_resume_removes_tmp_files_of_dead_writers_only(tmp_path):
    """A kill -9 during a write leaves a uniquely named tmp file; the next run removes it unless its writer lives."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    (tmp_path / "videos").mkdir()
    stale = [tmp_path / f".results.json.{dead_pid}.0123abcd.tmp",
             tmp_path / "videos" / f".FrankaReach-v0_seed1000.{dead_pid}.0123abcd.tmp.mp4"]
    live = tmp_path / "videos" / f".FrankaReach-v0_seed1001.{os.getpid()}.89abcdef.tmp.mp4"
    for path in [*stale, live]:
        path.write_bytes(b"partial")
    _random_run(tmp_path)
    assert not any(p.exists() for p in stale) and live.exists()


def test_f1_results_without_episodes_do_not_block_a_corrected_run(tmp_path):
    """A run that failed before its first episode (e.g. a typo in the model path) leaves no episodes to protect."""
    with pytest.raises(FileNotFoundError):
        run_suite(EvalConfig(episodes=1, max_steps=1, video=False, out_dir=str(tmp_path)),
                  AgentSpec(kind="learned", model=str(tmp_path / "typo"), seed=1000), "learned+cem")
    res = _random_run(tmp_path)
    assert res["run"]["agent_kind"] == "random" and res["tasks"]["FrankaReach-v0"]["summary"]["episodes"] == 1


def test_model_weights_sha256_in_identity(tmp_path):
    """A model retrained under the same path is another run (its weights' SHA-256 differs); results stored before
    the field existed still resume, since they cannot tell which weights they used."""
    import shutil

    from agent.factory import resolve_model_path

    src = resolve_model_path("shipped").with_suffix(".safetensors")
    base = tmp_path / "wm"
    shutil.copy(src, base.with_suffix(".safetensors"))
    shutil.copy(src.with_suffix(".json"), base.with_suffix(".json"))
    spec = AgentSpec(kind="learned", model=str(base))
    first = spec.identity()
    assert len(first["model_sha256"]) == 64 and AgentSpec(kind="learned", model="a").identity()["model_sha256"] is None
    stored = {"run": to_json_value({"label": "x", **first}), "tasks": {"FrankaReach-v0": {"episodes": [{"seed": 1}]}}}
    assert identity_differences(stored, {"label": "x", **first}) == []
    data = bytearray(base.with_suffix(".safetensors").read_bytes())
    data[-1] ^= 1  # another weight value, same file size
    base.with_suffix(".safetensors").write_bytes(bytes(data))
    second = spec.identity()
    assert second["model_sha256"] != first["model_sha256"]
    assert [d.split(":")[0] for d in identity_differences(stored, {"label": "x", **second})] == ["model_sha256"]
    old = {**stored, "run": {k: v for k, v in stored["run"].items() if k != "model_sha256"}}
    assert identity_differences(old, {"label": "x", **second}) == []


def test_resolved_planner_settings_in_identity(monkeypatch):
    """Results record every planner setting as resolved (package defaults + overrides): a later change of the
    defaults makes a new run, not more episodes of the old one; files from before the field still resume."""
    import agent.factory as factory

    learned = AgentSpec(kind="learned", planner="cem", model="a", planner_overrides={"horizon": 3}).identity()
    settings = learned["planner_settings"]
    assert settings["horizon"] == 3 and settings["samples"] == factory.CPU_PLANNER_DEFAULTS["cem"]["samples"]
    assert "init_std" in settings  # the planner's own defaults too, not only the package's table
    oracle = AgentSpec(kind="oracle", planner="mppi").identity()["planner_settings"]
    assert oracle["samples"] == factory.ORACLE_PLANNER_DEFAULTS["mppi"]["samples"]
    assert AgentSpec(kind="random").identity()["planner_settings"] is None
    stored = {"run": to_json_value({"label": "x", **learned}), "tasks": {"FrankaReach-v0": {"episodes": [{"seed": 1}]}}}
    monkeypatch.setitem(factory.CPU_PLANNER_DEFAULTS, "cem", {**factory.CPU_PLANNER_DEFAULTS["cem"], "samples": 96})
    changed = AgentSpec(kind="learned", planner="cem", model="a", planner_overrides={"horizon": 3}).identity()
    assert [d.split(":")[0] for d in identity_differences(stored, {"label": "x", **changed})] == ["planner_settings"]
    old = {**stored, "run": {k: v for k, v in stored["run"].items() if k != "planner_settings"}}
    assert identity_differences(old, {"label": "x", **changed}) == []
    with pytest.raises(ValueError, match="unknown cem config fields"):
        AgentSpec(kind="learned", planner="cem", model="a", planner_overrides={"horizn": 3}).identity()


def test_results_from_before_the_success_test_changed_are_not_resumed():
    """The run identity records the tasks' success-test version; a file without it (version 1: a held cube on the
    target counted as placed) is refused, one with the current version resumes."""
    from agent.eval import run_identity
    from envs.tasks import SUCCESS_TEST_VERSION

    cfg = EvalConfig(tasks=("FrankaPickPlace-v0",), episodes=1, video=False)
    identity = run_identity(cfg, "x", AgentSpec(kind="random").identity())
    assert identity["success_test"] == SUCCESS_TEST_VERSION >= 2
    current = {"run": to_json_value(identity), "tasks": {"FrankaPickPlace-v0": {"episodes": [{"seed": 1}]}}}
    assert identity_differences(current, identity) == []
    old = {**current, "run": {k: v for k, v in current["run"].items() if k != "success_test"}}
    assert identity_differences(old, identity) == [f"success_test: 1 -> {SUCCESS_TEST_VERSION}"]
