"""`vjepa-deploy`: run the V-JEPA 2-AC agent closed-loop on a real Franka (or in dry-run).

    vjepa-deploy --host 172.16.0.2 --camera 0 --model shipped --steps 20 --out runs/deploy
    vjepa-deploy --dry-run --camera fake --steps 5          # rehearsal: nothing moves

Flow: connect -> home -> you drive the robot to the goal (hand-guiding / teleop) and press Enter -> goal photo ->
home -> agent loop (video + episode saved in the training dataset format). Ctrl-C stops the arm at once.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger("vjepa-deploy")


def build_env(args):
    from hardware.camera import FakeCamera, OpenCVCamera, RealSenseCamera
    from hardware.driver import DryRunDriver
    from hardware.env import FrankaHardwareEnv
    from hardware.franky_driver import FrankyDriver

    driver = DryRunDriver() if args.dry_run else FrankyDriver(args.host, dynamics_factor=args.dynamics)
    if args.camera == "realsense":
        camera = RealSenseCamera()
    elif args.camera == "fake":
        rng = np.random.default_rng(0)
        camera = FakeCamera(lambda: rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
    else:
        camera = OpenCVCamera(int(args.camera) if args.camera.isdigit() else args.camera)
    return FrankaHardwareEnv(driver, camera, image_size=args.image_size, use_watchdog=not args.dry_run)


def run(args) -> Path:
    from agent.factory import make_agent
    from envs.video import write_video
    from hardware.env import SafeStop
    from training.dataset import save_episode

    env = build_env(args)
    out = Path(args.out)
    frames, states, actions = [], [], []
    goal = None
    try:
        env.reset()
        if not args.dry_run and not args.no_prompt:
            input("Drive the robot to the GOAL configuration (hand-guiding), then press Enter... ")
        goal = env.record_goal()
        obs, _ = env.reset()
        agent = make_agent("learned", env, args.planner, {}, args.model)
        frames.append(obs["image"]), states.append(obs["state"])
        for step in range(args.steps):
            action = agent.act(obs, goal)
            obs, _, _, _, info = env.step(action)
            frames.append(obs["image"]), states.append(obs["state"]), actions.append(action)
            dist = float(np.linalg.norm(obs["state"][:3] - goal["state"][:3]))
            log.info("step %d action %s |tcp-goal| %.3f m", step, np.round(action, 3).tolist(), dist)
    except (KeyboardInterrupt, SafeStop) as exc:
        env.driver.stop()
        log.error("stopped: %s", exc if str(exc) else "Ctrl-C")
    finally:
        env.close()
    if len(frames) >= 2:
        n = len(actions)
        save_episode(out / "episodes", 0, np.stack(frames[:n + 1]), np.stack(states[:n + 1]), np.stack(actions),
                     {"task": "hardware", "image_size": args.image_size, "control_hz": 4.0, "policy": "vjepa2-ac",
                      "dry_run": bool(args.dry_run), "success": None})
        write_video(out / "episode.mp4", frames, fps=4.0, goal=None if goal is None else goal["image"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "episode_log.json").write_text(json.dumps(env.episode_log, indent=1, default=str))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="172.16.0.2", help="robot (FCI) IP address")
    parser.add_argument("--dry-run", action="store_true", help="log commands without moving the arm")
    parser.add_argument("--camera", default="0", help="OpenCV index/URL, 'realsense' or 'fake'")
    parser.add_argument("--model", default="shipped")
    parser.add_argument("--planner", default="cem")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--dynamics", type=float, default=0.1, help="franky relative dynamics factor")
    parser.add_argument("--no-prompt", action="store_true")
    parser.add_argument("--out", default="runs/deploy")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    print(f"episode saved under {run(args)}")


if __name__ == "__main__":
    main()
