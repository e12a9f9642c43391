"""How well does each camera preset see a move along its own line of sight? (docs/manipulation.md)

A single camera sees a move across its image far better than one along its line of sight (depth). For each preset
of envs.scene.CAMERAS, grasp seeds 0-3 at two TCP poses (fingers around the cube, and 15 cm above), the TCP is
moved 5 cm along the (upper) camera's line of sight and 5 cm perpendicular to it (horizontally), and the 96 px
pixels that change (summed RGB difference > 30) are counted. Printed: both counts and their ratio (1 = depth seen
as well as a sideways move). Usage: MUJOCO_GL=egl python3 benchmarks/camera_line_of_sight.py
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the Franka envs)
from envs.experts import GraspExpert
from envs.scene import CAMERAS


def changed_pixels(a: np.ndarray, b: np.ndarray) -> int:
    return int((np.abs(a.astype(int) - b.astype(int)).sum(-1) > 30).sum())


def moved_image(u, start, pos: np.ndarray) -> np.ndarray:
    u.set_sim_state(start)
    u.move_to(pos, settle_steps=150)
    return u.camera_image()


def measure(camera: str, seeds=range(4)) -> tuple[float, float]:
    """Mean changed pixels for a 5 cm move along / perpendicular to the camera's line of sight."""
    ray = CAMERAS[camera].line_of_sight()
    perp = np.cross(ray, [0.0, 0.0, 1.0])
    perp /= np.linalg.norm(perp)
    env = gym.make("FrankaGrasp-v0", image_size=96, camera=camera)
    u = env.unwrapped
    along, across = [], []
    for seed in seeds:
        env.reset(seed=seed)
        expert = GraspExpert(u, 0.0, 0)
        while expert.phase < 2:
            u.simulate(expert.act(None))
        start, tcp = u.get_sim_state(), u.ee_pose()[0]
        for base in (tcp, tcp + np.array([0.0, 0.0, 0.15])):
            image = moved_image(u, start, base)
            along.append(changed_pixels(image, moved_image(u, start, base + 0.05 * ray)))
            across.append(changed_pixels(image, moved_image(u, start, base + 0.05 * perp)))
    env.close()
    return float(np.mean(along)), float(np.mean(across))


def main() -> None:
    print("camera | 5 cm along the line of sight (px) | 5 cm across (px) | ratio")
    for camera in CAMERAS:
        along, across = measure(camera)
        print(f"{camera} | {along:.0f} | {across:.0f} | {along / across:.2f}", flush=True)


if __name__ == "__main__":
    main()
