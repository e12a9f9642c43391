"""Scripted experts per task (reference baselines and data collection) reading the TRUE simulator state.

``make_expert(env, noise, seed)`` returns an object with ``act(obs) -> action (7,) float32``, ``reset()`` and
``done()``. ``noise > 0`` adds Gaussian noise of std ``noise * 0.05 m`` to the translation (the noisy
exploration policy); every action stays inside the env's action bounds.
"""

from __future__ import annotations

import numpy as np

STEP = 0.05  # metres per control step (the paper's maxnorm)


def _toward(delta: np.ndarray, step: float = STEP) -> np.ndarray:
    norm = np.linalg.norm(delta)
    return delta if norm <= step else delta * (step / norm)


class _Expert:
    def __init__(self, env, noise: float = 0.0, seed: int | None = None) -> None:
        if noise < 0:
            raise ValueError(f"noise must be >= 0, got {noise}")
        self.env = env.unwrapped if hasattr(env, "unwrapped") else env
        self.noise = noise
        self.rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        self.phase = 0
        self.wait = 0

    def done(self) -> bool:
        return False

    def _action(self, dxyz: np.ndarray, dgrip: float = 0.0) -> np.ndarray:
        dxyz = _toward(np.asarray(dxyz, dtype=np.float64))
        if self.noise > 0:
            dxyz = dxyz + self.rng.normal(0.0, self.noise * STEP, 3)
        action = np.concatenate([dxyz, np.zeros(3), [dgrip]])
        space = self.env.action_space
        return np.clip(action, space.low, space.high).astype(np.float32)

    def tcp(self) -> np.ndarray:
        return self.env.ee_pose()[0]


class ReachExpert(_Expert):
    def act(self, obs=None) -> np.ndarray:
        return self._action(self.env.task.goal_pos - self.tcp())

    def done(self) -> bool:
        return bool(np.linalg.norm(self.env.task.goal_pos - self.tcp()) < 0.01)


class ReachWithObjectExpert(ReachExpert):
    def act(self, obs=None) -> np.ndarray:
        return self._action(self.env.task.goal_pos - self.tcp(), dgrip=0.1)


class GraspExpert(_Expert):
    """Phases: 0 above the cube, 1 descend, 2 close, 3 lift 10 cm."""

    lift_to = 0.12

    def _cube(self) -> np.ndarray:
        return self.env.data.body("cube0").xpos.copy()

    def _grasp_phases(self) -> np.ndarray | None:
        cube, tcp = self._cube(), self.tcp()
        if self.phase == 0:
            target = cube + [0, 0, 0.08]
            if np.linalg.norm(target - tcp) < 0.015:
                self.phase = 1
            return self._action(target - tcp, -1.0)
        if self.phase == 1:
            target = cube + [0, 0, -0.005]
            if np.linalg.norm(target - tcp) < 0.01 or tcp[2] < cube[2]:
                self.phase = 2
            return self._action(target - tcp, -1.0)
        if self.phase == 2:
            self.wait += 1
            if self.wait >= 2:
                self.phase = 3
            return self._action(np.zeros(3), 1.0)
        if self.phase == 3:
            target = np.array([tcp[0], tcp[1], self.lift_to])
            if abs(target[2] - tcp[2]) < 0.01:
                self.phase = 4
            return self._action(target - tcp, 0.1)
        return None

    def act(self, obs=None) -> np.ndarray:
        action = self._grasp_phases()
        return action if action is not None else self._action(np.zeros(3), 0.1)

    def done(self) -> bool:
        return self.phase >= 4


class PickPlaceExpert(GraspExpert):
    """Grasp, carry above the target, lower, open, retreat."""

    def act(self, obs=None) -> np.ndarray:
        action = self._grasp_phases()
        if action is not None:
            return action
        tcp = self.tcp()
        target_xy = self.env.task.target_xy
        size = self.env.task.scene.cube_size
        if self.phase == 4:
            target = np.array([*target_xy, self.lift_to])
            if np.linalg.norm(target - tcp) < 0.015:
                self.phase = 5
            return self._action(target - tcp, 0.1)
        if self.phase == 5:
            target = np.array([*target_xy, size + 0.01])
            if np.linalg.norm(target - tcp) < 0.01:
                self.phase, self.wait = 6, 0
            return self._action(target - tcp, 0.1)
        if self.phase == 6:
            self.wait += 1
            if self.wait >= 2:
                self.phase = 7
            return self._action(np.zeros(3), -1.0)
        target = np.array([tcp[0], tcp[1], 0.15])
        if abs(target[2] - tcp[2]) < 0.01:
            self.phase = 8
        return self._action(target - tcp, -1.0)

    def done(self) -> bool:
        return self.phase >= 8


EXPERTS = {
    "reach": ReachExpert,
    "grasp": GraspExpert,
    "reach_with_object": ReachWithObjectExpert,
    "pick_place": PickPlaceExpert,
}


def make_expert(env, noise: float = 0.0, seed: int | None = None) -> _Expert:
    """Scripted expert for ``env``'s task (noise > 0: noisy exploration policy)."""
    task = (env.unwrapped if hasattr(env, "unwrapped") else env).task_name
    if task not in EXPERTS:
        raise ValueError(f"no scripted expert for task {task!r}; known: {sorted(EXPERTS)}")
    return EXPERTS[task](env, noise=noise, seed=seed)
