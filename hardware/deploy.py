"""`vjepa-deploy`: run the V-JEPA 2-AC agent closed-loop on a real Franka (or in dry-run).

    vjepa-deploy --host 172.16.0.2 --camera 0 --model shipped --steps 20 --out runs/deploy
    vjepa-deploy --dry-run --camera fake --steps 5          # rehearsal: nothing moves

Flow: check the arguments and that --out is writable, load the agent -> connect -> home -> you drive the robot to
the goal (hand-guiding / teleop) and press Enter -> goal photo -> home -> agent loop. Every run gets a new episode
number k under --out (nothing is overwritten): episode_k_log.jsonl (written event by event), episode_k_log.json
(summary + events, at the end), episode_k.mp4 and episodes/episode_k (training dataset format). Any failure,
Ctrl-C or SIGTERM stops the arm, keeps the log and exits non-zero.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from agent.cli_errors import cli_errors

log = logging.getLogger("vjepa-deploy")
PROG = "vjepa-deploy"


class Terminated(Exception):
    """The process received SIGTERM: handled like any other failure (safe stop, log kept, non-zero exit)."""


# ---------------------------------------------------------------------------------------------------- arguments
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="172.16.0.2", help="robot (FCI) IP address")
    parser.add_argument("--dry-run", action="store_true", help="log commands without moving the arm")
    parser.add_argument("--camera", default="0", help="OpenCV index/URL, 'realsense' or 'fake'")
    parser.add_argument("--second-camera", default=None,
                        help="the camera of a two-view model's second view (as --camera), e.g. the wrist camera of "
                             "a model trained with camera=workspace_wrist; its frames are joined beside --camera's")
    parser.add_argument("--model", default="shipped")
    parser.add_argument("--planner", default="cem")
    parser.add_argument("--horizon", type=int, default=None,
                        help="actions planned ahead (>= 1; default: the planner's own, 1 for cem and mppi); the "
                             "agent executes the first and replans (receding horizon)")
    parser.add_argument("--one-step-alternative", action="store_true",
                        help="beside the full-horizon search, search plans that move once and then hold still, and "
                             "execute whichever scores lower (planners.one_step; needs --horizon > 1). In simulation "
                             "it lifted reach with --horizon 3 from 84%% to 96%% (docs/manipulation.md)")
    parser.add_argument("--release-in-place", action="store_true",
                        help="the arm holds still in the step in which the hand lets go (agent.release): a cube let "
                             "go while the arm moves is thrown several cm")
    parser.add_argument("--steps", type=int, default=20, help="actions to execute (>= 1)")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--dynamics", type=float, default=0.1, help="franky relative dynamics factor, (0, 1]")
    parser.add_argument("--watchdog-s", type=float, default=30.0,
                        help="longest time (s) the agent may take for one action before the watchdog stops the arm "
                             "and ends the episode (active in --dry-run too)")
    parser.add_argument("--no-prompt", action="store_true")
    parser.add_argument("--out", default="runs/deploy")
    parser.add_argument("--camera-pose", default=None,
                        help="JSON file with the calibrated camera pose, for a camera-conditioned model: "
                             '{"rotation": 3x3 camera-to-base rotation (OpenCV axes: x right, y down, z forward), '
                             '"position": [x, y, z] metres in the robot base frame, '
                             '"fovy_deg": vertical field of view}')
    return parser


def read_camera_pose(path: str | Path) -> np.ndarray:
    """The (10,) ``envs.camera_pose`` vector of a calibration file (see ``--camera-pose``); ValueError naming the
    file and what is wrong."""
    import json

    from envs.camera_pose import opencv_camera_pose

    try:
        data = json.loads(Path(path).read_text())
        rotation, position, fovy = data["rotation"], data["position"], float(data["fovy_deg"])
        return opencv_camera_pose(np.asarray(rotation, dtype=np.float64), np.asarray(position), math.radians(fovy))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"--camera-pose {path}: {type(exc).__name__}: {exc} (expected JSON with rotation (3x3), "
                         f"position (3) and fovy_deg)") from exc


def give_camera_pose(agent, args: argparse.Namespace) -> None:
    """Hand the calibrated camera pose to a camera-conditioned agent; ValueError when the model needs one and
    --camera-pose is missing, or --camera-pose is given for a model without camera input."""
    needs = bool(getattr(agent, "needs_camera_pose", False))
    if needs and args.camera_pose is None:
        raise ValueError(f"model {args.model!r} is conditioned on the camera pose: pass --camera-pose "
                         f"<calibration.json>")
    if args.camera_pose is not None:
        if not needs:
            raise ValueError(f"--camera-pose given, but model {args.model!r} does not use the camera pose")
        agent.set_camera_pose(read_camera_pose(args.camera_pose))


def planner_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The planner settings the arguments change (``--horizon``); the planner's defaults for the rest."""
    return {} if args.horizon is None else {"horizon": args.horizon}


def validate_args(args: argparse.Namespace) -> None:
    """ValueError naming the first bad argument value (before anything connects or moves)."""
    from planners import PLANNERS

    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    if args.planner not in PLANNERS:
        raise ValueError(f"--planner {args.planner!r} is not a planner; choose from {sorted(PLANNERS)}")
    if args.horizon is not None and args.horizon < 1:
        raise ValueError(f"--horizon must be >= 1, got {args.horizon}")
    if args.one_step_alternative:
        from agent.factory import check_one_step_horizon, resolved_planner_settings

        check_one_step_horizon(resolved_planner_settings("learned", args.planner, planner_overrides(args))["horizon"],
                               hint="--horizon 3 with --one-step-alternative")
    if not (math.isfinite(args.dynamics) and 0 < args.dynamics <= 1):
        raise ValueError(f"--dynamics must be in (0, 1], got {args.dynamics}")
    if not (math.isfinite(args.watchdog_s) and args.watchdog_s > 0):
        raise ValueError(f"--watchdog-s must be a positive number of seconds, got {args.watchdog_s}")


# ---------------------------------------------------------------------------------------------------- outputs
@dataclass(frozen=True)
class EpisodePaths:
    """Where episode number ``index`` of a deploy run goes (all under ``out``)."""

    out: Path
    index: int

    @property
    def stem(self) -> str:
        return f"episode_{self.index:06d}"

    @property
    def log_jsonl(self) -> Path:
        return self.out / f"{self.stem}_log.jsonl"

    @property
    def log_json(self) -> Path:
        return self.out / f"{self.stem}_log.json"

    @property
    def video(self) -> Path:
        return self.out / f"{self.stem}.mp4"

    @property
    def episodes_root(self) -> Path:
        return self.out / "episodes"


def _index_taken(out: Path, index: int) -> bool:
    paths = EpisodePaths(out, index)
    return any(p.exists() for p in (paths.log_json, paths.video, paths.episodes_root / paths.stem))


def reserve_episode(out: str | Path) -> EpisodePaths:
    """Create ``out`` (and ``out/episodes``), check both are writable, and reserve the first free episode number
    by creating its JSON-lines log exclusively. OSError naming the directory if it cannot be written."""
    out = Path(out)
    try:
        (out / "episodes").mkdir(parents=True, exist_ok=True)
        probe = out / "episodes" / f".write_test_{time.time_ns()}"
        probe.write_bytes(b"")
        probe.unlink()
        index = 0
        while True:
            paths = EpisodePaths(out, index)
            if not _index_taken(out, index):
                try:
                    with open(paths.log_jsonl, "x"):
                        return paths
                except FileExistsError:
                    pass
            index += 1
    except OSError as exc:
        raise OSError(f"--out {str(out)!r} is not writable ({exc.strerror or exc}); nothing was moved") from exc


@dataclass
class Recording:
    """Observations and executed actions of the agent loop (for the dataset episode and the video)."""

    frames: list[np.ndarray] = field(default_factory=list)
    states: list[np.ndarray] = field(default_factory=list)
    actions: list[np.ndarray] = field(default_factory=list)
    goal_image: np.ndarray | None = None

    def add_obs(self, obs: dict[str, np.ndarray]) -> None:
        self.frames.append(obs["image"])
        self.states.append(obs["state"])


def save_outputs(paths: EpisodePaths, rec: Recording, args: argparse.Namespace) -> None:
    """Dataset episode + video when at least one action was executed and observed."""
    from envs.video import write_video
    from training.dataset import save_episode

    n = len(rec.actions)
    if n == 0 or len(rec.frames) < n + 1:
        return
    save_episode(paths.episodes_root, paths.index, np.stack(rec.frames[:n + 1]), np.stack(rec.states[:n + 1]),
                 np.stack(rec.actions), {"task": "hardware", "image_size": args.image_size, "control_hz": 4.0,
                                         "policy": "vjepa2-ac", "planner": args.planner,
                                         "dry_run": bool(args.dry_run), "success": None})
    write_video(paths.video, rec.frames[:n + 1], fps=4.0, goal=rec.goal_image)


# ---------------------------------------------------------------------------------------------------- hardware
def make_driver(args: argparse.Namespace):
    """DryRunDriver in --dry-run, else the franky driver for --host."""
    from hardware.driver import DryRunDriver
    from hardware.franky_driver import FrankyDriver

    return DryRunDriver() if args.dry_run else FrankyDriver(args.host, dynamics_factor=args.dynamics)


def open_camera(name: str):
    """One camera from a --camera value: 'realsense', 'fake' (random frames) or an OpenCV index/URL."""
    from hardware.camera import FakeCamera, OpenCVCamera, RealSenseCamera

    if name == "realsense":
        return RealSenseCamera()
    if name == "fake":
        rng = np.random.default_rng(0)
        return FakeCamera(lambda: rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
    return OpenCVCamera(int(name) if name.isdigit() else name)


def model_panes(model: str) -> list[int]:
    """Pane widths (px, at the model's image size) of the camera preset ``model`` was trained on: one for a single
    view (also for a camera that is no sim preset, e.g. a lab's own); ValueError for views stacked one above the
    other (not supported on the robot)."""
    from agent.factory import model_view, resolve_model_path
    from envs.scene import CAMERAS

    size, camera = model_view(resolve_model_path(model))
    if camera not in CAMERAS:
        return [size]
    panes, axis = CAMERAS[camera].panes(size)
    if len(panes) > 1 and axis == 0:
        raise ValueError(f"model {model!r} was trained on camera preset {camera!r}, whose two views are stacked one "
                         "above the other: not supported on the robot (side-by-side presets are)")
    return [width for _, _, width in panes]


def make_camera(args: argparse.Namespace):
    """The camera of --camera, or --camera and --second-camera side by side for a model trained on two views
    (ValueError when the model's views and the cameras given do not match)."""
    from hardware.camera import SideBySideCamera

    widths = model_panes(args.model)
    if len(widths) == 1:
        if args.second_camera is not None:
            raise ValueError(f"--second-camera given, but model {args.model!r} was trained on one view")
        return open_camera(args.camera)
    if args.second_camera is None:
        raise ValueError(f"model {args.model!r} was trained on two views side by side (e.g. a wrist camera beside "
                         "the fixed one): pass --second-camera for the second")
    first = open_camera(args.camera)
    try:
        return SideBySideCamera([first, open_camera(args.second_camera)], widths)
    except BaseException:
        first.close()
        raise


def build_env(args: argparse.Namespace, log_path: Path | None = None):
    """The hardware env with the watchdog on (dry-run included) and the log mirrored to ``log_path``."""
    from hardware.env import FrankaHardwareEnv
    from hardware.safety import SafetyConfig

    return FrankaHardwareEnv(make_driver(args), make_camera(args), image_size=args.image_size,
                             safety=SafetyConfig(watchdog_timeout_s=args.watchdog_s), use_watchdog=True,
                             log_path=log_path)


class SigtermGuard:
    """While installed, the first SIGTERM raises :class:`Terminated` in the main thread; once ``disarm()``-ed
    (the run is already shutting down safely) a SIGTERM is only recorded in ``received``."""

    def __init__(self) -> None:
        self.armed = True
        self.received = 0

    def handler(self, signum: int, frame: Any) -> None:
        self.received += 1
        if self.armed:
            self.armed = False
            raise Terminated("received SIGTERM")
        log.warning("SIGTERM received while stopping; finishing the safe stop first")

    def disarm(self) -> None:
        self.armed = False


@contextmanager
def sigterm_guard() -> Iterator[SigtermGuard]:
    """Install a :class:`SigtermGuard` for the block; the previous SIGTERM handler is restored afterwards."""
    guard = SigtermGuard()
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield guard
        return
    previous = signal.signal(signal.SIGTERM, guard.handler)
    try:
        yield guard
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------------------------------------------- the run
def run_episode(env, agent, args: argparse.Namespace, rec: Recording) -> None:
    """Goal recording then the agent loop (raises on any failure; the caller stops and saves)."""
    env.reset()
    if not args.dry_run and not args.no_prompt:
        input("Drive the robot to the GOAL configuration (hand-guiding), then press Enter... ")
    goal = env.record_goal()
    rec.goal_image = goal["image"]
    obs, _ = env.reset()
    rec.add_obs(obs)
    for step in range(args.steps):
        action = agent.act(obs, goal)
        obs, _, _, _, info = env.step(action)
        rec.actions.append(info["action"])
        rec.add_obs(obs)
        dist = float(np.linalg.norm(obs["state"][:3] - goal["state"][:3]))
        log.info("step %d action %s |tcp-goal| %.3f m", step, np.round(info["action"], 3).tolist(), dist)


def _status(failure: BaseException | None) -> str:
    """completed | interrupted (Ctrl-C) | terminated (SIGTERM) | safe_stop (the env stopped) | failed."""
    from hardware.env import SafeStop

    if failure is None:
        return "completed"
    cause: BaseException | None = failure
    while cause is not None:
        if isinstance(cause, KeyboardInterrupt):
            return "interrupted"
        if isinstance(cause, Terminated):
            return "terminated"
        cause = cause.__cause__
    return "safe_stop" if isinstance(failure, SafeStop) else "failed"


def _finish(env, paths: EpisodePaths, rec: Recording, args: argparse.Namespace,
            failure: BaseException | None) -> None:
    """Close the env (arm stopped), save the episode and video, write the final log (always attempted)."""
    env.close()
    status = _status(failure)
    env.log_event({"event": "end", "status": status, "steps_executed": len(rec.actions), "time": time.time()})
    try:
        save_outputs(paths, rec, args)
    finally:
        env.episode_log.write_json(paths.log_json, status=status, episode=paths.index,
                                   error=None if failure is None else f"{type(failure).__name__}: {failure}",
                                   steps_executed=len(rec.actions), dry_run=bool(args.dry_run))


def run(args: argparse.Namespace) -> EpisodePaths:
    """Validate, reserve a new episode number, load the agent, run; on any failure stop the arm, keep the log and
    re-raise. Returns the episode's paths."""
    import agent.factory as factory

    validate_args(args)
    paths = reserve_episode(args.out)
    try:
        env = build_env(args, paths.log_jsonl)
        agent = factory.make_agent("learned", env, planner=args.planner, planner_overrides=planner_overrides(args),
                                   model=args.model, release_in_place=args.release_in_place,
                                   one_step_alternative=args.one_step_alternative)
        give_camera_pose(agent, args)
    except BaseException:
        paths.log_jsonl.unlink(missing_ok=True)  # nothing happened: free the episode number
        raise
    rec, failure = Recording(), None
    with sigterm_guard() as guard:
        try:
            try:
                run_episode(env, agent, args, rec)
            finally:
                guard.disarm()  # from here on a SIGTERM cannot interrupt the safe stop and the saving
        except BaseException as exc:  # noqa: BLE001 - every failure ends in a safe stop with the log kept
            failure = exc
        if failure is not None and env.ended is None:  # the env has not stopped and logged this one itself
            env.safe_stop(f"deploy stopped ({_status(failure)})", failure)
        if failure is None and guard.received:
            failure = Terminated("received SIGTERM")
        if failure is not None:
            log.error("stopped: %s: %s", type(failure).__name__, failure)
        _finish(env, paths, rec, args, failure)
    if failure is not None:
        print(f"{PROG}: episode log kept in {paths.log_json}", file=sys.stderr)
        raise failure
    return paths


@cli_errors(PROG)
def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    paths = run(args)
    print(f"episode {paths.index} saved under {paths.out} ({paths.log_json.name})")


if __name__ == "__main__":
    main()
