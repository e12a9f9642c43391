"""python3 -m training.export_encoder: a saved world model's encoder as a vjepa-posttrain encoder_checkpoint."""

import pytest
import torch

from agent.factory import resolve_model_path
from training.export_encoder import export_encoder, main
from training.posttrain import load_encoder_weights
from world_model.checkpoint import load_world_model


def test_export_encoder_writes_a_checkpoint_posttrain_loads(tmp_path):
    path = export_encoder("sim_reach", tmp_path / "enc" / "encoder.pt")
    source = load_world_model(resolve_model_path("sim_reach"))
    target = load_world_model(resolve_model_path("sim_reach"))
    for p in target.encoder.parameters():
        torch.nn.init.zeros_(p)
    load_encoder_weights(target, str(path))
    for a, b in zip(source.encoder.state_dict().values(), target.encoder.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(SystemExit, match="error: .*nosuch"):
        main(["nosuch", str(tmp_path / "x.pt")])
    with pytest.raises(SystemExit, match="usage"):
        main(["sim_reach"])
