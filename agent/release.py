"""Release in place: the arm holds still in the step in which the hand lets go.

A cube dropped from carrying height (~10 cm) above the target by opening the hand with the arm still lands within a
few millimetres of the target (benchmarks/release_drop.py); opening while the arm moves 3 cm sideways throws it
~8 cm (the fingers push it as they part). Session 17's traces found the learned pick-and-place agent letting go
while moving, within 2 cm of the target, and the cube ending 6-27 cm away (docs/manipulation.md, "Where
pick-and-place fails").

:func:`hold_arm_while_releasing` is a pure rule on action sequences given the gripper closure before each action:
an action that lets go (takes the closure from at least :data:`RELEASE_CLOSURE` to below it) keeps its gripper
command and loses its arm motion (translation and rotation set to 0). The agent applies it to every sequence it
scores (so the planner ranks what will be executed) and to the plan it executes. It uses only the robot's own
state (the gripper closure), never the scene: the energy still comes from images alone.

Actions and states follow envs.conventions: action (..., 7) = [dx, dy, dz, droll, dpitch, dyaw, dgripper],
gripper closure in [0, 1] (0 open, 1 shut).
"""

from __future__ import annotations

import torch

from envs.tasks import HOLD_MIN_CLOSURE

RELEASE_CLOSURE = HOLD_MIN_CLOSURE  # closure at or above which the hand may hold a cube (envs.tasks.cube_held)
ARM_DIMS = slice(0, 6)  # translation and rotation deltas of a 7-d action
GRIPPER_DIM = 6


def releases(actions: torch.Tensor, closure_before: torch.Tensor,
             threshold: float = RELEASE_CLOSURE) -> torch.Tensor:
    """Boolean (...): whether each action (..., 7) lets go, i.e. takes the gripper closure ``closure_before`` (...)
    from >= ``threshold`` to below it (the closure after is ``closure_before + dgripper``)."""
    if actions.shape[-1] != 7 or actions.shape[:-1] != closure_before.shape:
        raise ValueError(f"actions (..., 7) and closure_before (...) must agree, got {tuple(actions.shape)} and "
                         f"{tuple(closure_before.shape)}")
    closure_before = closure_before.to(actions.dtype)
    after = closure_before + actions[..., GRIPPER_DIM]
    return (closure_before >= threshold) & (after < threshold)


def hold_arm_while_releasing(actions: torch.Tensor, closure_before: torch.Tensor,
                             threshold: float = RELEASE_CLOSURE) -> torch.Tensor:
    """``actions`` (..., 7) with the arm motion (dims 0-5) of every action that lets go (:func:`releases`) set to
    0; the gripper command is kept. A new tensor; the input is unchanged."""
    let_go = releases(actions, closure_before, threshold)  # (...)
    out = actions.clone()
    out[..., ARM_DIMS] = torch.where(let_go[..., None], torch.zeros_like(out[..., ARM_DIMS]), out[..., ARM_DIMS])
    return out
