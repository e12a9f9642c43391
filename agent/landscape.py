"""The paper's energy-landscape figure: energy of one-step actions on a (dx, dy) grid around the current state."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from agent.agent import Agent
from agent.observation import check_obs


@dataclass
class Landscape:
    dx: np.ndarray  # (G,) metres
    dy: np.ndarray  # (G,) metres
    energy: np.ndarray  # (G, G) energy[i, j] at (dx[j], dy[i])
    goal_direction: np.ndarray | None  # (2,) unit xy direction to the goal state, if known

    def argmin(self) -> tuple[float, float]:
        i, j = np.unravel_index(np.argmin(self.energy), self.energy.shape)
        return float(self.dx[j]), float(self.dy[i])


def check_grid(extent: float, points: int, horizon: int = 1) -> None:
    """ValueError unless extent is a finite number > 0 and points >= 2, horizon >= 1 are integers."""
    if isinstance(extent, bool) or not isinstance(extent, (int, float)) or not math.isfinite(extent) or extent <= 0:
        raise ValueError(f"extent must be a finite number of metres > 0, got {extent!r}")
    for name, value, minimum in (("points", points, 2), ("horizon", horizon, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


@torch.inference_mode()
def energy_landscape(agent: Agent, obs: dict, goal: dict, extent: float = 0.05, points: int = 21,
                     horizon: int = 1) -> Landscape:
    """Evaluate the agent's cost on actions [dx, dy, 0, 0, 0, 0, 0] repeated over ``horizon`` steps.

    extent: half-width of the grid in metres (finite, > 0); points: grid points per axis (>= 2)."""
    check_grid(extent, points, horizon)
    image, state = check_obs(obs, "obs")
    grid = np.linspace(-extent, extent, points)
    dx, dy = np.meshgrid(grid, grid)  # (G, G)
    actions = torch.zeros(1, points * points, horizon, 7)
    actions[0, :, :, 0] = torch.as_tensor(dx.reshape(-1, 1), dtype=torch.float32)
    actions[0, :, :, 1] = torch.as_tensor(dy.reshape(-1, 1), dtype=torch.float32)
    state = state.astype(np.float32)
    goal_z = agent.encode_goal(goal)
    z0 = agent.world_model.encode(image[None])
    cost = agent.cost_fn(z0, torch.as_tensor(state), goal_z)(actions)  # (1, G*G)
    return Landscape(grid, grid, cost.reshape(points, points).numpy(), _goal_direction(goal, state))


def _goal_direction(goal: dict, state: np.ndarray) -> np.ndarray | None:
    """Unit xy direction from ``state`` to the goal state; None without a goal state or when already there."""
    if goal.get("state") is None:
        return None
    d = np.asarray(goal["state"][:2], np.float64) - state[:2]
    norm = float(np.linalg.norm(d))
    return d / norm if norm > 1e-9 else None


def plot_landscape(land: Landscape, path: str, title: str = "energy landscape") -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.3))
    im = ax.imshow(land.energy, origin="lower", cmap="viridis",
                   extent=[land.dx[0] * 100, land.dx[-1] * 100, land.dy[0] * 100, land.dy[-1] * 100])
    fig.colorbar(im, ax=ax, label="L1 energy")
    mx, my = land.argmin()
    ax.plot(mx * 100, my * 100, "r*", ms=14, label="energy minimum")
    if land.goal_direction is not None:
        r = land.dx[-1] * 100 * 0.9
        ax.arrow(0, 0, land.goal_direction[0] * r, land.goal_direction[1] * r, color="w", width=0.08,
                 length_includes_head=True, label="true goal direction")
    ax.set_xlabel("dx (cm, base frame)")
    ax.set_ylabel("dy (cm, base frame)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
