"""The incremental episode log: every event on disk as it happens; torn last lines are skipped on reading."""

import json

import numpy as np

from hardware.episode_log import EpisodeLog, read_json_lines


def test_events_are_on_disk_immediately_and_json_is_atomic(tmp_path):
    log = EpisodeLog(tmp_path / "log.jsonl")
    log.append({"event": "step", "action": np.array([0.01, 0.0]), "time": 1.0})
    assert read_json_lines(tmp_path / "log.jsonl") == [{"event": "step", "action": [0.01, 0.0], "time": 1.0}]
    log.append({"event": "safe_stop", "error": ValueError("x")})
    log.write_json(tmp_path / "log.json", status="safe_stop")
    payload = json.loads((tmp_path / "log.json").read_text())
    assert payload["status"] == "safe_stop" and [e["event"] for e in payload["events"]] == ["step", "safe_stop"]
    assert not list(tmp_path.glob("*.tmp"))


def test_torn_last_line_is_skipped(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"event": "reset"}\n{"event": "st')
    assert read_json_lines(path) == [{"event": "reset"}]


def test_in_memory_log_without_a_path():
    log = EpisodeLog()
    log.append({"event": "reset"})
    assert len(log) == 1 and log[-1]["event"] == "reset" and [e["event"] for e in log] == ["reset"]
