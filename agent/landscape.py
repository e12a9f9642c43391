"""The paper's energy-landscape figure: energy of one-step actions on a (dx, dy) grid around the current state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from agent.agent import Agent


@dataclass
class Landscape:
    dx: np.ndarray  # (G,) metres
    dy: np.ndarray  # (G,) metres
    energy: np.ndarray  # (G, G) energy[i, j] at (dx[j], dy[i])
    goal_direction: np.ndarray | None  # (2,) unit xy direction to the goal state, if known

    def argmin(self) -> tuple[float, float]:
        i, j = np.unravel_index(np.argmin(self.energy), self.energy.shape)
        return float(self.dx[j]), float(self.dy[i])


@torch.inference_mode()
def energy_landscape(agent: Agent, obs: dict, goal: dict, extent: float = 0.05, points: int = 21,
                     horizon: int = 1) -> Landscape:
    """Evaluate the agent's cost on actions [dx, dy, 0, 0, 0, 0, 0] repeated over ``horizon`` steps."""
    grid = np.linspace(-extent, extent, points)
    dx, dy = np.meshgrid(grid, grid)  # (G, G)
    actions = torch.zeros(1, points * points, horizon, 7)
    actions[0, :, :, 0] = torch.as_tensor(dx.reshape(-1, 1), dtype=torch.float32)
    actions[0, :, :, 1] = torch.as_tensor(dy.reshape(-1, 1), dtype=torch.float32)
    image, state = obs["image"], np.asarray(obs["state"], np.float32)
    goal_z = agent.encode_goal(goal)
    z0 = agent.world_model.encode(np.asarray(image)[None])
    cost = agent.cost_fn(z0, torch.as_tensor(state), goal_z)(actions)  # (1, G*G)
    direction = None
    if "state" in goal:
        d = np.asarray(goal["state"][:2], np.float64) - state[:2]
        direction = d / max(np.linalg.norm(d), 1e-9)
    return Landscape(grid, grid, cost.reshape(points, points).numpy(), direction)


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
