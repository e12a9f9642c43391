"""``vjepa-eval jobs=N``: run the evaluation's episodes in N worker processes.

Workers are started with the ``spawn`` method (``fork`` hangs after MuJoCo's EGL rendering has started in the
parent) and each builds its own env and agent per (task, variant) from the picklable agent recipe. Each episode
depends only on its seed (the env is reset with it and the agent re-seeded), so the per-episode results equal a
serial run's; only the timing fields differ. Each worker uses ``max(1, torch threads of the parent // N)`` torch
threads. Finished episodes are handed back one at a time, in completion order, so the caller records each as soon
as it is done. A SIGTERM to the parent (e.g. ``kill`` or a job scheduler's stop) ends the workers too: the episodes
recorded so far stay, and the rest run on the next call.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import pickle
import signal
import threading
from typing import Any, Callable, Iterator

import gymnasium as gym
import torch

from agent.eval import DEFAULT_CAMERA, EpisodeJob, EpisodeOutcome, EpisodeRunner
from agent.subgoals import SubgoalConfig

_RUNNER: EpisodeRunner | None = None  # one per worker process


def worker_threads(workers: int, total_threads: int | None = None) -> int:
    """Torch threads per worker: the parent's thread count shared out, at least one."""
    total = torch.get_num_threads() if total_threads is None else total_threads
    return max(1, total // workers)


def _init_worker(make_agent: Callable[[gym.Env], Any], image_size: int, threads: int,
                 subgoal: SubgoalConfig | None, camera: str = DEFAULT_CAMERA,
                 waypoint_spacing: float | None = None) -> None:
    """Set up this worker's runner (envs at ``image_size`` px with the ``camera`` preset and ``waypoint_spacing``)."""
    global _RUNNER
    torch.set_num_threads(threads)
    _RUNNER = EpisodeRunner(make_agent, image_size, subgoal, camera=camera, waypoint_spacing=waypoint_spacing)


def _run_job(job: EpisodeJob) -> EpisodeOutcome:
    assert _RUNNER is not None, "worker not initialised"
    return _RUNNER.run(job)


class Terminated(SystemExit):
    """The process received SIGTERM (exit status 143, as the default action gives)."""


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Inside the block, SIGTERM raises :class:`Terminated` in the main thread instead of ending the process on the
    spot. The default action would skip every ``finally`` and context exit, so a worker pool would outlive its
    parent. Outside the main thread (where handlers cannot be set) the block changes nothing; the previous handler
    is restored on leaving."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise Terminated(128 + signum)

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def check_picklable(make_agent: Callable[[gym.Env], Any]) -> None:
    """ValueError unless ``make_agent`` can be sent to spawned workers."""
    try:
        pickle.dumps(make_agent)
    except Exception as exc:  # noqa: BLE001 - pickling can fail in many ways
        raise ValueError(f"jobs > 1 needs a picklable agent factory (an agent.eval.AgentSpec or a module-level "
                         f"function), got {make_agent!r}: {exc}") from exc


def run_parallel(jobs: list[EpisodeJob], make_agent: Callable[[gym.Env], Any], image_size: int, workers: int,
                 on_result: Callable[[EpisodeOutcome], None], subgoal: SubgoalConfig | None = None,
                 camera: str = DEFAULT_CAMERA, waypoint_spacing: float | None = None) -> None:
    """Run ``jobs`` on ``workers`` spawned processes; ``on_result(outcome)`` as each episode finishes.
    subgoal: the switch rule of subgoal mode (each worker wraps its agents in a SubgoalAgent), or None. Envs are
    built at ``image_size`` px with the ``camera`` preset (passed to gym.make only when not "front") and, for the
    tasks that take it, ``waypoint_spacing`` (see :class:`agent.eval.EpisodeRunner`).

    An exception in a worker (or in ``on_result``, Ctrl-C or SIGTERM: :class:`Terminated`) terminates the pool and
    propagates; episodes already handed to ``on_result`` are kept by the caller."""
    check_picklable(make_agent)
    ctx = mp.get_context("spawn")
    with sigterm_raises(), ctx.Pool(workers, initializer=_init_worker,
                                    initargs=(make_agent, image_size, worker_threads(workers), subgoal,
                                              camera, waypoint_spacing)) as pool:
        for outcome in pool.imap_unordered(_run_job, jobs, chunksize=1):
            on_result(outcome)
        pool.close()
        pool.join()
