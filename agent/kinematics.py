"""Batched torch version of envs.conventions.integrate_action (the planner's kinematic state model).

Euler convention: scipy 'xyz' (extrinsic x, then y, then z): R = Rz(yaw) @ Ry(pitch) @ Rx(roll).
"""

from __future__ import annotations

import torch


def euler_to_matrix(euler: torch.Tensor) -> torch.Tensor:
    """(..., 3) [roll, pitch, yaw] -> (..., 3, 3)."""
    r, p, y = euler.unbind(-1)
    cr, sr, cp, sp, cy, sy = r.cos(), r.sin(), p.cos(), p.sin(), y.cos(), y.sin()
    row0 = torch.stack([cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr], -1)
    row1 = torch.stack([sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr], -1)
    row2 = torch.stack([-sp, cp * sr, cp * cr], -1)
    return torch.stack([row0, row1, row2], -2)


def matrix_to_euler(m: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 3) [roll, pitch, yaw] (pitch in [-pi/2, pi/2])."""
    pitch = torch.asin((-m[..., 2, 0]).clamp(-1.0, 1.0))
    roll = torch.atan2(m[..., 2, 1], m[..., 2, 2])
    yaw = torch.atan2(m[..., 1, 0], m[..., 0, 0])
    return torch.stack([roll, pitch, yaw], -1)


def integrate_action(state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """Next state (..., 7): xyz + dxyz, R_new = R_delta R, gripper + dgripper clipped to [0, 1]."""
    xyz = state[..., :3] + action[..., :3]
    if torch.any(action[..., 3:6] != 0):
        euler = matrix_to_euler(euler_to_matrix(action[..., 3:6]) @ euler_to_matrix(state[..., 3:6]))
    else:  # the paper pins rotation deltas to 0: keep the angles exactly (no +-pi re-wrapping)
        euler = state[..., 3:6]
    grip = (state[..., 6:7] + action[..., 6:7]).clamp(0.0, 1.0)
    return torch.cat([xyz, euler, grip], -1)


def integrate_sequence(state0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """States of frames 0..H-1 under actions (B, H, 7) from state0 (B, 7) or (7,): returns (B, H, 7)
    (the state before each action, i.e. what the predictor is conditioned on)."""
    B, H, _ = actions.shape
    s = state0.expand(B, 7) if state0.dim() == 1 else state0
    out = [s]
    for k in range(H - 1):
        s = integrate_action(s, actions[:, k])
        out.append(s)
    return torch.stack(out, 1)
