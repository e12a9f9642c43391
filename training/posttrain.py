"""AC predictor post-training on a frozen encoder (V-JEPA 2-AC): teacher forcing L1 + rollout L1.

Latents are ``layer_norm(encoder(frame))`` (no affine). The frozen encoder runs once per frame up front
(its outputs are cached in memory), so each training step only runs the predictor.
Loss = L1(predict(z_0..T-2) vs z_1..T-1) + L1(rollout of ``rollout_steps`` from z_0 vs z_rollout_steps),
predictions layer-normed before the loss and before being fed back; ground-truth states condition every step.
Resumes from ``<out_dir>/last.pt`` after a kill with identical state.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from training.dataset import load_episodes
from training.schedule import warmup_constant_decay
from training.state import load_training_state, save_training_state


@dataclass(frozen=True)
class PosttrainConfig:
    data_dir: str = "data/reach"
    out_dir: str = "runs/posttrain"
    model: str = "sim_tiny"  # world_model.model.WORLD_MODEL_CONFIGS name
    encoder_checkpoint: str | None = None  # pretrain output (`<dir>/encoder.pt`); None = random frozen encoder
    frames_per_clip: int = 4
    rollout_steps: int = 2
    batch_size: int = 32
    steps: int = 3000
    lr: float = 4.25e-4
    weight_decay: float = 0.04
    warmup: int = 150
    decay: int = 600
    ckpt_every: int = 250
    seed: int = 0
    threads: int = 2
    save_name: str = "model"
    stop_after: int | None = None  # end this run (checkpointed) at this step, e.g. to train in time slices


def build_model(cfg: PosttrainConfig):
    from world_model.model import build_world_model

    torch.manual_seed(cfg.seed)
    model = build_world_model(cfg.model)
    if cfg.encoder_checkpoint:
        enc = torch.load(cfg.encoder_checkpoint, map_location="cpu", weights_only=True)
        model.encoder.load_state_dict(enc["target_encoder"] if "target_encoder" in enc else enc)
    model.encoder.requires_grad_(False).eval()
    return model


@torch.no_grad()
def encode_dataset(model, episodes, batch: int = 256) -> list[torch.Tensor]:
    """Per episode latents (T, N, D) from the frozen encoder (layer-normed)."""
    out = []
    for ep in tqdm(episodes, desc="encode frames", leave=False):
        out.append(torch.cat([model.encode(ep.frames[i:i + batch]) for i in range(0, len(ep.frames), batch)]))
    return out


def sample_batch(latents, episodes, cfg: PosttrainConfig, gen: torch.Generator):
    """Random clips: z (B, T, N, D), actions (B, T-1, 7), states (B, T, 7)."""
    T = cfg.frames_per_clip
    lengths = torch.tensor([z.shape[0] for z in latents])
    ep_idx = torch.randint(len(latents), (cfg.batch_size,), generator=gen)
    zs, acts, sts = [], [], []
    for e in ep_idx.tolist():
        start = int(torch.randint(int(lengths[e]) - T + 1, (1,), generator=gen))
        zs.append(latents[e][start:start + T])
        acts.append(torch.from_numpy(episodes[e].actions[start:start + T - 1]))
        sts.append(torch.from_numpy(episodes[e].states[start:start + T]))
    return torch.stack(zs), torch.stack(acts), torch.stack(sts)


def ac_losses(model, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor, rollout_steps: int):
    """Teacher-forcing and rollout L1 losses. z (B, T, N, D) layer-normed targets."""
    tf_pred = model.predict(z[:, :-1], actions, states[:, :-1])  # (B, T-1, N, D) frames 1..T-1
    tf_loss = (tf_pred - z[:, 1:]).abs().mean()
    ctx = z[:, :1]
    for k in range(rollout_steps):
        pred = model.predict(ctx, actions[:, :k + 1], states[:, :k + 1])[:, -1:]  # frame k+1
        ctx = torch.cat([z[:, :1], *([ctx[:, 1:]] if k else []), pred], dim=1)
    roll_loss = (ctx[:, -1] - z[:, rollout_steps]).abs().mean()
    return tf_loss, roll_loss


def posttrain(cfg: PosttrainConfig) -> Path:
    """Train the predictor; returns the path base of the saved world model (``<out_dir>/<save_name>``), or the
    checkpoint path ``<out_dir>/last.pt`` when the run ended early at ``cfg.stop_after``."""
    from world_model.checkpoint import save_world_model

    if cfg.frames_per_clip < cfg.rollout_steps + 1:
        raise ValueError("frames_per_clip must be > rollout_steps")
    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=1))
    episodes, bad = load_episodes(cfg.data_dir)
    model = build_model(cfg)
    t0 = time.perf_counter()
    latents = encode_dataset(model, episodes)
    encode_s = time.perf_counter() - t0
    params = [p for p in model.predictor.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: warmup_constant_decay(s, cfg.steps, cfg.warmup, cfg.decay))
    gen = torch.Generator().manual_seed(cfg.seed)
    step = 0
    state = load_training_state(out / "last.pt")
    if state is not None:
        model.predictor.load_state_dict(state["predictor"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        step = state["step"]
    model.predictor.train()
    log = (out / "log.jsonl").open("a")
    bar = tqdm(total=cfg.steps, initial=step, desc="posttrain")
    while step < cfg.steps:
        z, actions, states = sample_batch(latents, episodes, cfg, gen)
        tf_loss, roll_loss = ac_losses(model, z, actions, states, cfg.rollout_steps)
        loss = tf_loss + roll_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        step += 1
        bar.update(1)
        bar.set_postfix(tf=f"{tf_loss.item():.4f}", roll=f"{roll_loss.item():.4f}")
        log.write(json.dumps({"step": step, "loss": loss.item(), "teacher_forcing": tf_loss.item(),
                              "rollout": roll_loss.item(), "lr": sched.get_last_lr()[0]}) + "\n")
        stopping = cfg.stop_after is not None and cfg.stop_after <= step < cfg.steps
        if step % cfg.ckpt_every == 0 or step == cfg.steps or stopping:
            log.flush()
            save_training_state(out / "last.pt", {
                "predictor": model.predictor.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "generator": gen.get_state(), "step": step})
        if stopping:
            bar.close()
            log.close()
            return out / "last.pt"
    bar.close()
    log.close()
    model.eval()
    meta = {"trained_by": "training.posttrain", "config": asdict(cfg), "episodes": len(episodes),
            "corrupt_skipped": len(bad), "encode_seconds": round(encode_s, 1)}
    return save_world_model(model, out / cfg.save_name, metadata=meta)
