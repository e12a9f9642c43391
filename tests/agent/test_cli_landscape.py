"""`vjepa-energy-landscape` rows of the hardening pass: bad grids and tasks end with one clear line."""

import numpy as np
import pytest
import torch

from agent.agent import Agent
from agent.landscape import energy_landscape
from agent.landscape_cli import main
from planners import make_planner, paper_bounds


@pytest.mark.parametrize("args, needle", [(["--points", "0"], "--points: must be >= 2"),
                                          (["--points", "1"], "--points: must be >= 2"),
                                          (["--extent", "nan"], "--extent: must be a finite number"),
                                          (["--extent", "-1"], "--extent: must be a finite number"),
                                          (["--extent", "0"], "--extent"), (["--points", "abc"], "not an integer")])
def test_landscape_cli_refuses_bad_grid(args, needle, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main([*args, "--out", str(tmp_path / "l.png")])
    assert exc.value.code == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "l.png").exists()


def test_landscape_cli_unknown_task_is_one_line(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["--task", "Bogus-v0", "--out", str(tmp_path / "l.png")])
    assert exc.value.code == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("vjepa-energy-landscape: error: ValueError: unknown task 'Bogus-v0'")


class ConstantWorldModel:
    def encode(self, images):
        return torch.zeros(np.asarray(images).shape[0], 1, 4)

    def rollout(self, z, actions, states):
        return torch.zeros(actions.shape[0], actions.shape[1], 1, 4)


@pytest.mark.parametrize("kw, match", [({"points": 1}, "points"), ({"points": 0}, "points"),
                                       ({"extent": float("nan")}, "extent"), ({"extent": -1.0}, "extent"),
                                       ({"horizon": 0}, "horizon")])
def test_energy_landscape_api_refuses_bad_grid(kw, match):
    agent = Agent(ConstantWorldModel(), make_planner("cem", paper_bounds(), samples=4, topk=2, iterations=1,
                                                     horizon=1))
    obs = {"image": np.zeros((64, 64, 3), np.uint8), "state": np.zeros(7)}
    with pytest.raises(ValueError, match=match):
        energy_landscape(agent, obs, {"image": obs["image"]}, **kw)


def test_energy_landscape_grid_shape_and_direction():
    agent = Agent(ConstantWorldModel(), make_planner("cem", paper_bounds(), samples=4, topk=2, iterations=1,
                                                     horizon=1))
    obs = {"image": np.zeros((64, 64, 3), np.uint8), "state": np.zeros(7)}
    goal = {"image": obs["image"], "state": np.array([0.0, 0.1, 0, 0, 0, 0, 0])}
    land = energy_landscape(agent, obs, goal, extent=0.02, points=3)
    assert land.energy.shape == (3, 3) and np.allclose(land.goal_direction, [0.0, 1.0])
