"""SubgoalAgent: the switch rules (step budget, energy threshold) with a fake agent, and bad input."""

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from agent.subgoals import SubgoalAgent, SubgoalConfig, check_goal_sequence


def _goal(value: int, size: int = 8) -> dict:
    return {"image": np.full((size, size, 3), value, np.uint8), "state": np.zeros(7, np.float32)}


OBS = {"image": np.zeros((8, 8, 3), np.uint8), "state": np.zeros(7, np.float32)}


@dataclass
class _Plan:
    costs: torch.Tensor


class FakeAgent:
    """Records which goal it was asked for; 'plans' (new last_plan) every ``plan_every`` calls with scripted costs."""

    def __init__(self, costs=None, plan_every: int = 1) -> None:
        self.costs = list(costs or [])
        self.plan_every = plan_every
        self.goals_seen: list[int] = []
        self.resets = 0
        self.calls = 0
        self.last_plan = None

    def reset(self) -> None:
        self.resets += 1

    def act(self, obs, goal):
        self.goals_seen.append(int(goal["image"][0, 0, 0]))
        if self.calls % self.plan_every == 0 and self.costs:
            self.last_plan = _Plan(torch.tensor([self.costs.pop(0)]))
        self.calls += 1
        return np.zeros(7, np.float32)


def _run(agent: SubgoalAgent, goals, steps: int) -> None:
    for _ in range(steps):
        agent.act(OBS, goals)


def test_step_budget_walks_the_sequence_and_stays_on_the_final_goal():
    fake = FakeAgent()
    agent = SubgoalAgent(fake, SubgoalConfig(steps_per_subgoal=3))
    _run(agent, [_goal(1), _goal(2), _goal(3)], 10)
    assert fake.goals_seen == [1, 1, 1, 2, 2, 2, 3, 3, 3, 3]
    assert [(e.step, e.from_index, e.to_index, e.reason) for e in agent.switches] == [(2, 0, 1, "steps"),
                                                                                      (5, 1, 2, "steps")]
    assert fake.resets == 1 + 2  # construction + one per switch


def test_energy_threshold_switches_early_after_min_steps():
    fake = FakeAgent(costs=[0.9, 0.1, 0.1, 0.5, 0.5])
    agent = SubgoalAgent(fake, SubgoalConfig(steps_per_subgoal=100, energy_threshold=0.2, min_steps_per_subgoal=2))
    _run(agent, [_goal(1), _goal(2)], 5)
    assert fake.goals_seen == [1, 1, 2, 2, 2]
    assert agent.switches[0].reason == "energy" and agent.switches[0].cost == pytest.approx(0.1)


def test_energy_rule_ignores_stale_plans():
    """With replanning every 3 calls the low cost of one plan must count once, not on the queued steps."""
    fake = FakeAgent(costs=[0.9, 0.1], plan_every=3)
    agent = SubgoalAgent(fake, SubgoalConfig(steps_per_subgoal=None, energy_threshold=0.2,
                                             min_steps_per_subgoal=5))
    _run(agent, [_goal(1), _goal(2)], 8)
    assert fake.goals_seen == [1] * 8, "cost 0.1 arrived at step 3 (< min steps) and must not be reused later"


def test_energy_threshold_without_last_plan_needs_a_budget():
    class NoPlan:
        def act(self, obs, goal):
            return np.zeros(7, np.float32)

        def reset(self):
            pass

    with pytest.raises(ValueError, match="last_plan"):
        SubgoalAgent(NoPlan(), SubgoalConfig(steps_per_subgoal=None, energy_threshold=1.0))
    agent = SubgoalAgent(NoPlan(), SubgoalConfig(steps_per_subgoal=2, energy_threshold=1.0))
    _run(agent, [_goal(1), _goal(2)], 3)
    assert agent.index == 1 and agent.switches[0].reason == "steps"


def test_single_goal_never_switches_and_reset_restarts():
    fake = FakeAgent()
    agent = SubgoalAgent(fake, SubgoalConfig(steps_per_subgoal=1))
    _run(agent, [_goal(5)], 4)
    assert agent.switches == [] and fake.goals_seen == [5] * 4
    agent.reset()
    _run(agent, [_goal(1), _goal(2)], 1)
    assert agent.index == 1


@pytest.mark.parametrize("goals,error,match", [
    ([], ValueError, "empty"),
    (_goal(1), TypeError, "list of goal dicts"),
    ("goal", TypeError, "list of goal dicts"),
    ([np.zeros((8, 8, 3), np.uint8)], TypeError, "dict"),
    ([{"image": np.zeros((8, 8), np.uint8)}], ValueError, "uint8"),
    ([{"image": np.zeros((8, 8, 3), np.float32)}], ValueError, "uint8"),
    ([{"state": np.zeros(7)}], ValueError, "no 'image'"),
    ([_goal(1), _goal(2, size=16)], ValueError, "one shape"),
    ([_goal(1, size=16)], ValueError, "do not match the observation"),
    ([{"image": np.zeros((8, 8, 3), np.uint8), "state": np.zeros(6)}], ValueError, "shape"),
])
def test_bad_goal_sequences_raise_clear_errors(goals, error, match):
    agent = SubgoalAgent(FakeAgent())
    with pytest.raises(error, match=match):
        agent.act(OBS, goals)


def test_changing_the_sequence_mid_episode_raises():
    agent = SubgoalAgent(FakeAgent())
    agent.act(OBS, [_goal(1), _goal(2)])
    with pytest.raises(ValueError, match="reset"):
        agent.act(OBS, [_goal(3), _goal(2)])


def test_bad_config_and_agent():
    with pytest.raises(ValueError):
        SubgoalConfig(steps_per_subgoal=None, energy_threshold=None)
    with pytest.raises(ValueError):
        SubgoalConfig(steps_per_subgoal=0)
    with pytest.raises(ValueError):
        SubgoalConfig(energy_threshold=float("nan"))
    with pytest.raises(TypeError, match="act"):
        SubgoalAgent(object())


def test_check_goal_sequence_accepts_env_style_goals():
    goals = (_goal(1), {"image": np.zeros((8, 8, 3), np.uint8)})
    assert len(check_goal_sequence(goals, (8, 8, 3))) == 2


def test_real_agent_visits_the_subgoal_then_the_final_goal():
    """With agent.agent.Agent (its last_plan.costs) on a toy world model whose latent is the TCP xyz: the energy
    rule leaves waypoint A once the plan reaches it, then the agent goes on to B."""
    from agent.agent import Agent
    from planners import make_planner, paper_bounds
    from tests.agent.test_agent import PositionWorldModel, _obs

    planner = make_planner("cem", paper_bounds(), samples=200, iterations=6, horizon=1)
    agent = SubgoalAgent(Agent(PositionWorldModel(), planner),
                         SubgoalConfig(steps_per_subgoal=30, energy_threshold=0.005))
    waypoint, final = np.array([0.5, 0.15, 0.3]), np.array([0.5, -0.1, 0.15])
    goals = [{"image": PositionWorldModel.image_of(waypoint)}, {"image": PositionWorldModel.image_of(final)}]
    pos, path = np.array([0.35, 0.0, 0.3]), []
    for _ in range(20):
        pos = pos + agent.act(_obs(pos), goals)[:3]
        path.append(pos.copy())
    assert [e.reason for e in agent.switches] == ["energy"]
    assert min(np.linalg.norm(p - waypoint) for p in path) < 0.02
    assert np.linalg.norm(path[-1] - final) < 0.01


@pytest.mark.parametrize("task_id,count", [("FrankaGrasp-v0", 4), ("FrankaPickPlace-v0", 6)])
def test_step_budget_walks_the_env_subgoal_sequences(task_id, count):
    """The grasp (approach, pregrasp, grasp, lift) and pick-and-place (approach, pregrasp, grasp, lift, carry,
    place) subgoals of the envs are valid goal sequences, followed in order and ending on info["goal"]."""
    import gymnasium as gym

    import envs  # noqa: F401 - registers the ids

    env = gym.make(task_id, image_size=64)
    obs, info = env.reset(seed=2)
    env.close()
    goals = check_goal_sequence(info["subgoals"], obs["image"].shape)
    assert len(goals) == count
    states = [g["state"] for g in goals]
    assert all(not np.array_equal(a, b) for i, a in enumerate(states) for b in states[i + 1:]), "told apart by state"

    seen = []

    class StateAgent(FakeAgent):
        def act(self, obs, goal):
            seen.append(next(i for i, s in enumerate(states) if np.array_equal(s, goal["state"])))
            return np.zeros(7, np.float32)

    agent = SubgoalAgent(StateAgent(), SubgoalConfig(steps_per_subgoal=2))
    for _ in range(2 * count + 1):
        agent.act(obs, info["subgoals"])
    assert seen == [i for i in range(count) for _ in range(2)] + [count - 1]
    assert [(e.from_index, e.to_index) for e in agent.switches] == [(i, i + 1) for i in range(count - 1)]
    assert np.array_equal(goals[-1]["image"], info["goal"]["image"])
