"""V-JEPA pretraining (masks, loss, resume) and LeRobot export (DROID reader: test_droid.py)."""

import json

import numpy as np
import pyarrow.parquet as pq
import torch

from training.lerobot_export import export_lerobot
from training.masks import DEFAULT_MASKS, BlockMaskConfig, context_target_ids, sample_block_mask
from training.pretrain import PretrainConfig, pretrain


def test_block_masks_cover_full_time_and_leave_context():
    g = torch.Generator().manual_seed(0)
    for cfg in DEFAULT_MASKS + (BlockMaskConfig(20, 0.9),):
        m = sample_block_mask((2, 4, 4), cfg, g)
        assert m.shape == (2, 4, 4) and torch.equal(m[0], m[1])
        ctx, tgt = context_target_ids(m)
        assert len(ctx) > 0 and len(tgt) > 0 and len(ctx) + len(tgt) == 32


def test_pretrain_runs_resumes_and_writes_encoder(tiny_dataset, tmp_path):
    cfg = PretrainConfig(data_dir=str(tiny_dataset), out_dir=str(tmp_path), batch_size=4, steps=6, warmup=1,
                         decay=1, ckpt_every=3, frames_per_clip=2, threads=1)
    path = pretrain(cfg)
    enc = torch.load(path, weights_only=True)
    assert "target_encoder" in enc and "encoder" in enc
    log = [json.loads(l) for l in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert len(log) == 6 and all(np.isfinite(r["loss"]) for r in log)
    # a finished run resumes to "nothing left to do" without retraining
    pretrain(cfg)
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == 6



def test_lerobot_export(tiny_dataset, tmp_path):
    out = export_lerobot(tiny_dataset, tmp_path / "lerobot")
    info = json.loads((out / "meta" / "info.json").read_text())
    table = pq.read_table(out / "data" / "chunk-000" / "file-000.parquet")
    assert info["total_episodes"] == 6 and table.num_rows == info["total_frames"] == 6 * 7
    assert len(list((out / "videos").rglob("*.mp4"))) == 6
