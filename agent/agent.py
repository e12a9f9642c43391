"""The V-JEPA 2-AC agent: plan with a latent world model by minimising the L1 energy to the goal latent.

``Agent(world_model, planner).act(obs, goal) -> action`` works in any Gymnasium loop (receding-horizon MPC).
Actions/states follow envs.conventions (base frame, metres, radians, gripper in [0, 1]).
A camera-conditioned world model (``world_model.camera_conditioned``) also needs the pose of the camera the
observations come from: ``agent.set_camera_pose(pose)`` (``envs.camera_pose``: ``env.unwrapped.camera_pose()`` in
sim, the calibrated pose of a real camera), once per camera placement; planning without it raises ValueError.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from gymnasium import spaces

from agent.energy import EnergyConfig, latent_energy, state_energy
from agent.kinematics import integrate_action, integrate_sequence
from agent.observation import check_obs
from agent.protocol import LatentWorldModel
from agent.release import hold_arm_while_releasing
from agent.seeding import planner_seed
from envs.spec import clip_action, make_action_space
from planners.base import Planner, PlanResult


@dataclass(frozen=True)
class AgentConfig:
    """replan_every: execute this many planned actions before planning again (1 = replan every step).
    seed: seeds the planner's torch.Generator (re-seeded at reset(); mixed with the episode seed when reset() is
    given one, :func:`agent.seeding.planner_seed`).
    release_in_place: an action that lets go of what the hand holds moves only the gripper, the arm holds still
    (:mod:`agent.release`); applied to every scored sequence and to the executed plan."""

    replan_every: int = 1
    energy: EnergyConfig = field(default_factory=EnergyConfig)
    seed: int = 0
    release_in_place: bool = False

    def __post_init__(self) -> None:
        if self.replan_every < 1:
            raise ValueError("replan_every must be >= 1")
        if not isinstance(self.release_in_place, bool):
            raise ValueError(f"release_in_place must be true or false, got {self.release_in_place!r}")


def _digest(image: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()


class Agent:
    """MPC agent over a :class:`agent.protocol.LatentWorldModel`."""

    def __init__(self, world_model: LatentWorldModel, planner: Planner, config: AgentConfig = AgentConfig(),
                 action_space: spaces.Box | None = None) -> None:
        if config.replan_every > planner.horizon:
            raise ValueError(f"replan_every {config.replan_every} > planner horizon {planner.horizon}")
        self.world_model = world_model
        self.planner = planner
        self.config = config
        self.action_space = action_space if action_space is not None else make_action_space()
        self.last_plan: PlanResult | None = None
        self.plan_times: list[float] = []
        self._goal_key: str | None = None
        self._goal_z: torch.Tensor | None = None
        self._goal_state: torch.Tensor | None = None
        self.precision = None  # world_model.precision.PrecisionChoice, set by agent.factory.make_agent
        self.camera_pose: np.ndarray | None = None  # (10,) envs.camera_pose vector; kept across reset()
        self.reset()

    @property
    def needs_camera_pose(self) -> bool:
        """Whether the world model is conditioned on the camera pose (then :meth:`set_camera_pose` first)."""
        return bool(getattr(self.world_model, "camera_conditioned", False))

    def set_camera_pose(self, pose: np.ndarray | None) -> None:
        """The pose (10,) of the camera the observations and goal images come from (``envs.camera_pose``, base
        frame), or None. ValueError for a world model without camera input (the pose would be ignored) or a
        vector of the wrong size."""
        if pose is None:
            self.camera_pose = None
            return
        if not self.needs_camera_pose:
            raise ValueError("this agent's world model is not conditioned on the camera pose")
        from envs.camera_pose import CAMERA_POSE_DIM

        pose = np.asarray(pose, dtype=np.float32)
        if pose.shape != (CAMERA_POSE_DIM,) or not np.isfinite(pose).all():
            raise ValueError(f"camera pose must be {CAMERA_POSE_DIM} finite numbers (envs.camera_pose), got "
                             f"shape {pose.shape}")
        self.camera_pose = pose

    def runtime_info(self) -> dict:
        """Where and how the world model runs (for results JSON): device, precision (and why), CPU, threads."""
        from world_model.precision import cpu_name

        info = {"device": str(getattr(self.world_model, "device", "unknown")), "torch_threads": torch.get_num_threads(),
                "cpu": cpu_name(), "torch": torch.__version__}
        if self.precision is not None:
            info["precision"] = "bf16" if self.precision.bf16 else "fp32"
            info["precision_reason"] = self.precision.reason
        elif hasattr(self.world_model, "autocast_bf16"):
            info["precision"] = "bf16" if self.world_model.autocast_bf16 else "fp32"
        return info

    def reset(self, episode_seed: int | None = None) -> None:
        """Start an episode: planner warm start and queued actions cleared, the planner's generator re-seeded
        from the agent seed (and ``episode_seed`` when given: independent noise per episode)."""
        self.planner.reset()
        self._queue: list[np.ndarray] = []
        self._gen = torch.Generator().manual_seed(planner_seed(self.config.seed, episode_seed))
        self.plan_times = []

    @torch.inference_mode()
    def encode_goal(self, goal: dict) -> torch.Tensor:
        """Goal latent (N, D), encoded once per distinct goal image (cached by content hash)."""
        image, state = check_obs(goal, "goal", need_state=False)
        key = _digest(image)
        if key != self._goal_key:
            self._goal_z = self.world_model.encode(image[None])[0]
            self._goal_key = key
        self._goal_state = None if state is None else torch.as_tensor(state, dtype=torch.float32)
        return self._goal_z

    def cost_fn(self, z0: torch.Tensor, state0: torch.Tensor, goal_z: torch.Tensor):
        """Build the planner's cost: actions (1, S, H, 7) -> energies (1, S)."""
        cfg = self.config.energy

        def cost(actions: torch.Tensor) -> torch.Tensor:
            b, s, h, a = actions.shape
            flat, states = self.executed(actions.reshape(b * s, h, a), state0)  # (S, H, 7) each
            camera = {} if self.camera_pose is None else {"camera_pose": self.camera_pose}
            pred = self.world_model.rollout(z0, flat, states, **camera)  # (S, H, N, D)
            energy = latent_energy(pred, goal_z, cfg.all_frames, cfg.norm)
            if cfg.state_weight and self._goal_state is not None:
                final = integrate_action(states[:, -1], flat[:, -1])
                energy = energy + cfg.state_weight * state_energy(final, self._goal_state)
            return energy.reshape(b, s).to(actions.device)  # planners work on the actions' device

        return cost

    def executed(self, actions: torch.Tensor, state0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The action sequences (S, H, 7) as they will be executed (with ``release_in_place``, the arm held still
        in each step that lets go, judged by the kinematic gripper closure before it) and the kinematic states
        (S, H, 7) before each action."""
        states = integrate_sequence(state0, actions)
        if self.config.release_in_place:
            actions = hold_arm_while_releasing(actions, states[..., 6])
            states = integrate_sequence(state0, actions)  # same gripper closures, arm positions without the motion
        return actions, states

    @torch.inference_mode()
    def plan(self, obs: dict, goal: dict) -> PlanResult:
        image, state = check_obs(obs, "obs")
        goal_z = self.encode_goal(goal)
        z0 = self.world_model.encode(image[None])  # (1, N, D)
        state0 = torch.as_tensor(state, dtype=torch.float32)
        t0 = time.perf_counter()
        result = self.planner.plan(self.cost_fn(z0, state0, goal_z), batch_size=1, generator=self._gen)
        if self.config.release_in_place:  # execute what was scored
            result = dataclasses.replace(result, actions=self.executed(result.actions, state0)[0])
        self.plan_times.append(time.perf_counter() - t0)
        self.last_plan = result
        return result

    def act(self, obs: dict, goal: dict) -> np.ndarray:
        """Next env action (7,) float32, clipped to the env's action bounds."""
        if not self._queue:
            result = self.plan(obs, goal)
            plan = result.actions[0].cpu().numpy()  # (H, 7)
            self._queue = [plan[i] for i in range(self.config.replan_every)]
        else:
            check_obs(obs, "obs")
            check_obs(goal, "goal", need_state=False)
        return clip_action(self._queue.pop(0), self.action_space)
