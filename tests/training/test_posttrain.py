"""AC post-training losses (loss decrease and resume are in test_training.py)."""

import torch

import training.posttrain as pt
from training.posttrain import PosttrainConfig


def _cfg(data, out, **kw):
    base = dict(data_dir=str(data), out_dir=str(out), batch_size=8, steps=8, warmup=2, decay=2, ckpt_every=4,
                frames_per_clip=3, threads=1, lr=1e-3)
    return PosttrainConfig(**{**base, **kw})




def test_rollout_loss_uses_fed_back_prediction(tiny_dataset):
    cfg = _cfg(tiny_dataset, "/tmp/unused")
    model = pt.build_model(cfg)
    z = torch.randn(2, 3, model.tokens_per_frame, model.latent_dim)
    z = torch.nn.functional.layer_norm(z, z.shape[-1:])
    tf, roll = pt.ac_losses(model, z, torch.zeros(2, 2, 7), torch.zeros(2, 3, 7), rollout_steps=2)
    assert tf.item() > 0 and roll.item() > 0 and not torch.isclose(tf, roll)
