"""The planning energy: L1 distance between predicted and goal latents (V-JEPA 2-AC); L2 as an option."""

from __future__ import annotations

from dataclasses import dataclass

import torch


NORMS = ("l1", "l2")


@dataclass(frozen=True)
class EnergyConfig:
    """all_frames: average over every predicted frame instead of the final one (the paper uses the final).
    state_weight: weight of an optional L1 term between predicted and goal TCP xyz (metres); 0 = off.
    norm: "l1" (the paper's mean absolute difference) or "l2" (mean squared difference, which jepa-wms found
    better for CEM). The two have different scales: an energy threshold tuned for one does not fit the other."""

    all_frames: bool = False
    state_weight: float = 0.0
    norm: str = "l1"

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ValueError(f"energy.norm must be one of {', '.join(NORMS)}, got {self.norm!r}")


def latent_energy(pred: torch.Tensor, goal: torch.Tensor, all_frames: bool = False, norm: str = "l1") -> torch.Tensor:
    """pred (B, H, N, D), goal (N, D) or (B, N, D) -> (B,) mean |pred - goal| (norm "l1") or mean (pred - goal)^2
    ("l2") on the final (or every) frame."""
    if goal.dim() == 2:
        goal = goal[None]
    if pred.dim() != 4 or pred.shape[-2:] != goal.shape[-2:]:
        raise ValueError(f"pred (B, H, N, D) and goal (N, D) disagree: {tuple(pred.shape)} vs {tuple(goal.shape)}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
    frames = pred if all_frames else pred[:, -1:]
    diff = frames - goal[:, None]
    return (diff.abs() if norm == "l1" else diff.square()).mean(dim=(1, 2, 3))


def state_energy(states: torch.Tensor, goal_state: torch.Tensor) -> torch.Tensor:
    """states (B, 7) final predicted states, goal_state (7,) -> (B,) L1 over xyz (metres)."""
    return (states[..., :3] - goal_state[:3]).abs().sum(-1)
