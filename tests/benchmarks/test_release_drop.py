"""benchmarks/release_drop.py: the physics behind release_in_place (a still drop lands where it was let go)."""
import importlib.util
from pathlib import Path

import gymnasium as gym

import envs  # noqa: F401
from envs.tasks import SUCCESS_RADIUS

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "release_drop.py"
_spec = importlib.util.spec_from_file_location("release_drop", _PATH)
release_drop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(release_drop)


def test_a_still_arm_drops_the_cube_on_the_target_and_a_moving_one_throws_it():
    env = gym.make("FrankaPickPlace-v0", image_size=64).unwrapped
    assert 0.07 < release_drop.carry_above_target(env, 1000) < 0.13, "let go at carrying height"
    assert release_drop.drop(env, 1000, release_drop.MOTIONS["still"]) < 0.01
    assert release_drop.drop(env, 1000, release_drop.MOTIONS["sideways 3 cm"]) > SUCCESS_RADIUS
    env.close()
