"""vjepa-collect gripper_flip_prob: full open/close commands in noisy-expert episodes, and nothing changed when 0."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from training.collect import CollectConfig, collect
from training.dataset import load_episodes


def _cfg(out: Path, **kw) -> CollectConfig:
    return CollectConfig(**{"task": "FrankaGrasp-v0", "out_dir": str(out), "episodes": 2, "steps": 6,
                            "image_size": 64, "seed": 5, "expert_fraction": 1.0, **kw})


def _actions(cfg: CollectConfig) -> list[np.ndarray]:
    episodes, _ = load_episodes(collect(cfg))
    return [ep.actions for ep in episodes]


def test_every_step_flipped_gives_full_gripper_commands(tmp_path):
    for actions in _actions(_cfg(tmp_path / "flip", gripper_flip_prob=1.0)):
        assert set(np.unique(actions[:, 6]).tolist()) <= {-1.0, 1.0}
        assert (actions[:, 6] == 1.0).any()


def test_no_flips_leaves_the_episodes_of_the_default_config(tmp_path):
    base = _cfg(tmp_path / "base")
    off = replace(base, out_dir=str(tmp_path / "off"), gripper_flip_prob=0.0)
    for a, b in zip(_actions(base), _actions(off)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_bad_flip_probability_is_refused(tmp_path, value):
    with pytest.raises(ValueError, match="gripper_flip_prob"):
        _cfg(tmp_path, gripper_flip_prob=value)

