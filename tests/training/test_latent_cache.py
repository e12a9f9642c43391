"""training.latent_cache: keys, read-back, damaged files, and a resumed posttrain run that reads its latents back
and ends with the same weights as an uninterrupted run without a cache."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from training.latent_cache import LatentCache, encoding_key, frames_key
from training.posttrain import PosttrainConfig, build_model, encode_dataset, posttrain
from training.dataset import load_episodes

from tests.training.test_hardening import post_cfg, write_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("cache_data"))


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(PosttrainConfig(seed=3)).eval()


def test_frames_key_follows_content_shape_and_dtype():
    a = np.random.default_rng(0).integers(0, 255, (3, 8, 8, 3), dtype=np.uint8)
    assert frames_key(a) == frames_key(a.copy())
    b = a.copy()
    b[2, 7, 7, 2] ^= 1
    assert frames_key(b) != frames_key(a)
    assert frames_key(a.reshape(3, 8, 24)) != frames_key(a)  # same bytes, other shape
    assert frames_key(a.astype(np.int16)) != frames_key(a.astype(np.uint16))


def test_encoding_key_follows_the_encoder_weights_and_image_size(model):
    same = build_model(PosttrainConfig(seed=3))
    assert encoding_key(same) == encoding_key(model)
    other = build_model(PosttrainConfig(seed=4))
    assert encoding_key(other) != encoding_key(model)
    resized = build_model(PosttrainConfig(seed=3))
    resized.image_size = model.image_size * 2
    assert encoding_key(resized) != encoding_key(model)


def test_encode_dataset_reads_back_what_it_stored(data, model, tmp_path):
    episodes, _ = load_episodes(data)
    plain = encode_dataset(model, episodes, show=False)
    first = LatentCache(tmp_path / "cache", model)
    stored = encode_dataset(model, episodes, show=False, cache=first)
    assert (first.hits, first.misses) == (0, len(episodes))
    second = LatentCache(tmp_path / "cache", model)
    read = encode_dataset(model, episodes, show=False, cache=second)
    assert (second.hits, second.misses) == (len(episodes), 0)
    for a, b, c in zip(plain, stored, read):
        assert torch.equal(a, b) and torch.equal(a, c)


def test_a_read_only_cache_writes_nothing(data, model, tmp_path):
    episodes, _ = load_episodes(data)
    cache = LatentCache(tmp_path / "cache", model, writable=False)
    encode_dataset(model, episodes, show=False, cache=cache)
    assert cache.misses == len(episodes) and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("damage", ["truncated", "wrong_shape"])
def test_a_damaged_cache_file_is_encoded_again(data, model, tmp_path, caplog, damage):
    episodes, _ = load_episodes(data)
    cache = LatentCache(tmp_path / "cache", model)
    plain = encode_dataset(model, episodes, show=False, cache=cache)
    path = cache.path(episodes[1].frames)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    else:
        torch.save(torch.zeros(2, 3), path)
    again = LatentCache(tmp_path / "cache", model)
    with caplog.at_level(logging.WARNING, logger="training.latent_cache"):
        read = encode_dataset(model, episodes, show=False, cache=again)
    assert (again.hits, again.misses) == (len(episodes) - 1, 1)
    assert str(path) in caplog.text
    assert all(torch.equal(a, b) for a, b in zip(plain, read))
    assert torch.equal(torch.load(path, weights_only=True), plain[1])  # rewritten


def test_resumed_posttrain_reads_its_latents_back_and_matches_an_uninterrupted_run(data, tmp_path, capsys):
    whole = post_cfg(data, tmp_path / "whole", steps=4)
    posttrain(whole)
    cache = str(tmp_path / "latents")
    posttrain(post_cfg(data, tmp_path / "split", steps=4, stop_after=2, latent_cache=cache))
    assert "0 episodes read, 3 encoded" in capsys.readouterr().out
    posttrain(post_cfg(data, tmp_path / "split", steps=4, latent_cache=cache))
    assert "3 episodes read, 0 encoded" in capsys.readouterr().out
    a = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)["predictor"]
    b = torch.load(tmp_path / "split" / "last.pt", weights_only=True)["predictor"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_latent_cache_may_be_switched_on_when_resuming(data, tmp_path, capsys):
    posttrain(post_cfg(data, tmp_path / "run", steps=4, stop_after=2))
    posttrain(post_cfg(data, tmp_path / "run", steps=4, latent_cache=str(tmp_path / "latents")))
    assert "0 episodes read, 3 encoded" in capsys.readouterr().out
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=True)["step"] == 4
