"""The lean MuJoCo Franka envs: spec, check_env, determinism, experts, conventions, bad input."""

import numpy as np
import pytest
import gymnasium as gym
from gymnasium.utils.env_checker import check_env

import envs
from envs.conventions import action_between
from envs.experts import make_expert
from envs.video import write_video

IDS = list(envs.FRANKA_ENV_IDS)


@pytest.fixture(scope="module")
def reach():
    env = gym.make("FrankaReach-v0", image_size=64)
    yield env
    env.close()


@pytest.mark.parametrize("task_id", IDS)
def test_check_env_and_spec(task_id):
    env = gym.make(task_id, image_size=64, render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)
    obs, info = env.reset(seed=3)
    assert obs["image"].shape == (64, 64, 3) and obs["image"].dtype == np.uint8
    assert obs["state"].shape == (7,) and obs["state"].dtype == np.float32
    assert info["goal"]["image"].shape == (64, 64, 3)
    assert not np.array_equal(info["goal"]["image"], obs["image"]), "goal must differ from the start"
    assert env.render().shape == (64, 64, 3)
    env.close()


@pytest.mark.parametrize("task_id", IDS)
def test_seeded_determinism(task_id):
    a, b = gym.make(task_id, image_size=64), gym.make(task_id, image_size=64)
    oa, ia = a.reset(seed=11)
    b.reset(seed=5)
    ob, ib = b.reset(seed=11)
    assert np.array_equal(oa["image"], ob["image"]) and np.array_equal(oa["state"], ob["state"])
    assert np.array_equal(ia["goal"]["image"], ib["goal"]["image"])
    act = np.array([0.03, -0.02, 0.01, 0, 0, 0, 0.2], dtype=np.float32)
    assert np.array_equal(a.step(act)[0]["image"], b.step(act)[0]["image"])
    a.close(), b.close()


@pytest.mark.parametrize("task_id,seeds,min_rate", [
    ("FrankaReach-v0", 20, 0.95),
    ("FrankaGrasp-v0", 10, 0.9),
    ("FrankaReachWithObject-v0", 10, 0.9),
    ("FrankaPickPlace-v0", 10, 0.9),
])
def test_expert_reaches_goal(task_id, seeds, min_rate):
    env = gym.make(task_id, image_size=64)
    wins = 0
    for seed in range(seeds):
        obs, info = env.reset(seed=seed)
        expert = make_expert(env)
        for _ in range(env.spec.max_episode_steps):
            obs, _, _, _, info = env.step(expert.act(obs))
        wins += info["is_success"]
    env.close()
    assert wins / seeds >= min_rate, f"{task_id}: expert success {wins}/{seeds}"


def test_noisy_expert_differs_and_stays_in_bounds(reach):
    reach.reset(seed=0)
    clean, noisy = make_expert(reach), make_expert(reach, noise=0.5, seed=1)
    a, b = clean.act(None), noisy.act(None)
    assert not np.allclose(a, b)
    assert reach.action_space.contains(b)


def test_action_round_trip(reach):
    """Applying action_between(s_t, s_target) from s_t reaches s_target (within tracking tolerance)."""
    obs, _ = reach.reset(seed=1)
    s0 = obs["state"].astype(np.float64)
    target = s0.copy()
    target[:3] += [0.04, -0.03, 0.02]
    action = action_between(s0, target).astype(np.float32)
    obs, *_ = reach.step(action)
    assert np.allclose(obs["state"][:3], target[:3], atol=3e-3), (obs["state"], target)
    rot_change = action_between(s0, obs["state"].astype(np.float64))[3:6]  # wrap-safe (roll sits near +-pi)
    assert np.allclose(rot_change, 0.0, atol=2e-2)


def test_rotation_action(reach):
    obs, _ = reach.reset(seed=2)
    s0 = obs["state"].astype(np.float64)
    action = np.array([0, 0, 0, 0, 0, 0.2, 0], dtype=np.float32)
    obs, *_ = reach.step(action)
    r = action_between(s0, obs["state"].astype(np.float64))
    assert abs(r[5] - 0.2) < 0.02 and np.allclose(r[:3], 0, atol=3e-3)


@pytest.mark.parametrize("bad", [np.zeros(6), np.full(7, np.nan), np.array([1, 0, 0, 0, 0, 0, 0.0])])
def test_bad_actions_raise_and_leave_sim_untouched(reach, bad):
    reach.reset(seed=0)
    before = reach.unwrapped.get_sim_state()
    with pytest.raises(ValueError):
        reach.step(bad)
    assert np.array_equal(before.qpos, reach.unwrapped.data.qpos)


def test_sim_state_round_trip(reach):
    reach.reset(seed=4)
    env = reach.unwrapped
    snap = env.get_sim_state()
    act = np.array([0.05, 0.0, -0.02, 0, 0, 0, 0.5], dtype=np.float32)
    env.simulate(act)
    first = env.current_state()
    env.set_sim_state(snap)
    env.simulate(act)
    assert np.allclose(first, env.current_state(), atol=1e-9)


def test_video(tmp_path, reach):
    obs, info = reach.reset(seed=0)
    path = write_video(tmp_path / "ep.mp4", [obs["image"]] * 3, goal=info["goal"]["image"])
    assert path.stat().st_size > 0


@pytest.mark.slow
def test_async_vector_env_spawn():
    vec = gym.vector.AsyncVectorEnv([lambda: gym.make("envs:FrankaReach-v0", image_size=64)] * 2, context="spawn")
    obs, info = vec.reset(seed=[0, 1])
    assert obs["image"].shape == (2, 64, 64, 3)
    obs, *_ = vec.step(np.zeros((2, 7), dtype=np.float32))
    vec.close()
