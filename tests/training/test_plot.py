import json

import pytest

from training.plot import plot_runs, read_log


def test_read_log_keeps_last_row_per_step_and_plots(tmp_path):
    rows = [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.0}, {"step": 2, "loss": 0.5}, {"step": 3, "loss": 0.4}]
    (tmp_path / "log.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    log = read_log(tmp_path)
    assert [r["step"] for r in log] == [1, 2, 3]
    assert log[1]["loss"] == 0.5
    out = plot_runs([tmp_path], tmp_path / "l.png")
    assert out.stat().st_size > 1000


def test_missing_log_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no training log"):
        read_log(tmp_path)
