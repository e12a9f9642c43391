"""The planning energy: L1 distance between predicted and goal latents (V-JEPA 2-AC)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class EnergyConfig:
    """all_frames: average over every predicted frame instead of the final one (the paper uses the final).
    state_weight: weight of an optional L1 term between predicted and goal TCP xyz (metres); 0 = off."""

    all_frames: bool = False
    state_weight: float = 0.0


def latent_energy(pred: torch.Tensor, goal: torch.Tensor, all_frames: bool = False) -> torch.Tensor:
    """pred (B, H, N, D), goal (N, D) or (B, N, D) -> (B,) mean |pred - goal| on the final (or every) frame."""
    if goal.dim() == 2:
        goal = goal[None]
    if pred.dim() != 4 or pred.shape[-2:] != goal.shape[-2:]:
        raise ValueError(f"pred (B, H, N, D) and goal (N, D) disagree: {tuple(pred.shape)} vs {tuple(goal.shape)}")
    frames = pred if all_frames else pred[:, -1:]
    return (frames - goal[:, None]).abs().mean(dim=(1, 2, 3))


def state_energy(states: torch.Tensor, goal_state: torch.Tensor) -> torch.Tensor:
    """states (B, 7) final predicted states, goal_state (7,) -> (B,) L1 over xyz (metres)."""
    return (states[..., :3] - goal_state[:3]).abs().sum(-1)
