"""Camera presets of the lean Franka envs (envs.scene.CAMERAS, ``FrankaEnv(camera=...)``) and the 96 px size."""

import itertools

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import envs  # noqa: F401 - registers the ids
from envs.franka_env import FrankaEnv
from envs.scene import CAMERAS, SceneConfig, camera_preset
from envs.spec import SUPPORTED_IMAGE_SIZES
from envs.tasks import TASKS


def _project(env, points) -> np.ndarray:
    """Pixel (u, v) of base-frame points in the env's camera (pinhole model of MuJoCo's fixed camera)."""
    u = env.unwrapped
    mujoco.mj_forward(u.model, u.data)
    pos, rot = u.data.cam_xpos[0], u.data.cam_xmat[0].reshape(3, 3)
    size = u.image_size
    focal = (size / 2) / np.tan(np.radians(u.model.cam_fovy[0]) / 2)
    cam = (np.asarray(points, dtype=np.float64) - pos) @ rot  # camera frame: x right, y up, looking along -z
    depth = -cam[:, 2]
    assert (depth > 0).all(), "behind the camera"
    return np.stack([size / 2 + focal * cam[:, 0] / depth, size / 2 - focal * cam[:, 1] / depth], axis=1)


def test_presets_and_the_front_default():
    assert set(CAMERAS) >= {"front", "workspace"}
    assert camera_preset("workspace") is CAMERAS["workspace"]
    front, scene = CAMERAS["front"], SceneConfig()
    assert (front.pos, front.target, front.fovy) == (scene.camera_pos, scene.camera_target, scene.camera_fovy), \
        "front = the scene's original camera"
    env = FrankaEnv(TASKS["FrankaReach-v0"](), image_size=64)
    assert env.camera == "front"
    env.close()


@pytest.mark.parametrize("task_id", ["FrankaReach-v0", "FrankaPickPlace-v0"])
def test_default_env_is_the_front_camera(task_id):
    """No camera argument and camera="front" render the same bytes (the default env is unchanged)."""
    default, front = gym.make(task_id, image_size=64), gym.make(task_id, image_size=64, camera="front")
    a, ia = default.reset(seed=7)
    b, ib = front.reset(seed=7)
    assert np.array_equal(a["image"], b["image"]) and np.array_equal(ia["goal"]["image"], ib["goal"]["image"])
    assert np.array_equal(default.unwrapped.model.cam_pos, front.unwrapped.model.cam_pos)
    assert np.array_equal(default.unwrapped.model.cam_quat, front.unwrapped.model.cam_quat)
    default.close(), front.close()


def test_workspace_camera_changes_the_images_not_the_physics():
    front = gym.make("FrankaPickPlace-v0", image_size=64)
    work = gym.make("FrankaPickPlace-v0", image_size=64, camera="workspace")
    assert work.unwrapped.camera == "workspace"
    a, ia = front.reset(seed=3)
    b, ib = work.reset(seed=3)
    assert np.array_equal(a["state"], b["state"]) and np.array_equal(ia["goal"]["state"], ib["goal"]["state"])
    assert np.abs(a["image"].astype(int) - b["image"]).mean() > 5
    assert not np.array_equal(ia["goal"]["image"], ib["goal"]["image"])
    assert all(not np.array_equal(f["image"], w["image"]) for f, w in zip(ia["subgoals"], ib["subgoals"]))
    assert work.unwrapped.model.cam_fovy[0] == CAMERAS["workspace"].fovy
    act = np.array([0.03, -0.02, -0.01, 0, 0, 0, 0.3], np.float32)
    assert np.array_equal(front.step(act)[0]["state"], work.step(act)[0]["state"])
    front.close(), work.close()


def test_workspace_camera_frames_the_workspace_with_a_bigger_cube():
    """The TCP workspace box (x 0.35-0.65 m, |y| <= 0.22 m, z 0-0.4 m) stays in the frame and the 4 cm cube's
    projected extent (largest side of the bounding box of its 8 corners) is > 1.3x the front view's (1.4x)."""
    box = list(itertools.product([0.35, 0.65], [-0.22, 0.22], [0.0, 0.4]))
    widths = {}
    for name in ("front", "workspace"):
        env = gym.make("FrankaGrasp-v0", image_size=64, camera=name)
        env.reset(seed=0)
        corners = _project(env, box)
        assert (corners >= 0).all() and (corners <= 64).all(), (name, corners)
        cube = env.unwrapped.data.body("cube0").xpos
        ends = _project(env, [cube + np.array(d) * 0.02 for d in itertools.product([-1, 1], repeat=3)])
        widths[name] = float((ends.max(0) - ends.min(0)).max())
        env.close()
    assert widths["workspace"] > 1.3 * widths["front"], widths


@pytest.mark.parametrize("bad", ["sideways", "Front", ""])
def test_unknown_camera_is_refused_with_the_presets_listed(bad):
    listing = ", ".join(sorted(CAMERAS))
    with pytest.raises(ValueError, match=f"unknown camera {bad!r}; choose one of {listing}"):
        camera_preset(bad)
    with pytest.raises(ValueError, match="front, workspace"):
        gym.make("FrankaReach-v0", image_size=64, camera=bad)


@pytest.mark.parametrize("camera", ["front", "workspace"])
def test_96_px_observations(camera):
    assert 96 in SUPPORTED_IMAGE_SIZES
    env = gym.make("FrankaGrasp-v0", image_size=96, camera=camera)
    assert env.observation_space["image"].shape == (96, 96, 3)
    obs, info = env.reset(seed=1)
    assert obs["image"].shape == (96, 96, 3) and obs["image"].dtype == np.uint8
    assert env.observation_space.contains(obs)
    assert info["goal"]["image"].shape == (96, 96, 3)
    assert all(g["image"].shape == (96, 96, 3) for g in info["subgoals"])
    assert env.step(np.zeros(7, np.float32))[0]["image"].shape == (96, 96, 3)
    env.close()
    with pytest.raises(ValueError):
        gym.make("FrankaReach-v0", image_size=80)
