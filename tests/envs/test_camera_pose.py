"""The camera pose vector (envs.camera_pose) and FrankaEnv.camera_pose()."""

import gymnasium as gym
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

import envs  # noqa: F401 - registers the ids
from envs.camera_pose import CAMERA_POSE_DIM, opencv_camera_pose, pose_vector
from envs.scene import CAMERAS, camera_env_kwargs


def _env(randomize="none"):
    extra = {} if randomize == "none" else {"randomize": randomize}
    return gym.make("FrankaReach-v0", image_size=64, **extra, **camera_env_kwargs("workspace"))


def test_nominal_pose_is_the_camera_preset():
    """Position = the preset's, optical axis = towards its look-at target, fov = its fovy; up is orthogonal and
    points upwards in the world (the camera is not rolled)."""
    env = _env()
    env.reset(seed=0)
    pose = env.unwrapped.camera_pose()
    preset = CAMERAS["workspace"]
    assert pose.shape == (CAMERA_POSE_DIM,) and pose.dtype == np.float32
    np.testing.assert_allclose(pose[:3], preset.pos, atol=1e-5)
    np.testing.assert_allclose(pose[3:6], preset.line_of_sight(), atol=1e-5)
    assert abs(pose[3:6] @ pose[6:9]) < 1e-5 and pose[8] > 0.5
    assert pose[9] == pytest.approx(np.radians(preset.fovy), abs=1e-6)
    env.close()


def test_randomised_camera_pose_follows_the_seed():
    """A jittered camera gives another pose per seed, the same pose for the same seed, within the documented
    ranges (+-5 cm per axis, fov x 0.9-1.1)."""
    env = _env("camera")
    poses = []
    for seed in (0, 1, 0):
        env.reset(seed=seed)
        poses.append(env.unwrapped.camera_pose())
    np.testing.assert_array_equal(poses[0], poses[2])
    assert not np.allclose(poses[0], poses[1])
    nominal = CAMERAS["workspace"]
    for pose in poses:
        assert np.abs(pose[:3] - nominal.pos).max() <= 0.05 + 1e-6
        assert 0.9 - 1e-6 <= pose[9] / np.radians(nominal.fovy) <= 1.1 + 1e-6
    env.close()


def test_opencv_calibration_gives_the_same_vector():
    """A real camera's calibrated rotation (OpenCV axes: x right, y down, z forward) maps to the vector MuJoCo's
    camera convention (x right, y up, looking along -z) gives for the same physical pose."""
    env = _env("camera")
    env.reset(seed=3)
    u = env.unwrapped
    mj = u.data.cam_xmat[0].reshape(3, 3)  # columns: MuJoCo camera axes in the base frame
    cv = mj @ np.diag([1.0, -1.0, -1.0])  # flip y and z: the OpenCV axes of the same camera
    got = opencv_camera_pose(cv, u.data.cam_xpos[0], np.radians(u.model.cam_fovy[0]))
    np.testing.assert_allclose(got, u.camera_pose(), atol=1e-6)
    env.close()


def test_pose_vector_refuses_bad_input():
    r = Rotation.from_euler("x", 30, degrees=True).as_matrix()
    ok = pose_vector([0, 0, 1], r[:, 2], r[:, 1], 0.5)
    assert np.linalg.norm(ok[3:6]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="orthogonal"):
        pose_vector([0, 0, 1], [0, 0, 1], [0, 1, 1], 0.5)
    with pytest.raises(ValueError, match="field of view"):
        pose_vector([0, 0, 1], [0, 0, 1], [0, 1, 0], 4.0)
    with pytest.raises(ValueError, match="position"):
        pose_vector([0, np.nan, 1], [0, 0, 1], [0, 1, 0], 0.5)
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        opencv_camera_pose(np.eye(4), [0, 0, 0], 0.5)
