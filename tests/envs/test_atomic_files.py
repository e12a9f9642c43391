"""envs.atomic_files: atomic JSON writes and the temporary names every writer shares."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from envs.atomic_files import TMP_NAME, remove_stale_tmp_files, unique_tmp_path, write_json_atomic


def test_round_trip_replaces_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("old")
    assert write_json_atomic(path, {"x": [1, 2.5], "y": None}) == path
    assert json.loads(path.read_text()) == {"x": [1, 2.5], "y": None}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_nan_is_refused_unless_allowed_and_nothing_is_written(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('{"kept": 1}')
    with pytest.raises(ValueError):
        write_json_atomic(path, {"x": float("nan")})
    assert json.loads(path.read_text()) == {"kept": 1} and len(list(tmp_path.iterdir())) == 1
    write_json_atomic(path, {"x": float("nan")}, allow_nan=True)
    assert math.isnan(json.loads(path.read_text())["x"])


def test_default_encodes_what_json_cannot(tmp_path):
    with pytest.raises(TypeError):
        write_json_atomic(tmp_path / "a.json", {"v": np.arange(3)})
    write_json_atomic(tmp_path / "a.json", {"v": np.arange(3)}, default=lambda o: o.tolist(), fsync=True)
    assert json.loads((tmp_path / "a.json").read_text()) == {"v": [0, 1, 2]}


def test_a_failed_write_names_the_file_and_removes_its_temporary(tmp_path):
    with pytest.raises(OSError, match="cannot write .*missing/a.json"):
        write_json_atomic(tmp_path / "missing" / "a.json", {})
    target = tmp_path / "is_a_folder"
    (target / "inside").mkdir(parents=True)  # os.replace of a file over a non-empty folder fails
    with pytest.raises(OSError, match="cannot write .*is_a_folder"):
        write_json_atomic(target, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["is_a_folder"]


def test_temporary_names_are_unique_and_recognised_by_the_stale_file_cleaner(tmp_path):
    a, b = unique_tmp_path(tmp_path / "results.json"), unique_tmp_path(tmp_path / "results.json")
    video = unique_tmp_path(tmp_path / "ep.mp4", keep_suffix=True)
    assert a != b and a.parent == tmp_path and video.suffix == ".mp4"
    assert all(TMP_NAME.match(p.name) for p in (a, b, video))
    a.write_text("")  # this process is alive: its temporaries are kept
    assert remove_stale_tmp_files(tmp_path) == [] and a.exists()
