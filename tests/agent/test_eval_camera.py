"""The learned agent is evaluated with the camera and image size its model was trained on: make_agent refuses a
mismatched env, `vjepa-eval` resolves image_size=auto / camera=auto from the model (64 px / "front" for the oracle
and random agents), and the camera is part of the results' run identity."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pytest
import torch
from hydra import compose, initialize_config_dir

import agent.cli as cli
import envs  # noqa: F401 - registers the env ids
from agent.eval import AgentSpec, EpisodeJob, EpisodeRunner, EvalConfig, check_camera_tasks, run_suite
from agent.eval_results import ResultsMismatchError
from agent.factory import make_agent, model_view
from agent.oracle import RandomAgent
from world_model.checkpoint import save_world_model, world_model_camera
from world_model.model import WORLD_MODEL_CONFIGS, WorldModel

CONFIG_DIR = str(Path(cli.__file__).resolve().parents[1] / "configs" / "eval")
REACH = "FrankaReach-v0"
FAST_CEM = {"samples": 4, "topk": 2, "iterations": 1}


def tiny_model(path: Path, camera: str | None, config: str = "sim_tiny") -> Path:
    """A randomly initialised world model saved at ``path`` recording ``camera`` (None: none recorded)."""
    torch.manual_seed(0)
    metadata = {"camera": camera} if camera is not None else {"trained_by": "a run before camera presets"}
    return save_world_model(WorldModel(WORLD_MODEL_CONFIGS[config]), path, metadata=metadata)


@pytest.fixture(scope="module")
def workspace_model(tmp_path_factory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("models") / "ws", "workspace")


@pytest.fixture(scope="module")
def legacy_model(tmp_path_factory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("models") / "legacy", None)


def _build(overrides: list[str]):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        cfg = compose(config_name="eval", overrides=overrides)
    return cli.build(cfg, "unused")


# -- the model's recorded view ----------------------------------------------------------------------------------

def test_model_view_reads_size_and_camera(workspace_model, legacy_model):
    assert world_model_camera(workspace_model) == "workspace" and model_view(workspace_model) == (64, "workspace")
    assert world_model_camera(legacy_model) is None and model_view(legacy_model) == (64, "front")


# -- make_agent refuses an env the model was not trained for ----------------------------------------------------

def assert_make_agent_refused(model, match: str, **env_kwargs) -> None:
    """make_agent("learned") with ``model`` on a reach env built with ``env_kwargs`` raises ValueError(match)."""
    env = gym.make(REACH, **env_kwargs)
    try:
        with pytest.raises(ValueError, match=match):
            make_agent("learned", env, model=str(model), device="cpu", bf16=False)
    finally:
        env.close()


def test_make_agent_refuses_another_camera(workspace_model):
    assert_make_agent_refused(workspace_model, "trained on the 'workspace' camera but the env uses 'front'.*"
                                               "camera='workspace'", image_size=64)


def test_make_agent_refuses_another_image_size(workspace_model):
    assert_make_agent_refused(workspace_model, "trained on 64 px images but the env renders 96 px.*image_size=64",
                              image_size=96, camera="workspace")


def test_make_agent_accepts_the_matching_env(workspace_model, legacy_model):
    for model, kwargs in ((workspace_model, {"camera": "workspace"}), (legacy_model, {})):
        env = gym.make(REACH, image_size=64, **kwargs)
        try:
            agent = make_agent("learned", env, "cem", FAST_CEM, model=str(model), device="cpu", bf16=False)
            obs, info = env.reset(seed=0)
            assert env.action_space.contains(agent.act(obs, info["goal"]).astype(env.action_space.dtype))
        finally:
            env.close()


def test_legacy_model_refuses_the_workspace_camera(legacy_model):
    assert_make_agent_refused(legacy_model, "'front' camera but the env uses 'workspace'", image_size=64,
                              camera="workspace")


# -- vjepa-eval: image_size / camera auto -----------------------------------------------------------------------

def test_cli_auto_follows_the_learned_model(workspace_model, tmp_path):
    eval_cfg, spec, _ = _build([f"model={workspace_model}"])
    assert (eval_cfg.image_size, eval_cfg.camera) == (64, "workspace") and spec.model == str(workspace_model)
    model96 = tiny_model(tmp_path / "m96", "workspace", "sim_tiny96")
    eval_cfg, _, _ = _build([f"model={model96}"])
    assert (eval_cfg.image_size, eval_cfg.camera) == (96, "workspace")
    eval_cfg, _, _ = _build([f"model={model96}", "image_size=96", "camera=workspace"])  # explicit, matching
    assert (eval_cfg.image_size, eval_cfg.camera) == (96, "workspace")


def test_cli_auto_for_shipped_oracle_and_random():
    eval_cfg, _, _ = _build([])  # the shipped sim_reach: 64 px, no recorded camera -> front
    assert (eval_cfg.image_size, eval_cfg.camera) == (64, "front")
    for kind in ("oracle", "random"):
        eval_cfg, _, _ = _build([f"agent={kind}"])
        assert (eval_cfg.image_size, eval_cfg.camera) == (64, "front")
    eval_cfg, _, _ = _build(["agent=oracle", "image_size=96", "camera=workspace"])
    assert (eval_cfg.image_size, eval_cfg.camera) == (96, "workspace")


@pytest.mark.parametrize("overrides, match", [
    (["agent=oracle", "camera=fisheye"], "unknown camera 'fisheye'; choose one of front, twoview, workspace"),
    (["agent=oracle", "camera=[front]"], "camera must be a camera preset name"),
    (["agent=oracle", "image_size=100"], r"image_size must be one of \(64, 96, 128, 256\)"),
    (["camera=workspace"], "camera='workspace' but the world model 'shipped' was trained with camera='front'"),
    (["image_size=128"], "image_size=128 but the world model 'shipped' was trained with image_size=64"),
])
def test_cli_refuses_bad_or_mismatched_view(overrides, match):
    with pytest.raises(ValueError, match=match):
        _build(overrides)


def test_cli_refuses_an_explicit_camera_other_than_the_models(workspace_model):
    with pytest.raises(ValueError, match="camera='front'.*trained with camera='workspace'.*camera=auto"):
        _build([f"model={workspace_model}", "camera=front"])


# -- results: the camera is part of the run identity ------------------------------------------------------------

def _run(out: Path, camera: str) -> dict:
    cfg = EvalConfig(episodes=1, max_steps=1, video=False, out_dir=str(out), camera=camera)
    return run_suite(cfg, AgentSpec(kind="random", seed=cfg.seed), "random")


def test_camera_recorded_and_resume_with_another_refused(tmp_path):
    results = _run(tmp_path, "workspace")
    assert results["run"]["camera"] == "workspace" and results["config"]["camera"] == "workspace"
    before = (tmp_path / "results.json").read_text()
    with pytest.raises(ResultsMismatchError, match="camera: 'workspace' -> 'front'"):
        _run(tmp_path, "front")
    assert (tmp_path / "results.json").read_text() == before
    assert _run(tmp_path, "workspace")["tasks"][REACH]["summary"]["episodes"] == 1  # same camera resumes


def test_results_from_before_the_camera_field_resume_as_front(tmp_path):
    _run(tmp_path, "front")
    stored = json.loads((tmp_path / "results.json").read_text())
    del stored["run"]["camera"]
    (tmp_path / "results.json").write_text(json.dumps(stored))
    assert _run(tmp_path, "front")["run"]["camera"] == "front"
    with pytest.raises(ResultsMismatchError, match="camera: 'front' -> 'workspace'"):
        _run(tmp_path, "workspace")


def test_eval_config_camera_validated_and_robosuite_ids_need_front():
    assert EvalConfig().camera == "front"
    with pytest.raises(ValueError, match="unknown camera 'top'; choose one of front, twoview, workspace"):
        EvalConfig(camera="top")
    check_camera_tasks(("RobosuiteLift-v0",), "front")
    with pytest.raises(ValueError, match="camera='workspace' applies to the Franka envs only.*RobosuiteLift-v0"):
        check_camera_tasks((REACH, "RobosuiteLift-v0"), "workspace")


# -- plumbing: every env of the run is built with the camera -----------------------------------------------------

def test_runner_builds_envs_with_the_camera():
    cameras = []

    def factory(env):
        cameras.append(env.unwrapped.camera)
        return RandomAgent(env.action_space, seed=0)

    runner = EpisodeRunner(factory, 64, camera="workspace")
    try:
        runner.run(EpisodeJob(REACH, 0, 1, None))
    finally:
        runner.close()
    assert cameras == ["workspace"]


def test_parallel_workers_get_the_camera(monkeypatch, tmp_path):
    import agent.eval_parallel as par

    threads = torch.get_num_threads()
    try:
        par._init_worker(AgentSpec(kind="random"), 96, 1, None, "workspace")
        assert (par._RUNNER.image_size, par._RUNNER.camera) == (96, "workspace")
    finally:
        torch.set_num_threads(threads)
        par._RUNNER = None
    calls = []
    monkeypatch.setattr(par, "run_parallel", lambda *args: calls.append(args))
    cfg = EvalConfig(episodes=2, max_steps=1, video=False, out_dir=str(tmp_path), jobs=2, camera="workspace")
    run_suite(cfg, AgentSpec(kind="random", seed=cfg.seed), "random")
    assert calls and calls[0][2] == 64 and calls[0][6] == "workspace"  # (jobs, agent, size, workers, on_result,
    # subgoal rule, camera, waypoint spacing)
