"""SubgoalAgent's plateau rule: move on once the plan cost stops improving (scale-free), and its bad settings."""

import pytest

from agent.subgoals import SubgoalAgent, SubgoalConfig
from tests.agent.test_subgoals import FakeAgent, _goal, _run


def test_plateau_switches_after_patience_plans_without_improvement():
    # costs on subgoal 0: improving, then flat for 2 plans -> switch after the 5th action; subgoal 1 starts fresh
    fake = FakeAgent(costs=[1.0, 0.8, 0.6, 0.6, 0.595, 0.9, 0.5, 0.5, 0.5])
    agent = SubgoalAgent(fake, SubgoalConfig(steps_per_subgoal=None, plateau_patience=2, plateau_tol=0.02))
    _run(agent, [_goal(1), _goal(2), _goal(3)], 9)
    assert [(e.step, e.from_index, e.reason) for e in agent.switches] == [(4, 0, "plateau"), (8, 1, "plateau")]
    assert fake.goals_seen == [1] * 5 + [2] * 4


def test_plateau_does_not_fire_while_the_cost_keeps_falling_and_never_leaves_the_final_goal():
    fake = FakeAgent(costs=[1.0 * 0.9 ** k for k in range(12)])
    agent = SubgoalAgent(fake, SubgoalConfig(steps_per_subgoal=None, plateau_patience=1))
    _run(agent, [_goal(1), _goal(2)], 12)
    assert agent.switches == [] and set(fake.goals_seen) == {1}
    flat = FakeAgent(costs=[0.5] * 10)
    agent = SubgoalAgent(flat, SubgoalConfig(steps_per_subgoal=None, plateau_patience=1))
    _run(agent, [_goal(1), _goal(2)], 10)
    assert len(agent.switches) == 1 and flat.goals_seen[-1] == 2  # the final goal is kept


def test_plateau_respects_min_steps_and_the_step_budget_still_applies():
    fake = FakeAgent(costs=[0.5] * 10)
    agent = SubgoalAgent(fake, SubgoalConfig(steps_per_subgoal=None, plateau_patience=1, min_steps_per_subgoal=4))
    _run(agent, [_goal(1), _goal(2)], 6)
    assert [(e.step, e.reason) for e in agent.switches] == [(3, "plateau")]
    budget = SubgoalAgent(FakeAgent(costs=[1.0 * 0.5 ** k for k in range(10)]),
                          SubgoalConfig(steps_per_subgoal=3, plateau_patience=2))
    _run(budget, [_goal(1), _goal(2)], 5)
    assert [(e.step, e.reason) for e in budget.switches] == [(2, "steps")]


@pytest.mark.parametrize("kwargs, match", [
    ({"plateau_patience": 0}, "plateau_patience"),
    ({"plateau_patience": True}, "plateau_patience"),
    ({"plateau_patience": 2, "plateau_tol": 1.0}, "plateau_tol"),
    ({"plateau_patience": 2, "plateau_tol": -0.1}, "plateau_tol"),
])
def test_bad_plateau_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SubgoalConfig(steps_per_subgoal=None, **kwargs)


def test_plateau_only_needs_an_agent_with_last_plan():
    class NoPlan:
        def act(self, obs, goal):
            return None

        def reset(self):
            pass

    with pytest.raises(ValueError, match="last_plan"):
        SubgoalAgent(NoPlan(), SubgoalConfig(steps_per_subgoal=None, plateau_patience=2))
