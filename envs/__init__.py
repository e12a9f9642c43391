"""MuJoCo Franka environments sharing the DROID observation/action spec; importing registers the gym ids."""

import os

# Headless machines (the common case for evaluation) have no display: default MuJoCo's offscreen GL to EGL, which
# also works on CPU through Mesa. Set MUJOCO_GL yourself (e.g. glfw, osmesa) to override; it must happen before
# mujoco is imported.
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])

from envs.registration import make_franka_env, register_franka_envs

register_franka_envs()

try:  # robosuite adapters register lazily (robosuite is imported only when such an env is built)
    from envs.robosuite_adapters import register_robosuite_envs

    register_robosuite_envs()
except ImportError:  # pragma: no cover - robosuite is a declared dependency
    pass

FRANKA_ENV_IDS = ("FrankaReach-v0", "FrankaGrasp-v0", "FrankaReachWithObject-v0", "FrankaPickPlace-v0")
__all__ = ["make_franka_env", "register_franka_envs", "FRANKA_ENV_IDS"]
