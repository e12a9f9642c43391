"""AC predictor post-training on a frozen encoder (V-JEPA 2-AC): teacher forcing L1 + rollout L1.

Latents are ``layer_norm(encoder(frame))`` (no affine). The frozen encoder runs once per frame up front
(its outputs are cached in memory), so each training step only runs the predictor.
Loss = L1(predict(z_0..T-2) vs z_1..T-1) + L1(rollout of ``rollout_steps`` from z_0 vs z_rollout_steps),
predictions layer-normed before the loss and before being fed back; ground-truth states condition every step.
Resumes from ``<out_dir>/last.pt`` after a kill with identical state; resuming under a config that differs in
a field outside ``POSTTRAIN_MAY_CHANGE`` (or with a changed encoder checkpoint file) is refused.
``<out_dir>/config.json`` is written only after the config is checked and the data and encoder are loaded.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from training.lerobot import DATA_FORMATS, load_training_episodes
from training.schedule import warmup_constant_decay
from training.checks import build_named, check_file_name, check_float, check_int, check_schedule, check_str, inside
from training.state import (LogWriter, TrainingStateError, file_sha256, record_run_config, resume_state,
                            save_training_state, set_rng_state)

# Config fields that may differ when a run resumes from its last.pt (they do not change the weights trained up to
# the checkpoint): train longer/shorter (`steps`, the LR schedule is recomputed for the new total), `stop_after`,
# checkpoint cadence, thread count, the output file name and where the run directory now lives.
POSTTRAIN_MAY_CHANGE = ("steps", "stop_after", "ckpt_every", "threads", "out_dir", "save_name")


@dataclass(frozen=True)
class PosttrainConfig:
    data_dir: str = "data/reach"
    data_format: str = "npz"  # "npz": training.dataset episodes; "lerobot": a LeRobot v3 dataset (training.lerobot)
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

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for name in ("data_dir", "out_dir", "model"):
            check_str(owner, name, getattr(self, name))
        check_str(owner, "encoder_checkpoint", self.encoder_checkpoint, optional=True)
        if self.data_format not in DATA_FORMATS:
            raise ValueError(f"{owner}.data_format must be one of {DATA_FORMATS}, got {self.data_format!r}")
        for name, minimum in (("frames_per_clip", 2), ("rollout_steps", 1), ("batch_size", 1), ("steps", 1),
                              ("ckpt_every", 1), ("threads", 1), ("seed", 0)):
            check_int(owner, name, getattr(self, name), minimum)
        if self.frames_per_clip < self.rollout_steps + 1:
            raise ValueError(f"{owner}.frames_per_clip must be > rollout_steps, got {self.frames_per_clip} <= "
                             f"{self.rollout_steps}")
        check_float(owner, "lr", self.lr, low=0.0, low_open=True)
        check_float(owner, "weight_decay", self.weight_decay, low=0.0)
        check_schedule(owner, self.steps, self.warmup, self.decay)
        check_file_name(owner, "save_name", self.save_name)
        if self.stop_after is not None:
            check_int(owner, "stop_after", self.stop_after, 1)


def encoder_fingerprint(cfg: PosttrainConfig) -> str | None:
    """SHA-256 of the encoder checkpoint file (None for a random encoder); FileNotFoundError naming it."""
    if not cfg.encoder_checkpoint:
        return None
    path = Path(cfg.encoder_checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"encoder_checkpoint {path} not found")
    return file_sha256(path)


def check_encoder_unchanged(checkpoint: Path, saved: str | None, current: str | None) -> None:
    """Refuse to continue a run whose encoder checkpoint file changed since ``checkpoint`` was written."""
    if saved != current:
        raise TrainingStateError(f"{checkpoint} was trained on another encoder: encoder_checkpoint's SHA-256 is "
                                 f"now {current}, the run used {saved}")


def load_encoder_weights(model, path: str) -> None:
    """Load a pretrain ``encoder.pt`` (its target encoder) or a bare encoder state dict, safely."""
    try:
        enc = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure is reported with the file name
        raise ValueError(f"encoder_checkpoint {path}: cannot load ({type(exc).__name__}: "
                         f"{' '.join(str(exc).split())[:200]})") from exc
    if not isinstance(enc, dict):
        raise ValueError(f"encoder_checkpoint {path}: expected a dict of tensors, got {type(enc).__name__}")
    try:
        model.encoder.load_state_dict(enc["target_encoder"] if "target_encoder" in enc else enc)
    except RuntimeError as exc:
        raise ValueError(f"encoder_checkpoint {path} does not fit the {type(model).__name__} encoder: "
                         f"{' '.join(str(exc).split())[:300]}") from exc


def build_model(cfg: PosttrainConfig):
    """The world model of ``cfg.model`` (seeded init) with the frozen encoder from ``cfg.encoder_checkpoint``."""
    from world_model.model import build_world_model

    torch.manual_seed(cfg.seed)
    model = build_named("PosttrainConfig", "model", build_world_model, cfg.model)
    if cfg.encoder_checkpoint:
        load_encoder_weights(model, cfg.encoder_checkpoint)
    model.encoder.requires_grad_(False).eval()
    return model


def check_episode_lengths(episodes, data_dir: str, frames_per_clip: int) -> None:
    """Every episode must hold a whole clip (sample_batch draws clips from any episode)."""
    short = [ep.frames.shape[0] for ep in episodes if ep.frames.shape[0] < frames_per_clip]
    if short:
        raise ValueError(f"{len(short)} episodes under {data_dir} are shorter than frames_per_clip="
                         f"{frames_per_clip} (shortest: {min(short)} frames)")


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
    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    save_base = inside(out, cfg.save_name, "save_name")
    state = resume_state(out, "posttrain", asdict(cfg), POSTTRAIN_MAY_CHANGE, cfg.steps, defaults=asdict(PosttrainConfig()))
    encoder_sha = encoder_fingerprint(cfg)
    if state is not None:
        check_encoder_unchanged(out / "last.pt", state.get("encoder_sha256"), encoder_sha)
    episodes, bad = load_training_episodes(cfg.data_dir, cfg.data_format)
    check_episode_lengths(episodes, cfg.data_dir, cfg.frames_per_clip)
    model = build_model(cfg)
    t0 = time.perf_counter()
    latents = encode_dataset(model, episodes)
    encode_s = time.perf_counter() - t0
    params = [p for p in model.predictor.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: warmup_constant_decay(s, cfg.steps, cfg.warmup, cfg.decay))
    gen = torch.Generator().manual_seed(cfg.seed)
    record_run_config(out, asdict(cfg))
    step = 0
    if state is not None:
        model.predictor.load_state_dict(state["predictor"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        set_rng_state(state["rng"])
        step = int(state["step"])
    model.predictor.train()
    log = LogWriter(out / "log.jsonl")
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
        log.write({"step": step, "loss": loss.item(), "teacher_forcing": tf_loss.item(),
                   "rollout": roll_loss.item(), "lr": sched.get_last_lr()[0]})
        stopping = cfg.stop_after is not None and cfg.stop_after <= step < cfg.steps
        if step % cfg.ckpt_every == 0 or step == cfg.steps or stopping:
            log.flush()
            save_training_state(out / "last.pt", {
                "kind": "posttrain", "config": asdict(cfg), "encoder_sha256": encoder_sha,
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
    return save_model(model, save_base, meta)


def save_model(model, base: Path, meta: dict) -> Path:
    """world_model.checkpoint.save_world_model, with write failures (e.g. disk full) naming the file."""
    from world_model.checkpoint import save_world_model

    try:
        return save_world_model(model, base, metadata=meta)
    except (OSError, RuntimeError) as exc:
        raise OSError(f"cannot write the world model {base}.safetensors/.json: "
                      f"{' '.join(str(exc).split())[:200]}") from exc
