"""The camera pose vector the world model can be conditioned on (the AC predictor's "extrinsics" input).

``CAMERA_POSE_DIM`` = 10 numbers, all in the robot base frame:

- ``[0:3]`` camera position (metres);
- ``[3:6]`` unit optical axis (the direction the camera looks);
- ``[6:9]`` unit image-up direction (towards the top row of the image);
- ``[9]`` vertical field of view (radians).

Two direction vectors instead of Euler angles keep the vector continuous for every orientation (angles wrap at
+-pi), and the field of view is included because the scene randomisation also zooms the camera
(``envs.randomization``: fovy_scale). A calibrated real camera gives the same numbers: position and rotation of
the camera in the base frame (OpenCV convention: optical axis = +z column, image up = -y column) and its vertical
field of view, ``2 * atan(height / (2 * fy))``.
"""

from __future__ import annotations

import mujoco
import numpy as np

CAMERA_POSE_DIM = 10


def mujoco_camera_pose(model: mujoco.MjModel, data: mujoco.MjData, camera: str | int) -> np.ndarray:
    """(10,) float32 pose vector of a MuJoCo camera as placed in ``data`` (``mj_forward`` or ``mj_camlight`` must
    have run since the camera last moved). World frame = base frame in the lean scene. MuJoCo cameras look along
    their -z axis with +y up."""
    cam = model.camera(camera).id
    rot = data.cam_xmat[cam].reshape(3, 3)  # columns: camera x, y, z axes in the world frame
    return pose_vector(data.cam_xpos[cam], -rot[:, 2], rot[:, 1], np.deg2rad(model.cam_fovy[cam]))


def opencv_camera_pose(rotation: np.ndarray, position: np.ndarray, fovy_rad: float) -> np.ndarray:
    """(10,) pose vector of a calibrated camera: ``rotation`` (3, 3) camera-to-base rotation in the OpenCV camera
    convention (x right, y down, z forward), ``position`` (3,) metres in the base frame, vertical field of view in
    radians."""
    rotation = np.asarray(rotation, dtype=np.float64)
    if rotation.shape != (3, 3):
        raise ValueError(f"rotation must be (3, 3), got {rotation.shape}")
    return pose_vector(position, rotation[:, 2], -rotation[:, 1], fovy_rad)


def pose_vector(position: np.ndarray, axis: np.ndarray, up: np.ndarray, fovy_rad: float) -> np.ndarray:
    """Assemble and check the (10,) vector; ``axis`` and ``up`` are normalised and must be orthogonal."""
    position, axis, up = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (position, axis, up))
    for name, v in (("position", position), ("axis", axis), ("up", up)):
        if v.shape != (3,) or not np.isfinite(v).all():
            raise ValueError(f"camera {name} must be 3 finite numbers, got {v}")
    axis, up = axis / np.linalg.norm(axis), up / np.linalg.norm(up)
    if abs(axis @ up) > 1e-3:
        raise ValueError(f"camera optical axis and image-up direction are not orthogonal (cos {axis @ up:.4f})")
    if not 0.0 < fovy_rad < np.pi:
        raise ValueError(f"vertical field of view must be in (0, pi) radians, got {fovy_rad}")
    return np.concatenate([position, axis, up, [fovy_rad]]).astype(np.float32)
