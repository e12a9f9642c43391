import json

import pytest

from agent.eval import summarise
from agent.report import load_results, main, markdown_table, variant_table


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


def test_a_file_that_is_not_results_is_named_in_one_line(tmp_path, capsys):
    log = tmp_path / "run.log"
    log.write_text("\rlearned+cem:  10%|#  | 5/50\n")  # what `agent.report outputs/*` also picks up
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"step": 3}))
    with pytest.raises(ValueError, match="run.log is not a vjepa-eval results file"):
        load_results(log)
    with pytest.raises(ValueError, match="other.json is not a vjepa-eval results file"):
        load_results(other)
    with pytest.raises(SystemExit, match="agent.report: .*run.log is not a vjepa-eval results file"):
        main([str(log)])


def _variant_run(label: str, identity: dict | None, variants: dict[str, int]) -> dict:
    """A results dict holding FrankaReach-v0 episodes of ``variants`` (name -> successes of 4)."""
    tasks = {}
    for variant, wins in variants.items():
        eps = [_episode(i < wins, i) for i in range(4)]
        key = "FrankaReach-v0" if variant == "nominal" else f"FrankaReach-v0@{variant}"
        tasks[key] = {"task": "FrankaReach-v0", "variant": variant, "episodes": eps, "summary": summarise(eps)}
    run = {"agent": label, "tasks": tasks}
    return run if identity is None else {**run, "run": identity}


def test_variant_table_merges_runs_of_one_agent_only():
    same = {"label": "learned+cem", "model": "a"}
    nominal = _variant_run("learned+cem", same, {"nominal": 4})
    robust = _variant_run("learned+cem", dict(same), {"lighting": 1})
    other_model = _variant_run("learned+cem", {"label": "learned+cem", "model": "b"}, {"lighting": 2})
    rows = variant_table([nominal, robust, other_model]).splitlines()
    assert rows[0] == "| task | agent | nominal | lighting |"
    assert len(rows) == 4  # header, rule, the merged agent a, agent b
    assert rows[2].startswith("| FrankaReach-v0 | learned+cem | 100% (51-100) n=4 | 25% (5-70) n=4 |")
    assert rows[3].startswith("| FrankaReach-v0 | learned+cem | - | 50% (15-85) n=4 |")
    # runs stored before identities existed are never merged
    legacy = [_variant_run("x", None, {"nominal": 4}), _variant_run("x", None, {"lighting": 1})]
    assert len(variant_table(legacy).splitlines()) == 4
