"""The true-future model (agent.true_future) and the energy_oracle agent built on it: its rollout is the encoding
of the frames the simulator really renders, it leaves the env where it was, and it refuses to roll out from a state
the env is not in."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401 - registers the env ids
from agent.agent import Agent
from agent.eval import AgentSpec, EvalConfig, run_suite
from agent.factory import make_agent
from agent.kinematics import integrate_sequence
from agent.true_future import TrueFutureModel
from world_model.checkpoint import load_world_model, save_world_model
from world_model.model import WORLD_MODEL_CONFIGS, WorldModel

REACH = "FrankaReach-v0"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    return save_world_model(WorldModel(WORLD_MODEL_CONFIGS["sim_tiny"]), tmp_path_factory.mktemp("m") / "tiny",
                            metadata={"camera": "workspace"})


@pytest.fixture()
def env():
    env = gym.make(REACH, image_size=64, camera="workspace")
    env.reset(seed=3)
    yield env
    env.close()


def _actions() -> torch.Tensor:
    """(3, 2, 7): three two-step sequences (metres per step; gripper delta)."""
    a = torch.zeros(3, 2, 7)
    a[0, :, 0] = 0.03
    a[1, :, 1] = -0.04
    a[2, 0, 2], a[2, 1, 6] = 0.05, 0.8
    return a


def test_rollout_encodes_the_frames_the_simulator_renders(env, model_path):
    wm = load_world_model(model_path)
    model = TrueFutureModel(env, wm)
    u = env.unwrapped
    state0 = torch.as_tensor(u.current_state(), dtype=torch.float32)
    actions = _actions()
    z0 = wm.encode(u.camera_image()[None])
    latents = model.rollout(z0, actions, integrate_sequence(state0, actions))
    assert latents.shape == (3, 2, *z0.shape[1:])

    start = u.get_sim_state()
    for i, sequence in enumerate(actions.numpy()):  # replay each sequence by hand, from the same state
        u.set_sim_state(start)
        frames = []
        for action in sequence:
            u.simulate(action)
            frames.append(u.render_image())
        torch.testing.assert_close(latents[i], wm.encode(np.stack(frames)), rtol=0, atol=1e-5)
    u.set_sim_state(start)
    assert not torch.allclose(latents[0, -1], latents[1, -1])  # different moves, different frames


def test_rollout_leaves_the_env_where_it_was(env, model_path):
    u = env.unwrapped
    before = u.get_sim_state()
    state0 = torch.as_tensor(u.current_state(), dtype=torch.float32)
    TrueFutureModel(env, load_world_model(model_path)).rollout(torch.zeros(1, 16, 192), _actions(),
                                                               integrate_sequence(state0, _actions()))
    after = u.get_sim_state()
    np.testing.assert_array_equal(after.qpos, before.qpos)
    np.testing.assert_array_equal(after.mocap_pos, before.mocap_pos)
    assert after.gripper_cmd == before.gripper_cmd


def test_rollout_refuses_a_start_the_env_is_not_in(env, model_path):
    model = TrueFutureModel(env, load_world_model(model_path))
    state0 = torch.as_tensor(env.unwrapped.current_state(), dtype=torch.float32)
    moved = state0.clone()
    moved[0] += 0.01  # 1 cm elsewhere
    with pytest.raises(ValueError, match="only roll out from the state the env is in"):
        model.rollout(torch.zeros(1, 16, 192), _actions(), integrate_sequence(moved, _actions()))
    wrapped = state0.clone()
    wrapped[3] += 2 * np.pi  # the same orientation written another way is the same state
    model.rollout(torch.zeros(1, 16, 192), _actions()[:1], integrate_sequence(wrapped, _actions()[:1]))


def test_rollout_accepts_the_state_observed_after_a_step(env, model_path):
    """Regression (session 19): an energy_oracle reach episode stopped with "the plan starts 0.000142 away" on its
    second CEM iteration. An observation is read right after mj_step, whose poses lag the joints by one substep;
    after the first rollout's restore (mj_forward) the env's state no longer shows that lag. Plans from the observed
    state must still be accepted, on every step, rotating actions included."""
    model = TrueFutureModel(env, load_world_model(model_path))
    rng = np.random.default_rng(0)
    env.action_space.seed(0)
    for t in range(30):
        action = env.action_space.sample() if t % 2 else np.r_[rng.uniform(-0.05, 0.05, 3), 0, 0, 0, 1.0]
        obs, *_ = env.step(np.asarray(action, np.float32))
        state0 = torch.as_tensor(obs["state"])
        for _ in range(2):  # the second rollout starts from the restored (lag-free) state
            model.rollout(torch.zeros(1, 16, 192), _actions()[:1], integrate_sequence(state0, _actions()[:1]))


def test_rollout_refuses_bad_shapes(env, model_path):
    model = TrueFutureModel(env, load_world_model(model_path))
    state0 = torch.as_tensor(env.unwrapped.current_state(), dtype=torch.float32)
    states = integrate_sequence(state0, _actions())
    with pytest.raises(ValueError, match="one context frame"):
        model.rollout(torch.zeros(1, 2, 16, 192), _actions(), states)
    with pytest.raises(ValueError, match=r"\(B, H, 7\)"):
        model.rollout(torch.zeros(1, 16, 192), _actions()[..., :6], states)


def test_needs_a_lean_franka_env(model_path):
    with pytest.raises(TypeError, match="lean Franka sim env"):
        TrueFutureModel(object(), load_world_model(model_path))


def test_make_agent_energy_oracle_is_the_learned_agent_over_the_simulator(env, model_path):
    agent = make_agent("energy_oracle", env, model=str(model_path), device="cpu", bf16=False,
                       planner_overrides={"samples": 4, "topk": 2, "iterations": 1})
    assert isinstance(agent, Agent) and isinstance(agent.world_model, TrueFutureModel)
    obs, info = env.unwrapped.reset(seed=4)
    before = env.unwrapped.get_sim_state()
    action = agent.act(obs, info["goal"])
    assert action.shape == (7,) and np.isfinite(action).all()
    np.testing.assert_array_equal(env.unwrapped.get_sim_state().qpos, before.qpos)  # planning moved nothing
    wrong_view = gym.make(REACH, image_size=64)  # "front", not the model's camera
    try:
        with pytest.raises(ValueError, match="'workspace' camera"):
            make_agent("energy_oracle", wrong_view, model=str(model_path), device="cpu", bf16=False)
    finally:
        wrong_view.close()


def test_eval_runs_the_energy_oracle_with_subgoals_and_records_its_model(tmp_path, model_path):
    spec = AgentSpec(kind="energy_oracle", model=str(model_path), bf16=False, device="cpu",
                     planner_overrides={"samples": 4, "topk": 2, "iterations": 1})
    identity = spec.identity()
    assert identity["model"] == str(model_path) and identity["model_sha256"] and identity["energy"] is not None
    cfg = EvalConfig(tasks=("FrankaGrasp-v0",), episodes=1, image_size=64, camera="workspace", max_steps=3,
                     video=False, out_dir=str(tmp_path), subgoals=True, subgoal_steps=1)
    results = run_suite(cfg, spec, "energy_oracle+cem")
    episode = results["tasks"]["FrankaGrasp-v0"]["episodes"][0]
    # the step budget of 1 moves on after every action: approach -> pregrasp -> grasp -> lift (the final goal)
    assert episode["steps"] == 3 and [s["to_index"] for s in episode["subgoal_switches"]] == [1, 2, 3]
    assert results["run"]["agent_kind"] == "energy_oracle"
