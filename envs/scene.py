"""The lean MuJoCo scene: robosuite's Panda arm + Panda gripper on a table, one fixed camera, a mocap target.

The arm is driven by a weld between the hand and a mocap body (Cartesian target in the base frame), with gravity
compensation on the robot bodies; the fingers by position actuators. Shadows, reflections and the skybox are off
unless ``fancy=True``, so rendering costs a few ms on a CPU.
World frame = robot base frame (the arm's base sits at the world origin on the table top, z up, x forward).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import mujoco
import numpy as np

TABLE_HEIGHT = 0.0  # the table top is the z = 0 plane of the base frame
HOME_QPOS = np.array([0.0, 0.2, 0.0, -2.2, 0.0, 2.4, 0.785])
GRIPPER_OPEN_WIDTH = 0.04  # per finger, metres
FINGER_ACTUATORS = ("g_gripper_finger_joint1", "g_gripper_finger_joint2")  # robosuite's position servos


def robosuite_assets() -> Path:
    """Directory of robosuite's shipped model assets (found without importing robosuite)."""
    spec = importlib.util.find_spec("robosuite")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("robosuite is required for the Panda model assets: pip install robosuite==1.5.2")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / "assets"
    if not (path / "robots" / "panda" / "robot.xml").exists():
        raise FileNotFoundError(f"Panda assets not found under {path}")
    return path


@dataclass(frozen=True)
class CameraPreset:
    """A camera: position and look-at target (metres) in the base frame, or in the frame of the body ``mount`` when
    it rides on the robot; vertical field of view (degrees); ``up``, the direction that points up in the image, in
    the same frame (world z by default).

    A preset may add a second view to the same image:
    below: stacked under this one's; the image is then two panes, each the full width and half the height.
    beside: to the right of this one's, the full height and ``beside_share`` of the width (this view keeps the
    rest). Each pane's ``fovy`` is its own vertical field of view; its aspect ratio follows the pane's shape."""

    pos: tuple[float, float, float]
    target: tuple[float, float, float]
    fovy: float
    below: "CameraPreset | None" = None
    beside: "CameraPreset | None" = None
    beside_share: float = 0.0
    mount: str | None = None
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        second = self.second
        if self.below is not None and self.beside is not None:
            raise ValueError("a camera preset has one second view: below or beside, not both")
        if second is not None and second.second is not None:
            raise ValueError("a camera preset stacks at most two views")
        if self.beside is not None and not 0.0 < self.beside_share < 1.0:
            raise ValueError(f"beside_share must lie in (0, 1), got {self.beside_share}")
        if self.beside is None and self.beside_share:
            raise ValueError("beside_share is the width of a view beside this one: set beside too")
        ray = np.subtract(self.target, self.pos)
        if np.linalg.norm(np.cross(ray, self.up)) < 1e-9 * np.linalg.norm(ray):
            raise ValueError(f"camera up {self.up} is parallel to its line of sight")

    @property
    def second(self) -> "CameraPreset | None":
        """The preset's second view (below or beside), or None."""
        return self.below if self.below is not None else self.beside

    def line_of_sight(self) -> np.ndarray:
        """Unit vector (3,) from the camera to its look-at target, in its frame (of the first view when there are
        two)."""
        ray = np.subtract(self.target, self.pos).astype(float)
        return ray / np.linalg.norm(ray)

    def panes(self, size: int) -> tuple[list[tuple[str, int, int]], int]:
        """How a ``size`` x ``size`` image is made: [(MuJoCo camera name, height, width)] in order, and the axis
        (0: rows, 1: columns) along which the panes are joined. ValueError when ``size`` cannot be split so."""
        if self.below is not None:
            if size % 2:
                raise ValueError(f"a camera that stacks two views needs an even image_size, got {size}")
            return [(FIRST_CAMERA, size // 2, size), (SECOND_CAMERA, size // 2, size)], 0
        if self.beside is not None:
            width = int(round(size * self.beside_share))
            if not 0 < width < size:
                raise ValueError(f"image_size {size} leaves no pixels for one of two views side by side")
            return [(FIRST_CAMERA, size, size - width), (SECOND_CAMERA, size, width)], 1
        return [(FIRST_CAMERA, size, size)], 1


# "front": the original wide view (the table edge to the back wall; the 4 cm cube is ~2 px wide at 64 px).
# "workspace": a telephoto view from the robot's side (looking along +y), framing just the reach/cube workspace
# (TCP x 0.35-0.65 m, |y| <= 0.22 m, z <= 0.4 m, the hand above it at the edges). The fingers close along the
# world x axis, so from the side they and the cube between them are seen side by side (from the front the near
# finger hides the cube). The cube is ~3.3 px wide at 64 px, ~5 px at 96 px; the pose was chosen by a grid search
# maximising the cube's size with the whole workspace in view (see docs/manipulation.md).
# "twoview": two views stacked in one image, each pane full width and half height: the robot's side (looking along
# +y, as "workspace" but lower and nearer) above the front (looking along -x, raised). A single camera measures
# depth along its line of sight poorly: the "workspace" agent's reach misses lie mostly along that line
# (docs/manipulation.md). Here what moves along one camera's line of sight moves across the other's image.
# The wrist camera rides on the Panda's hand ("right_hand": +z points from the flange to the fingertips, the
# fingers close along y): 8 cm off the hand's axis, looking down past the fingers at the point between the
# fingertips (~0.12 m along z), the fingers' closing direction up in the image, so that in a tall narrow pane the
# two fingers sit above and below a grasped cube, which fills the middle of the pane.
WRIST_POS, WRIST_TARGET, WRIST_FOVY = (0.08, 0.0, 0.03), (0.0, 0.0, 0.12), 60.0
CAMERAS: dict[str, CameraPreset] = {
    "front": CameraPreset((1.45, 0.0, 0.95), (0.35, 0.0, 0.12), 50.0),
    "workspace": CameraPreset((0.5, -1.7, 1.0), (0.5, 0.0, 0.22), 24.0),
    "twoview": CameraPreset((0.5, -1.4, 0.6), (0.5, 0.0, 0.25), 24.0,
                            below=CameraPreset((1.55, 0.0, 0.7), (0.5, 0.0, 0.22), 28.0)),
    "workspace_wrist": CameraPreset((0.5, -1.7, 1.0), (0.5, 0.0, 0.22), 24.0, beside_share=1 / 3,
                                    beside=CameraPreset(WRIST_POS, WRIST_TARGET, WRIST_FOVY, mount="right_hand",
                                                        up=(0.0, 1.0, 0.0))),
}


FIRST_CAMERA = "front"  # the MuJoCo camera of a preset's only or first view (upper or left pane)
SECOND_CAMERA = "second"  # the MuJoCo camera of a preset's second view (lower or right pane)
DEFAULT_CAMERA = "front"  # the envs' default preset; data and models that record no camera used it


def camera_env_kwargs(camera: str) -> dict[str, str]:
    """``gym.make`` kwargs selecting the camera preset ``camera``: empty for the default, so ids that take no
    ``camera`` (robosuite adapters) keep working with it."""
    return {} if camera == DEFAULT_CAMERA else {"camera": camera}


def camera_preset(name: str) -> CameraPreset:
    """The named camera; ValueError listing the choices for an unknown name."""
    if name not in CAMERAS:
        raise ValueError(f"unknown camera {name!r}; choose one of {', '.join(sorted(CAMERAS))}")
    return CAMERAS[name]


@dataclass(frozen=True)
class SceneConfig:
    """objects: number of free cubes (0 for reach). cube_size: half-extent, metres. camera: position/target in
    the base frame, metres. fancy: enable shadows/reflections/skybox."""

    objects: int = 0
    cube_size: float = 0.02
    camera_pos: tuple[float, float, float] = (1.45, 0.0, 0.95)
    camera_target: tuple[float, float, float] = (0.35, 0.0, 0.12)
    camera_fovy: float = 50.0
    camera2: CameraPreset | None = None  # a preset's second view (its own second view is ignored)
    timestep: float = 0.004
    fancy: bool = False
    goal_marker: bool = False


def _look_at_quat(pos: np.ndarray, target: np.ndarray, up: tuple[float, float, float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """MuJoCo camera quaternion (w, x, y, z) looking from pos at target with ``up`` up in the image (all in the
    frame the camera is placed in)."""
    fwd = target - pos
    fwd = fwd / np.linalg.norm(fwd)
    right = np.cross(fwd, up)
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    mat = np.stack([right, up, -fwd], axis=1)  # camera x, y, z axes (z points backwards)
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, mat.flatten())
    return quat


def build_spec(cfg: SceneConfig) -> mujoco.MjSpec:
    assets = robosuite_assets()
    robot = mujoco.MjSpec.from_file(str(assets / "robots" / "panda" / "robot.xml"))
    gripper = mujoco.MjSpec.from_file(str(assets / "grippers" / "panda_gripper.xml"))
    for act in list(robot.actuators):  # torque motors are replaced by the mocap weld
        robot.delete(act)
    hand = robot.body("right_hand")
    hand.add_frame().attach_body(gripper.body("right_gripper"), "g_", "")
    for body in robot.bodies:
        if body.name and body.name != "world":
            body.gravcomp = 1.0
    for i in range(1, 8):
        j = robot.joint(f"joint{i}")
        j.damping = [5.0, 0.0, 0.0]
        j.armature = 0.1

    spec = robot
    spec.option.timestep = cfg.timestep
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.visual.quality.shadowsize = 4096 if cfg.fancy else 0
    spec.visual.global_.offwidth = 256
    spec.visual.global_.offheight = 256
    world = spec.worldbody
    world.add_light(pos=[0.5, 0.0, 2.0], dir=[0, 0, -1], diffuse=[0.8, 0.8, 0.8], castshadow=cfg.fancy)
    world.add_light(pos=[1.5, 1.0, 1.5], dir=[-1, -0.6, -1], diffuse=[0.4, 0.4, 0.4], castshadow=False)
    table = world.add_body(name="table", pos=[0.45, 0.0, TABLE_HEIGHT - 0.025])
    table.add_geom(name="table_top", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.55, 0.6, 0.025],
                   rgba=[0.55, 0.42, 0.3, 1.0], friction=[1.0, 0.005, 0.0001])
    world.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[3, 3, 0.1], pos=[0, 0, -0.75],
                   rgba=[0.3, 0.33, 0.36, 1.0], contype=0, conaffinity=0)
    pos = np.array(cfg.camera_pos)
    world.add_camera(name=FIRST_CAMERA, pos=pos, quat=_look_at_quat(pos, np.array(cfg.camera_target)),
                     fovy=cfg.camera_fovy)
    if cfg.camera2 is not None:  # the second view of a two-view preset, fixed or riding on a robot body
        view = cfg.camera2
        parent = world if view.mount is None else spec.body(view.mount)
        if parent is None:
            raise ValueError(f"camera mount {view.mount!r} is no body of the scene")
        pos2 = np.array(view.pos, dtype=float)
        parent.add_camera(name=SECOND_CAMERA, pos=pos2, quat=_look_at_quat(pos2, np.array(view.target), view.up),
                          fovy=view.fovy)

    mocap = world.add_body(name="target", mocap=True, pos=[0.5, 0.0, 0.3])
    mocap.add_geom(type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[0.005], contype=0, conaffinity=0, rgba=[0, 0, 0, 0],
                   group=3)
    eq = spec.add_equality(name="ee_weld", type=mujoco.mjtEq.mjEQ_WELD, name1="target", name2="g_eef",
                           objtype=mujoco.mjtObj.mjOBJ_BODY)
    eq.solref = [0.02, 1.0]
    # data = [anchor(3), relpose(pos 3, quat 4), torquescale]: the eef frame coincides with the mocap frame
    eq.data = np.array([0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1.0] + [0.0] * (len(eq.data) - 11))
    for i, rgba in zip(range(cfg.objects), ([0.85, 0.15, 0.1, 1], [0.1, 0.3, 0.85, 1])):
        cube = world.add_body(name=f"cube{i}", pos=[0.5, 0.1 * i, cfg.cube_size])
        cube.add_freejoint(name=f"cube{i}_joint")
        cube.add_geom(name=f"cube{i}_geom", type=mujoco.mjtGeom.mjGEOM_BOX, size=[cfg.cube_size] * 3, rgba=rgba,
                      mass=0.05, friction=[1.5, 0.01, 0.0001], condim=4)
    if cfg.goal_marker:
        marker = world.add_body(name="place_target", pos=[0.5, -0.15, 0.001])
        marker.add_geom(name="place_target_geom", type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[0.04, 0.001],
                        rgba=[0.1, 0.7, 0.2, 1], contype=0, conaffinity=0)
    return spec


def build_model(cfg: SceneConfig = SceneConfig(),
                extend: Callable[[mujoco.MjSpec], None] | None = None) -> mujoco.MjModel:
    """Compile the scene; ``extend`` may add elements to the spec first (e.g. randomisation assets)."""
    spec = build_spec(cfg)
    if extend is not None:
        extend(spec)
    model = spec.compile()
    if not cfg.fancy:
        model.vis.quality.shadowsize = 0
        for i in range(model.nmat):
            model.mat_reflectance[i] = 0.0
    return model
