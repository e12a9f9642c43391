"""`vjepa-eval variants=... subgoals=...`: the robustness suite (named env variants, per-variant results, resume and
jobs=N with variants) and subgoal mode (the agent follows info["subgoals"], switches recorded)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

import agent.cli as cli
import envs  # noqa: F401 - registers the env ids
from agent.eval import (TIMING_FIELDS, VARIANTS, AgentSpec, EpisodeRunner, EvalConfig, format_table, run_suite,
                        variant_env_kwargs)
from agent.eval_results import ResultsMismatchError, ResultsStore
from agent.oracle import RandomAgent
from agent.report import markdown_table, report, variant_table
from envs.randomization import AXES, PRESETS

REACH = "FrankaReach-v0"
PICK_PLACE = "FrankaPickPlace-v0"
RANDOM = AgentSpec(kind="random", seed=1000)
CONFIG_DIR = str(Path(cli.__file__).resolve().parents[1] / "configs" / "eval")


def _cfg(out, **kw):
    return EvalConfig(**{"episodes": 1, "max_steps": 2, "video": False, "out_dir": str(out), **kw})


def _episodes(results, key):
    return [{k: v for k, v in e.items() if k not in TIMING_FIELDS} for e in results["tasks"][key]["episodes"]]


# -- the variant registry ----------------------------------------------------------------------------------------

def test_variants_cover_every_axis_alone_all_and_far_goals():
    assert list(VARIANTS) == ["nominal", *AXES, "all", "far_goals", "all_far_goals"]
    assert variant_env_kwargs("nominal") == {}
    for axis in AXES:
        assert variant_env_kwargs(axis) == {"randomize": axis}
    assert variant_env_kwargs("all") == {"randomize": "all"}
    assert variant_env_kwargs("far_goals") == {"goal_range_scale": 1.5}
    assert variant_env_kwargs("all_far_goals") == {"randomize": "all", "goal_range_scale": 1.5}
    assert all(v.randomize in PRESETS for v in VARIANTS.values())
    with pytest.raises(TypeError):
        VARIANTS["mine"] = VARIANTS["nominal"]  # frozen mapping


def test_variants_setting_normalised_and_validated():
    assert EvalConfig().variants == ("nominal",)
    assert EvalConfig(variants="lighting").variants == ("lighting",)
    assert EvalConfig(variants=["robustness"]).variants == tuple(VARIANTS)
    assert EvalConfig(variants=["noise", "robustness"]).variants[0] == "noise"
    assert len(EvalConfig(variants=["noise", "robustness"]).variants) == len(VARIANTS)
    with pytest.raises(ValueError, match="unknown variant 'fog'; known: nominal, lighting.*robustness"):
        EvalConfig(variants=["nominal", "fog"])
    with pytest.raises(ValueError, match="non-empty"):
        EvalConfig(variants=[])


def test_runner_builds_the_variant_env():
    runner = EpisodeRunner(lambda env: RandomAgent(env.action_space), 64, max_built=1)
    try:
        env, _ = runner._env_agent(REACH, "lighting")
        assert env.unwrapped.randomization.lighting and not env.unwrapped.randomization.noise
        env, _ = runner._env_agent(REACH, "far_goals")
        assert env.unwrapped.task.goal_range_scale == 1.5 and not env.unwrapped.randomization.enabled
        assert len(runner._built) == 1, "max_built=1 closes the previous env"
    finally:
        runner.close()


# -- results layout, report, resume ------------------------------------------------------------------------------

def test_variant_results_layout_and_tables(tmp_path):
    res = run_suite(_cfg(tmp_path, episodes=2, variants=["nominal", "lighting", "far_goals"]), RANDOM, "random")
    assert list(res["tasks"]) == [REACH, f"{REACH}@lighting", f"{REACH}@far_goals"]
    for key, variant in [(REACH, "nominal"), (f"{REACH}@lighting", "lighting"), (f"{REACH}@far_goals", "far_goals")]:
        entry = res["tasks"][key]
        assert entry["task"] == REACH and entry["variant"] == variant
        assert entry["env_kwargs"] == variant_env_kwargs(variant)
        assert entry["summary"]["episodes"] == 2 and len(entry["summary"]["ci95"]) == 2
        assert [e["variant"] for e in entry["episodes"]] == [variant, variant]
    nominal, lighting, far = (_episodes(res, k) for k in (REACH, f"{REACH}@lighting", f"{REACH}@far_goals"))
    # lighting changes only the appearance: the random agent (blind) has the nominal episode's physics exactly
    assert [e["final_distance"] for e in lighting] == [e["final_distance"] for e in nominal]
    # far goals are drawn from a wider box: other goals for the same seeds
    assert [e["initial_distance"] for e in far] != [e["initial_distance"] for e in nominal]
    assert json.loads((tmp_path / "results.json").read_text())["tasks"] == res["tasks"]
    table = format_table(res)
    assert all(v in table for v in ("nominal", "lighting", "far_goals"))
    assert "| task | variant | agent |" in markdown_table([res])
    pivot = variant_table([res]).splitlines()
    assert pivot[0] == "| task | agent | nominal | lighting | far_goals |" and len(pivot) == 3
    assert "Success rate per variant" in report([res])


def test_nominal_only_report_keeps_the_old_table(tmp_path):
    res = run_suite(_cfg(tmp_path), RANDOM, "random")
    assert list(res["tasks"]) == [REACH]
    assert markdown_table([res]).splitlines()[0].startswith("| task | agent | success |")
    assert report([res]) == markdown_table([res])


class CountingAgent(RandomAgent):
    """Counts the episodes run by all its instances (resets after the one in __init__)."""

    episodes = 0

    def __init__(self, *args, **kwargs):
        self._built = False
        super().__init__(*args, **kwargs)
        self._built = True

    def reset(self, episode_seed=None):
        CountingAgent.episodes += self._built
        super().reset(episode_seed)


def counting_factory(env):
    return CountingAgent(env.action_space, seed=1000)


def _counted_run(cfg):
    CountingAgent.episodes = 0
    res = run_suite(cfg, counting_factory, "random")
    return res, CountingAgent.episodes


def test_resume_with_variants_runs_only_missing_episodes(tmp_path):
    _counted_run(_cfg(tmp_path))
    res, episodes = _counted_run(_cfg(tmp_path, episodes=2, variants=["nominal", "noise"]))
    assert episodes == 3, "nominal seed 1001 and noise seeds 1000, 1001"
    assert [e["seed"] for e in res["tasks"][REACH]["episodes"]] == [1000, 1001]
    assert [e["seed"] for e in res["tasks"][f"{REACH}@noise"]["episodes"]] == [1000, 1001]
    _, episodes = _counted_run(_cfg(tmp_path, episodes=2, variants=["noise", "nominal"]))
    assert episodes == 0


def test_resume_refuses_a_variant_whose_definition_changed(tmp_path):
    run_suite(_cfg(tmp_path, variants=["noise"]), RANDOM, "random")
    path = tmp_path / "results.json"
    data = json.loads(path.read_text())
    data["tasks"][f"{REACH}@noise"]["env_kwargs"] = {"randomize": "noise", "goal_range_scale": 2.0}
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsMismatchError, match="FrankaReach-v0@noise: env_kwargs"):
        run_suite(_cfg(tmp_path, episodes=2, variants=["noise"]), RANDOM, "random")
    run_suite(_cfg(tmp_path, variants=["nominal"]), RANDOM, "random")  # other variants are not mixed with it


def test_results_from_before_variants_and_subgoals_resume_as_nominal(tmp_path):
    _counted_run(_cfg(tmp_path))
    path = tmp_path / "results.json"
    data = json.loads(path.read_text())
    del data["run"]["subgoals"]
    for key in ("task", "variant", "env_kwargs"):
        del data["tasks"][REACH][key]
    for field in ("variant", "subgoal_switches"):
        del data["tasks"][REACH]["episodes"][0][field]
    path.write_text(json.dumps(data))
    res, episodes = _counted_run(_cfg(tmp_path, episodes=2))
    assert episodes == 1 and [e["seed"] for e in res["tasks"][REACH]["episodes"]] == [1000, 1001]


def test_entries_stored_in_task_then_variant_order_whatever_finishes_first(tmp_path):
    store = ResultsStore(tmp_path, {"label": "x"}, {"tasks": [PICK_PLACE, REACH]},
                         {"noise": {"randomize": "noise"}, "nominal": {}})
    store.open()
    episode = {"seed": 0, "success": False, "steps": 1, "final_distance": 0.1, "plan_time_s": 0.0}
    for task, variant in [(REACH, "nominal"), (PICK_PLACE, "nominal"), (REACH, "noise"), (PICK_PLACE, "noise")]:
        store.record(task, episode, variant=variant)
    assert list(store.read()["tasks"]) == [f"{PICK_PLACE}@noise", PICK_PLACE, f"{REACH}@noise", REACH]


def test_jobs2_equals_jobs1_with_variants(tmp_path):
    runs = {jobs: run_suite(_cfg(tmp_path / f"j{jobs}", jobs=jobs, variants=["nominal", "colors", "far_goals"]),
                            RANDOM, "random") for jobs in (1, 2)}
    assert list(runs[2]["tasks"]) == list(runs[1]["tasks"]) == [REACH, f"{REACH}@colors", f"{REACH}@far_goals"]
    for key in runs[1]["tasks"]:
        assert _episodes(runs[2], key) == _episodes(runs[1], key)


# -- subgoal mode ------------------------------------------------------------------------------------------------

class GoalRecordingAgent(RandomAgent):
    """A random agent that records the goal image it is asked to reach at every step."""

    seen: list = []

    def act(self, obs, goal=None):
        GoalRecordingAgent.seen.append(goal["image"].copy())
        return super().act(obs, goal)


def recording_factory(env):
    return GoalRecordingAgent(env.action_space, seed=1000)


class LowCostPlanAgent(RandomAgent):
    """Exposes a new plan with cost 0.1 after every act (as agent.agent.Agent's last_plan)."""

    last_plan = None

    def act(self, obs, goal=None):
        self.last_plan = SimpleNamespace(costs=np.array([0.3, 0.1]))
        return super().act(obs, goal)


def low_cost_factory(env):
    return LowCostPlanAgent(env.action_space, seed=1000)


def _subgoal_images(seed=1000):
    env = gym.make(PICK_PLACE, image_size=64)
    try:
        _, info = env.reset(seed=seed)
        return [g["image"] for g in info["subgoals"]]
    finally:
        env.close()


def test_subgoal_mode_feeds_subgoals_and_records_switches(tmp_path):
    subgoals = _subgoal_images()  # approach, pregrasp, grasp, lift, carry, place
    assert len(subgoals) == 6
    place = subgoals[-1]
    GoalRecordingAgent.seen = []
    res = run_suite(_cfg(tmp_path / "sub", tasks=[PICK_PLACE], subgoals=True, subgoal_steps=1), recording_factory,
                    "rec")
    episode = res["tasks"][PICK_PLACE]["episodes"][0]
    assert episode["steps"] == 2
    assert episode["subgoal_switches"] == [{"step": i, "from_index": i, "to_index": i + 1, "reason": "steps",
                                            "cost": None} for i in range(2)]
    # step 0 toward subgoal 0, then (one step per subgoal) step 1 toward subgoal 1; never the final goal yet
    assert len(GoalRecordingAgent.seen) == 2
    assert all(np.array_equal(img, goal) for img, goal in zip(GoalRecordingAgent.seen, subgoals[:2]))
    assert not any(np.array_equal(img, place) for img in GoalRecordingAgent.seen)
    assert res["run"]["subgoals"]["steps_per_subgoal"] == 1
    with pytest.raises(ResultsMismatchError, match="subgoals"):
        run_suite(_cfg(tmp_path / "sub", tasks=[PICK_PLACE]), recording_factory, "rec")

    GoalRecordingAgent.seen = []
    res = run_suite(_cfg(tmp_path / "plain", tasks=[PICK_PLACE]), recording_factory, "rec")
    assert res["run"]["subgoals"] is None and res["tasks"][PICK_PLACE]["episodes"][0]["subgoal_switches"] is None
    assert all(np.array_equal(img, place) for img in GoalRecordingAgent.seen), "without subgoals: the final goal"


def test_subgoal_results_made_with_another_subgoal_sequence_are_not_resumed(tmp_path):
    """The run identity holds the envs' subgoal sequences: results stored before a sequence changed (here: made
    without the approach image, as before it was added) are refused, not mixed with new episodes."""
    cfg = _cfg(tmp_path / "sub", tasks=[PICK_PLACE], subgoals=True, subgoal_steps=1)
    res = run_suite(cfg, recording_factory, "rec")
    assert res["run"]["subgoals"]["sequences"]["pick_place"] == ["approach", "pregrasp", "grasp", "lift", "carry",
                                                                 "place"]
    path = tmp_path / "sub" / "results.json"
    stored = json.loads(path.read_text())
    stored["run"]["subgoals"]["sequences"]["pick_place"].remove("approach")
    path.write_text(json.dumps(stored))
    with pytest.raises(ResultsMismatchError, match="sequences"):
        run_suite(cfg, recording_factory, "rec")
    del stored["run"]["subgoals"]["sequences"]  # results written before sequences were recorded
    path.write_text(json.dumps(stored))
    with pytest.raises(ResultsMismatchError, match="sequences"):
        run_suite(cfg, recording_factory, "rec")


def test_subgoal_mode_jobs2_equals_jobs1(tmp_path):
    runs = {jobs: run_suite(_cfg(tmp_path / f"j{jobs}", tasks=[PICK_PLACE], episodes=2, jobs=jobs, subgoals=True,
                                 subgoal_steps=1, variants=["nominal", "noise"]), recording_factory, "rec")
            for jobs in (1, 2)}
    for key in (PICK_PLACE, f"{PICK_PLACE}@noise"):
        assert _episodes(runs[2], key) == _episodes(runs[1], key)
        assert all(len(e["subgoal_switches"]) == 2 for e in _episodes(runs[2], key)), "one per step (2 steps)"


def _waypoint_images(seed=1000):
    env = gym.make(PICK_PLACE, image_size=64, waypoint_spacing=0.1)
    try:
        _, info = env.reset(seed=seed)
        return [g["image"] for g in info["subgoals"]], [i["name"] for i in env.unwrapped.subgoal_info]
    finally:
        env.close()


def test_subgoal_waypoints_reach_the_agent_of_the_tasks_that_take_them(tmp_path):
    images, names = _waypoint_images()
    assert names[0] == "waypoint"
    GoalRecordingAgent.seen = []
    cfg = _cfg(tmp_path / "wp", tasks=["FrankaReach-v0", PICK_PLACE], subgoals=True, subgoal_steps=1,
               subgoal_waypoint_spacing=0.1)
    res = run_suite(cfg, recording_factory, "rec")
    assert all(np.array_equal(img, goal) for img, goal in zip(GoalRecordingAgent.seen[-2:], images[:2]))
    assert res["run"]["subgoals"]["sequences"]["pick_place"][0] == "waypoints 0.1 m apart"
    assert res["run"]["subgoals"]["sequences"]["reach"] == ["waypoints 0.1 m apart", "reach"]
    pp_only = run_suite(_cfg(tmp_path / "pp", tasks=[PICK_PLACE], subgoals=True, subgoal_steps=1,
                             subgoal_waypoint_spacing=0.1), recording_factory, "rec")
    assert "reach" not in pp_only["run"]["subgoals"]["sequences"]  # runs stored before reach took waypoints resume
    with pytest.raises(ResultsMismatchError, match="sequences"):  # not mixed with results made without them
        run_suite(_cfg(tmp_path / "wp", tasks=[PICK_PLACE], subgoals=True, subgoal_steps=1), recording_factory,
                  "rec")
    with pytest.raises(ValueError, match="needs subgoals=true"):
        EvalConfig(subgoal_waypoint_spacing=0.1)
    with pytest.raises(ValueError, match="waypoint_spacing must be"):
        EvalConfig(subgoals=True, subgoal_waypoint_spacing=0.0)
    assert _build(["subgoals=true", "subgoal_waypoint_spacing=0.08"])[0].subgoal_waypoint_spacing == 0.08


def test_parallel_workers_get_the_waypoint_spacing(monkeypatch, tmp_path):
    import agent.eval_parallel as par

    threads = torch.get_num_threads()
    try:
        par._init_worker(recording_factory, 64, 1, None, "front", 0.1)
        assert par._RUNNER.waypoint_spacing == 0.1
    finally:
        torch.set_num_threads(threads)
        par._RUNNER = None
    calls = []
    monkeypatch.setattr(par, "run_parallel", lambda *args: calls.append(args))
    cfg = _cfg(tmp_path, tasks=[PICK_PLACE], episodes=2, jobs=2, subgoals=True, subgoal_steps=1,
               subgoal_waypoint_spacing=0.1)
    run_suite(cfg, recording_factory, "rec")
    assert calls and calls[0][-1] == 0.1


def test_subgoal_energy_threshold_switches_early(tmp_path):
    cfg = _cfg(tmp_path, tasks=[PICK_PLACE], subgoals=True, subgoal_steps=None, subgoal_energy_threshold=0.2)
    res = run_suite(cfg, low_cost_factory, "low")
    switches = res["tasks"][PICK_PLACE]["episodes"][0]["subgoal_switches"]
    assert switches == [{"step": i, "from_index": i, "to_index": i + 1, "reason": "energy",
                         "cost": pytest.approx(0.1)} for i in range(2)]
    assert res["run"]["subgoals"]["energy_threshold"] == 0.2 and res["run"]["subgoals"]["steps_per_subgoal"] is None


def test_subgoal_mode_refused_for_oracle_and_random_and_bad_rules(tmp_path):
    for spec in (RANDOM, AgentSpec(kind="oracle", seed=1000)):
        with pytest.raises(ValueError, match="subgoals=true needs agent=learned"):
            run_suite(_cfg(tmp_path, subgoals=True), spec, spec.kind)
    assert not (tmp_path / "results.json").exists()
    with pytest.raises(ValueError, match="subgoal_steps and/or subgoal_energy_threshold"):
        EvalConfig(subgoals=True, subgoal_steps=None)
    with pytest.raises(ValueError, match="subgoal_steps must be an integer >= 1"):
        EvalConfig(subgoals=True, subgoal_steps=0)
    with pytest.raises(ValueError, match="subgoal_energy_threshold"):
        EvalConfig(subgoals=True, subgoal_energy_threshold=float("nan"))
    with pytest.raises(ValueError, match="subgoals must be true or false"):
        EvalConfig(subgoals="yes")


# -- CLI ---------------------------------------------------------------------------------------------------------

def _build(overrides):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        cfg = compose(config_name="eval", overrides=overrides)
    return cli.build(cfg, "unused")


def test_cli_variants_and_subgoal_settings():
    assert _build([])[0].variants == ("nominal",) and not _build([])[0].subgoals
    assert _build(["variants=robustness"])[0].variants == tuple(VARIANTS)
    assert _build(["variants=[nominal,far_goals]"])[0].variants == ("nominal", "far_goals")
    eval_cfg = _build(["subgoals=true", "subgoal_steps=7", "subgoal_energy_threshold=0.5"])[0]
    rule = eval_cfg.subgoal_config()
    assert rule.steps_per_subgoal == 7 and rule.energy_threshold == 0.5
    with pytest.raises(ValueError, match="subgoals must be true or false"):
        _build(["subgoals=maybe"])


def test_cli_unknown_variant_is_one_line_error(tmp_path):
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    out = subprocess.run([sys.executable, "-m", "agent.cli", "agent=random", "variants=[nominal,fog]",
                          f"out_dir={tmp_path / 'out'}"], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=120)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 1 and len(lines) == 1, out.stderr
    assert lines[0].startswith("vjepa-eval: error: ") and "unknown variant 'fog'; known: nominal" in lines[0]
    assert not (tmp_path / "out" / "results.json").exists()
