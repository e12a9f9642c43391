import json

import pytest

from agent.eval import summarise
from agent.report import load_results, markdown_table


def _episode(success: bool, seed: int) -> dict:
    return {"task": "reach", "seed": seed, "success": success, "steps": 5, "final_distance": 0.04 if success else 0.2,
            "initial_distance": 0.3, "plan_time_s": 0.5, "video": None}


def test_markdown_table_rows_per_task_and_agent(tmp_path):
    eps = [_episode(i < 3, i) for i in range(4)]
    run = {"agent": "learned+cem", "tasks": {"FrankaReach-v0": {"episodes": eps, "summary": summarise(eps)}}}
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text(json.dumps(run))
    table = markdown_table([load_results(tmp_path / "a"), {**run, "agent": "random"}])
    lines = table.splitlines()
    assert len(lines) == 4
    assert "| FrankaReach-v0 | learned+cem | 3/4 (75%) |" in lines[2]
    assert lines[3].startswith("| FrankaReach-v0 | random |")


def test_missing_results_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no evaluation results"):
        load_results(tmp_path)
