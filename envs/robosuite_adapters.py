"""Gymnasium adapters for robosuite 1.5 Panda tasks with this package's observation/action spec.

Ids (registered by :func:`register_robosuite_envs`): ``RobosuiteLift-v0`` (robosuite ``Lift``),
``RobosuiteStack-v0`` (``Stack``) and ``RobosuitePickPlace-v0`` (``PickPlaceCan``: the single-can
variant of ``PickPlace``).

Spec (same as the Franka envs, see :mod:`envs.spec` / :mod:`envs.conventions`):

* obs ``{"image": uint8 (S, S, 3), "state": float32 (7,)}``; the state is the gripper site pose
  ``[x, y, z, roll, pitch, yaw, gripper]`` in the **robot base frame** (``robot0_base`` body), gripper
  closure in [0, 1] from the finger joints (0 = open).
* action ``float32 (7,)`` = ``[dx, dy, dz, droll, dpitch, dyaw, dgripper]`` bounded by
  :class:`envs.spec.ActionLimits`. Like a real Franka streaming impedance targets, the adapter keeps
  an absolute TCP *target* pose in the base frame and moves it by each action
  (``p* += dxyz``, ``R* = R_delta R*``); it then sends ``target - current`` to robosuite's
  ``OSC_POSE`` controller (delta mode, ``input_ref_frame="base"``, ``input_max == output_max`` so the
  scaling is the identity: metres and axis-angle radians; ``kp = 600``). The target may lead the
  measured TCP by at most 0.15 m / 0.75 rad (anti wind-up). With robosuite's default "offset from
  the achieved pose" semantics the arm would only travel ~20 % of each commanded delta; with the
  streamed target the realised motion matches the command after a short lag (a few steps).
* gripper: we keep a commanded closure ``g`` in [0, 1], ``g += dgripper``; robosuite's Panda gripper
  receives ``2 g - 1`` and, by design, moves at a fixed speed by the *sign* of that value (so ``g > 0.5``
  closes, ``g < 0.5`` opens, ``g == 0.5`` holds).

Goals (``info["goal"]`` / ``goal()``), chosen by ``goal_mode``:

* ``"scripted"`` (default): from the reset state a scripted pick-and-place policy (through this
  adapter's own action interface) grasps the task object and carries it to its goal pose (Lift: raised
  0.10 m and held; Stack: released on cubeB; PickPlace: released over its target bin); the last frame and
  end-effector state are the goal. If the script does not reach robosuite's ``_check_success()`` within
  its step budget the adapter falls back to ``"teleport"`` for that episode (``info["goal_source"]``
  says which one was used). Measured on seeds 0-9: Lift 10/10, Stack 10/10, PickPlace 8/10 scripted;
  reset cost (2 CPU cores) ~0.4 s Lift, ~0.6 s Stack, ~1.5 s PickPlace.
* ``"teleport"``: the task object is teleported to the goal pose and rendered once (no physics
  step) with the arm left at its reset pose, so the goal state equals the reset state.

Either way the reset state is restored exactly afterwards. ``task_distance()`` is the distance
(metres) from the task object to the goal object position; ``is_success()`` is robosuite's own
``_check_success()``.

Rendering uses a private :class:`mujoco.Renderer` on robosuite's model with shadows, reflections,
skybox and multisampling turned off (``fast_render=True``); ``fast_render=False`` keeps the model's
visual settings and MuJoCo's default scene flags.
robosuite is imported lazily (it pulls in h5py and prints warnings at import).

Usage::

    import gymnasium as gym
    from envs.robosuite_adapters import register_robosuite_envs

    register_robosuite_envs()  # idempotent; ``import envs`` also calls it
    env = gym.make("RobosuiteLift-v0", image_size=128, render_mode="rgb_array",
                   goal_mode="scripted", camera="agentview", fast_render=True, model_seed=0)
    obs, info = env.reset(seed=0)  # info["goal"] = {"image", "state"}, info["goal_source"]
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample() * 0.1)
    env.close()  # frees the EGL context

Control runs at 20 Hz (robosuite's default). ``reward`` is 1.0 on success (then ``terminated``).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from scipy.spatial.transform import Rotation

from envs import exit_close
from envs.conventions import EULER_SEQ, pose_to_state, state_distance
from envs.spec import (
    DEFAULT_ACTION_LIMITS,
    DEFAULT_IMAGE_SIZE,
    ActionLimits,
    make_action_space,
    make_observation_space,
    validate_action,
)

ROBOSUITE_ENV_IDS = ("RobosuiteLift-v0", "RobosuiteStack-v0", "RobosuitePickPlace-v0")
CONTROL_HZ = 20.0
PANDA_FINGER_RANGE_M = 0.04  # each Panda finger slides 0..0.04 m; fully open = 0.08 m gap
LIFT_GOAL_HEIGHT_M = 0.10
DEFAULT_CAMERA = "agentview"
GOAL_MODES = ("scripted", "teleport")
OSC_KP = 600.0  # stiffer than robosuite's default 150 so the arm tracks 20 Hz set-point streams
MAX_TARGET_LEAD_M = 0.15  # the streamed target may lead the measured TCP by at most this (anti wind-up)
MAX_TARGET_LEAD_RAD = 0.75


@dataclass(frozen=True)
class RobosuiteTask:
    """How one task maps onto robosuite: the robosuite env name and extra ``robosuite.make`` kwargs."""

    robosuite_name: str
    kwargs: tuple[tuple[str, Any], ...] = ()


TASKS: dict[str, RobosuiteTask] = {
    "lift": RobosuiteTask("Lift"),
    "stack": RobosuiteTask("Stack"),
    "pick_place": RobosuiteTask("PickPlaceCan"),
}


def _quiet_robosuite_logging() -> None:
    logging.getLogger("robosuite_logs").setLevel(logging.ERROR)


def make_osc_controller_config() -> dict:
    """robosuite composite ``BASIC`` config for a Panda arm: OSC_POSE delta, base frame, identity scaling.

    ``input_max == output_max`` so that an input of ``0.05`` means a 0.05 m (or rad) set-point offset;
    the bounds are the target-lead limits (the per-step action limits are enforced by the adapter).
    """
    from robosuite.controllers import load_composite_controller_config

    config = load_composite_controller_config(controller="BASIC", robot="Panda")
    arm = copy.deepcopy(config["body_parts"]["right"])
    bound = [MAX_TARGET_LEAD_M] * 3 + [MAX_TARGET_LEAD_RAD] * 3
    arm.update(
        type="OSC_POSE",
        kp=OSC_KP,
        kp_limits=[0.0, max(OSC_KP, 300.0)],
        input_type="delta",
        input_ref_frame="base",
        input_max=bound,
        input_min=[-b for b in bound],
        output_max=bound,
        output_min=[-b for b in bound],
    )
    config["body_parts"] = {"right": arm}
    return config


def _reseed_robosuite(env: Any, seed: int) -> None:
    """Point every RNG robosuite uses for resets (env + placement samplers) at one seeded generator."""
    rng = np.random.default_rng(seed)
    env.rng = rng
    stack = [getattr(env, "placement_initializer", None)]
    while stack:
        sampler = stack.pop()
        if sampler is None:
            continue
        if hasattr(sampler, "rng"):
            sampler.rng = rng
        stack.extend(getattr(sampler, "samplers", {}).values())


class RobosuiteAdapterEnv(gym.Env):
    """A robosuite Panda task behind this package's gymnasium spec (see module docstring)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": CONTROL_HZ}

    def __init__(
        self,
        task: str = "lift",
        image_size: int = DEFAULT_IMAGE_SIZE,
        render_mode: str | None = None,
        camera: str = DEFAULT_CAMERA,
        action_limits: ActionLimits = DEFAULT_ACTION_LIMITS,
        fast_render: bool = True,
        goal_mode: str = "scripted",
        model_seed: int = 0,
    ) -> None:
        if task not in TASKS:
            raise ValueError(f"task must be one of {sorted(TASKS)}, got {task!r}")
        if goal_mode not in GOAL_MODES:
            raise ValueError(f"goal_mode must be one of {GOAL_MODES}, got {goal_mode!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.observation_space = make_observation_space(image_size)  # validates image_size
        self.action_space = make_action_space(action_limits)
        self.task_name = task
        self.image_size = int(image_size)
        self.render_mode = render_mode
        self.camera = camera
        self.fast_render = fast_render
        self.goal_mode = goal_mode
        self.goal_source = goal_mode
        self.control_hz = CONTROL_HZ
        self._rs = self._make_robosuite(TASKS[task], model_seed)
        if camera not in self._rs.sim.model.camera_names:
            raise ValueError(f"camera {camera!r} not in robosuite model cameras {self._rs.sim.model.camera_names}")
        self._renderer = None
        exit_close.track(self)
        self._gripper_cmd = 0.0
        self._target_pos = np.zeros(3)  # streamed TCP target, base frame (m)
        self._target_rot = np.eye(3)  # streamed TCP target orientation, base frame
        self._goal: dict[str, np.ndarray] | None = None
        self._goal_object_pos: np.ndarray | None = None

    # ------------------------------------------------------------------ construction
    def _make_robosuite(self, task: RobosuiteTask, model_seed: int) -> Any:
        """Build the robosuite env; ``model_seed`` fixes what robosuite randomises at model build time.

        robosuite draws e.g. the Lift cube size from its env RNG when it builds the model (once: we use
        ``hard_reset=False``); we pass ``seed=model_seed`` and also seed the global ``np.random`` during the
        build (restoring the caller's state), so every env instance has the same model.
        """
        import robosuite

        _quiet_robosuite_logging()
        self._model_seed = int(model_seed)
        saved = np.random.get_state()
        np.random.seed(model_seed)
        try:
            return self._robosuite_make(robosuite, task)
        finally:
            np.random.set_state(saved)

    def _robosuite_make(self, robosuite: Any, task: RobosuiteTask) -> Any:
        return robosuite.make(
            task.robosuite_name,
            robots="Panda",
            controller_configs=make_osc_controller_config(),
            has_renderer=False,
            has_offscreen_renderer=False,
            use_camera_obs=False,
            use_object_obs=False,
            reward_shaping=False,
            hard_reset=False,
            ignore_done=True,
            control_freq=int(CONTROL_HZ),
            seed=self._model_seed,
            **dict(task.kwargs),
        )

    def _ensure_renderer(self) -> Any:
        import mujoco

        if self._renderer is None:
            model = self._rs.sim.model._model
            if self.fast_render:
                model.vis.quality.offsamples = 0  # no MSAA: ~1.4x faster on software (llvmpipe) EGL
            self._renderer = mujoco.Renderer(model, self.image_size, self.image_size)
            exit_close.register_exit_close()
            if self.fast_render:
                flags = self._renderer.scene.flags
                flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
                flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
                flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = 0
        return self._renderer

    # ------------------------------------------------------------------ robot frames
    @property
    def _robot(self) -> Any:
        return self._rs.robots[0]

    def _base_pose(self) -> tuple[np.ndarray, np.ndarray]:
        data = self._rs.sim.data
        body = self._robot.robot_model.root_body
        return np.array(data.get_body_xpos(body)), np.array(data.get_body_xmat(body)).reshape(3, 3)

    def _gripper_closure(self) -> float:
        qpos = self._rs.sim.data.qpos[self._robot._ref_gripper_joint_pos_indexes["right"]]
        gap = float(qpos[0] - qpos[1])  # finger_joint1 in [0, .04], finger_joint2 in [-.04, 0]
        return float(np.clip(1.0 - gap / (2 * PANDA_FINGER_RANGE_M), 0.0, 1.0))

    def _tcp_pose_base(self) -> tuple[np.ndarray, np.ndarray]:
        """Measured TCP (gripper site) position (3,) [m] and rotation (3, 3) in the robot base frame."""
        data = self._rs.sim.data
        site = self._robot.eef_site_id["right"]
        base_pos, base_rot = self._base_pose()
        pos_w = np.array(data.site_xpos[site])
        rot_w = np.array(data.site_xmat[site]).reshape(3, 3)
        return base_rot.T @ (pos_w - base_pos), base_rot.T @ rot_w

    def current_state(self) -> np.ndarray:
        """End-effector state (7,) in the robot base frame (metres, radians, gripper closure)."""
        pos, rot = self._tcp_pose_base()
        return pose_to_state(pos, rot, self._gripper_closure())

    def _reset_target(self) -> None:
        self._target_pos, self._target_rot = self._tcp_pose_base()

    # ------------------------------------------------------------------ task objects
    def _object_body_ids(self) -> list[int]:
        rs = self._rs
        if self.task_name == "lift":
            return [rs.cube_body_id]
        if self.task_name == "stack":
            return [rs.cubeA_body_id, rs.cubeB_body_id]
        return [rs.obj_body_id[rs.objects[rs.object_id].name]]

    def _object_joint(self) -> str:
        rs = self._rs
        if self.task_name == "lift":
            return rs.cube.joints[0]
        if self.task_name == "stack":
            return rs.cubeA.joints[0]
        return rs.objects[rs.object_id].joints[0]

    def _goal_object_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """World position (3,) and wxyz quaternion (4,) of the task object in a task-satisfying pose."""
        rs, data = self._rs, self._rs.sim.data
        body = self._object_body_ids()[0]
        pos, quat = np.array(data.body_xpos[body]), np.array(data.body_xquat[body])
        if self.task_name == "lift":
            return pos + np.array([0.0, 0.0, LIFT_GOAL_HEIGHT_M]), quat
        if self.task_name == "stack":
            b = self._object_body_ids()[1]
            top = np.array(data.body_xpos[b]) + np.array([0.0, 0.0, rs.cubeB.size[2] + rs.cubeA.size[2] + 1e-3])
            return top, np.array(data.body_xquat[b])
        target = np.array(rs.target_bin_placements[rs.object_id], dtype=np.float64)
        obj = rs.objects[rs.object_id]
        target[2] = rs.bin2_pos[2] - obj.bottom_offset[2] + 1e-3
        return target, quat

    def _make_goal(self) -> dict[str, np.ndarray]:
        """Build the goal (scripted, else teleported) and restore the reset state exactly."""
        snapshot = self.get_sim_state()
        goal = None
        if self.goal_mode == "scripted":
            if run_scripted_goal_policy(self):
                self._goal_object_pos = np.array(self._rs.sim.data.body_xpos[self._object_body_ids()[0]])
                goal = {"image": self.render_image(), "state": self.current_state().astype(np.float32)}
                self.goal_source = "scripted"
            self.set_sim_state(snapshot)
        if goal is None:
            pos, quat = self._goal_object_pose()
            self._rs.sim.data.set_joint_qpos(self._object_joint(), np.concatenate([pos, quat]))
            self._rs.sim.forward()
            goal = {"image": self.render_image(), "state": self.current_state().astype(np.float32)}
            self._goal_object_pos = pos
            self.goal_source = "teleport"
            self.set_sim_state(snapshot)
        return goal

    # ------------------------------------------------------------------ public env API
    def goal(self) -> dict[str, np.ndarray]:
        if self._goal is None:
            raise RuntimeError("call reset() before goal()")
        return {k: v.copy() for k, v in self._goal.items()}

    def is_success(self) -> bool:
        return bool(self._rs._check_success())

    def task_distance(self) -> float:
        """Distance (metres) from the task object to its goal position."""
        if self._goal_object_pos is None:
            raise RuntimeError("call reset() before task_distance()")
        pos = np.array(self._rs.sim.data.body_xpos[self._object_body_ids()[0]])
        return float(np.linalg.norm(pos - self._goal_object_pos))

    def ee_goal_distance(self) -> float:
        """Distance (metres) from the current end-effector to the goal end-effector state."""
        return float(state_distance(self.current_state(), self.goal()["state"]))

    def get_sim_state(self) -> dict[str, Any]:
        """Physics state + gripper command + robosuite gripper action memory (for :meth:`set_sim_state`)."""
        gripper = self._robot.gripper["right"]
        return {
            "physics": np.array(self._rs.sim.get_state().flatten()),
            "gripper_cmd": float(self._gripper_cmd),
            "gripper_action": np.array(gripper.current_action, dtype=np.float64),
            "target_pos": self._target_pos.copy(),
            "target_rot": self._target_rot.copy(),
            "timestep": int(self._rs.timestep),
        }

    def set_sim_state(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`get_sim_state` (physics, controller goal and gripper command)."""
        if not isinstance(state, dict) or "physics" not in state:
            raise TypeError("set_sim_state expects the dict returned by get_sim_state()")
        self._rs.sim.set_state_from_flattened(np.asarray(state["physics"]))
        self._rs.sim.forward()
        self._gripper_cmd = float(state["gripper_cmd"])
        self._robot.gripper["right"].current_action = np.array(state["gripper_action"], dtype=np.float64)
        self._rs.timestep = int(state["timestep"])
        self._target_pos = np.array(state["target_pos"], dtype=np.float64)
        self._target_rot = np.array(state["target_rot"], dtype=np.float64)
        for controller in self._robot.part_controllers.values():
            if hasattr(controller, "reset_goal"):
                controller.update(force=True)
                controller.reset_goal()

    def _robosuite_action(self, action: np.ndarray) -> np.ndarray:
        """Our (7,) delta -> advance the streamed target -> robosuite [target - current (3), axis-angle (3), grip]."""
        self._gripper_cmd = float(np.clip(self._gripper_cmd + action[6], 0.0, 1.0))
        pos, rot = self._tcp_pose_base()
        # Move the target, then bound how far it may lead the measured pose (anti wind-up).
        lead = np.clip(self._target_pos + action[:3] - pos, -MAX_TARGET_LEAD_M, MAX_TARGET_LEAD_M)
        self._target_pos = pos + lead
        target_rot = Rotation.from_euler(EULER_SEQ, action[3:6]) * Rotation.from_matrix(self._target_rot)
        rot_lead = (target_rot * Rotation.from_matrix(rot).inv()).as_rotvec()  # base-frame, left-applied
        norm = float(np.linalg.norm(rot_lead))
        if norm > MAX_TARGET_LEAD_RAD:
            rot_lead *= MAX_TARGET_LEAD_RAD / norm
        self._target_rot = (Rotation.from_rotvec(rot_lead) * Rotation.from_matrix(rot)).as_matrix()
        return np.concatenate([lead, rot_lead, [2.0 * self._gripper_cmd - 1.0]])

    def simulate(self, action: np.ndarray) -> None:
        """One 20 Hz control step without rendering (for oracle planners)."""
        arr = validate_action(action, self.action_space)
        self._rs.step(self._robosuite_action(arr))

    def render_image(self) -> np.ndarray:
        renderer = self._ensure_renderer()
        renderer.update_scene(self._rs.sim.data._data, camera=self.camera)
        return np.ascontiguousarray(renderer.render(), dtype=np.uint8)

    def render(self) -> np.ndarray | None:
        return self.render_image() if self.render_mode == "rgb_array" else None

    def _obs(self) -> dict[str, np.ndarray]:
        return {"image": self.render_image(), "state": self.current_state().astype(np.float32)}

    def _open_gripper_fingers(self) -> None:
        """Start every episode with the gripper fully open (robosuite's reset leaves it half open)."""
        qpos_idx = self._robot._ref_gripper_joint_pos_indexes["right"]
        self._rs.sim.data.qpos[qpos_idx] = [PANDA_FINGER_RANGE_M, -PANDA_FINGER_RANGE_M]
        self._rs.sim.forward()
        self._gripper_cmd = 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        _reseed_robosuite(self._rs, int(self.np_random.integers(0, 2**31 - 1)))
        self._rs.reset()
        self._open_gripper_fingers()
        self._reset_target()
        self._robot.gripper["right"].current_action = np.zeros_like(self._robot.gripper["right"].current_action)
        self._goal = self._make_goal()
        info = {"goal": self.goal(), "goal_source": self.goal_source, "task_distance": self.task_distance()}
        return self._obs(), {**info, "is_success": self.is_success()}

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        if self._goal is None:
            raise RuntimeError("call reset() before step()")
        self.simulate(action)
        success = self.is_success()
        info = {"is_success": success, "task_distance": self.task_distance()}
        return self._obs(), float(success), success, False, info

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn down EGL already
            pass

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        if getattr(self, "_rs", None) is not None:
            self._rs.close()
            self._rs = None


# ---------------------------------------------------------------------- scripted goal policy
_SCRIPT_GAIN = 0.6  # fraction of the remaining TCP error commanded per step
_SCRIPT_INTEGRAL_GAIN = 0.15  # per-step integral gain on the measured TCP error
_SCRIPT_INTEGRAL_ZONE_M = 0.04
_SCRIPT_MAX_STEP_M = 0.03
_SCRIPT_HOVER_M = 0.08  # approach / travel height above the grasp or place point


def _to_base(env: RobosuiteAdapterEnv, world_pos: np.ndarray) -> np.ndarray:
    base_pos, base_rot = env._base_pose()
    return base_rot.T @ (np.asarray(world_pos, dtype=np.float64) - base_pos)


def _object_yaw_offset(env: RobosuiteAdapterEnv) -> float:
    """Yaw (rad, in [-pi/4, pi/4]) that aligns the fingers with a cube's faces; 0 for the round can."""
    if env.task_name == "pick_place":
        return 0.0
    _, base_rot = env._base_pose()
    obj_rot = base_rot.T @ np.array(env._rs.sim.data.body_xmat[env._object_body_ids()[0]]).reshape(3, 3)
    tcp_rot = env._tcp_pose_base()[1]
    # angle between the objects' x axis and the TCP x axis, projected on the base xy plane
    diff = np.arctan2(obj_rot[1, 0], obj_rot[0, 0]) - np.arctan2(tcp_rot[1, 0], tcp_rot[0, 0])
    return float((diff + np.pi / 4) % (np.pi / 2) - np.pi / 4)


def _move_to(env: RobosuiteAdapterEnv, target: np.ndarray, grip: float, max_steps: int, tol: float = 0.01,
             align_yaw: bool = False, max_step_m: float = _SCRIPT_MAX_STEP_M) -> bool:
    """Servo the TCP to ``target`` (base frame, m) with the gripper command ``grip`` (0 open, 1 closed)."""
    offset = np.zeros(3)  # integral of the measured error: cancels the controller's static offset
    for _ in range(max_steps):
        state = env.current_state()
        err = target - state[:3]
        yaw = 0.5 * _object_yaw_offset(env) if align_yaw else 0.0
        if np.linalg.norm(err) < tol and abs(yaw) < 0.02:
            return True
        # Servo the streamed target (not the lagging measured pose: no overshoot) toward the goal plus
        # an integral correction of the measured error (no steady-state offset).
        if np.linalg.norm(err) < _SCRIPT_INTEGRAL_ZONE_M:  # integrate only near the goal (no wind-up in transit)
            offset = np.clip(offset + _SCRIPT_INTEGRAL_GAIN * err, -0.05, 0.05)
        dxyz = np.clip(_SCRIPT_GAIN * (target + offset - env._target_pos), -max_step_m, max_step_m)
        action = np.concatenate([dxyz, [0.0, 0.0, yaw], [grip - env._gripper_cmd]])
        env.simulate(np.clip(action, env.action_space.low, env.action_space.high).astype(np.float32))
    return False


def _hold(env: RobosuiteAdapterEnv, grip: float, steps: int) -> None:
    for _ in range(steps):
        env.simulate(np.array([0, 0, 0, 0, 0, 0, grip - env._gripper_cmd], dtype=np.float32))


def run_scripted_goal_policy(env: RobosuiteAdapterEnv, max_phase_steps: int = 40) -> bool:
    """Grasp the task object and carry it to its goal pose; True if robosuite reports success.

    Phases: hover above the object (yaw-aligned for cubes), descend, close, lift, travel above the goal
    position, descend onto it, and (Stack / PickPlace) release and back off. Leaves the env in the
    final state; the caller restores the reset state.
    """
    grasp = _to_base(env, env._rs.sim.data.body_xpos[env._object_body_ids()[0]])
    goal = _to_base(env, env._goal_object_pose()[0])
    hover = np.array([0.0, 0.0, _SCRIPT_HOVER_M])
    slow = 0.4 * _SCRIPT_MAX_STEP_M  # while descending and carrying, so the grasp does not slip
    _move_to(env, grasp + hover, 0.0, max_phase_steps, align_yaw=True)
    _move_to(env, grasp, 0.0, max_phase_steps, tol=0.006, max_step_m=slow)  # success is judged at the end
    _hold(env, 1.0, 10)
    if env.task_name == "lift":
        _move_to(env, goal, 1.0, max_phase_steps, max_step_m=slow)
        _hold(env, 1.0, 4)
        return env.is_success()
    travel = max(goal[2], grasp[2]) + _SCRIPT_HOVER_M
    _move_to(env, np.array([grasp[0], grasp[1], travel]), 1.0, max_phase_steps, max_step_m=slow)
    _move_to(env, np.array([goal[0], goal[1], travel]), 1.0, 3 * max_phase_steps, max_step_m=slow)
    _move_to(env, goal + [0, 0, 0.01], 1.0, max_phase_steps, tol=0.008, max_step_m=slow)
    _hold(env, 0.0, 8)
    _move_to(env, goal + hover, 0.0, max_phase_steps // 2)
    return env.is_success()


def register_robosuite_envs(max_episode_steps: int = 200) -> None:
    """Register RobosuiteLift-v0, RobosuiteStack-v0, RobosuitePickPlace-v0 (idempotent)."""
    for env_id, task in zip(ROBOSUITE_ENV_IDS, ("lift", "stack", "pick_place")):
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point=f"{__name__}:RobosuiteAdapterEnv",
            kwargs={"task": task},
            max_episode_steps=max_episode_steps,
        )
