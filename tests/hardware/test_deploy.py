"""`vjepa-deploy` in dry-run: outputs, one-line errors, and every failure ending in a safe stop with the log kept
(agent exceptions, bad agent output, connection failure, unwritable --out, watchdog, SIGTERM, SIGKILL)."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import agent.factory as agent_factory
import hardware.deploy as deploy
from hardware.driver import DriverError, DryRunDriver
from hardware.episode_log import read_json_lines

REPO = Path(__file__).resolve().parents[2]
BASE_ARGS = ["--dry-run", "--camera", "fake", "--no-prompt"]


class ScriptedAgent:
    """Small +x steps; ``fail_at`` (1-based call) raises or returns ``bad``; ``slow_at`` (call) sleeps ``sleep_s``
    first (a planner slower than the watchdog allows)."""

    def __init__(self, fail_at=None, bad=None, slow_at=None, sleep_s=0.0):
        self.calls, self.fail_at, self.bad, self.slow_at, self.sleep_s = 0, fail_at, bad, slow_at, sleep_s

    def act(self, obs, goal):
        self.calls += 1
        if self.calls == self.slow_at:
            time.sleep(self.sleep_s)
        if self.calls == self.fail_at:
            if isinstance(self.bad, BaseException):
                raise self.bad
            return self.bad
        return np.array([0.01, 0, 0, 0, 0, 0, 0], np.float32)


@pytest.fixture
def scripted(monkeypatch):
    """Install a scripted agent instead of the world model (returns a setter)."""

    def install(scripted_agent):
        monkeypatch.setattr(agent_factory, "make_agent", lambda *a, **k: scripted_agent)
        return scripted_agent

    return install


def run_deploy(args, capsys=None):
    """main(args) -> (exit code, stderr lines)."""
    try:
        deploy.main(BASE_ARGS + args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines() if capsys else []
    return code, err


def final_log(out, index=0):
    return json.loads((Path(out) / f"episode_{index:06d}_log.json").read_text())


def event_names(log):
    return [e["event"] for e in log["events"]]


def test_deploy_dry_run_saves_episode(tmp_path):
    """End to end with a real (tiny, untrained) world model."""
    import torch

    from training.dataset import load_episodes
    from world_model.checkpoint import save_world_model
    from world_model.model import build_world_model

    torch.manual_seed(0)
    base = save_world_model(build_world_model("sim_tiny"), tmp_path / "wm")
    deploy.main(BASE_ARGS + ["--steps", "2", "--model", str(base), "--out", str(tmp_path / "run")])
    episodes, bad = load_episodes(tmp_path / "run" / "episodes")
    assert episodes[0].actions.shape == (2, 7) and not bad
    assert (tmp_path / "run" / "episode_000000.mp4").exists()
    log = final_log(tmp_path / "run")
    assert log["status"] == "completed" and event_names(log).count("step") == 2


def test_deploy_passes_release_in_place_to_the_agent(tmp_path, capsys, monkeypatch):
    seen = []

    def make_agent(*args, **kwargs):
        seen.append(kwargs["release_in_place"])
        return ScriptedAgent()

    monkeypatch.setattr(agent_factory, "make_agent", make_agent)
    assert run_deploy(["--steps", "1", "--out", str(tmp_path / "a")], capsys)[0] == 0
    assert run_deploy(["--steps", "1", "--release-in-place", "--out", str(tmp_path / "b")], capsys)[0] == 0
    assert seen == [False, True]


def test_deploy_passes_horizon_and_one_step_alternative_to_the_agent(tmp_path, capsys, monkeypatch):
    seen = []

    def make_agent(*args, **kwargs):
        seen.append((kwargs["planner_overrides"], kwargs["one_step_alternative"]))
        return ScriptedAgent()

    monkeypatch.setattr(agent_factory, "make_agent", make_agent)
    assert run_deploy(["--steps", "1", "--out", str(tmp_path / "a")], capsys)[0] == 0
    assert run_deploy(["--steps", "1", "--horizon", "3", "--one-step-alternative", "--out", str(tmp_path / "b")],
                      capsys)[0] == 0
    assert run_deploy(["--steps", "1", "--planner", "icem", "--one-step-alternative", "--out", str(tmp_path / "c")],
                      capsys)[0] == 0  # icem plans 2 steps ahead by default
    assert seen == [({}, False), ({"horizon": 3}, True), ({}, True)]


def test_deploy_with_one_step_alternative_builds_the_wrapped_planner(tmp_path):
    """The real factory: --horizon 3 --one-step-alternative gives a learned agent whose planner searches one-step
    plans beside 3-step ones."""
    import torch

    from planners.one_step import OneStepAlternative
    from world_model.checkpoint import save_world_model
    from world_model.model import build_world_model

    torch.manual_seed(0)
    base = save_world_model(build_world_model("sim_tiny"), tmp_path / "wm")
    built = []
    real = agent_factory.make_agent

    def spy(*args, **kwargs):
        built.append(real(*args, **kwargs))
        return built[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(agent_factory, "make_agent", spy)
        deploy.main(BASE_ARGS + ["--steps", "1", "--model", str(base), "--horizon", "3", "--one-step-alternative",
                                 "--out", str(tmp_path / "run")])
    planner = built[0].planner
    assert isinstance(planner, OneStepAlternative) and planner.horizon == 3 and planner.plans >= 1


@pytest.mark.parametrize("args, named", [(["--steps", "0"], "--steps"), (["--steps", "-3"], "-3"),
                                         (["--planner", "bogus"], "'bogus'"), (["--dynamics", "0"], "--dynamics"),
                                         (["--watchdog-s", "nan"], "--watchdog-s"), (["--horizon", "0"], "--horizon"),
                                         (["--one-step-alternative"], "--one-step-alternative"),
                                         (["--horizon", "1", "--one-step-alternative"], "horizon is 1")])
def test_deploy_bad_arguments_are_one_line_errors(tmp_path, capsys, scripted, args, named):
    scripted(ScriptedAgent())
    code, err = run_deploy(args + ["--out", str(tmp_path / "o")], capsys)
    assert code != 0 and len(err) == 1 and named in err[0] and err[0].startswith("vjepa-deploy: error:")
    assert not list((tmp_path / "o").glob("*log*"))  # nothing ran


# ------------------------------------------------------------------------------------------------ F17
@pytest.mark.parametrize("bad", [RuntimeError("planner failed"), {"dx": 0.1}, np.full(7, np.nan, np.float32),
                                 KeyboardInterrupt()], ids=["raises", "dict", "nan", "ctrl-c"])
def test_f17_agent_failure_keeps_log_and_episode(tmp_path, capsys, scripted, bad):
    scripted(ScriptedAgent(fail_at=3, bad=bad))
    out = tmp_path / "run"
    code, err = run_deploy(["--steps", "5", "--out", str(out)], capsys)
    assert code != 0 and err[-1].startswith("vjepa-deploy:")
    log = final_log(out)
    names = event_names(log)
    assert names.count("step") == 2 and "safe_stop" in names and names[-1] == "end"
    assert log["status"] in ("safe_stop", "failed", "interrupted") and log["steps_executed"] == 2
    assert [e["event"] for e in read_json_lines(out / "episode_000000_log.jsonl")] == names
    from training.dataset import load_episodes

    episodes, _ = load_episodes(out / "episodes")
    assert episodes[0].actions.shape == (2, 7)


def test_f17_unwritable_out_fails_before_the_arm_moves(tmp_path, capsys, scripted, monkeypatch):
    scripted(ScriptedAgent())
    drivers = []
    monkeypatch.setattr(deploy, "make_driver", lambda args: drivers.append(DryRunDriver()) or drivers[-1])
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, err = run_deploy(["--steps", "2", "--out", str(blocker / "run")], capsys)
    assert code != 0 and len(err) == 1 and "not writable" in err[0] and "file/run" in err[0]
    assert drivers == []  # no driver was even built, let alone moved


SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np
    import agent.factory as factory

    class Slow:
        def act(self, obs, goal):
            time.sleep(0.05)
            return np.array([0.002, 0, 0, 0, 0, 0, 0], np.float32)

    factory.make_agent = lambda *a, **k: Slow()
    from hardware.deploy import main
    main(sys.argv[1:])
""")


def _start_deploy(out):
    env = {**os.environ, "MUJOCO_GL": "egl", "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, *BASE_ARGS, "--steps", "2000", "--out", str(out)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_steps(proc, log, n, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if log.exists() and sum('"step"' in line for line in log.read_text().splitlines()) >= n:
            return
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"deploy did not reach {n} steps: rc={proc.poll()} {proc.communicate()[1][-2000:]}")


def test_f17_sigterm_is_a_safe_stop_with_log_and_episode(tmp_path):
    out = tmp_path / "run"
    proc = _start_deploy(out)
    _wait_for_steps(proc, out / "episode_000000_log.jsonl", 5)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0, stderr[-2000:]
    log = final_log(out)
    # a step's command is logged before it runs, so the signal may interrupt the 5th: at least 4 completed
    assert log["status"] == "terminated" and "safe_stop" in event_names(log) and log["steps_executed"] >= 4
    assert (out / "episodes" / "episode_000000" / "data.npz").exists()
    assert stderr.strip().splitlines()[-1].startswith("vjepa-deploy: error:")


def test_f17_sigkill_leaves_the_incremental_log(tmp_path):
    out = tmp_path / "run"
    proc = _start_deploy(out)
    _wait_for_steps(proc, out / "episode_000000_log.jsonl", 5)
    proc.kill()
    proc.communicate(timeout=60)
    events = read_json_lines(out / "episode_000000_log.jsonl")
    steps = [e for e in events if e["event"] == "step"]
    assert len(steps) >= 5 and all(len(e["action"]) == 7 and len(e["target"]) == 7 for e in steps)


# ------------------------------------------------------------------------------------------------ F18
def test_f18_second_deploy_does_not_overwrite_the_first(tmp_path, capsys, scripted):
    from training.dataset import load_episodes

    out = tmp_path / "run"
    scripted(ScriptedAgent())
    assert run_deploy(["--steps", "4", "--out", str(out)], capsys)[0] == 0
    first = (out / "episodes" / "episode_000000" / "data.npz").read_bytes()
    first_log = (out / "episode_000000_log.json").read_text()
    scripted(ScriptedAgent())
    assert run_deploy(["--steps", "2", "--out", str(out)], capsys)[0] == 0
    assert (out / "episodes" / "episode_000000" / "data.npz").read_bytes() == first
    assert (out / "episode_000000_log.json").read_text() == first_log
    episodes, bad = load_episodes(out / "episodes")
    assert sorted(e.actions.shape[0] for e in episodes) == [2, 4] and not bad
    assert final_log(out, 1)["steps_executed"] == 2 and (out / "episode_000001.mp4").exists()


# ------------------------------------------------------------------------------------------------ F19
def test_f19_connection_failure_exits_nonzero(tmp_path, capsys, scripted, monkeypatch):
    class Refused(DryRunDriver):
        def connect(self):
            raise DriverError("cannot connect to the Franka at 127.0.0.1: connection refused")

    scripted(ScriptedAgent())
    monkeypatch.setattr(deploy, "make_driver", lambda args: Refused())
    code, err = run_deploy(["--steps", "2", "--out", str(tmp_path / "run")], capsys)
    assert code != 0 and "connection refused" in err[-1] and not any("saved" in line for line in err)
    assert final_log(tmp_path / "run")["status"] == "safe_stop"


def test_f19_safety_stop_exits_nonzero(tmp_path, capsys, scripted):
    scripted(ScriptedAgent(fail_at=1, bad=np.array([np.nan] * 7, np.float32)))
    code, err = run_deploy(["--steps", "2", "--out", str(tmp_path / "run")], capsys)
    assert code != 0 and "SafeStop" in err[-1] and "NaN" in err[-1]


# ------------------------------------------------------------------------------------------------ F20
def test_f20_watchdog_runs_in_dry_run_and_ends_the_episode(tmp_path, capsys, scripted):
    scripted(ScriptedAgent(slow_at=2, sleep_s=1.0))
    code, err = run_deploy(["--steps", "4", "--watchdog-s", "0.3", "--out", str(tmp_path / "run")], capsys)
    names = event_names(final_log(tmp_path / "run"))
    assert code != 0 and "watchdog_stop" in names and names.count("step") == 1, names
    assert "watchdog" in err[-1]


def test_deploy_hands_the_calibrated_camera_pose_to_a_camera_conditioned_model(tmp_path, capsys):
    """--camera-pose: read from an OpenCV-convention calibration file into a camera-conditioned agent; missing for
    such a model, given for a model without camera input, or malformed: one-line errors before the arm moves."""
    from dataclasses import replace

    import torch

    from world_model.checkpoint import save_world_model
    from world_model.model import WORLD_MODEL_CONFIGS, WorldModel

    tiny = WORLD_MODEL_CONFIGS["sim_tiny"]
    cfg = replace(tiny, predictor=replace(tiny.predictor, extrinsics_dim=10), camera_center=(0.0,) * 10,
                  camera_scale=(1.0,) * 10)
    torch.manual_seed(0)
    cam_model = save_world_model(WorldModel(cfg), tmp_path / "cam")
    plain_model = save_world_model(WorldModel(tiny), tmp_path / "plain")
    calib = tmp_path / "calib.json"
    calib.write_text(json.dumps({"rotation": [[1, 0, 0], [0, 0, 1], [0, -1, 0]], "position": [0.5, -1.0, 0.6],
                                 "fovy_deg": 40}))
    deploy.main(BASE_ARGS + ["--steps", "1", "--model", str(cam_model), "--camera-pose", str(calib),
                             "--out", str(tmp_path / "run")])
    assert final_log(tmp_path / "run")["status"] == "completed"
    pose = deploy.read_camera_pose(calib)
    np.testing.assert_allclose(pose[3:6], [0, 1, 0], atol=1e-6)  # optical axis = the rotation's z column
    np.testing.assert_allclose(pose[6:9], [0, 0, 1], atol=1e-6)  # image up = minus its y column
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rotation": [[1, 0], [0, 1]], "position": [0, 0, 0], "fovy_deg": 40}))
    for args, named in (([], "--camera-pose"), (["--camera-pose", str(bad)], "bad.json")):
        code, err = run_deploy(["--steps", "1", "--model", str(cam_model), "--out", str(tmp_path / "o")] + args, capsys)
        assert code != 0 and len(err) == 1 and named in err[0], err
    code, err = run_deploy(["--steps", "1", "--model", str(plain_model), "--camera-pose", str(calib),
                            "--out", str(tmp_path / "o")], capsys)
    assert code != 0 and "does not use the camera pose" in err[0]


def test_deploy_joins_a_second_camera_for_a_two_view_model(tmp_path, capsys):
    """A model trained on workspace_wrist (a wrist camera beside the workspace view) needs --second-camera, whose
    frames are joined beside --camera's; a one-view model refuses it; both are one-line errors before the arm moves."""
    import torch

    from world_model.checkpoint import save_world_model
    from world_model.model import WORLD_MODEL_CONFIGS, WorldModel

    torch.manual_seed(0)
    tiny = WorldModel(WORLD_MODEL_CONFIGS["sim_tiny"])
    wrist_model = save_world_model(tiny, tmp_path / "wrist", metadata={"camera": "workspace_wrist"})
    plain_model = save_world_model(tiny, tmp_path / "plain", metadata={"camera": "workspace"})
    lab_model = save_world_model(tiny, tmp_path / "lab", metadata={"camera": "lab_exterior"})  # no sim preset
    assert deploy.model_panes(str(lab_model)) == [64] and deploy.model_panes(str(wrist_model)) == [43, 21]
    with pytest.raises(ValueError, match="stacked one above the other"):
        deploy.model_panes(str(save_world_model(tiny, tmp_path / "two", metadata={"camera": "twoview"})))
    args = deploy.build_parser().parse_args(BASE_ARGS + ["--model", str(wrist_model), "--second-camera", "fake"])
    camera = deploy.make_camera(args)
    assert camera.read().shape == (320, 320, 3) and camera.widths == [215, 105]  # 43 + 21 px at 64 px, x5
    camera.close()
    deploy.main(BASE_ARGS + ["--steps", "1", "--model", str(wrist_model), "--second-camera", "fake",
                             "--out", str(tmp_path / "run")])
    assert final_log(tmp_path / "run")["status"] == "completed"
    code, err = run_deploy(["--steps", "1", "--model", str(wrist_model), "--out", str(tmp_path / "o")], capsys)
    assert code != 0 and len(err) == 1 and "--second-camera" in err[0], err
    code, err = run_deploy(["--steps", "1", "--model", str(plain_model), "--second-camera", "fake",
                            "--out", str(tmp_path / "o")], capsys)
    assert code != 0 and len(err) == 1 and "trained on one view" in err[0], err
