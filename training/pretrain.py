"""V-JEPA encoder pretraining on sim videos: multi-block masking, mask predictor, L1 to an EMA target.

For each clip (B, T, H, W, 3) -> normalised video (B, 3, T, S, S):
targets = layer_norm(target_encoder(video))[target ids]; predictions = predictor(encoder(video, context ids)).
Loss = mean L1 over the mask configurations (8 x 0.15 and 2 x 0.7 blocks); the target encoder is an EMA of the
context encoder. Resumes from ``<out_dir>/last.pt`` (refused when the config differs in a field outside
``PRETRAIN_MAY_CHANGE``); writes ``<out_dir>/config.json`` once the data is loaded and ``<out_dir>/encoder.pt``
({"encoder", "target_encoder", "config"}) for post-training.
Runs unchanged under ``torchrun`` (``training.distributed``): DDP around the context encoder + mask predictor, the
EMA target updated identically on every rank, the global batch of ``batch_size`` clips split over the processes
and ``accum_steps`` micro-batches (the masks of a step are shared by its whole global batch), rank 0 logs and
checkpoints.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from training.dataset import ClipDataset, load_episodes
from training.precision import autocast, check_precision, with_precision
from training.masks import DEFAULT_MASKS, context_target_ids, sample_block_mask
from training.schedule import restore_loop_state, training_loop_state
from training.checks import build_named, check_float, check_int, check_schedule, check_str
from training.distributed import (SHARED_FILES_HINT, DistContext, barrier, check_device_name, check_same_on_all_ranks,
                                  distributed_context, env_world_size, global_mean, is_main_process,
                                  micro_batch_size, quiet_unless_main, rank_micro_batches, sync_unless, wrap_ddp)
from training.run_lock import exclusive_out_dir
from training.completion import record_complete, run_is_complete
from training.state import LogWriter, record_run_config, resume_state, save_torch_atomic, save_training_state

# Config fields that may differ when a run resumes from its last.pt (they do not change the trained weights up to
# the checkpoint): train longer/shorter (`steps`, the LR schedule is recomputed for the new total), checkpoint
# cadence, thread count, where the run directory now lives, the device and the gradient accumulation (the global
# batch and its clips stay the same). The number of processes is no config field: a checkpoint holds the global
# state, so a run may resume on another number of processes or machines.
PRETRAIN_MAY_CHANGE = ("steps", "ckpt_every", "threads", "out_dir", "device", "accum_steps", "precision")


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
    device: str = "auto"  # auto (CUDA when present, else CPU) | cpu | cuda | cuda:N (one process only)
    precision: str = "auto"  # auto (bf16 autocast only where bf16 is fast: see training.precision) | fp32 | bf16
    accum_steps: int = 1  # micro-batches per step and process: batch_size / (processes * accum_steps) clips each

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for name in ("data_dir", "out_dir", "encoder", "predictor"):
            check_str(owner, name, getattr(self, name))
        for name, minimum in (("image_size", 8), ("frames_per_clip", 2), ("batch_size", 1), ("steps", 1),
                              ("ckpt_every", 1), ("threads", 1), ("seed", 0), ("accum_steps", 1)):
            check_int(owner, name, getattr(self, name), minimum)
        micro_batch_size(owner, self.batch_size, 1, self.accum_steps)
        check_device_name(owner, self.device)
        check_precision(owner, self.precision)
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


Masks = list[tuple[torch.Tensor, torch.Tensor]]


def sample_masks(grid: tuple[int, int, int], gen: torch.Generator) -> Masks:
    """(context ids, target ids) per mask configuration of DEFAULT_MASKS, for one step: shared by every clip of
    the global batch (drawn from the shared generator, so identical on every rank and micro-batch)."""
    return [context_target_ids(sample_block_mask(grid, mcfg, gen)) for mcfg in DEFAULT_MASKS]


@torch.no_grad()
def target_features(target_encoder: nn.Module, video: torch.Tensor) -> torch.Tensor:
    """Layer-normed tokens (B, N, D) of the EMA target encoder (no gradient)."""
    h = target_encoder(video)
    return F.layer_norm(h, (h.shape[-1],))


class JepaLoss(nn.Module):
    """Mean over the mask configurations of the L1 between predicted and target tokens: the trained context
    encoder + mask predictor as one module (what DDP wraps; the EMA target encoder stays outside)."""

    def __init__(self, encoder: nn.Module, predictor: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.predictor = predictor

    def forward(self, video: torch.Tensor, h: torch.Tensor, masks: Masks) -> torch.Tensor:
        grid = self.encoder.grid(video.shape)
        B = video.shape[0]
        losses = []
        for k, (ctx_ids, tgt_ids) in enumerate(masks):
            ctx_ids, tgt_ids = ctx_ids.expand(B, -1), tgt_ids.expand(B, -1)
            z = self.encoder(video, masks=ctx_ids)  # (B, Nc, D)
            pred = self.predictor(z, ctx_ids, tgt_ids, grid, mask_index=k)  # (B, Nt, D)
            target = torch.gather(h, 1, tgt_ids[..., None].expand(-1, -1, h.shape[-1]))
            losses.append((pred.float() - target.float()).abs().mean())  # fp32 L1, also under bf16 autocast
        return torch.stack(losses).mean()


def train_step(loss_fn: nn.Module, target: nn.Module, micro_batches: list[list[int]], data: ClipDataset,
               masks: Masks, cfg: "PretrainConfig", ctx: DistContext) -> torch.Tensor:
    """Forward + backward of this rank's micro-batches (gradients summed, DDP-averaged over ranks on the last);
    returns this rank's mean loss (a 0-d tensor)."""
    masks = [(c.to(ctx.device), t.to(ctx.device)) for c, t in masks]
    total = torch.zeros((), device=ctx.device)
    for i, part in enumerate(micro_batches):
        frames = torch.stack([data[j]["frames"] for j in part])  # (b, T, H, W, 3)
        video = to_video(frames, cfg.image_size).to(ctx.device)
        with sync_unless(loss_fn, skip=i < len(micro_batches) - 1):
            with autocast(ctx.bf16, ctx.device):
                loss = loss_fn(video, target_features(target, video), masks)
            (loss / len(micro_batches)).backward()
        total += loss.detach()
    return total / len(micro_batches)


@torch.no_grad()
def ema_update(target: nn.Module, encoder: nn.Module, momentum: float) -> None:
    """target <- momentum * target + (1 - momentum) * encoder (the same on every rank: DDP keeps the encoders
    equal)."""
    for pt, pe in zip(target.parameters(), encoder.parameters()):
        pt.mul_(momentum).add_(pe.detach(), alpha=1 - momentum)


def pretrain(cfg: PretrainConfig) -> Path:
    """Train (or resume) the encoder; returns the path of ``<out_dir>/encoder.pt``. Under torchrun every process
    calls this; rank 0 writes the files."""
    torch.set_num_threads(cfg.threads)
    # before joining the process group: every rank refuses an uneven split alike, none waits for the others
    micro_batch_size("PretrainConfig", cfg.batch_size, env_world_size(), cfg.accum_steps)
    with exclusive_out_dir(cfg.out_dir, "vjepa-pretrain", enabled=is_main_process()), \
            distributed_context(cfg.device) as ctx:
        return _pretrain(cfg, ctx)


def _checkpoint(cfg: PretrainConfig, ctx: DistContext, encoder, target, predictor, opt, sched,
                gen: torch.Generator, step: int) -> None:
    """Rank 0 writes ``last.pt`` atomically (the global state: any number of processes can resume it); the
    other ranks wait."""
    if ctx.is_main:
        save_training_state(Path(cfg.out_dir) / "last.pt", {
            "kind": "pretrain", "config": asdict(cfg),
            "encoder": encoder.state_dict(), "target_encoder": target.state_dict(),
            "predictor": predictor.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "generator": gen.get_state(), "step": step,
            "world_size": ctx.world_size})
    barrier(ctx)


def _pretrain(cfg: PretrainConfig, ctx: DistContext) -> Path:
    from world_model.encoder import build_encoder
    from world_model.mask_predictor import build_mask_predictor

    ctx = with_precision(ctx, cfg.precision)
    out = Path(cfg.out_dir)
    state = resume_state(out, "pretrain", asdict(cfg), PRETRAIN_MAY_CHANGE, cfg.steps,
                         defaults=asdict(PretrainConfig()))
    check_same_on_all_ranks(ctx, "the checkpoint step to resume from (-1: none)",
                            -1 if state is None else int(state["step"]), SHARED_FILES_HINT)
    if run_is_complete(ctx, out, asdict(cfg), state, cfg.steps, "pretraining"):
        return out / "encoder.pt"
    torch.manual_seed(cfg.seed)
    with quiet_unless_main(ctx):
        episodes, _ = load_episodes(cfg.data_dir)
    check_same_on_all_ranks(ctx, "the number of training episodes", len(episodes), SHARED_FILES_HINT)
    data = ClipDataset(episodes, cfg.frames_per_clip)
    encoder = build_named("PretrainConfig", "encoder", build_encoder, cfg.encoder)
    predictor = build_named("PretrainConfig", "predictor", build_mask_predictor, cfg.predictor)
    target = copy.deepcopy(encoder).requires_grad_(False)
    for module in (encoder, predictor, target):  # initialised on the CPU: the same weights on any device
        module.to(ctx.device)
    params = list(encoder.parameters()) + list(predictor.parameters())
    opt, sched, gen = training_loop_state(params, cfg)
    if ctx.is_main:
        record_run_config(out, asdict(cfg))
    step = 0
    if state is not None:
        encoder.load_state_dict(state["encoder"])
        target.load_state_dict(state["target_encoder"])
        predictor.load_state_dict(state["predictor"])
        step = restore_loop_state(state, opt, sched, gen)
    loss_fn = wrap_ddp(JepaLoss(encoder, predictor), ctx)  # after loading: DDP broadcasts rank 0's weights
    grid = encoder.grid((1, 3, cfg.frames_per_clip, cfg.image_size, cfg.image_size))
    log = LogWriter(out / "log.jsonl") if ctx.is_main else None
    bar = tqdm(total=cfg.steps, initial=step, desc="pretrain", disable=not ctx.is_main)
    try:
        while step < cfg.steps:
            idx = torch.randint(len(data), (cfg.batch_size,), generator=gen).tolist()
            masks = sample_masks(grid, gen)
            opt.zero_grad(set_to_none=True)
            loss = train_step(loss_fn, target, rank_micro_batches(idx, ctx, cfg.accum_steps), data, masks, cfg, ctx)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            ema_update(target, encoder, cfg.ema)
            step += 1
            loss = global_mean(loss, ctx).item()
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4f}")
            if log is not None:
                log.write({"step": step, "loss": loss, "lr": sched.get_last_lr()[0]})
            if step % cfg.ckpt_every == 0 or step == cfg.steps:
                if log is not None:
                    log.flush()
                _checkpoint(cfg, ctx, encoder, target, predictor, opt, sched, gen, step)
    finally:
        bar.close()
        if log is not None:
            log.close()
    path = out / "encoder.pt"
    if ctx.is_main:
        save_torch_atomic(path, {"encoder": encoder.state_dict(), "target_encoder": target.state_dict(),
                                 "config": cfg.encoder})
        record_complete(out, asdict(cfg), [path])
    barrier(ctx)
    return path

