"""State and action conventions shared by sim, real robot, training data and the agent.

All quantities are expressed in the **robot base frame** (x forward, y left, z up; metres, radians),
following DROID and the V-JEPA 2-AC paper:

* state  (7,) = [x, y, z, roll, pitch, yaw, gripper]
  - xyz: end-effector (TCP) position in metres,
  - roll/pitch/yaw: orientation as scipy ``Rotation.as_euler("xyz")`` (extrinsic x-y-z), radians,
  - gripper: closure in [0, 1] (0 = fully open, 1 = fully closed), as DROID's gripper_position.
* action (7,) = [dx, dy, dz, droll, dpitch, dyaw, dgripper]
  - dxyz = xyz_{t+1} - xyz_t (metres, base frame),
  - drot = euler_xyz(R_{t+1} R_t^T): the rotation delta applied on the left, in the base frame,
  - dgripper = gripper_{t+1} - gripper_t.

``action_between(s_t, s_t1)`` and ``integrate_action(s_t, a_t)`` are exact inverses (up to the
wrapping of Euler angles), which is what the planner's kinematic state integration relies on.
Functions accept a single vector (7,) or any batch (..., 7); numpy in, numpy out.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

STATE_DIM = 7
ACTION_DIM = 7
EULER_SEQ = "xyz"

STATE_NAMES = ("x", "y", "z", "roll", "pitch", "yaw", "gripper")
ACTION_NAMES = ("dx", "dy", "dz", "droll", "dpitch", "dyaw", "dgripper")


def _check_last_dim(x: np.ndarray, name: str, dim: int = 7) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-1:] != (dim,):
        raise ValueError(f"{name} must have last dimension {dim}, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf: {x}")
    return x


def pose_to_state(position: np.ndarray, rotation_matrix: np.ndarray, gripper: np.ndarray | float) -> np.ndarray:
    """Build a state from a TCP position (..., 3) [m], rotation matrix (..., 3, 3) and gripper closure in [0, 1]."""
    position = np.asarray(position, dtype=np.float64)
    rotation_matrix = np.asarray(rotation_matrix, dtype=np.float64)
    batch = position.shape[:-1]
    euler = Rotation.from_matrix(rotation_matrix.reshape(-1, 3, 3)).as_euler(EULER_SEQ).reshape(*batch, 3)
    grip = np.broadcast_to(np.asarray(gripper, dtype=np.float64), batch)[..., None]
    return np.concatenate([position, euler, grip], axis=-1)


def state_rotation(state: np.ndarray) -> Rotation:
    """The orientation part of a state (..., 7) as a (flattened) scipy Rotation."""
    state = _check_last_dim(state, "state")
    return Rotation.from_euler(EULER_SEQ, state.reshape(-1, 7)[:, 3:6])


def action_between(state_t: np.ndarray, state_t1: np.ndarray) -> np.ndarray:
    """The action that moves ``state_t`` to ``state_t1`` (both (..., 7)), in the DROID convention."""
    state_t = _check_last_dim(state_t, "state_t")
    state_t1 = _check_last_dim(state_t1, "state_t1")
    state_t, state_t1 = np.broadcast_arrays(state_t, state_t1)
    batch = state_t.shape[:-1]
    r_t = Rotation.from_euler(EULER_SEQ, state_t.reshape(-1, 7)[:, 3:6])
    r_t1 = Rotation.from_euler(EULER_SEQ, state_t1.reshape(-1, 7)[:, 3:6])
    drot = (r_t1 * r_t.inv()).as_euler(EULER_SEQ).reshape(*batch, 3)
    dxyz = state_t1[..., :3] - state_t[..., :3]
    dgrip = state_t1[..., 6:7] - state_t[..., 6:7]
    return np.concatenate([dxyz, drot, dgrip], axis=-1)


def integrate_action(state: np.ndarray, action: np.ndarray, clip_gripper: bool = True) -> np.ndarray:
    """Kinematic next state: xyz + dxyz, R_new = R_delta R, gripper + dgripper (clipped to [0, 1])."""
    state = _check_last_dim(state, "state")
    action = _check_last_dim(action, "action")
    state, action = np.broadcast_arrays(state, action)
    batch = state.shape[:-1]
    r = Rotation.from_euler(EULER_SEQ, state.reshape(-1, 7)[:, 3:6])
    dr = Rotation.from_euler(EULER_SEQ, action.reshape(-1, 7)[:, 3:6])
    euler = (dr * r).as_euler(EULER_SEQ).reshape(*batch, 3)
    xyz = state[..., :3] + action[..., :3]
    grip = state[..., 6:7] + action[..., 6:7]
    if clip_gripper:
        grip = np.clip(grip, 0.0, 1.0)
    return np.concatenate([xyz, euler, grip], axis=-1)


def state_distance(state_a: np.ndarray, state_b: np.ndarray) -> np.ndarray:
    """Euclidean distance between the TCP positions of two states (..., 7), metres."""
    state_a = _check_last_dim(state_a, "state_a")
    state_b = _check_last_dim(state_b, "state_b")
    return np.linalg.norm(state_a[..., :3] - state_b[..., :3], axis=-1)
