"""AC predictor post-training on a frozen encoder (V-JEPA 2-AC): teacher forcing L1 + rollout L1.

Latents are ``layer_norm(encoder(frame))`` (no affine). The frozen encoder runs once per frame up front
(its outputs are cached in memory), so each training step only runs the predictor.
Loss = L1(predict(z_0..T-2) vs z_1..T-1) + L1(rollout of ``rollout_steps`` from z_0 vs z_rollout_steps),
predictions layer-normed before the loss and before being fed back; ground-truth states condition every step.
Resumes from ``<out_dir>/last.pt`` after a kill with identical state; resuming under a config that differs in
a field outside ``POSTTRAIN_MAY_CHANGE`` (or with a changed encoder checkpoint file) is refused.
``<out_dir>/config.json`` is written only after the config is checked and the data and encoder are loaded.
Runs unchanged under ``torchrun`` (``training.distributed``): DDP around the predictor, the global batch of
``batch_size`` clips split over the processes and ``accum_steps`` micro-batches, rank 0 logs and checkpoints.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from training.distributed import (SHARED_FILES_HINT, DistContext, barrier, check_device_name, check_same_on_all_ranks,
                                  distributed_context, env_world_size, global_mean, is_main_process,
                                  micro_batch_size, quiet_unless_main, rank_micro_batches, sync_unless, wrap_ddp)
from training.run_lock import exclusive_out_dir
from training.dataset import load_datasets
from training.lerobot import DATA_FORMATS, load_training_episodes
from training.latent_cache import LatentCache
from training.precision import autocast, check_precision, with_precision
from training.schedule import restore_loop_state, training_loop_state
from training.collect import dataset_camera
from training.completion import record_complete, run_is_complete
from training.checks import (build_named, check_dir_list, check_file_name, check_float, check_int, check_schedule,
                             check_str, data_dirs, inside)
from training.state import (LogWriter, TrainingStateError, file_sha256, record_run_config, resume_state,
                            save_training_state)
from world_model.config import EXTRINSICS_MODES

# Config fields that may differ when a run resumes from its last.pt (they do not change the weights trained up to
# the checkpoint): train longer/shorter (`steps`, the LR schedule is recomputed for the new total), `stop_after`,
# checkpoint cadence, thread count, the output file name, where the run directory now lives, the device and the
# gradient accumulation (the global batch and its clips stay the same). The number of processes is no config field:
# a checkpoint holds the global state, so a run may resume on another number of processes or machines.
POSTTRAIN_MAY_CHANGE = ("steps", "stop_after", "ckpt_every", "threads", "out_dir", "save_name", "device",
                        "accum_steps", "precision", "latent_cache")


@dataclass(frozen=True)
class PosttrainConfig:
    data_dir: str = "data/reach"
    # more datasets of the same format, task mix, frame size and camera, trained on together with data_dir
    extra_data_dirs: tuple[str, ...] = ()
    data_format: str = "npz"  # "npz": training.dataset episodes; "lerobot": a LeRobot v3 dataset (training.lerobot)
    out_dir: str = "runs/posttrain"
    model: str = "sim_tiny"  # world_model.model.WORLD_MODEL_CONFIGS name
    encoder_checkpoint: str | None = None  # pretrain output (`<dir>/encoder.pt`); None = random frozen encoder
    init_model: str | None = None  # a saved world model (path base) whose predictor starts this run (fine-tuning)
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
    device: str = "auto"  # auto (CUDA when present, else CPU) | cpu | cuda | cuda:N (one process only)
    precision: str = "auto"  # auto (bf16 autocast only where bf16 is fast: see training.precision) | fp32 | bf16
    accum_steps: int = 1  # micro-batches per step and process: batch_size / (processes * accum_steps) clips each
    # condition the predictor on the camera pose (envs.camera_pose; every episode must hold camera_pose): its
    # extrinsics input, standardised by the training data's mean and spread (stored in the saved model's config)
    camera_conditioning: bool = False
    camera_input: str = "token"  # how the pose enters: "token" (its own token, as official extrinsics) | "state"
    # a directory keeping the frozen encoder's latents of every episode (training.latent_cache): a resumed run
    # reads them back instead of encoding its dataset again. None = off (latents in memory only)
    latent_cache: str | None = None

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for name in ("data_dir", "out_dir", "model"):
            check_str(owner, name, getattr(self, name))
        check_dir_list(self)
        check_str(owner, "encoder_checkpoint", self.encoder_checkpoint, optional=True)
        check_str(owner, "init_model", self.init_model, optional=True)
        check_str(owner, "latent_cache", self.latent_cache, optional=True)
        if self.data_format not in DATA_FORMATS:
            raise ValueError(f"{owner}.data_format must be one of {DATA_FORMATS}, got {self.data_format!r}")
        for name, minimum in (("frames_per_clip", 2), ("rollout_steps", 1), ("batch_size", 1), ("steps", 1),
                              ("ckpt_every", 1), ("threads", 1), ("seed", 0), ("accum_steps", 1)):
            check_int(owner, name, getattr(self, name), minimum)
        micro_batch_size(owner, self.batch_size, 1, self.accum_steps)
        check_device_name(owner, self.device)
        check_precision(owner, self.precision)
        if self.camera_input not in EXTRINSICS_MODES:
            raise ValueError(f"{owner}.camera_input must be 'token' or 'state', got {self.camera_input!r}")
        if self.frames_per_clip < self.rollout_steps + 1:
            raise ValueError(f"{owner}.frames_per_clip must be > rollout_steps, got {self.frames_per_clip} <= "
                             f"{self.rollout_steps}")
        check_float(owner, "lr", self.lr, low=0.0, low_open=True)
        check_float(owner, "weight_decay", self.weight_decay, low=0.0)
        check_schedule(owner, self.steps, self.warmup, self.decay)
        check_file_name(owner, "save_name", self.save_name)
        if self.stop_after is not None:
            check_int(owner, "stop_after", self.stop_after, 1)


def load_posttrain_episodes(cfg: PosttrainConfig) -> tuple[list, list[str]]:
    """The episodes of every dataset of the run (in order) and the corrupt ones skipped; each dataset must hold
    whole clips, and all must share task mix, frame size and camera (MixedDatasetError naming the odd one).
    Paired episodes' nominal twins are not kept (``nominal_frames`` None): post-training never reads them, and
    they would double those episodes' memory."""
    def check(eps, root: str) -> None:
        for ep in eps:
            ep.nominal_frames = None
        check_episode_lengths(eps, root, cfg.frames_per_clip)

    episodes, bad = load_datasets(data_dirs(cfg), lambda root: load_training_episodes(root, cfg.data_format), check)
    if cfg.camera_conditioning:
        check_camera_poses(episodes, data_dirs(cfg))
    return episodes, bad


# Smallest spread the camera pose is scaled by (metres / unit-vector components / radians): a dataset whose camera
# never moves along one dimension does not blow that dimension up.
CAMERA_SCALE_FLOOR = 0.01


def check_camera_poses(episodes, roots: tuple[str, ...]) -> None:
    """ValueError unless every episode holds its camera pose (camera_conditioning needs it)."""
    missing = sum(ep.camera_pose is None for ep in episodes)
    if missing:
        raise ValueError(f"camera_conditioning=true needs the camera pose of every episode, but {missing} of "
                         f"{len(episodes)} episodes under {', '.join(roots)} have none: collect again (vjepa-collect "
                         f"records it) or add it with python3 -m training.camera_backfill <data_dir>")


def camera_statistics(episodes) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(center, scale) of the episodes' camera poses: per-dimension mean and standard deviation over all frames,
    the spread floored at :data:`CAMERA_SCALE_FLOOR`."""
    import numpy as np

    poses = np.concatenate([ep.camera_pose for ep in episodes]).astype(np.float64)  # (frames, 10)
    return tuple(poses.mean(0).tolist()), tuple(np.maximum(poses.std(0), CAMERA_SCALE_FLOOR).tolist())


def encoder_fingerprint(cfg: PosttrainConfig) -> str | None:
    """SHA-256 of the encoder checkpoint file (None for a random encoder); FileNotFoundError naming it."""
    if not cfg.encoder_checkpoint:
        return None
    path = Path(cfg.encoder_checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"encoder_checkpoint {path} not found")
    return file_sha256(path)


def encoder_provenance(cfg: PosttrainConfig, encoder_sha: str | None) -> dict | None:
    """The provenance file written beside the encoder checkpoint (``encoder.json`` of vjepa-distill), or None when
    there is none. ValueError when it describes another file (its ``encoder_sha256`` is not the checkpoint's), so
    a model never records the history of an encoder it was not trained on."""
    import json

    if not cfg.encoder_checkpoint:
        return None
    path = Path(cfg.encoder_checkpoint).with_suffix(".json")
    if not path.is_file():
        return None
    try:
        provenance = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} (the provenance of encoder_checkpoint) cannot be read: {exc}") from exc
    if not isinstance(provenance, dict) or provenance.get("encoder_sha256") != encoder_sha:
        recorded = provenance.get("encoder_sha256") if isinstance(provenance, dict) else None
        raise ValueError(f"{path} describes another encoder (SHA-256 {recorded}, the checkpoint's is {encoder_sha}): "
                         f"remove it or put the matching encoder beside it")
    return provenance


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


def build_model(cfg: PosttrainConfig, camera: tuple[tuple[float, ...], tuple[float, ...]] | None = None):
    """The world model of ``cfg.model`` (seeded init, or the predictor of ``cfg.init_model``) with the frozen
    encoder from ``cfg.encoder_checkpoint``; with ``cfg.camera_conditioning``, conditioned on the camera pose
    standardised by ``camera`` = (center, scale) (:func:`camera_statistics`)."""
    from dataclasses import replace

    from envs.camera_pose import CAMERA_POSE_DIM
    from world_model.model import WORLD_MODEL_CONFIGS, build_world_model

    torch.manual_seed(cfg.seed)
    wm_cfg = build_named("PosttrainConfig", "model", WORLD_MODEL_CONFIGS.__getitem__, cfg.model)
    if cfg.camera_conditioning:
        if camera is None:
            raise ValueError("camera_conditioning=true: the camera statistics (center, scale) are needed")
        predictor = replace(wm_cfg.predictor, extrinsics_dim=CAMERA_POSE_DIM, extrinsics_mode=cfg.camera_input)
        wm_cfg = replace(wm_cfg, predictor=predictor,
                         camera_center=camera[0], camera_scale=camera[1])
    model = build_world_model(wm_cfg)
    if cfg.encoder_checkpoint:
        load_encoder_weights(model, cfg.encoder_checkpoint)
    if cfg.init_model:
        load_predictor_weights(model, cfg.init_model)
    model.encoder.requires_grad_(False).eval()
    return model


def load_predictor_weights(model, init_model: str) -> None:
    """Start ``model``'s predictor from the predictor of the saved world model ``init_model`` (ValueError naming
    it when the two predictors differ in shape)."""
    from world_model.checkpoint import load_world_model

    source = load_world_model(init_model)
    state = source.predictor.state_dict()
    if model.camera_conditioned and not source.camera_conditioned:
        # a camera input is new to this predictor: its extrinsics encoder starts at zero (weights and bias), so
        # the camera embedding is zero for every pose until training makes it depend on the pose (camera_input
        # "state": the fine-tune starts from exactly the init model's function; "token": from it plus a new token)
        state = {k: v for k, v in state.items() if not k.startswith("extrinsics_encoder.")}
        enc = model.predictor.extrinsics_encoder
        state.update({"extrinsics_encoder.weight": torch.zeros_like(enc.weight),
                      "extrinsics_encoder.bias": torch.zeros_like(enc.bias)})
    try:
        model.predictor.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"init_model {init_model}: its predictor does not fit the {type(model).__name__} "
                         f"predictor: {' '.join(str(exc).split())[:300]}") from exc


def check_episode_lengths(episodes, data_dir: str, frames_per_clip: int) -> None:
    """Every episode must hold a whole clip (sample_clips draws clips from any episode)."""
    short = [ep.frames.shape[0] for ep in episodes if ep.frames.shape[0] < frames_per_clip]
    if short:
        raise ValueError(f"{len(short)} episodes under {data_dir} are shorter than frames_per_clip="
                         f"{frames_per_clip} (shortest: {min(short)} frames)")


@torch.no_grad()
def encode_dataset(model, episodes, batch: int = 256, show: bool = True, cache: LatentCache | None = None,
                   release_frames: bool = False) -> list[torch.Tensor]:
    """Per episode latents (T, N, D) from the frozen encoder (layer-normed), kept on the CPU; with ``cache``, read
    from it where stored and stored there where not (training.latent_cache). ``release_frames``: set each
    episode's ``frames`` to None once encoded, so that the frames and the latents (float32: as large as the uint8
    frames at 96 px and 16 px patches) are never all in memory at once."""
    def encode(frames) -> torch.Tensor:
        return torch.cat([model.encode(frames[i:i + batch]).cpu() for i in range(0, len(frames), batch)])

    out = []
    for ep in tqdm(episodes, desc="encode frames", leave=False, disable=not show):
        out.append(encode(ep.frames) if cache is None else cache.latents(ep.frames, lambda: encode(ep.frames)))
        if release_frames:
            ep.frames = None
    return out


def sample_clips(lengths: list[int], batch_size: int, frames: int, gen: torch.Generator) -> list[tuple[int, int]]:
    """The global batch of one step: ``batch_size`` random (episode, start frame) pairs. Every process draws the
    same pairs from the same generator and trains on its share (training.distributed.rank_micro_batches)."""
    ep_idx = torch.randint(len(lengths), (batch_size,), generator=gen)
    return [(e, int(torch.randint(lengths[e] - frames + 1, (1,), generator=gen))) for e in ep_idx.tolist()]


def gather_clips(latents, episodes, picks: list[tuple[int, int]], frames: int, device: torch.device,
                 camera: bool = False):
    """The clips ``picks`` on ``device``: z (B, T, N, D), actions (B, T-1, 7), states (B, T, 7) and, with
    ``camera``, the camera poses (B, T, 10) (else None)."""
    zs = torch.stack([latents[e][s:s + frames] for e, s in picks])
    acts = torch.stack([torch.from_numpy(episodes[e].actions[s:s + frames - 1]) for e, s in picks])
    sts = torch.stack([torch.from_numpy(episodes[e].states[s:s + frames]) for e, s in picks])
    cams = torch.stack([torch.from_numpy(episodes[e].camera_pose[s:s + frames]) for e, s in picks]) if camera else None
    return zs.to(device), acts.to(device), sts.to(device), None if cams is None else cams.to(device)


def ac_clip_losses(model, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor, rollout_steps: int,
                   camera: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher-forcing and rollout L1 losses of each clip, two (B,) tensors. z (B, T, N, D) layer-normed targets;
    camera (B, T, 10) poses for a camera-conditioned model (else None)."""
    def cam(n: int) -> torch.Tensor | None:
        return None if camera is None else camera[:, :n]

    tf_pred = model.predict(z[:, :-1], actions, states[:, :-1], cam(z.shape[1] - 1))  # (B, T-1, N, D) frames 1..T-1
    tf_loss = (tf_pred - z[:, 1:]).abs().mean(dim=(1, 2, 3))
    ctx = z[:, :1]
    for k in range(rollout_steps):
        pred = model.predict(ctx, actions[:, :k + 1], states[:, :k + 1], cam(k + 1))[:, -1:]  # frame k+1
        ctx = torch.cat([z[:, :1], *([ctx[:, 1:]] if k else []), pred], dim=1)
    roll_loss = (ctx[:, -1] - z[:, rollout_steps]).abs().mean(dim=(1, 2))
    return tf_loss, roll_loss


def ac_losses(model, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor, rollout_steps: int,
              camera: torch.Tensor | None = None):
    """Teacher-forcing and rollout L1 losses over the batch (the mean of :func:`ac_clip_losses`: every clip has
    the same size, so this is the mean over all its elements)."""
    tf_loss, roll_loss = ac_clip_losses(model, z, actions, states, rollout_steps, camera)
    return tf_loss.mean(), roll_loss.mean()


class ACLoss(nn.Module):
    """:func:`ac_losses` as a module whose only parameters are the predictor's: the module DDP wraps (the frozen
    encoder is held outside the module tree, so it is neither wrapped nor synchronised)."""

    def __init__(self, model, rollout_steps: int) -> None:
        super().__init__()
        self.predictor = model.predictor
        self._model = (model,)  # a tuple is not registered as a submodule
        self.rollout_steps = rollout_steps

    def forward(self, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor,
                camera: torch.Tensor | None = None):
        return ac_losses(self._model[0], z, actions, states, self.rollout_steps, camera)


def train_step(loss_fn: nn.Module, micro_batches: list[list[tuple[int, int]]], latents, episodes,
               cfg: PosttrainConfig, ctx: DistContext) -> torch.Tensor:
    """Forward + backward of this rank's micro-batches (gradients summed, DDP-averaged over ranks on the last);
    returns this rank's mean (teacher forcing, rollout) losses as a (2,) tensor."""
    total = torch.zeros(2, device=ctx.device)
    for i, part in enumerate(micro_batches):
        z, actions, states, camera = gather_clips(latents, episodes, part, cfg.frames_per_clip, ctx.device,
                                                  cfg.camera_conditioning)
        with sync_unless(loss_fn, skip=i < len(micro_batches) - 1):
            with autocast(ctx.bf16, ctx.device):
                tf_loss, roll_loss = loss_fn(z, actions, states, camera)
            ((tf_loss + roll_loss) / len(micro_batches)).backward()
        total += torch.stack([tf_loss.detach(), roll_loss.detach()])
    return total / len(micro_batches)


def posttrain(cfg: PosttrainConfig) -> Path:
    """Train the predictor; returns the path base of the saved world model (``<out_dir>/<save_name>``), or the
    checkpoint path ``<out_dir>/last.pt`` when the run ended early at ``cfg.stop_after``. Under torchrun every
    process calls this; rank 0 writes the files."""
    torch.set_num_threads(cfg.threads)
    # before joining the process group: every rank refuses an uneven split alike, none waits for the others
    micro_batch_size("PosttrainConfig", cfg.batch_size, env_world_size(), cfg.accum_steps)
    with exclusive_out_dir(cfg.out_dir, "vjepa-posttrain", enabled=is_main_process()), \
            distributed_context(cfg.device) as ctx:
        return _posttrain(cfg, ctx)


def _checkpoint(cfg: PosttrainConfig, ctx: DistContext, encoder_sha: str | None, model, opt, sched,
                gen: torch.Generator, step: int) -> None:
    """Rank 0 writes ``last.pt`` atomically (the global state: any number of processes can resume it); the
    other ranks wait."""
    camera = model.config.camera_center, model.config.camera_scale
    if ctx.is_main:
        save_training_state(Path(cfg.out_dir) / "last.pt", {
            "kind": "posttrain", "config": asdict(cfg), "encoder_sha256": encoder_sha,
            "predictor": model.predictor.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "generator": gen.get_state(), "step": step,
            "world_size": ctx.world_size, "camera": None if camera[0] is None else camera})
    barrier(ctx)


def _posttrain(cfg: PosttrainConfig, ctx: DistContext) -> Path:
    from world_model.checkpoint import world_model_files

    ctx = with_precision(ctx, cfg.precision)
    out = Path(cfg.out_dir)
    save_base = inside(out, cfg.save_name, "save_name")
    state = resume_state(out, "posttrain", asdict(cfg), POSTTRAIN_MAY_CHANGE, cfg.steps,
                         defaults=asdict(PosttrainConfig()))
    check_same_on_all_ranks(ctx, "the checkpoint step to resume from (-1: none)",
                            -1 if state is None else int(state["step"]), SHARED_FILES_HINT)
    encoder_sha = encoder_fingerprint(cfg)
    distilled = encoder_provenance(cfg, encoder_sha)  # checked now, not after the training
    if state is not None:
        check_encoder_unchanged(out / "last.pt", state.get("encoder_sha256"), encoder_sha)
    if run_is_complete(ctx, out, asdict(cfg), state, cfg.steps, "post-training"):
        return save_base
    with quiet_unless_main(ctx):
        episodes, bad = load_posttrain_episodes(cfg)
    check_same_on_all_ranks(ctx, "the number of training episodes", len(episodes), SHARED_FILES_HINT)
    model = build_model(cfg, camera_statistics(episodes) if cfg.camera_conditioning else None).to(ctx.device)
    t0 = time.perf_counter()
    cache = None if cfg.latent_cache is None else LatentCache(cfg.latent_cache, model, writable=ctx.is_main)
    latents = encode_dataset(model, episodes, show=ctx.is_main, cache=cache, release_frames=True)  # not used again
    if cache is not None and ctx.is_main:
        print(f"latent cache {cache.dir}: {cache.hits} episodes read, {cache.misses} encoded")
    encode_s = time.perf_counter() - t0
    params = [p for p in model.predictor.parameters() if p.requires_grad]
    opt, sched, gen = training_loop_state(params, cfg)
    if ctx.is_main:
        record_run_config(out, asdict(cfg))
    step = 0
    if state is not None:
        model.predictor.load_state_dict(state["predictor"])
        step = restore_loop_state(state, opt, sched, gen)
    model.predictor.train()
    loss_fn = wrap_ddp(ACLoss(model, cfg.rollout_steps), ctx)  # after loading: DDP broadcasts rank 0's weights
    lengths = [int(z.shape[0]) for z in latents]
    log = LogWriter(out / "log.jsonl") if ctx.is_main else None
    bar = tqdm(total=cfg.steps, initial=step, desc="posttrain", disable=not ctx.is_main)
    try:
        while step < cfg.steps:
            picks = sample_clips(lengths, cfg.batch_size, cfg.frames_per_clip, gen)
            opt.zero_grad(set_to_none=True)
            losses = train_step(loss_fn, rank_micro_batches(picks, ctx, cfg.accum_steps), latents, episodes,
                                cfg, ctx)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            losses = global_mean(losses, ctx)
            tf_loss, roll_loss = losses.tolist()
            bar.update(1)
            bar.set_postfix(tf=f"{tf_loss:.4f}", roll=f"{roll_loss:.4f}")
            if log is not None:
                log.write({"step": step, "loss": losses.sum().item(), "teacher_forcing": tf_loss,
                           "rollout": roll_loss, "lr": sched.get_last_lr()[0]})
            stopping = cfg.stop_after is not None and cfg.stop_after <= step < cfg.steps
            if step % cfg.ckpt_every == 0 or step == cfg.steps or stopping:
                if log is not None:
                    log.flush()
                _checkpoint(cfg, ctx, encoder_sha, model, opt, sched, gen, step)
            if stopping:
                return out / "last.pt"
    finally:
        bar.close()
        if log is not None:
            log.close()
    model.eval()
    meta = {"trained_by": "training.posttrain", "config": asdict(cfg), "episodes": len(episodes),
            "corrupt_skipped": len(bad), "encode_seconds": round(encode_s, 1), "processes": ctx.world_size,
            "camera": dataset_camera(cfg.data_dir, cfg.data_format)}  # data's camera preset (None: not known)
    if distilled is not None:
        meta["encoder_distillation"] = distilled
    saved = save_model(model, save_base, meta) if ctx.is_main else save_base
    if ctx.is_main:
        record_complete(out, asdict(cfg), world_model_files(saved))
    barrier(ctx)
    return saved


def save_model(model, base: Path, meta: dict, dtype: torch.dtype | None = None) -> Path:
    """world_model.checkpoint.save_world_model (floating weights stored as ``dtype``, None: as they are), with
    write failures (e.g. disk full) naming the file."""
    from world_model.checkpoint import save_world_model

    try:
        return save_world_model(model, base, metadata=meta, dtype=dtype)
    except (OSError, RuntimeError) as exc:
        raise OSError(f"cannot write the world model {base}.safetensors/.json: "
                      f"{' '.join(str(exc).split())[:200]}") from exc
