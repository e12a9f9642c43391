"""A perfect predictor, for diagnosis: the simulator's true future frames, encoded by the world model's encoder.

:class:`TrueFutureModel` implements :class:`agent.protocol.LatentWorldModel` over a lean Franka sim env. ``encode``
is the learned encoder's; ``rollout`` ignores the given latents and instead, for every candidate action sequence,
restores the env's current MuJoCo state, executes the actions with ``env.simulate`` and encodes the rendered frames.
An :class:`agent.agent.Agent` over it (``vjepa-eval agent=energy_oracle``) plans on the paper's image energy exactly
as the learned agent does, but as if the predictor made no error. Its success rate is therefore the ceiling that
predictor training can reach with this encoder, camera, energy and planner; the gap below it is the predictor's.

The rendered futures carry no pixel noise (a perfect predictor predicts the scene, not the sensor noise), so the
env's noise stream, and thus the episode's observations, are those of any other agent's run.
"""

from __future__ import annotations

import numpy as np
import torch

from agent.oracle import simulate_sequences

# How far the planned-from state may be from the env's (xyz metres, euler radians, closure). Not zero: an observation
# is read right after mj_step, whose poses lag its joint positions by one physics substep, while the state after a
# restore (set_sim_state runs mj_forward) does not; the lag measured up to 1.2e-4 m and 1.8e-3 rad over random
# actions (tests/agent/test_true_future.py). A plan from a stale observation is off by a control step (cm).
STATE_TOLERANCE = (1e-3, 1e-3, 1e-3, 1e-2, 1e-2, 1e-2, 1e-3)


class TrueFutureModel:
    """``encode`` from ``world_model``; ``rollout`` by simulating ``env`` (a lean Franka sim env, see module doc).

    Plan only from the env's current state: ``rollout`` raises ValueError when the states it is given do not start
    at ``env.current_state()``, since it cannot roll out from anywhere else."""

    camera_conditioned = False

    def __init__(self, env, world_model) -> None:
        unwrapped = getattr(env, "unwrapped", env)
        for method in ("get_sim_state", "set_sim_state", "simulate", "render_image", "current_state"):
            if not callable(getattr(unwrapped, method, None)):
                raise TypeError(f"the true-future model needs a lean Franka sim env (envs.franka_env.FrankaEnv) with "
                                f"{method}(); got {type(unwrapped).__name__}")
        self.env = unwrapped
        self.world_model = world_model
        self.device = getattr(world_model, "device", torch.device("cpu"))
        self.autocast_bf16 = getattr(world_model, "autocast_bf16", False)

    def encode(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 images (B, H_img, W_img, 3) -> latents (B, N, D), the learned encoder's."""
        return self.world_model.encode(images)

    def rollout(self, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor, **_: object) -> torch.Tensor:
        """Latents (B, H, N, D) of the frames the simulator renders after each of the H actions of every one of the B
        sequences, each started from the env's current state. ``z`` must be one context frame ((B, N, D) or
        (B, 1, N, D)); its values are not used. actions, states: (B, H, 7); ``states[:, 0]`` must be the env's
        current state."""
        actions, states = torch.as_tensor(actions), torch.as_tensor(states)
        z = torch.as_tensor(z)
        if z.dim() not in (3, 4) or (z.dim() == 4 and z.shape[1] != 1):
            raise ValueError(f"z must be one context frame, (B, N, D) or (B, 1, N, D); got {tuple(z.shape)}")
        if actions.dim() != 3 or actions.shape[-1] != 7 or states.shape != actions.shape:
            raise ValueError(f"actions and states must both be (B, H, 7), got {tuple(actions.shape)} and "
                             f"{tuple(states.shape)}")
        self._check_start(states[:, 0])
        frames = self._simulate(actions.detach().cpu().numpy())  # (B, H, S, S, 3)
        b, h = frames.shape[:2]
        latents = self.world_model.encode(frames.reshape(b * h, *frames.shape[2:]))  # (B*H, N, D)
        return latents.reshape(b, h, *latents.shape[1:])

    def _check_start(self, start_states: torch.Tensor) -> None:
        current = torch.as_tensor(self.env.current_state(), dtype=torch.float32)
        diff = start_states.float().cpu() - current  # (B, 7): xyz (m), euler angles (rad), gripper closure
        diff[:, 3:6] = torch.remainder(diff[:, 3:6] + torch.pi, 2 * torch.pi) - torch.pi  # +-pi is one angle
        gap = diff.abs()
        worst = int((gap / torch.tensor(STATE_TOLERANCE)).argmax())  # flat index into (B, 7)
        if gap.flatten()[worst] > STATE_TOLERANCE[worst % 7]:
            raise ValueError(f"the plan starts {gap.flatten()[worst].item():.3g} away from the env's current state "
                             f"(state component {worst % 7}): the true-future model can only roll out from the state "
                             "the env is in")

    def _simulate(self, actions: np.ndarray) -> np.ndarray:
        """actions (B, H, 7) -> uint8 frames (B, H, S, S, 3); the env's sim state is restored afterwards."""
        return np.asarray(simulate_sequences(self.env, actions, self.env.render_image))
