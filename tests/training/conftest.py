import pytest

import training.posttrain as pt
from training.collect import CollectConfig, collect
from training.posttrain import PosttrainConfig
from world_model.checkpoint import save_world_model


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """6 short FrankaReach episodes at 64 px (a few seconds to collect)."""
    out = tmp_path_factory.mktemp("reach_data")
    collect(CollectConfig(out_dir=str(out), episodes=6, steps=6, image_size=64, seed=3))
    return out


@pytest.fixture(scope="session")
def pairs(tmp_path_factory):
    """8 short randomised FrankaReach episodes at 64 px with their nominal twins (two in the nominal scene): the
    distillation data of tests/training/test_distill.py and test_completion.py."""
    out = tmp_path_factory.mktemp("pairs")
    return collect(CollectConfig(out_dir=str(out), episodes=8, steps=4, image_size=64, seed=6, randomize="all",
                                 randomize_fraction=0.75, nominal_frames=True))


@pytest.fixture(scope="session")
def source(tiny_dataset, tmp_path_factory):
    """An untrained sim_tiny world model saved as safetensors (a distillation's teacher and student init)."""
    model = pt.build_model(PosttrainConfig(data_dir=str(tiny_dataset), model="sim_tiny", seed=1))
    return save_world_model(model, tmp_path_factory.mktemp("wm") / "source", metadata={"camera": "front"})
