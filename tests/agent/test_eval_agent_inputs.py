"""Agent.act input rows of the hardening pass: empty/tiny images refused, non-square images centre-cropped."""

import numpy as np
import pytest
import torch

from agent.agent import Agent
from agent.observation import MIN_IMAGE_SIDE, centre_crop_square, check_obs
from planners import make_planner, paper_bounds


class RecordingWorldModel:
    """A constant world model that records every image batch it is asked to encode."""

    def __init__(self):
        self.encoded: list[np.ndarray] = []

    def encode(self, images):
        images = np.asarray(images)
        self.encoded.append(images.copy())
        return torch.zeros(images.shape[0], 1, 4)

    def rollout(self, z, actions, states):
        return torch.zeros(actions.shape[0], actions.shape[1], 1, 4)


def _agent():
    wm = RecordingWorldModel()
    planner = make_planner("cem", paper_bounds(), samples=4, topk=2, iterations=1, horizon=1)
    return Agent(wm, planner), wm


def _obs(image):
    return {"image": image, "state": np.zeros(7)}


@pytest.mark.parametrize("shape", [(0, 0, 3), (1, 1, 3), (7, 7, 3), (64, 4, 3)])
def test_act_refuses_empty_or_tiny_image(shape):
    agent, wm = _agent()
    goal = {"image": np.zeros((64, 64, 3), np.uint8)}
    with pytest.raises(ValueError, match=f"at least {MIN_IMAGE_SIDE}"):
        agent.act(_obs(np.zeros(shape, np.uint8)), goal)
    assert wm.encoded == [], "nothing may reach the world model"


def test_act_refuses_tiny_goal_image():
    agent, _ = _agent()
    with pytest.raises(ValueError, match=r"goal\['image'\] is 2x2"):
        agent.act(_obs(np.zeros((64, 64, 3), np.uint8)), {"image": np.zeros((2, 2, 3), np.uint8)})


def test_act_centre_crops_non_square_image_instead_of_squashing():
    agent, wm = _agent()
    rng = np.random.default_rng(0)
    wide = rng.integers(0, 255, (64, 128, 3), dtype=np.uint8)
    tall_goal = rng.integers(0, 255, (96, 64, 3), dtype=np.uint8)
    agent.act(_obs(wide), {"image": tall_goal})
    shapes = [batch.shape for batch in wm.encoded]
    assert shapes == [(1, 64, 64, 3), (1, 64, 64, 3)], shapes
    assert np.array_equal(wm.encoded[0][0], tall_goal[16:80])  # the goal is encoded first
    assert np.array_equal(wm.encoded[1][0], wide[:, 32:96])


def test_centre_crop_square_keeps_square_images():
    img = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    assert centre_crop_square(img) is img or np.array_equal(centre_crop_square(img), img)
    image, _ = check_obs(_obs(img))
    assert np.array_equal(image, img)


@pytest.mark.parametrize("index,value,match", [(0, 1e30, "metres"), (2, -50.0, "metres"), (4, 100.0, "radians"),
                                               (6, 5.0, "gripper")])
def test_f26_implausible_state_is_named_not_blamed_on_the_cost(index, value, match):
    """Regression (probe row 'Agent.act state 1e30'): was 'cost_fn returned NaN costs'."""
    from agent.observation import check_obs

    state = np.zeros(7)
    state[index] = value
    with pytest.raises(ValueError, match=match):
        check_obs({"image": np.zeros((64, 64, 3), np.uint8), "state": state})
