"""Agent: kinematics, energy, input validation, goal caching, and planning toward a known optimum."""

import numpy as np
import pytest
import torch

from agent.agent import Agent, AgentConfig
from agent.energy import EnergyConfig, latent_energy, state_energy
from agent.kinematics import integrate_action, integrate_sequence
from envs import conventions
from planners import make_planner, paper_bounds


def test_kinematics_match_numpy_convention():
    rng = np.random.default_rng(0)
    state = np.concatenate([rng.uniform(-1, 1, (50, 3)), rng.uniform(-1.4, 1.4, (50, 3)), rng.uniform(0, 1, (50, 1))], 1)
    action = np.concatenate([rng.uniform(-0.05, 0.05, (50, 3)), rng.uniform(-0.2, 0.2, (50, 3)),
                             rng.uniform(-1, 1, (50, 1))], 1)
    ref = conventions.integrate_action(state, action)
    got = integrate_action(torch.tensor(state), torch.tensor(action)).numpy()
    assert np.allclose(got, ref, atol=1e-6)
    # zero rotation keeps angles untouched (no wrapping of roll = pi)
    s = torch.tensor([[0.5, 0.0, 0.2, np.pi, 0.0, 0.1, 0.0]])
    a = torch.tensor([[0.01, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    assert integrate_action(s, a)[0, 3] == s[0, 3]


def test_integrate_sequence_shapes_and_values():
    s0 = torch.zeros(7)
    acts = torch.zeros(4, 3, 7)
    acts[..., 0] = 0.01
    states = integrate_sequence(s0, acts)
    assert states.shape == (4, 3, 7)
    assert torch.allclose(states[:, :, 0], torch.tensor([0.0, 0.01, 0.02]).expand(4, 3))


def test_latent_and_state_energy():
    goal = torch.zeros(2, 3)
    pred = torch.stack([torch.ones(1, 2, 3) * 5, torch.ones(1, 2, 3) * 2])[:, None].squeeze(2)  # (2, 1, 2, 3)
    assert torch.allclose(latent_energy(pred, goal), torch.tensor([5.0, 2.0]))
    pred2 = torch.cat([torch.full((1, 1, 2, 3), 4.0), torch.zeros(1, 1, 2, 3)], 1)  # (1, 2, 2, 3)
    assert latent_energy(pred2, goal).item() == 0.0
    assert latent_energy(pred2, goal, all_frames=True).item() == 2.0
    with pytest.raises(ValueError):
        latent_energy(torch.zeros(1, 1, 3, 3), goal)
    assert torch.allclose(state_energy(torch.tensor([[1.0, 2, 3, 9, 9, 9, 9]]), torch.zeros(7)), torch.tensor([6.0]))


def test_l2_energy_is_the_mean_squared_latent_difference():
    goal = torch.zeros(2, 3)
    pred = torch.tensor([1.0, -3.0, 0.0, 0.0, 2.0, 0.0]).reshape(1, 1, 2, 3)
    assert latent_energy(pred, goal).item() == pytest.approx(1.0)  # (1 + 3 + 2) / 6
    assert latent_energy(pred, goal, norm="l2").item() == pytest.approx(14 / 6)  # (1 + 9 + 4) / 6
    with pytest.raises(ValueError, match="norm must be one of l1, l2"):
        latent_energy(pred, goal, norm="l3")
    with pytest.raises(ValueError, match="energy.norm"):
        EnergyConfig(norm="L1")


class PositionWorldModel:
    """A fake world model whose latent is the TCP xyz: images carry xyz in their first pixels (mm)."""

    def __init__(self):
        self.encode_calls = 0

    @staticmethod
    def image_of(xyz):
        img = np.zeros((8, 8, 3), np.uint8)
        mm = np.round((np.asarray(xyz) + 1.0) * 1000).astype(np.int64)  # 0..2000
        img[0, :3, 0], img[0, :3, 1] = mm // 256, mm % 256
        return img

    def encode(self, images):
        self.encode_calls += 1
        images = torch.as_tensor(np.asarray(images)).long()
        mm = images[:, 0, :3, 0] * 256 + images[:, 0, :3, 1]
        return (mm.float() / 1000 - 1.0)[:, None, :]  # (B, 1, 3)

    def rollout(self, z, actions, states):
        xyz = states[:, -1, :3] + actions[:, -1, :3]  # final kinematic position
        return xyz[:, None, None, :].expand(-1, 1, 1, 3).contiguous()  # (B, 1, 1, 3)


def _obs(xyz):
    return {"image": PositionWorldModel.image_of(xyz), "state": np.array([*xyz, np.pi, 0, 0, 0], np.float32)}


def test_agent_moves_toward_goal_and_caches_goal():
    wm = PositionWorldModel()
    agent = Agent(wm, make_planner("cem", paper_bounds(), samples=200, iterations=6, horizon=1))
    start, goal_xyz = np.array([0.4, 0.0, 0.3]), np.array([0.5, 0.1, 0.2])
    goal = {"image": PositionWorldModel.image_of(goal_xyz)}
    pos = start.copy()
    for _ in range(6):
        action = agent.act(_obs(pos), goal)
        assert action.shape == (7,) and action.dtype == np.float32
        assert np.linalg.norm(action[:3]) <= 0.05 + 1e-6 and np.all(action[3:6] == 0)
        pos = pos + action[:3]
    assert np.linalg.norm(pos - goal_xyz) < 0.01, pos
    # goal encoded once; each act encodes the observation once
    assert wm.encode_calls == 1 + 6
    assert agent.last_plan is not None and len(agent.plan_times) == 6


def test_replan_every_executes_the_plan():
    wm = PositionWorldModel()
    agent = Agent(wm, make_planner("cem", paper_bounds(), samples=50, iterations=2, horizon=2),
                  AgentConfig(replan_every=2))
    goal = {"image": PositionWorldModel.image_of([0.5, 0.0, 0.3])}
    agent.act(_obs([0.4, 0.0, 0.3]), goal)
    agent.act(_obs([0.45, 0.0, 0.3]), goal)
    assert len(agent.plan_times) == 1
    with pytest.raises(ValueError):
        Agent(wm, make_planner("cem", paper_bounds(), horizon=2), AgentConfig(replan_every=3))


@pytest.mark.parametrize("obs,match", [
    ("not a dict", "must be a dict"),
    ({"state": np.zeros(7)}, "no 'image'"),
    ({"image": np.zeros((8, 8, 3), np.float32), "state": np.zeros(7)}, "uint8"),
    ({"image": np.zeros((8, 8), np.uint8), "state": np.zeros(7)}, "uint8"),
    ({"image": np.zeros((8, 8, 3), np.uint8)}, "no 'state'"),
    ({"image": np.zeros((8, 8, 3), np.uint8), "state": np.zeros(6)}, r"shape \(7,\)"),
    ({"image": np.zeros((8, 8, 3), np.uint8), "state": np.full(7, np.nan)}, "NaN"),
])
def test_act_rejects_malformed_obs(obs, match):
    agent = Agent(PositionWorldModel(), make_planner("cem", paper_bounds(), samples=10, iterations=1))
    goal = {"image": PositionWorldModel.image_of([0.5, 0, 0.3])}
    with pytest.raises((ValueError, TypeError), match=match):
        agent.act(obs, goal)


@pytest.mark.parametrize("goal,match", [
    (None, "must be a dict"),
    ({"state": np.zeros(7)}, "no 'image'"),
    ({"image": np.zeros((8, 8, 3), np.float64)}, "uint8"),
])
def test_act_rejects_malformed_goal(goal, match):
    agent = Agent(PositionWorldModel(), make_planner("cem", paper_bounds(), samples=10, iterations=1))
    with pytest.raises((ValueError, TypeError), match=match):
        agent.act(_obs([0.4, 0, 0.3]), goal)


class CameraPositionWorldModel(PositionWorldModel):
    """PositionWorldModel conditioned on the camera pose: it records the pose each rollout is given."""

    camera_conditioned = True

    def __init__(self):
        super().__init__()
        self.poses = []

    def rollout(self, z, actions, states, camera_pose=None):
        if camera_pose is None:
            raise ValueError("no camera pose")
        self.poses.append(np.asarray(camera_pose))
        return super().rollout(z, actions, states)


def test_camera_pose_reaches_a_camera_conditioned_world_model():
    wm = CameraPositionWorldModel()
    agent = Agent(wm, make_planner("cem", paper_bounds(), samples=20, iterations=2, horizon=1))
    goal = {"image": PositionWorldModel.image_of([0.5, 0.1, 0.2])}
    assert agent.needs_camera_pose
    with pytest.raises(ValueError, match="no camera pose"):
        agent.act(_obs([0.4, 0.0, 0.3]), goal)
    with pytest.raises(ValueError, match="10 finite numbers"):
        agent.set_camera_pose(np.zeros(6))
    pose = np.arange(10, dtype=np.float32) / 10
    agent.set_camera_pose(pose)
    agent.reset()  # the pose belongs to the camera, not the episode: it stays
    agent.act(_obs([0.4, 0.0, 0.3]), goal)
    assert wm.poses and all(np.array_equal(p, pose) for p in wm.poses)
    plain = Agent(PositionWorldModel(), make_planner("cem", paper_bounds(), samples=20, iterations=2, horizon=1))
    assert not plain.needs_camera_pose
    with pytest.raises(ValueError, match="not conditioned"):
        plain.set_camera_pose(pose)


def test_run_episode_gives_the_agent_its_episodes_camera_pose():
    """vjepa-eval: each episode's (jittered) camera pose reaches the agent after the reset."""
    import gymnasium as gym

    from agent.eval import run_episode
    from envs.scene import camera_env_kwargs

    env = gym.make("FrankaReach-v0", image_size=64, randomize="camera", **camera_env_kwargs("workspace"))
    wm = CameraPositionWorldModel()
    wm.encode = lambda images: torch.zeros(len(images), 1, 3)
    agent = Agent(wm, make_planner("cem", paper_bounds(), samples=16, iterations=1, horizon=1))
    poses = []
    for seed in (0, 1):
        run_episode(env, agent, seed, max_steps=1, video_path=None)
        poses.append(agent.camera_pose)
        env.reset(seed=seed)
        np.testing.assert_array_equal(poses[-1], env.unwrapped.camera_pose())
    assert not np.array_equal(poses[0], poses[1])
    env.close()
