"""Planner seeding: one noise stream per agent (shared) or per (agent, episode) (per_episode, the eval default)."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401 - registers the env ids
from agent.agent import Agent
from agent.eval import AgentSpec, EvalConfig, plan_jobs, run_episode, run_identity
from agent.eval_results import identity_differences, to_json_value
from agent.oracle import RandomAgent
from agent.seeding import PLANNER_SEEDINGS, check_planner_seeding, planner_seed
from agent.subgoals import SubgoalAgent, SubgoalConfig
from planners import make_planner, paper_bounds
from tests.agent.test_agent import PositionWorldModel, _obs


def test_planner_seed_mixes_agent_and_episode_seeds():
    assert planner_seed(7) == 7 and planner_seed(7, None) == 7  # shared: the agent seed itself
    seeds = {planner_seed(a, e) for a in (0, 1, 1000) for e in (0, 1, 1000, 1001)}
    assert len(seeds) == 12  # every (agent, episode) pair its own stream
    assert planner_seed(1000, 1001) == planner_seed(1000, 1001)
    assert all(0 <= s < 2 ** 63 for s in seeds)  # a valid torch.Generator seed
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="must be an int >= 0"):
            planner_seed(bad, 0)
        with pytest.raises(ValueError, match="must be an int >= 0"):
            planner_seed(0, bad)


def test_check_planner_seeding():
    assert PLANNER_SEEDINGS == ("per_episode", "shared")
    assert check_planner_seeding("shared") == "shared"
    with pytest.raises(ValueError, match="planner_seeding must be one of per_episode, shared"):
        check_planner_seeding("per-episode")
    with pytest.raises(ValueError, match="planner_seeding"):
        EvalConfig(planner_seeding="random")


def _first_plan(agent, episode_seed=None):
    agent.reset() if episode_seed is None else agent.reset(episode_seed=episode_seed)
    agent.act(_obs([0.4, 0.0, 0.3]), {"image": PositionWorldModel.image_of([0.5, 0.1, 0.2])})
    return agent.last_plan.actions.clone()


def test_agent_reset_with_an_episode_seed_gives_that_episode_its_own_noise():
    planner = make_planner("cem", paper_bounds(), samples=16, topk=4, iterations=1, horizon=1)
    agent = Agent(PositionWorldModel(), planner)
    shared = [_first_plan(agent) for _ in range(2)]
    assert np.array_equal(shared[0], shared[1])  # reset() alone restarts the same stream
    a, b, a_again = _first_plan(agent, 1000), _first_plan(agent, 1001), _first_plan(agent, 1000)
    assert not np.array_equal(a, b)
    assert np.array_equal(a, a_again)


class RecordingAgent:
    def __init__(self):
        self.reset_seeds = []
        self.last_plan = None

    def reset(self, episode_seed=None):
        self.reset_seeds.append(episode_seed)

    def act(self, obs, goal):
        return np.zeros(7, np.float32)


def test_subgoal_switches_reseed_the_wrapped_agent_with_the_episode_seed():
    inner = RecordingAgent()
    agent = SubgoalAgent(inner, SubgoalConfig(steps_per_subgoal=1))
    agent.reset(episode_seed=42)
    goals = [{"image": np.full((8, 8, 3), i, np.uint8)} for i in range(3)]
    for _ in range(3):
        agent.act({"image": np.zeros((8, 8, 3), np.uint8), "state": np.zeros(7, np.float32)}, goals)
    assert inner.reset_seeds == [None, 42, 42, 42]  # construction, episode start, two switches
    agent.reset()
    assert inner.reset_seeds[-1] is None


class ActionLog(RandomAgent):
    def act(self, obs, goal=None):
        action = super().act(obs, goal)
        self.log.append(action)
        return action


def _actions(env, agent, seed, episode_seed):
    agent.log = []
    run_episode(env, agent, seed, 3, None, episode_seed=episode_seed)
    return np.stack(agent.log)


def test_episodes_get_independent_noise_only_when_seeded_per_episode():
    env = gym.make("FrankaReach-v0", image_size=64)
    agent = ActionLog(env.action_space, seed=3)
    try:
        assert np.array_equal(_actions(env, agent, 1000, None), _actions(env, agent, 1001, None))  # shared
        first = _actions(env, agent, 1000, 1000)
        assert not np.array_equal(first, _actions(env, agent, 1001, 1001))
        assert np.array_equal(first, _actions(env, agent, 1000, 1000))  # reproducible from the episode's seed
    finally:
        env.close()


def test_jobs_carry_the_episode_seed_and_the_identity_the_mode():
    per_episode = EvalConfig(episodes=3, seed=5, video=False)
    shared = EvalConfig(episodes=3, seed=5, video=False, planner_seeding="shared")
    assert [job.episode_seed for job in plan_jobs(per_episode, {})] == [5, 6, 7]
    assert [job.episode_seed for job in plan_jobs(shared, {})] == [None, None, None]
    spec = AgentSpec(kind="random").identity()
    new, old_mode = run_identity(per_episode, "x", spec), run_identity(shared, "x", spec)
    assert new["planner_seeding"] == "per_episode" and old_mode["planner_seeding"] == "shared"
    # a results file from before the option resumes in shared mode and is refused by a per-episode run
    before = {"run": {k: v for k, v in to_json_value(new).items() if k != "planner_seeding"},
              "tasks": {"FrankaReach-v0": {"episodes": [{"seed": 5}]}}}
    assert identity_differences(before, old_mode) == []
    assert identity_differences(before, new) == ["planner_seeding: 'shared' -> 'per_episode'"]
