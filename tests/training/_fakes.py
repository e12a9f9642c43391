"""Shared test helper: plausible random episodes for the training tests."""

import numpy as np


def fake_episode(rng: np.random.Generator, T: int = 6, size: int = 64):
    """Random frames, plausible states (base frame metres, radians, gripper in [0, 1]) and small actions:
    (frames (T, size, size, 3) uint8, states (T, 7) float32, actions (T-1, 7) float32)."""
    frames = rng.integers(0, 255, (T, size, size, 3), dtype=np.uint8)
    states = np.concatenate([rng.uniform(-0.8, 0.8, (T, 3)), rng.uniform(-np.pi, np.pi, (T, 3)),
                             rng.uniform(0, 1, (T, 1))], axis=1).astype(np.float32)
    actions = rng.normal(scale=0.01, size=(T - 1, 7)).astype(np.float32)
    return frames, states, actions
