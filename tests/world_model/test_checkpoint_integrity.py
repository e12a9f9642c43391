"""Corrupt world-model files give clear errors at load time (reliability findings F26 and the probe rows
"json depth: 'four'" / "json missing predictor"), naming the file and the offending key or tensor."""

from __future__ import annotations

import json

import pytest
import torch

from world_model.checkpoint import CheckpointError, load_world_model, save_world_model
from world_model.model import build_world_model


@pytest.fixture()
def saved(tmp_path):
    torch.manual_seed(0)
    return save_world_model(build_world_model("sim_tiny"), tmp_path / "m")


def _rewrite_tensor(base, key: str, index: tuple[int, ...], value: float) -> None:
    from safetensors.torch import load_file, save_file

    path = str(base.with_suffix(".safetensors"))
    sd = load_file(path)
    sd[key][index] = value
    save_file(sd, path)


def _edit_config(base, edit) -> None:
    path = base.with_suffix(".json")
    header = json.loads(path.read_text())
    edit(header["config"])
    path.write_text(json.dumps(header))


@pytest.mark.parametrize("value, kind", [(float("nan"), r"1 NaN, 0 inf"), (float("inf"), r"0 NaN, 1 inf")])
def test_nonfinite_weight_is_rejected_at_load(saved, value, kind):
    _rewrite_tensor(saved, "predictor.predictor_blocks.2.attn.qkv.weight", (3, 5), value)
    with pytest.raises(CheckpointError, match=rf"m\.safetensors: non-finite .*1 tensor.*"
                                              rf"predictor\.predictor_blocks\.2\.attn\.qkv\.weight \({kind}\)"):
        load_world_model(saved)


def test_several_nonfinite_tensors_are_all_counted(saved):
    for key in ("encoder.norm.weight", "predictor.predictor_proj.bias"):
        _rewrite_tensor(saved, key, (0,), float("nan"))
    with pytest.raises(CheckpointError, match=r"in 2 tensor\(s\): encoder\.norm\.weight .*predictor_proj\.bias"):
        load_world_model(saved)


def test_json_depth_string_names_file_and_key(saved):
    _edit_config(saved, lambda c: c["encoder"].__setitem__("depth", "four"))
    with pytest.raises(CheckpointError, match=r"m\.json: config\.encoder\.depth must be int, got 'four' \(str\)"):
        load_world_model(saved)


def test_json_missing_predictor_names_file_and_key(saved):
    _edit_config(saved, lambda c: c.pop("predictor"))
    with pytest.raises(CheckpointError, match=r"m\.json: config is missing \['predictor'\]"):
        load_world_model(saved)


def test_json_wrong_types_elsewhere_are_named(saved):
    _edit_config(saved, lambda c: c["predictor"].__setitem__("num_heads", True))
    with pytest.raises(CheckpointError, match=r"config\.predictor\.num_heads must be int, got True"):
        load_world_model(saved)


def test_json_invalid_values_are_checkpoint_errors(saved):
    _edit_config(saved, lambda c: c["predictor"].__setitem__("num_heads", 5))  # does not divide dim
    with pytest.raises(CheckpointError, match=r"m\.json: invalid config .*num_heads 5"):
        load_world_model(saved)
