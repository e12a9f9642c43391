"""`vjepa-eval jobs=N`: spawned workers give the same per-episode results as a serial run; results are recorded
as episodes finish (an interrupted run keeps them and resumes); the agent's runtime info lands in results.json."""

import json

import pytest

import envs  # noqa: F401 - registers the env ids
from agent.eval import TIMING_FIELDS, AgentSpec, EvalConfig, run_suite
from agent.eval_parallel import worker_threads
from agent.factory import make_agent
from agent.oracle import RandomAgent

FAST_CEM = {"samples": 8, "topk": 2, "iterations": 2}


def _episodes(results, task="FrankaReach-v0"):
    return [{k: v for k, v in e.items() if k not in TIMING_FIELDS} for e in results["tasks"][task]["episodes"]]


@pytest.mark.parametrize("spec", [AgentSpec(kind="random", seed=1000),
                                  AgentSpec(kind="oracle", planner="cem", planner_overrides=FAST_CEM, seed=1000)],
                         ids=["random", "oracle"])
def test_jobs2_matches_serial_run(tmp_path, spec):
    runs = {}
    for jobs in (1, 2):
        cfg = EvalConfig(episodes=3, max_steps=3, video=False, jobs=jobs, out_dir=str(tmp_path / f"jobs{jobs}"))
        runs[jobs] = run_suite(cfg, spec, spec.kind)
    assert [e["seed"] for e in _episodes(runs[2])] == [1000, 1001, 1002]
    assert _episodes(runs[2]) == _episodes(runs[1])
    summary = {k: v for k, v in runs[2]["tasks"]["FrankaReach-v0"]["summary"].items() if k != "mean_plan_time_s"}
    assert summary == {k: v for k, v in runs[1]["tasks"]["FrankaReach-v0"]["summary"].items()
                       if k != "mean_plan_time_s"}


def test_jobs2_writes_videos_from_workers(tmp_path):
    cfg = EvalConfig(episodes=2, max_steps=2, video=True, jobs=2, out_dir=str(tmp_path))
    res = run_suite(cfg, AgentSpec(kind="random", seed=1000), "random")
    assert sorted(p.name for p in (tmp_path / "videos").iterdir()) == ["FrankaReach-v0_seed1000.mp4",
                                                                     "FrankaReach-v0_seed1001.mp4"]
    assert all(e["video"] for e in res["tasks"]["FrankaReach-v0"]["episodes"])


def test_worker_threads_share_the_parent_threads():
    assert worker_threads(2, total_threads=8) == 4
    assert worker_threads(3, total_threads=2) == 1
    assert worker_threads(1, total_threads=6) == 6


def test_jobs_needs_a_picklable_agent_factory(tmp_path):
    cfg = EvalConfig(episodes=2, max_steps=1, video=False, jobs=2, out_dir=str(tmp_path))
    with pytest.raises(ValueError, match="picklable"):
        run_suite(cfg, lambda env: make_agent("random", env), "random")


class ReportingAgent(RandomAgent):
    def runtime_info(self):
        return {"device": "cpu", "precision": "fp32"}


def reporting_factory(env):
    return ReportingAgent(env.action_space, seed=1000)


def test_runtime_info_recorded_in_results(tmp_path):
    cfg = EvalConfig(episodes=2, max_steps=1, video=False, jobs=2, out_dir=str(tmp_path))
    res = run_suite(cfg, reporting_factory, "random")
    assert res["runtime"] == {"device": "cpu", "precision": "fp32"}
    assert json.loads((tmp_path / "results.json").read_text())["runtime"] == res["runtime"]


class FailingAgent(RandomAgent):
    """Raises KeyboardInterrupt when its reset budget is spent (simulates Ctrl-C during a run)."""

    resets_left = 0

    def reset(self, episode_seed=None):
        FailingAgent.resets_left -= 1
        if FailingAgent.resets_left < 0:
            raise KeyboardInterrupt
        super().reset(episode_seed)


def test_interrupted_run_keeps_finished_episodes_and_resumes(tmp_path):
    cfg = EvalConfig(episodes=4, max_steps=1, video=False, out_dir=str(tmp_path))
    FailingAgent.resets_left = 3  # one reset in __init__, then one per episode: the 3rd episode is interrupted
    with pytest.raises(KeyboardInterrupt):
        run_suite(cfg, lambda env: FailingAgent(env.action_space, seed=1000), "random")
    kept = json.loads((tmp_path / "results.json").read_text())["tasks"]["FrankaReach-v0"]["episodes"]
    assert [e["seed"] for e in kept] == [1000, 1001]
    res = run_suite(cfg, lambda env: RandomAgent(env.action_space, seed=1000), "random")
    assert [e["seed"] for e in res["tasks"]["FrankaReach-v0"]["episodes"]] == [1000, 1001, 1002, 1003]


def test_agent_spec_passes_bf16_and_device_to_make_agent(monkeypatch):
    import agent.factory as factory

    seen = {}
    monkeypatch.setattr(factory, "make_agent", lambda *args, **kwargs: seen.update(args=args, kwargs=kwargs))
    AgentSpec(kind="learned", planner="mppi", model="m", seed=7, bf16=False, device="cpu")("ENV")
    assert seen["args"] == ("learned", "ENV", "mppi", {}, "m", 7)
    assert seen["kwargs"]["bf16"] is False and seen["kwargs"]["device"] == "cpu"


class ParkingAgent(RandomAgent):
    """Runs its worker's first episode normally, then records its pid under $PARK_DIR and sleeps in act (a long
    planning step)."""

    episodes = 0

    def reset(self, episode_seed=None):
        ParkingAgent.episodes += 1
        super().reset(episode_seed)

    def act(self, obs, goal):
        import os
        import time
        from pathlib import Path

        if ParkingAgent.episodes > 2:  # one reset at build time, one per episode
            Path(os.environ["PARK_DIR"], str(os.getpid())).touch()
            time.sleep(120)
        return super().act(obs, goal)


def parking_factory(env):
    return ParkingAgent(env.action_space, seed=1000)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (an orphan's zombie may wait for a busy init)."""
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def test_sigterm_ends_the_workers_and_keeps_finished_episodes(tmp_path):
    """SIGTERM to a jobs=2 evaluation ends its spawned workers too (the default action would orphan them, still
    planning) with exit status 143; the episodes finished before it stay in results.json."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    park = tmp_path / "parked"
    park.mkdir()
    code = ("from agent.eval import EvalConfig, run_suite\n"
            "from tests.agent.test_eval_parallel import parking_factory\n"
            f"cfg = EvalConfig(episodes=6, max_steps=2, video=False, jobs=2, out_dir={str(tmp_path / 'out')!r})\n"
            "run_suite(cfg, parking_factory, 'random')\n")
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=repo, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "PARK_DIR": str(park), "PYTHONPATH": str(repo)})
    try:
        deadline = time.monotonic() + 120
        while len(list(park.iterdir())) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = [int(p.name) for p in park.iterdir()]
        assert len(workers) == 2, proc.stderr.read().decode()[-2000:] if proc.poll() is not None else workers
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in workers)
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in park.iterdir():
            if _alive(int(p.name)):
                os.kill(int(p.name), signal.SIGKILL)
    kept = json.loads((tmp_path / "out" / "results.json").read_text())["tasks"]["FrankaReach-v0"]["episodes"]
    assert len(kept) == 2  # each worker's first episode
