"""Scene-invariant encoder by distillation (issue 13): the encoder learns to see a randomised scene as the nominal one.

A world model's encoder (the *teacher*, frozen) encodes frames of the nominal scene. A copy of it (the *student*)
is trained so that its latent of a randomised frame (other lighting, colours, camera pose, distractors, pixel
noise) equals the teacher's latent of the same robot and cube state rendered in the nominal scene:

    loss = L1( layer_norm(student(frame)), layer_norm(teacher(nominal twin of frame)) )
           + pair_weight * L1( student latent difference of two frames of one episode,
                               teacher latent difference of their nominal twins )

on the layer-normed latents the planner's energy compares. The pairs come from ``vjepa-collect
nominal_frames=true`` (``FrankaEnv.nominal_image``: the same state, nominal appearance; with
``twin_keeps_camera=true`` the twin keeps the episode's camera pose, so only appearance is made nominal). The
predictor is kept as it is: it was trained on the teacher's latents, and the student maps scenes to those. A share
``nominal_share`` of the student's inputs are the nominal frames themselves (target: the teacher's own latent), so
the nominal scene stays where it was.

The output is a complete world model (student encoder + the source model's predictor) saved like any other, with
the held-out invariance error before and after in its metadata and in ``<out_dir>/invariance.json``, and the
student's weights alone in ``<out_dir>/encoder.pt`` (an ``encoder_checkpoint`` for ``vjepa-posttrain``, e.g. to
fine-tune the predictor on the new latents with ``init_model``), with its provenance beside it in
``<out_dir>/encoder.json`` (config, source model, invariance report and the SHA-256 of encoder.pt), which
vjepa-posttrain copies into its model's ``metadata.encoder_distillation``. Resumes from
``<out_dir>/last.pt`` after a kill; resuming under a config that differs outside ``DISTILL_MAY_CHANGE`` (or with a
changed source model file) is refused. One process (CPU or one GPU).
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from training.checks import (check_dir_list, check_file_name, check_float, check_int, check_schedule, check_str,
                             data_dirs, inside)
from training.completion import record_complete, run_is_complete
from training.distributed import check_device_name, distributed_context, env_world_size
from training.run_lock import exclusive_out_dir
from training.posttrain import save_model
from training.precision import autocast, check_precision, with_precision
from training.schedule import restore_loop_state, training_loop_state
from training.state import (LogWriter, TrainingStateError, file_sha256, record_run_config, resume_state,
                            save_torch_atomic, save_training_state, write_json_atomic)

# May differ on resume (they do not change the weights trained up to the checkpoint); see training.posttrain.
DISTILL_MAY_CHANGE = ("steps", "stop_after", "ckpt_every", "threads", "out_dir", "save_name", "device", "precision")


@dataclass(frozen=True)
class DistillConfig:
    """model: the source world model (a shipped name such as ``sim_multitask``, or the path base of
    ``.safetensors`` + ``.json``): teacher encoder, student init and the predictor of the output. data_dir: paired
    episodes (``vjepa-collect nominal_frames=true``); extra_data_dirs: more such datasets (same task mix, image size
    and camera), e.g. one per collecting process; the last ``val_episodes`` of them all (in order: data_dir, then
    extra_data_dirs) are held out for the invariance report. batch_size: frames per step (even: two frames of each
    sampled episode). nominal_share: share of the student's inputs that are nominal frames (chosen per pair).
    pair_weight: weight of the pair term (:func:`distill_loss`). fp16: store the output's weights as float16 (as the
    shipped models are)."""

    model: str = "sim_multitask"
    data_dir: str = "data/pairs"
    extra_data_dirs: tuple[str, ...] = ()
    out_dir: str = "runs/distill"
    steps: int = 3000
    batch_size: int = 64
    lr: float = 1e-4
    weight_decay: float = 0.04
    warmup: int = 100
    decay: int = 500
    nominal_share: float = 0.25
    pair_weight: float = 0.0
    val_episodes: int = 50
    ckpt_every: int = 250
    seed: int = 0
    threads: int = 2
    save_name: str = "model"
    stop_after: int | None = None
    device: str = "auto"
    precision: str = "auto"
    fp16: bool = True

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for name in ("model", "data_dir", "out_dir"):
            check_str(owner, name, getattr(self, name))
        check_dir_list(self)
        for name, minimum in (("steps", 1), ("batch_size", 2), ("ckpt_every", 1), ("threads", 1), ("seed", 0),
                              ("val_episodes", 1)):
            check_int(owner, name, getattr(self, name), minimum)
        check_float(owner, "lr", self.lr, low=0.0, low_open=True)
        check_float(owner, "weight_decay", self.weight_decay, low=0.0)
        check_float(owner, "nominal_share", self.nominal_share, 0.0, 1.0)
        check_float(owner, "pair_weight", self.pair_weight, low=0.0)
        if self.batch_size % 2:
            raise ValueError(f"{owner}.batch_size must be even (frames come in pairs from one episode), got "
                             f"{self.batch_size}")
        check_schedule(owner, self.steps, self.warmup, self.decay)
        check_file_name(owner, "save_name", self.save_name)
        check_device_name(owner, self.device)
        check_precision(owner, self.precision)
        if self.stop_after is not None:
            check_int(owner, "stop_after", self.stop_after, 1)
        if not isinstance(self.fp16, bool):
            raise ValueError(f"{owner}.fp16 must be true or false, got {self.fp16!r}")


# ------------------------------------------------------------------------------------------------ data
def load_pairs(roots: tuple[str, ...], val_episodes: int):
    """(training episodes, held-out episodes) of paired datasets (in order; the held-out ones are the last); a
    MixedDatasetError when the datasets differ in task mix, image size or camera, a ValueError when an episode has
    no ``nominal_frames`` or too few episodes remain for training."""
    from training.dataset import load_datasets

    def check_paired(eps, root: str) -> None:
        unpaired = [ep.meta.get("seed") for ep in eps if ep.nominal_frames is None]
        if unpaired:
            raise ValueError(f"{len(unpaired)} episodes under {root} have no nominal_frames (first: seed "
                             f"{unpaired[0]}); collect with vjepa-collect nominal_frames=true")

    episodes, _ = load_datasets(roots, check=check_paired)
    if len(episodes) <= val_episodes:
        raise ValueError(f"{', '.join(roots)} hold {len(episodes)} episodes: need more than "
                         f"val_episodes={val_episodes}")
    return episodes[:-val_episodes], episodes[-val_episodes:]


def is_randomized(episode) -> bool:
    """Whether the episode was recorded in a randomised scene (its frames differ from their nominal twins): meta
    ``scene_axes`` (the axes the episode applied) where recorded, else its ``randomize`` preset."""
    if "scene_axes" in episode.meta:
        return bool(episode.meta["scene_axes"])
    return episode.meta.get("randomize", "none") != "none"


def sample_frames(lengths: list[int], batch_size: int, gen: torch.Generator) -> list[tuple[int, int]]:
    """``batch_size`` (episode, frame) picks: ``batch_size / 2`` random episodes, two distinct random frames of each,
    ordered [first frames..., second frames...] (the pair term of the loss compares frame k with frame k + B/2)."""
    eps = torch.randint(len(lengths), (batch_size // 2,), generator=gen).tolist()
    firsts, seconds = [], []
    for e in eps:
        t1, t2 = torch.randperm(lengths[e], generator=gen)[:2].tolist()
        firsts.append((e, t1)), seconds.append((e, t2))
    return firsts + seconds


def distill_loss(z: torch.Tensor, target: torch.Tensor, pair_weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(total, pair term) for student latents ``z`` and teacher targets, both (B, N, D) with frame k and frame
    k + B/2 from one episode. Total = L1(z, target) + pair_weight * L1(z_a - z_b, target_a - target_b): the pair
    term asks for the same *difference* between two states of one scene as in the nominal scene, which is what
    the planner's energy compares, and leaves a per-scene offset free."""
    half = z.shape[0] // 2
    pair = ((z[:half] - z[half:]) - (target[:half] - target[half:])).abs().mean()
    return (z - target).abs().mean() + pair_weight * pair, pair


def student_inputs(episodes, picks: list[tuple[int, int]], nominal: torch.Tensor) -> np.ndarray:
    """uint8 (B, H, W, 3): the recorded frame of each pick, or its nominal twin where ``nominal`` (B,) is True."""
    return np.stack([episodes[e].nominal_frames[t] if use_nominal else episodes[e].frames[t]
                     for (e, t), use_nominal in zip(picks, nominal.tolist())])


# ------------------------------------------------------------------------------------------------ model
def encode_train(model, encoder: torch.nn.Module, images: np.ndarray) -> torch.Tensor:
    """Like ``WorldModel.encode`` but through ``encoder`` and with gradients: uint8 (B, H, W, 3) -> layer-normed
    latents (B, N, D), each image repeated to one tubelet."""
    x = model.preprocess(images)  # (B, 3, S, S)
    video = x.unsqueeze(2).repeat(1, 1, model.config.encoder.tubelet_size, 1, 1)  # (B, 3, tubelet, S, S)
    h = encoder(video)
    return F.layer_norm(h.float(), (h.shape[-1],))


@torch.no_grad()
def teacher_targets(model, episodes, batch: int = 256, show: bool = True) -> list[torch.Tensor]:
    """Per episode the teacher's latents of the nominal frames, (T, N, D) float16 on the CPU."""
    return [torch.cat([model.encode(ep.nominal_frames[i:i + batch]).half().cpu()
                       for i in range(0, len(ep.nominal_frames), batch)])
            for ep in tqdm(episodes, desc="teacher latents", leave=False, disable=not show)]


@torch.no_grad()
def invariance_report(model, encoder: torch.nn.Module, episodes, targets: list[torch.Tensor],
                      batch: int = 256) -> dict[str, Any]:
    """How far ``encoder``'s latents of the randomised frames of ``episodes`` are from the teacher's latents of
    their nominal twins (mean L1 over tokens and channels), next to the latent change of one control step in the
    nominal scene (mean L1 between the teacher's latents of consecutive nominal frames), which is the scale the
    planner's energy has to resolve. Nominal-scene episodes are left out of the error (their frames are their
    twins)."""
    errors, steps = [], []
    for ep, target in zip(episodes, targets):
        target = target.float()
        steps.append((target[1:] - target[:-1]).abs().mean().item())
        if not is_randomized(ep):
            continue
        z = torch.cat([encode_train(model, encoder, ep.frames[i:i + batch]).cpu()
                       for i in range(0, len(ep.frames), batch)])
        errors.append((z - target).abs().mean().item())
    if not errors:
        raise ValueError("no randomised episode among the held-out episodes: nothing to measure")
    error, step = float(np.mean(errors)), float(np.mean(steps))
    return {"scene_error": round(error, 5), "one_step_change": round(step, 5), "ratio": round(error / step, 3),
            "episodes": len(errors)}


def source_path(model: str) -> Path:
    """The source world model's path base: a shipped name (``sim_multitask``) or a path base."""
    from agent.factory import resolve_model_path

    return resolve_model_path(model)


def fingerprint(model_base: Path) -> str:
    """SHA-256 of the source model's weights file; FileNotFoundError naming it."""
    path = Path(f"{model_base}.safetensors")
    if not path.is_file():
        raise FileNotFoundError(f"world model weights {path} not found")
    return file_sha256(path)


# ------------------------------------------------------------------------------------------------ training
def distill(cfg: DistillConfig) -> Path:
    """Train the student; returns the saved world model's path base (``<out_dir>/<save_name>``), or
    ``<out_dir>/last.pt`` when the run ended early at ``cfg.stop_after``."""
    if env_world_size() > 1:
        raise ValueError("training.distill runs in one process (not under torchrun)")
    torch.set_num_threads(cfg.threads)
    with exclusive_out_dir(cfg.out_dir, "vjepa-distill"), distributed_context(cfg.device) as ctx:
        return _distill(cfg, with_precision(ctx, cfg.precision))


def _distill(cfg: DistillConfig, ctx) -> Path:
    from world_model.checkpoint import load_world_model, read_world_model_metadata, world_model_files

    out = Path(cfg.out_dir)
    save_base = inside(out, cfg.save_name, "save_name")
    state = resume_state(out, "distill", asdict(cfg), DISTILL_MAY_CHANGE, cfg.steps,
                         defaults=asdict(DistillConfig()))
    source = source_path(cfg.model)
    source_sha = fingerprint(source)
    if state is not None and state.get("model_sha256") != source_sha:
        raise TrainingStateError(f"{out / 'last.pt'} was distilled from another {cfg.model}: its weights changed")
    if run_is_complete(ctx, out, asdict(cfg), state, cfg.steps, "distillation"):
        return save_base
    train_eps, val_eps = load_pairs(data_dirs(cfg), cfg.val_episodes)
    model = load_world_model(source, device=ctx.device).float()
    model.requires_grad_(False)
    source_meta = read_world_model_metadata(source).get("metadata", {})
    t0 = time.perf_counter()
    targets = teacher_targets(model, train_eps)
    val_targets = teacher_targets(model, val_eps)
    encode_s = time.perf_counter() - t0
    student = copy.deepcopy(model.encoder).requires_grad_(True)
    before = invariance_report(model, model.encoder, val_eps, val_targets)
    print(f"held-out invariance before: {before}", flush=True)
    opt, sched, gen = training_loop_state(student.parameters(), cfg)
    record_run_config(out, asdict(cfg))
    step = 0
    if state is not None:
        student.load_state_dict(state["student"])
        step = restore_loop_state(state, opt, sched, gen)
    lengths = [int(t.shape[0]) for t in targets]
    log = LogWriter(out / "log.jsonl")
    bar = tqdm(total=cfg.steps, initial=step, desc="distill")
    student.train()
    try:
        while step < cfg.steps:
            picks = sample_frames(lengths, cfg.batch_size, gen)
            nominal = (torch.rand(cfg.batch_size // 2, generator=gen) < cfg.nominal_share).repeat(2)  # per pair
            images = student_inputs(train_eps, picks, nominal)
            target = torch.stack([targets[e][t] for e, t in picks]).float().to(ctx.device)
            with autocast(ctx.bf16, ctx.device):
                z = encode_train(model, student, images)
            loss, pair = distill_loss(z, target, cfg.pair_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            bar.update(1)
            bar.set_postfix(l1=f"{loss.item():.4f}")
            log.write({"step": step, "loss": loss.item(), "pair": pair.item(), "lr": sched.get_last_lr()[0]})
            stopping = cfg.stop_after is not None and cfg.stop_after <= step < cfg.steps
            if step % cfg.ckpt_every == 0 or step == cfg.steps or stopping:
                log.flush()
                save_training_state(out / "last.pt", {
                    "kind": "distill", "config": asdict(cfg), "model_sha256": source_sha,
                    "student": student.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(), "generator": gen.get_state(), "step": step})
            if stopping:
                return out / "last.pt"
    finally:
        bar.close()
        log.close()
    student.eval()
    after = invariance_report(model, student, val_eps, val_targets)
    print(f"held-out invariance after: {after}", flush=True)
    report = {"before": before, "after": after, "val_episodes": len(val_eps), "steps": cfg.steps}
    write_json_atomic(out / "invariance.json", report)
    save_torch_atomic(out / "encoder.pt", student.state_dict())  # encoder_checkpoint for vjepa-posttrain
    write_json_atomic(out / "encoder.json", {  # its provenance, which vjepa-posttrain records in its model
        "trained_by": "training.distill", "encoder_sha256": file_sha256(out / "encoder.pt"), "config": asdict(cfg),
        "source_model": cfg.model, "source_sha256": source_sha, "invariance": report})
    model.encoder.load_state_dict(student.state_dict())
    meta = {"trained_by": "training.distill", "config": asdict(cfg), "source_model": cfg.model,
            "source_sha256": source_sha, "source_metadata": source_meta, "invariance": report,
            "teacher_seconds": round(encode_s, 1), "camera": source_meta.get("camera")}
    saved = save_model(model, save_base, meta, dtype=torch.float16 if cfg.fp16 else None)
    record_complete(out, asdict(cfg), [out / "invariance.json", out / "encoder.pt", out / "encoder.json",
                                       *world_model_files(saved)])
    return saved
