"""What the agent needs from a world model (the learned one and the simulator oracle both provide it)."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch


class LatentWorldModel(Protocol):
    """A model that encodes observations to latents and rolls latents forward under actions.

    Shapes: B = batch (samples x envs), H = horizon, N = tokens per frame, D = latent dim.
    """

    def encode(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 images (B, H_img, W_img, 3) -> latents (B, N, D) (layer-normed for the learned model)."""
        ...

    def rollout(self, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
        """Autoregressive prediction.

        z: context latents (B, T0, N, D) (or (B, N, D) for a single frame, T0 = 1).
        actions, states: (B, T0 - 1 + H, 7) conditioning for every frame from the first context frame on;
            action t moves frame t to frame t + 1; states follow :mod:`envs.conventions`.
        returns: predicted latents of frames T0 .. T0 + H - 1, shape (B, H, N, D).

        A model with ``camera_conditioned = True`` also takes ``camera_pose=`` (``envs.camera_pose`` vector); the
        agent passes it only once ``Agent.set_camera_pose`` was called.
        """
        ...
