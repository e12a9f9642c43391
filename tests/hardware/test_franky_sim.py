"""End to end against franky-sim (a loopback server speaking the libfranka protocol with an FR3 model).

The server runs in its own process. franky-sim 1.0.4 needs pinocchio >= 3, whose wheels need NumPy 2, while
robosuite pins NumPy 1.26 in this environment; so the server is started with ``$FRANKY_SIM_PYTHON`` (a separate
venv: `python -m venv /opt/fsim && /opt/fsim/bin/pip install franky-sim`) when set, else with this interpreter.
If the server cannot start, the test is SKIPPED with the server's own error as the reason.
"""

import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def franky_sim_host():
    pytest.importorskip("franky")
    python = os.environ.get("FRANKY_SIM_PYTHON", sys.executable)
    proc = subprocess.Popen([python, "-m", "franky_sim.run_server", "-s", "mujoco"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    host, lines, deadline = None, [], time.time() + 60
    while time.time() < deadline and host is None:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        m = re.search(r"using '([^']+)' as the robot IP", line)
        host = m.group(1) if m else None
    if host is None:
        proc.kill()
        lines += proc.stdout.read().splitlines()
        tail = " | ".join(l.strip() for l in lines if l.strip())[-300:]
        pytest.skip(f"franky-sim server did not start with {python}: {tail}")
    yield host, proc
    proc.terminate()
    proc.wait(timeout=10)


def test_franky_driver_moves_the_simulated_arm(franky_sim_host):
    from envs.conventions import action_between, integrate_action
    from hardware.franky_driver import FrankyDriver

    driver = FrankyDriver(franky_sim_host[0], dynamics_factor=0.2, require_realtime=False)
    driver.connect()
    s0 = driver.current_state()
    target = integrate_action(s0, np.array([0.02, 0.0, -0.01, 0, 0, 0.1, 0.5]))
    driver.move_to(target, s0)
    s1 = driver.current_state()
    assert np.allclose(s1[:3], target[:3], atol=3e-3)
    assert abs(action_between(s1, target)[5]) < 0.02  # orientation reached (base-frame yaw delta of 0.1 rad)
    assert s1[6] > s0[6]
    driver.close()


def test_connection_drop_is_a_driver_error_and_env_stops(franky_sim_host):
    """Kill the server mid-episode: the env must stop safely with a clear message (runs last: it ends the server)."""
    from hardware.camera import FakeCamera
    from hardware.env import FrankaHardwareEnv, SafeStop
    from hardware.franky_driver import FrankyDriver

    host, proc = franky_sim_host
    driver = FrankyDriver(host, dynamics_factor=0.2, require_realtime=False)
    env = FrankaHardwareEnv(driver, FakeCamera(lambda: np.zeros((64, 64, 3), np.uint8)), image_size=64)
    env.reset(options={"skip_home": True})
    env.step(np.array([0.0, 0.01, 0.0, 0, 0, 0, 0], np.float32))
    proc.kill()
    proc.wait(timeout=10)
    with pytest.raises(SafeStop):
        for _ in range(3):
            env.step(np.array([0.0, 0.01, 0.0, 0, 0, 0, 0], np.float32))
    assert env.episode_log[-1]["event"] == "safe_stop"
