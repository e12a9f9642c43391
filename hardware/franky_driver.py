"""ArmDriver for a real Franka (or franky-sim) through franky-control (`pip install franky-control`).

Absolute Cartesian motions to the safety-checked target (base frame) at a reduced dynamics factor; the gripper is
driven to the commanded closure (closure 1 = fingers together, 0 = open 0.08 m). Errors from franky become
DriverError after a stop.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.spatial.transform import Rotation

from envs.conventions import EULER_SEQ
from hardware.driver import DriverError

log = logging.getLogger(__name__)
MAX_WIDTH = 0.08  # metres, Franka Hand fully open


class FrankyDriver:
    def __init__(self, host: str, dynamics_factor: float = 0.1, gripper_speed: float = 0.05,
                 grasp_force: float = 20.0, home_joints: list[float] | None = None,
                 require_realtime: bool = True) -> None:
        """require_realtime=False lets libfranka run without a PREEMPT_RT kernel (simulators, rehearsals only)."""
        self.host = host
        self.require_realtime = require_realtime
        self.dynamics_factor = dynamics_factor
        self.gripper_speed = gripper_speed
        self.grasp_force = grasp_force
        self.home_joints = home_joints or [0.0, -0.3, 0.0, -2.2, 0.0, 2.0, 0.785]
        self.robot = None
        self.gripper = None

    def connect(self) -> None:
        try:
            import franky
        except ImportError as exc:  # pragma: no cover - optional dependency
            raise ImportError("the real-robot driver needs franky-control: pip install 'vjepa2-ac-sim[hardware]'") from exc
        try:
            rt = franky.RealtimeConfig.Enforce if self.require_realtime else franky.RealtimeConfig.Ignore
            self.robot = franky.Robot(self.host, realtime_config=rt)
            self.robot.relative_dynamics_factor = self.dynamics_factor
            self.robot.recover_from_errors()
            self.gripper = franky.Gripper(self.host)
        except Exception as exc:  # noqa: BLE001 - franky raises several exception types
            raise DriverError(f"cannot connect to the Franka at {self.host}: {exc}") from exc

    def _require(self):
        if self.robot is None:
            raise DriverError("driver not connected: call connect() first")
        return self.robot

    def current_state(self) -> np.ndarray:
        robot = self._require()
        try:
            pose = robot.current_cartesian_state.pose.end_effector_pose
            width = float(self.gripper.width) if self.gripper is not None else MAX_WIDTH
        except Exception as exc:  # noqa: BLE001 - network loss, protocol errors
            raise DriverError(f"cannot read the robot state ({type(exc).__name__}): {exc}") from exc
        quat = np.asarray(pose.quaternion)  # (x, y, z, w)
        euler = Rotation.from_quat(quat).as_euler(EULER_SEQ)
        closure = float(np.clip(1.0 - width / MAX_WIDTH, 0.0, 1.0))
        return np.concatenate([np.asarray(pose.translation, dtype=np.float64), euler, [closure]])

    def move_to(self, target: np.ndarray, state: np.ndarray) -> None:
        """Move the TCP to the absolute ``target`` pose (base frame) and the gripper to its closure; blocks.

        The motion is built from ``target`` alone (no second state read): the safety layer checked this exact
        target against ``state``. The gripper moves only when the target closure differs from ``state``'s."""
        import franky

        robot = self._require()
        target = np.asarray(target, dtype=np.float64)
        state = np.asarray(state, dtype=np.float64)
        if target.shape != (7,) or not np.all(np.isfinite(target)):
            raise DriverError(f"invalid target {target.tolist()}")
        pose = franky.Affine(target[:3], Rotation.from_euler(EULER_SEQ, target[3:6]).as_quat())
        try:
            robot.move(franky.CartesianMotion(pose, franky.ReferenceType.Absolute))
            if abs(target[6] - state[6]) > 1e-6 and self.gripper is not None:
                closure = float(np.clip(target[6], 0.0, 1.0))
                self.gripper.move((1.0 - closure) * MAX_WIDTH, self.gripper_speed)
        except Exception as exc:  # noqa: BLE001
            self.stop()
            raise DriverError(f"motion failed ({type(exc).__name__}): {exc}") from exc

    def home(self) -> None:
        import franky

        robot = self._require()
        try:
            robot.move(franky.JointMotion(self.home_joints))
            if self.gripper is not None:
                self.gripper.move(MAX_WIDTH, self.gripper_speed)
        except Exception as exc:  # noqa: BLE001
            self.stop()
            raise DriverError(f"homing failed: {exc}") from exc

    def stop(self) -> None:
        try:
            if self.robot is not None:
                self.robot.stop()
        except Exception as exc:  # noqa: BLE001 - stop must never raise
            log.error("robot.stop() failed: %s", exc)

    def recover(self) -> None:
        try:
            self._require().recover_from_errors()
        except Exception as exc:  # noqa: BLE001
            raise DriverError(f"error recovery failed: {exc}") from exc

    def close(self) -> None:
        self.stop()
        self.robot = None
        self.gripper = None
