"""V-JEPA encoder pretraining on sim videos: multi-block masking, mask predictor, L1 to an EMA target.

For each clip (B, T, H, W, 3) -> normalised video (B, 3, T, S, S):
targets = layer_norm(target_encoder(video))[target ids]; predictions = predictor(encoder(video, context ids)).
Loss = mean L1 over the mask configurations (8 x 0.15 and 2 x 0.7 blocks); the target encoder is an EMA of the
context encoder. Resumes from ``<out_dir>/last.pt`` (refused when the config differs in a field outside
``PRETRAIN_MAY_CHANGE``); writes ``<out_dir>/config.json`` once the data is loaded and ``<out_dir>/encoder.pt``
({"encoder", "target_encoder", "config"}) for post-training.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from training.dataset import ClipDataset, load_episodes
from training.masks import DEFAULT_MASKS, context_target_ids, sample_block_mask
from training.schedule import warmup_constant_decay
from training.checks import build_named, check_float, check_int, check_schedule, check_str
from training.state import (LogWriter, record_run_config, resume_state, save_torch_atomic, save_training_state,
                            set_rng_state)

# Config fields that may differ when a run resumes from its last.pt (they do not change the trained weights up to
# the checkpoint): train longer/shorter (`steps`, the LR schedule is recomputed for the new total), checkpoint
# cadence, thread count, and where the run directory now lives.
PRETRAIN_MAY_CHANGE = ("steps", "ckpt_every", "threads", "out_dir")


@dataclass(frozen=True)
class PretrainConfig:
    data_dir: str = "data/reach"
    out_dir: str = "runs/pretrain"
    encoder: str = "vit_sim"
    predictor: str = "mask_sim"
    image_size: int = 64
    frames_per_clip: int = 4
    batch_size: int = 32
    steps: int = 1500
    lr: float = 5e-4
    weight_decay: float = 0.04
    ema: float = 0.996
    warmup: int = 100
    decay: int = 300
    ckpt_every: int = 250
    seed: int = 0
    threads: int = 2

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for name in ("data_dir", "out_dir", "encoder", "predictor"):
            check_str(owner, name, getattr(self, name))
        for name, minimum in (("image_size", 8), ("frames_per_clip", 2), ("batch_size", 1), ("steps", 1),
                              ("ckpt_every", 1), ("threads", 1), ("seed", 0)):
            check_int(owner, name, getattr(self, name), minimum)
        check_float(owner, "lr", self.lr, low=0.0, low_open=True)
        check_float(owner, "weight_decay", self.weight_decay, low=0.0)
        check_float(owner, "ema", self.ema, low=0.0, high=1.0, high_open=True)
        check_schedule(owner, self.steps, self.warmup, self.decay)


def to_video(frames: torch.Tensor, image_size: int) -> torch.Tensor:
    """uint8 (B, T, H, W, 3) -> float (B, 3, T, S, S), ImageNet-normalised."""
    from world_model.model import IMAGENET_MEAN, IMAGENET_STD

    x = frames.permute(0, 4, 1, 2, 3).float().div(255.0)  # (B, 3, T, H, W)
    if x.shape[-1] != image_size:
        B, C, T = x.shape[:3]
        x = F.interpolate(x.transpose(1, 2).flatten(0, 1), size=(image_size, image_size), mode="bilinear",
                          antialias=True).unflatten(0, (B, T)).transpose(1, 2)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1, 1)
    return (x - mean) / std


def jepa_loss(encoder, target_encoder, predictor, video: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    grid = encoder.grid(video.shape)
    with torch.no_grad():
        h = target_encoder(video)
        h = F.layer_norm(h, (h.shape[-1],))  # (B, N, D)
    losses = []
    B = video.shape[0]
    for k, mcfg in enumerate(DEFAULT_MASKS):
        ctx_ids, tgt_ids = context_target_ids(sample_block_mask(grid, mcfg, gen))
        ctx_ids, tgt_ids = ctx_ids.expand(B, -1), tgt_ids.expand(B, -1)
        z = encoder(video, masks=ctx_ids)  # (B, Nc, D)
        pred = predictor(z, ctx_ids, tgt_ids, grid, mask_index=k)  # (B, Nt, D)
        target = torch.gather(h, 1, tgt_ids[..., None].expand(-1, -1, h.shape[-1]))
        losses.append((pred - target).abs().mean())
    return torch.stack(losses).mean()


def pretrain(cfg: PretrainConfig) -> Path:
    """Train (or resume) the encoder; returns the path of ``<out_dir>/encoder.pt``."""
    from world_model.encoder import build_encoder
    from world_model.mask_predictor import build_mask_predictor

    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    state = resume_state(out, "pretrain", asdict(cfg), PRETRAIN_MAY_CHANGE, cfg.steps, defaults=asdict(PretrainConfig()))
    torch.manual_seed(cfg.seed)
    episodes, _ = load_episodes(cfg.data_dir)
    data = ClipDataset(episodes, cfg.frames_per_clip)
    encoder = build_named("PretrainConfig", "encoder", build_encoder, cfg.encoder)
    predictor = build_named("PretrainConfig", "predictor", build_mask_predictor, cfg.predictor)
    target = copy.deepcopy(encoder).requires_grad_(False)
    params = list(encoder.parameters()) + list(predictor.parameters())
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_constant_decay(s, cfg.steps, cfg.warmup, cfg.decay))
    gen = torch.Generator().manual_seed(cfg.seed)
    record_run_config(out, asdict(cfg))
    step = 0
    if state is not None:
        encoder.load_state_dict(state["encoder"])
        target.load_state_dict(state["target_encoder"])
        predictor.load_state_dict(state["predictor"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        set_rng_state(state["rng"])
        step = int(state["step"])
    log = LogWriter(out / "log.jsonl")
    bar = tqdm(total=cfg.steps, initial=step, desc="pretrain")
    while step < cfg.steps:
        idx = torch.randint(len(data), (cfg.batch_size,), generator=gen)
        frames = torch.stack([data[int(i)]["frames"] for i in idx])  # (B, T, H, W, 3)
        loss = jepa_loss(encoder, target, predictor, to_video(frames, cfg.image_size), gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        with torch.no_grad():
            for pt, pe in zip(target.parameters(), encoder.parameters()):
                pt.mul_(cfg.ema).add_(pe.detach(), alpha=1 - cfg.ema)
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.4f}")
        log.write({"step": step, "loss": loss.item(), "lr": sched.get_last_lr()[0]})
        if step % cfg.ckpt_every == 0 or step == cfg.steps:
            log.flush()
            save_training_state(out / "last.pt", {
                "kind": "pretrain", "config": asdict(cfg),
                "encoder": encoder.state_dict(), "target_encoder": target.state_dict(),
                "predictor": predictor.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "generator": gen.get_state(), "step": step})
    bar.close()
    log.close()
    return save_torch_atomic(out / "encoder.pt", {"encoder": encoder.state_dict(),
                                                  "target_encoder": target.state_dict(), "config": cfg.encoder})
