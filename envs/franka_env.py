"""FrankaEnv: the shared Gymnasium env for the lean MuJoCo Franka scene; tasks plug in via :class:`Task`.

Frames and units: everything is in the robot base frame (= world frame of the scene), metres and radians.
Observation ``{"image": uint8 (S, S, 3), "state": float32 (7,)}`` and action ``float32 (7,)`` follow
:mod:`envs.spec` / :mod:`envs.conventions` (DROID). An action moves the Cartesian target to
``integrate_action(current_state, action)`` (clamped to the workspace box) and the gripper command by
``dgripper``; the hand follows through a mocap weld during ``1 / control_hz`` seconds of physics.
Actions that are mis-shaped, non-finite or out of bounds raise ``ValueError`` (clip with
``envs.spec.clip_action`` first if you want clipping); the simulation is left untouched in that case.

Goals: ``info["goal"]`` is the final goal; ``info["subgoals"]`` the goal sequence a planner may follow, same
format, ending with the final goal (pick-and-place: [cube grasped and lifted at its start, final placement];
other tasks: [goal]). Scene randomisation (``randomize=``, see :mod:`envs.randomization`) is off by default;
when on, it is drawn from the reset seed and applies to observations, goal and subgoal images alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import gymnasium as gym
import mujoco
import numpy as np
from scipy.spatial.transform import Rotation

from envs import exit_close
from envs.camera_pose import mujoco_camera_pose
from envs.conventions import EULER_SEQ, integrate_action
from envs.randomization import SceneRandomization, SceneRandomizer, add_randomization_assets, resolve_randomization
from envs.scene import (FINGER_ACTUATORS, FIRST_CAMERA, GRIPPER_OPEN_WIDTH, HOME_QPOS, SceneConfig, build_model,
                        camera_preset)
from envs.spec import DEFAULT_ACTION_LIMITS, ActionLimits, make_action_space, make_observation_space, validate_action

# Workspace box for the Cartesian target (base frame, metres).
WORKSPACE_LOW = np.array([0.25, -0.35, 0.005])
WORKSPACE_HIGH = np.array([0.75, 0.35, 0.55])
# The hand points straight down (gripper z axis = -world z), fingers along y.
DOWN_QUAT = np.array([0.0, 1.0, 0.0, 0.0])


class Task(Protocol):
    """What a task adds to the base env. ``rng`` is the env's seeded generator."""

    name: str
    scene: SceneConfig
    max_episode_steps: int

    def reset(self, env: "FrankaEnv", rng: np.random.Generator) -> None:
        """Place robot/objects for a new episode (the env then records the goal via ``make_goal``)."""

    def make_goal(self, env: "FrankaEnv", rng: np.random.Generator) -> dict[str, Any]:
        """Drive the sim into a reachable goal configuration; return task goal data (e.g. positions).
        Intermediate subgoals are recorded on the way with ``env.record_subgoal(...)``."""

    def task_distance(self, env: "FrankaEnv") -> float:
        """Success metric distance in metres (0 when solved)."""

    def is_success(self, env: "FrankaEnv") -> bool: ...


@dataclass
class SimState:
    """Everything needed to restore the simulation exactly."""

    qpos: np.ndarray
    qvel: np.ndarray
    act: np.ndarray
    ctrl: np.ndarray
    mocap_pos: np.ndarray
    mocap_quat: np.ndarray
    time: float
    gripper_cmd: float


class FrankaEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        task: Task,
        image_size: int = 64,
        render_mode: str | None = None,
        control_hz: float = 4.0,
        limits: ActionLimits = DEFAULT_ACTION_LIMITS,
        fancy_render: bool = False,
        randomize: SceneRandomization | str | dict | None = None,
        camera: str = "front",
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if control_hz <= 0:
            raise ValueError(f"control_hz must be > 0, got {control_hz}")
        self.task = task
        self.task_name = task.name
        self.image_size = image_size
        self.render_mode = render_mode
        self.control_hz = float(control_hz)
        self.observation_space = make_observation_space(image_size)
        self.action_space = make_action_space(limits)
        view = camera_preset(camera)
        self.camera = camera
        if view.mount is not None:
            raise ValueError(f"camera {camera!r}: the first view must be fixed (a riding camera goes second)")
        try:
            self._panes, self._pane_axis = view.panes(image_size)
        except ValueError as err:
            raise ValueError(f"camera {camera!r}: {err}") from None
        scene = SceneConfig(**{**task.scene.__dict__, "fancy": fancy_render, "camera_pos": view.pos,
                               "camera_target": view.target, "camera_fovy": view.fovy, "camera2": view.second})
        self.randomization = resolve_randomization(randomize)
        self._randomizer: SceneRandomizer | None = None
        if self.randomization.enabled:
            self._randomizer = SceneRandomizer(self.randomization)
            self.model = build_model(scene, extend=lambda spec: add_randomization_assets(spec, self.randomization))
            self._randomizer.bind(self.model)
        else:
            self.model = build_model(scene)
        self.data = mujoco.MjData(self.model)
        self.substeps = max(1, int(round(1.0 / (self.control_hz * self.model.opt.timestep))))
        self.metadata = {**self.metadata, "render_fps": int(round(self.control_hz))}
        self._eef = self.model.body("g_eef").id
        self._fingers = [self.model.actuator(n).id for n in FINGER_ACTUATORS]
        self._finger_joints = [self.model.joint(n).qposadr[0] for n in ("g_finger_joint1", "g_finger_joint2")]
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}  # (height, width) -> renderer
        self._scene_opt = mujoco.MjvOption()
        if not fancy_render:
            self._scene_opt.geomgroup[1] = 0  # hide high-poly visual meshes; collision meshes are drawn
        self._scene_opt.sitegroup[:] = 0
        self._scene_opt.geomgroup[3] = 0
        self.gripper_cmd = 0.0
        exit_close.track(self)
        self._goal: dict[str, np.ndarray] | None = None
        self._subgoals: list[dict[str, np.ndarray]] = []
        self.goal_info: dict[str, Any] = {}
        self.subgoal_info: list[dict[str, Any]] = []

    # ---------------------------------------------------------------- robot state
    def ee_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """TCP position (3,) and rotation matrix (3, 3) in the base frame."""
        return self.data.xpos[self._eef].copy(), self.data.xmat[self._eef].reshape(3, 3).copy()

    def gripper_closure(self) -> float:
        """Measured closure in [0, 1]: 0 fully open, 1 fingers touching."""
        width = self.data.qpos[self._finger_joints[0]] - self.data.qpos[self._finger_joints[1]]
        return float(np.clip(1.0 - width / (2 * GRIPPER_OPEN_WIDTH), 0.0, 1.0))

    def current_state(self) -> np.ndarray:
        """DROID state [x, y, z, roll, pitch, yaw, gripper] (float64, base frame)."""
        pos, mat = self.ee_pose()
        euler = Rotation.from_matrix(mat).as_euler(EULER_SEQ)
        return np.concatenate([pos, euler, [self.gripper_closure()]])

    # ---------------------------------------------------------------- control
    def set_target(self, pos: np.ndarray, quat: np.ndarray | None = None) -> None:
        """Set the Cartesian target (clamped to the workspace box); quat is (w, x, y, z)."""
        self.data.mocap_pos[0] = np.clip(pos, WORKSPACE_LOW, WORKSPACE_HIGH)
        if quat is not None:
            self.data.mocap_quat[0] = quat / np.linalg.norm(quat)

    def set_gripper(self, closure: float) -> None:
        self.gripper_cmd = float(np.clip(closure, 0.0, 1.0))
        width = (1.0 - self.gripper_cmd) * GRIPPER_OPEN_WIDTH
        self.data.ctrl[self._fingers[0]] = width
        self.data.ctrl[self._fingers[1]] = -width

    def step_physics(self, n: int | None = None) -> None:
        mujoco.mj_step(self.model, self.data, nstep=n or self.substeps)

    def simulate(self, action: np.ndarray) -> None:
        """Apply one validated control step without rendering (used by the oracle planner and experts)."""
        action = validate_action(action, self.action_space)
        target = integrate_action(self.current_state(), action, clip_gripper=False)
        quat = Rotation.from_euler(EULER_SEQ, target[3:6]).as_quat()[[3, 0, 1, 2]]
        self.set_target(target[:3], quat)
        self.set_gripper(self.gripper_cmd + action[6])
        self.step_physics()

    def home(self, qpos: np.ndarray = HOME_QPOS) -> None:
        """Arm to ``qpos``, target on the TCP with the hand pointing down, gripper open."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:7] = qpos
        mujoco.mj_forward(self.model, self.data)
        self.set_target(self.data.xpos[self._eef], DOWN_QUAT)
        self.set_gripper(0.0)
        self.step_physics(100)

    def move_to(self, pos: np.ndarray, settle_steps: int = 300) -> None:
        """Teleport-free move: set the target and let the arm settle (used for resets and goals)."""
        self.set_target(pos, DOWN_QUAT)
        self.step_physics(settle_steps)

    # ---------------------------------------------------------------- sim state
    def get_sim_state(self) -> SimState:
        d = self.data
        return SimState(d.qpos.copy(), d.qvel.copy(), d.act.copy(), d.ctrl.copy(), d.mocap_pos.copy(),
                        d.mocap_quat.copy(), float(d.time), self.gripper_cmd)

    def set_sim_state(self, s: SimState) -> None:
        d = self.data
        d.qpos[:], d.qvel[:], d.act[:], d.ctrl[:] = s.qpos, s.qvel, s.act, s.ctrl
        d.mocap_pos[:], d.mocap_quat[:] = s.mocap_pos, s.mocap_quat
        d.time = s.time
        d.qacc_warmstart[:] = 0
        self.gripper_cmd = s.gripper_cmd
        mujoco.mj_forward(self.model, d)

    # ---------------------------------------------------------------- rendering
    def render_image(self) -> np.ndarray:
        """uint8 (S, S, 3) from the ``camera`` preset (envs.scene.CAMERAS): its one view, or its two views' panes
        joined (``CameraPreset.panes``: one above the other, or side by side)."""
        panes = []
        for cam, height, width in self._panes:
            renderer = self._renderers.get((height, width))
            if renderer is None:
                renderer = self._renderers[(height, width)] = mujoco.Renderer(self.model, height, width)
                exit_close.register_exit_close()
            renderer.update_scene(self.data, camera=cam, scene_option=self._scene_opt)
            panes.append(renderer.render().copy())
        return panes[0] if len(panes) == 1 else np.concatenate(panes, axis=self._pane_axis)

    def render(self) -> np.ndarray | None:
        """The camera image without pixel noise (for videos), or None unless render_mode="rgb_array"."""
        return self.render_image() if self.render_mode == "rgb_array" else None

    def camera_image(self) -> np.ndarray:
        """What the agent sees: the camera image plus this episode's pixel noise (if noise is randomised)."""
        image = self.render_image()
        return image if self._randomizer is None else self._randomizer.noisy(image)

    @property
    def scene_axes(self) -> tuple[str, ...]:
        """The randomisation axes (``envs.randomization.AXES``) the current episode applies; () when none."""
        return () if self._randomizer is None else self._randomizer.applied_axes

    def nominal_image(self, keep_camera: bool = False) -> np.ndarray:
        """The current state rendered in the nominal (unrandomised) scene, without pixel noise: uint8 (S, S, 3),
        equal to what the default env shows in this state. The paired target of a randomised frame. With
        ``keep_camera`` only the appearance is made nominal: the episode's (possibly jittered) camera stays."""
        if self._randomizer is None:
            return self.render_image()
        with self._randomizer.nominal_view(self.data, keep_camera=keep_camera):
            return self.render_image()

    def camera_pose(self) -> np.ndarray:
        """(10,) float32 pose of the camera the agent sees through in this episode (``envs.camera_pose``: position,
        optical axis, image up, vertical field of view; base frame), jitter of a randomised camera included. For a
        stacked two-view preset: the upper view's."""
        return mujoco_camera_pose(self.model, self.data, FIRST_CAMERA)

    def _obs(self) -> dict[str, np.ndarray]:
        return {"image": self.camera_image(), "state": self.current_state().astype(np.float32)}

    # ---------------------------------------------------------------- task API
    def goal(self) -> dict[str, np.ndarray]:
        """{"image": uint8 (S, S, 3), "state": float32 (7,)} of this episode's goal configuration."""
        if self._goal is None:
            raise RuntimeError("call reset() before goal()")
        return {k: v.copy() for k, v in self._goal.items()}

    def subgoals(self) -> list[dict[str, np.ndarray]]:
        """Goal sequence (same format as :meth:`goal`), in order, ending with the final goal."""
        if self._goal is None:
            raise RuntimeError("call reset() before subgoals()")
        return [{k: v.copy() for k, v in g.items()} for g in self._subgoals]

    def record_subgoal(self, info: dict[str, Any] | None = None, goal: dict[str, np.ndarray] | None = None) -> None:
        """Append the next intermediate subgoal (called by tasks in make_goal): ``goal``, a goal dict captured
        earlier by :meth:`capture_goal`, or by default the current configuration.

        info: task data describing it (e.g. cube position, metres, base frame), kept in ``subgoal_info``."""
        self._subgoals.append(self.capture_goal() if goal is None else goal)
        self.subgoal_info.append(dict(info or {}))

    def subgoal_index(self, name: str) -> int:
        """Index in :meth:`subgoals` of the intermediate subgoal recorded as ``name`` (e.g. "pregrasp");
        ValueError listing the names this episode has."""
        names = [info.get("name") for info in self.subgoal_info]
        if name not in names:
            raise ValueError(f"no subgoal named {name!r} in this episode; it has {names}")
        return names.index(name)

    def capture_goal(self) -> dict[str, np.ndarray]:
        """The current configuration as a goal dict: {"image": what the agent sees, "state": (7,) float32}."""
        return {"image": self.camera_image(), "state": self.current_state().astype(np.float32)}

    def task_distance(self) -> float:
        return float(self.task.task_distance(self))

    def is_success(self) -> bool:
        return bool(self.task.is_success(self))

    # ---------------------------------------------------------------- gym API
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)  # seeds self.np_random: all task randomness comes from it
        if self._randomizer is not None:  # the scene has its own streams, seeded by the same seed
            self._randomizer.new_episode(seed)
        self.task.reset(self, self.np_random)
        start = self.get_sim_state()
        self._subgoals, self.subgoal_info = [], []
        self.goal_info = self.task.make_goal(self, self.np_random)
        self._goal = self.capture_goal()
        self._subgoals.append(self._goal)
        self.subgoal_info.append(dict(self.goal_info))
        self.set_sim_state(start)
        obs = self._obs()
        return obs, self._info()

    def _info(self) -> dict[str, Any]:
        return {"goal": self.goal(), "subgoals": self.subgoals(), "task_distance": self.task_distance(),
                "is_success": self.is_success()}

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        if self._goal is None:
            raise RuntimeError("call reset() before step()")
        self.simulate(action)
        obs = self._obs()
        info = self._info()
        return obs, -info["task_distance"], False, False, info

    def close(self) -> None:
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers = {}
