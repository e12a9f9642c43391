"""Camera presets of the lean Franka envs (envs.scene.CAMERAS, ``FrankaEnv(camera=...)``) and the 96 px size."""

import itertools

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import envs  # noqa: F401 - registers the ids
from envs.franka_env import FrankaEnv
from envs.scene import CAMERAS, SECOND_CAMERA, CameraPreset, SceneConfig, camera_preset
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
    with pytest.raises(ValueError, match="front, twoview, workspace"):
        gym.make("FrankaReach-v0", image_size=64, camera=bad)


@pytest.mark.parametrize("camera", ["front", "workspace", "twoview"])
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


def _panes(env) -> tuple[np.ndarray, np.ndarray]:
    """The two camera views of a stacked env, rendered directly at (S/2, S) each."""
    u = env.unwrapped
    renderer = mujoco.Renderer(u.model, u.image_size // 2, u.image_size)
    panes = []
    for cam in ("front", SECOND_CAMERA):
        renderer.update_scene(u.data, camera=cam, scene_option=u._scene_opt)
        panes.append(renderer.render().copy())
    renderer.close()
    return panes[0], panes[1]


def test_twoview_stacks_the_side_view_above_the_front_view():
    env = gym.make("FrankaGrasp-v0", image_size=96, camera="twoview")
    obs, info = env.reset(seed=2)
    upper, lower = _panes(env)
    assert np.array_equal(obs["image"][:48], upper) and np.array_equal(obs["image"][48:], lower)
    preset, model = CAMERAS["twoview"], env.unwrapped.model
    ids = [model.camera(name).id for name in ("front", SECOND_CAMERA)]
    assert [model.cam_fovy[i] for i in ids] == [preset.fovy, preset.below.fovy]
    assert np.abs(upper.astype(int) - lower).mean() > 5, "two different views"
    assert all(g["image"].shape == (96, 96, 3) for g in info["subgoals"])
    env.close()


def test_twoview_sees_depth_along_the_side_cameras_line_of_sight():
    """A 5 cm TCP move along the upper (side) camera's line of sight changes few upper-pane pixels, and more
    lower-pane pixels: the front view sees it across its image."""
    env = gym.make("FrankaGrasp-v0", image_size=96, camera="twoview")
    env.reset(seed=0)
    u = env.unwrapped
    ray = CAMERAS["twoview"].line_of_sight()
    start = u.get_sim_state()
    tcp = u.ee_pose()[0]
    before = u.camera_image()
    u.set_sim_state(start)
    u.move_to(tcp + 0.05 * ray, settle_steps=150)
    after = u.camera_image()
    changed = np.abs(before.astype(int) - after).sum(-1) > 30
    assert changed[48:].sum() > 1.5 * changed[:48].sum(), (changed[:48].sum(), changed[48:].sum())
    env.close()


def test_twoview_randomised_camera_jitters_both_views():
    env = gym.make("FrankaReach-v0", image_size=64, camera="twoview", randomize="camera")
    nominal = gym.make("FrankaReach-v0", image_size=64, camera="twoview").unwrapped.model
    env.reset(seed=4)
    model = env.unwrapped.model
    for cam in ("front", SECOND_CAMERA):
        i = model.camera(cam).id
        assert not np.allclose(model.cam_pos[i], nominal.cam_pos[i]), cam
    env.close()


def test_line_of_sight_is_the_unit_vector_to_the_target():
    ray = CameraPreset((1.0, 0.0, 1.0), (1.0, 3.0, 5.0), 30.0).line_of_sight()
    assert np.allclose(ray, [0.0, 0.6, 0.8])


def test_a_preset_stacks_at_most_two_views():
    view = CameraPreset((1, 0, 1), (0, 0, 0), 30.0)
    CameraPreset((1, 0, 1), (0, 0, 0), 30.0, below=view)
    with pytest.raises(ValueError, match="at most two views"):
        CameraPreset((1, 0, 1), (0, 0, 0), 30.0, below=CameraPreset((1, 0, 1), (0, 0, 0), 30.0, below=view))
