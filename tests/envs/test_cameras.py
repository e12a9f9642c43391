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


@pytest.mark.parametrize("camera", ["front", "workspace", "twoview", "workspace_wrist"])
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
    size = env.unwrapped.image_size
    return _render(env, "front", size // 2, size), _render(env, SECOND_CAMERA, size // 2, size)


def _render(env, cam: str, height: int, width: int) -> np.ndarray:
    """One MuJoCo camera of ``env`` rendered directly at (height, width)."""
    u = env.unwrapped
    renderer = mujoco.Renderer(u.model, height, width)
    renderer.update_scene(u.data, camera=cam, scene_option=u._scene_opt)
    image = renderer.render().copy()
    renderer.close()
    return image


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


def test_workspace_wrist_puts_the_wrist_view_beside_the_workspace_view():
    preset = CAMERAS["workspace_wrist"]
    assert preset.panes(96) == ([("front", 96, 64), (SECOND_CAMERA, 96, 32)], 1)
    env = gym.make("FrankaGrasp-v0", image_size=96, camera="workspace_wrist")
    obs, info = env.reset(seed=2)
    assert obs["image"].shape == (96, 96, 3) and env.observation_space.contains(obs)
    assert np.array_equal(obs["image"][:, :64], _render(env, "front", 96, 64))
    assert np.array_equal(obs["image"][:, 64:], _render(env, SECOND_CAMERA, 96, 32))
    assert all(g["image"].shape == (96, 96, 3) for g in info["subgoals"])
    env.close()


def test_the_wrist_camera_rides_on_the_hand():
    env = gym.make("FrankaGrasp-v0", image_size=96, camera="workspace_wrist")
    env.reset(seed=3)
    u = env.unwrapped
    wrist, front = u.model.camera(SECOND_CAMERA).id, u.model.camera("front").id
    before = u.data.cam_xpos.copy()
    u.move_to(u.current_state()[:3] + [0.0, 0.05, -0.05])
    assert np.allclose(u.data.cam_xpos[front], before[front]), "the workspace camera stays"
    moved = u.data.cam_xpos[wrist] - before[wrist]
    assert np.allclose(moved, [0.0, 0.05, -0.05], atol=0.01), ("the wrist camera follows", moved)
    env.close()


def test_the_wrist_view_sees_the_fingers_close_on_the_cube():
    """Closing on the cube changes the wrist pane far more than the workspace pane (the point of the wrist view)."""
    from envs.tasks import cube_pos

    env = gym.make("FrankaGrasp-v0", image_size=96, camera="workspace_wrist")
    env.reset(seed=1000)
    u = env.unwrapped
    u.move_to(cube_pos(u) + [0.0, 0.0, 0.08])
    u.move_to(cube_pos(u) + [0.0, 0.0, -0.007])
    open_ = u.render_image().astype(int)
    u.set_gripper(0.8)
    u.step_physics(2 * u.substeps)
    change = np.abs(u.render_image().astype(int) - open_).mean(axis=(0, 2))  # per column
    assert change[64:].mean() > 5 * change[:64].mean(), (change[64:].mean(), change[:64].mean())
    env.close()


def test_a_randomised_camera_moves_the_workspace_camera_not_the_wrist_camera():
    """Camera jitter moves cameras placed in the world only, with the same draws as before the wrist camera existed:
    the workspace view of workspace_wrist jitters exactly as the workspace preset's does for the same seed."""
    wrist = gym.make("FrankaReach-v0", image_size=96, camera="workspace_wrist", randomize="camera")
    plain = gym.make("FrankaReach-v0", image_size=96, camera="workspace", randomize="camera")
    nominal = gym.make("FrankaReach-v0", image_size=96, camera="workspace_wrist").unwrapped.model
    wrist.reset(seed=5)
    plain.reset(seed=5)
    model = wrist.unwrapped.model
    front, second = model.camera("front").id, model.camera(SECOND_CAMERA).id
    assert not np.allclose(model.cam_pos[front], nominal.cam_pos[front])
    assert np.allclose(model.cam_pos[front], plain.unwrapped.model.cam_pos[0])
    assert np.allclose(model.cam_quat[front], plain.unwrapped.model.cam_quat[0])
    assert np.allclose(model.cam_pos[second], nominal.cam_pos[second])
    assert np.allclose(model.cam_quat[second], nominal.cam_quat[second])
    assert model.cam_fovy[second] == nominal.cam_fovy[second]
    wrist.close()
    plain.close()


@pytest.mark.parametrize("kwargs, message", [
    (dict(below=CameraPreset((1, 0, 1), (0, 0, 0), 30.0), beside=CameraPreset((1, 0, 1), (0, 0, 0), 30.0),
          beside_share=0.5), "below or beside"),
    (dict(beside=CameraPreset((1, 0, 1), (0, 0, 0), 30.0)), "beside_share must lie in"),
    (dict(beside=CameraPreset((1, 0, 1), (0, 0, 0), 30.0), beside_share=1.0), "beside_share must lie in"),
    (dict(beside_share=0.3), "set beside too"),
    (dict(up=(-1.0, 0.0, -1.0)), "parallel to its line of sight"),
])
def test_bad_camera_presets_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CameraPreset((1, 0, 1), (0, 0, 0), 30.0, **kwargs)


def test_pane_sizes_that_do_not_fit_are_refused():
    side = CameraPreset((1, 0, 1), (0, 0, 0), 30.0)
    assert CameraPreset((1, 0, 1), (0, 0, 0), 30.0, beside=side, beside_share=0.25).panes(64)[0] == [
        ("front", 64, 48), (SECOND_CAMERA, 64, 16)]
    with pytest.raises(ValueError, match="even image_size"):
        CameraPreset((1, 0, 1), (0, 0, 0), 30.0, below=side).panes(63)
    with pytest.raises(ValueError, match="leaves no pixels"):
        CameraPreset((1, 0, 1), (0, 0, 0), 30.0, beside=side, beside_share=0.01).panes(32)


def test_a_riding_camera_must_be_the_second_view_on_a_body_of_the_scene(monkeypatch):
    riding = CameraPreset((0.05, 0.0, 0.0), (0.0, 0.0, 0.1), 60.0, mount="right_hand", up=(0.0, 1.0, 0.0))
    monkeypatch.setitem(CAMERAS, "riding_first", riding)
    with pytest.raises(ValueError, match="first view must be fixed"):
        gym.make("FrankaReach-v0", image_size=64, camera="riding_first")
    lost = CameraPreset((0.05, 0.0, 0.0), (0.0, 0.0, 0.1), 60.0, mount="no_such_body", up=(0.0, 1.0, 0.0))
    monkeypatch.setitem(CAMERAS, "lost", CameraPreset((1, 0, 1), (0, 0, 0), 30.0, beside=lost, beside_share=0.5))
    with pytest.raises(ValueError, match="no body of the scene"):
        gym.make("FrankaReach-v0", image_size=64, camera="lost")
