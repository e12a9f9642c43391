import pytest

from training.collect import CollectConfig, collect


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """6 short FrankaReach episodes at 64 px (a few seconds to collect)."""
    out = tmp_path_factory.mktemp("reach_data")
    collect(CollectConfig(out_dir=str(out), episodes=6, steps=6, image_size=64, seed=3))
    return out
