"""benchmarks/pick_place_trace.py: each traced pick-and-place episode lands in the right failure class."""
import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "pick_place_trace.py"
_spec = importlib.util.spec_from_file_location("pick_place_trace", _PATH)
trace_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(trace_tool)


def _step(subgoal, held, height, error):
    return {"subgoal": subgoal, "held": held, "height": height, "error": error, "closure": 0.5 if held else 0.0}


@pytest.mark.parametrize("steps,success,expected", [
    ([_step("grasp", False, 0.0, 0.2)] * 3, True, "success"),
    ([_step("grasp", False, 0.0, 0.2)] * 3, False, "never held"),
    ([_step("lift", True, 0.1, 0.2), _step("placed", True, 0.1, 0.01)], False, "held at the end"),
    # let go at 10 cm, 9 cm short of the target, while the final image was followed
    ([_step("carry", True, 0.1, 0.15), _step("placed", True, 0.1, 0.09), _step("placed", False, 0.0, 0.1)], False,
     "released off target"),
    # lost while carrying, never near the target
    ([_step("carry", True, 0.1, 0.15), _step("carry", False, 0.0, 0.14), _step("placed", False, 0.0, 0.14)], False,
     "dropped"),
])
def test_classify(steps, success, expected):
    result = trace_tool.classify(steps, success, "placed")
    assert result["class"] == expected
    if expected == "released off target":
        assert result["step"] == 2 and result["height"] == 0.1 and result["error"] == 0.1
