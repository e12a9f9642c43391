"""Release in place (agent.release): the arm holds still in the step that lets go."""

import numpy as np
import pytest
import torch

from agent.agent import Agent, AgentConfig
from agent.release import RELEASE_CLOSURE, hold_arm_while_releasing, releases
from planners import make_planner, paper_bounds


def _action(dxyz, dgrip):
    return [*dxyz, 0.0, 0.0, 0.0, dgrip]


def test_releases_only_when_the_closure_crosses_the_threshold():
    actions = torch.tensor([_action([0.03, 0, 0], -0.75),   # closed on a cube, opens: lets go
                            _action([0.03, 0, 0], -0.75),   # already open: nothing to let go
                            _action([0.03, 0, 0], -0.1),    # closed, a small nudge: still closed
                            _action([0.03, 0, 0], 0.75),    # closes
                            _action([0.03, 0, 0], 0.0)])    # holds
    closure = torch.tensor([0.6, 0.0, 0.6, 0.6, 0.6])
    assert releases(actions, closure).tolist() == [True, False, False, False, False]
    assert releases(actions[:1], torch.tensor([RELEASE_CLOSURE])).item(), "at the threshold counts as closed"


def test_hold_arm_zeroes_the_arm_of_releasing_actions_only():
    actions = torch.tensor([[_action([0.03, -0.01, 0.02], -0.75), _action([0.03, 0.0, 0.0], -0.75)]])  # (1, 2, 7)
    closure = torch.tensor([[0.6, 0.0]])
    before = actions.clone()
    out = hold_arm_while_releasing(actions, closure)
    assert torch.equal(out[0, 0], torch.tensor(_action([0, 0, 0], -0.75))), "arm still, gripper command kept"
    assert torch.equal(out[0, 1], actions[0, 1]), "an open hand moves as planned"
    assert torch.equal(actions, before), "input unchanged"


def test_shapes_must_agree():
    with pytest.raises(ValueError, match="must agree"):
        releases(torch.zeros(2, 3, 7), torch.zeros(2))
    with pytest.raises(ValueError, match="must agree"):
        releases(torch.zeros(2, 6), torch.zeros(2))


class PoseGripperWorldModel:
    """A fake world model whose latent is the TCP xyz and the gripper closure (images carry them in their first
    pixels, in mm and per mille); the prediction is the final kinematic state."""

    @staticmethod
    def image_of(xyz, closure):
        img = np.zeros((8, 8, 3), np.uint8)
        values = np.round((np.array([*xyz, closure]) + 1.0) * 1000).astype(np.int64)  # 0..2000
        img[0, :4, 0], img[0, :4, 1] = values // 256, values % 256
        return img

    def encode(self, images):
        images = torch.as_tensor(np.asarray(images)).long()
        values = images[:, 0, :4, 0] * 256 + images[:, 0, :4, 1]
        return (values.float() / 1000 - 1.0)[:, None, :]  # (B, 1, 4)

    def rollout(self, z, actions, states):
        final = states[:, -1] + actions[:, -1]  # (B, 7): kinematic state after the last action (unclipped)
        latent = torch.cat([final[:, :3], final[:, 6:7].clamp(0, 1)], -1)
        return latent[:, None, None, :].contiguous()  # (B, H=1, N=1, 4)


def _agent(release: bool) -> Agent:
    planner = make_planner("cem", paper_bounds(), samples=200, iterations=6, horizon=1, gripper_discrete=True)
    return Agent(PoseGripperWorldModel(), planner, AgentConfig(release_in_place=release))


def _obs(xyz, closure):
    return {"image": PoseGripperWorldModel.image_of(xyz, closure),
            "state": np.array([*xyz, np.pi, 0, 0, closure], np.float32)}


def test_agent_lets_go_with_the_arm_still_and_plans_with_it():
    """The goal: 5 cm further in x with the hand open; from a closed hand, opening gains most. Without the rule the
    agent moves while it opens, with it the arm holds still in that step (and the planner scored it so: its plan
    cost is that of the still arm)."""
    start, goal_xyz = np.array([0.5, 0.0, 0.2]), np.array([0.55, 0.0, 0.2])
    goal = {"image": PoseGripperWorldModel.image_of(goal_xyz, 0.0)}
    moving = _agent(False).act(_obs(start, 0.6), goal)
    assert moving[6] < 0 and moving[0] > 0.02, moving
    agent = _agent(True)
    still = agent.act(_obs(start, 0.6), goal)
    assert still[6] < 0 and np.all(still[:6] == 0), still
    # scored as executed: 5 cm still to go in x, the mean |difference| over the 4 latent numbers
    assert agent.last_plan.costs.item() == pytest.approx(0.05 / 4, abs=1e-5)
    assert np.all(agent.last_plan.actions[0, 0, :6].numpy() == 0)
    free = agent.act(_obs(start, 0.0), goal)  # an open hand: nothing to let go, the arm moves
    assert free[0] > 0.02, free


def test_release_in_place_must_be_a_bool():
    with pytest.raises(ValueError, match="release_in_place"):
        AgentConfig(release_in_place="yes")
