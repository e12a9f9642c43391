"""WorldModel: frozen V-JEPA 2 encoder + action-conditioned predictor + image preprocessing.

Implements agent.protocol.LatentWorldModel. Latents are ``layer_norm`` (no affine, eps 1e-5) of the encoder
output, as in V-JEPA 2-AC training; predictions are layer-normed the same way before being returned or fed back.
Grad mode: ``encode``/``encode_frames`` always run without gradients (the encoder is frozen); ``predict`` and
``rollout`` follow the caller's grad mode (wrap planning in ``torch.inference_mode()``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from world_model.ac_predictor import ACPredictor, PredictorCache
from world_model.config import ACPredictorConfig, EncoderConfig, get_ac_predictor_config, get_encoder_config
from world_model.encoder import VisionTransformer

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class WorldModelConfig:
    """Encoder + predictor configs and the square image side (pixels) images are resized to.

    camera_center / camera_scale: set on a camera-conditioned model (``vjepa-posttrain camera_conditioning=true``):
    the predictor's extrinsics input is the camera pose vector (``envs.camera_pose``, 10 numbers) standardised as
    ``(pose - camera_center) / camera_scale`` (the training data's mean and spread). None: no camera input (the
    official models and the earlier sim models)."""

    encoder: EncoderConfig
    predictor: ACPredictorConfig
    image_size: int
    camera_center: tuple[float, ...] | None = None
    camera_scale: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if (self.camera_center is None) != (self.camera_scale is None):
            raise ValueError("camera_center and camera_scale must be given together")
        if self.camera_center is not None:
            dim = self.predictor.extrinsics_dim
            for name in ("camera_center", "camera_scale"):
                value = tuple(float(v) for v in getattr(self, name))
                if len(value) != dim or not all(np.isfinite(value)):
                    raise ValueError(f"{name} must be {dim} finite numbers (the predictor's extrinsics_dim), "
                                     f"got {value}")
                object.__setattr__(self, name, value)
            if min(self.camera_scale) <= 0:
                raise ValueError(f"camera_scale must be > 0, got {self.camera_scale}")
        if self.encoder.embed_dim != self.predictor.enc_dim:
            raise ValueError(
                f"predictor enc_dim {self.predictor.enc_dim} != encoder embed_dim {self.encoder.embed_dim}"
            )
        if self.image_size % self.encoder.patch_size:
            raise ValueError(f"image_size {self.image_size} not a multiple of patch {self.encoder.patch_size}")
        if self.image_size // self.encoder.patch_size != self.predictor.grid_size:
            raise ValueError(
                f"image_size {self.image_size} gives a {self.image_size // self.encoder.patch_size}-patch grid but the "
                f"predictor expects {self.predictor.grid_size} (predictor img_size {self.predictor.img_size})"
            )

    def to_dict(self) -> dict[str, Any]:
        camera = {} if self.camera_center is None else {"camera_center": list(self.camera_center),
                                                         "camera_scale": list(self.camera_scale)}
        return {"encoder": self.encoder.to_dict(), "predictor": self.predictor.to_dict(), "image_size": self.image_size,
                **camera}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WorldModelConfig":
        camera = {k: tuple(d[k]) for k in ("camera_center", "camera_scale") if d.get(k) is not None}
        return cls(EncoderConfig.from_dict(d["encoder"]), ACPredictorConfig.from_dict(d["predictor"]),
                   int(d["image_size"]), **camera)


WORLD_MODEL_CONFIGS: dict[str, WorldModelConfig] = {
    "ac_vit_giant": WorldModelConfig(get_encoder_config("vit_giant"), get_ac_predictor_config("ac_vit_giant"), 256),
    "sim_tiny": WorldModelConfig(get_encoder_config("vit_sim"), get_ac_predictor_config("ac_sim"), 64),
    "sim_tiny96": WorldModelConfig(get_encoder_config("vit_sim96"), get_ac_predictor_config("ac_sim96"), 96),
}


def _as_tensor_images(images: np.ndarray | torch.Tensor, ndim: int) -> torch.Tensor:
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a numpy array or torch tensor, got {type(images).__name__}")
    if images.dtype != torch.uint8:
        raise TypeError(f"images must be uint8 in [0, 255], got {images.dtype}")
    if images.dim() != ndim or images.shape[-1] != 3:
        shape = "(B, H, W, 3)" if ndim == 4 else "(B, T, H, W, 3)"
        raise ValueError(f"images must be {shape} uint8, got shape {tuple(images.shape)}")
    return images


class WorldModel(nn.Module):
    """``encoder`` (VisionTransformer) and ``predictor`` (ACPredictor) are plain nn.Modules for training."""

    def __init__(self, config: WorldModelConfig, use_cache: bool = True, autocast_bf16: bool = False) -> None:
        super().__init__()
        self.config = config
        self.image_size = config.image_size
        self.encoder = VisionTransformer(config.encoder)
        self.predictor = ACPredictor(config.predictor)
        self.use_cache = use_cache
        self.autocast_bf16 = autocast_bf16
        self.encode_batch_size = 64

    @property
    def device(self) -> torch.device:
        return self.predictor.predictor_embed.weight.device

    @property
    def _dtype(self) -> torch.dtype:
        return self.predictor.predictor_embed.weight.dtype

    @property
    def _encoder_dtype(self) -> torch.dtype:
        return self.encoder.patch_embed.proj.weight.dtype

    @property
    def latent_dim(self) -> int:
        return self.config.encoder.embed_dim

    @property
    def camera_conditioned(self) -> bool:
        """True when the predictor needs the camera pose (``camera_pose`` of predict/rollout)."""
        return self.config.camera_center is not None

    def camera_input(self, camera_pose: Any, batch: int, frames: int) -> torch.Tensor | None:
        """The predictor's extrinsics input (batch, frames, 10), standardised, from a pose vector (10,) (one fixed
        camera), (batch, 10) or (batch, frames, 10); None for a model without camera input. ValueError when a
        camera-conditioned model gets none, or a model without camera input gets one (never ignored silently)."""
        if not self.camera_conditioned:
            if camera_pose is not None:
                raise ValueError("this world model was trained without the camera pose: pass camera_pose=None")
            return None
        if camera_pose is None:
            raise ValueError("this world model is conditioned on the camera pose (envs.camera_pose): pass "
                             "camera_pose, e.g. env.unwrapped.camera_pose()")
        pose = torch.as_tensor(np.asarray(camera_pose, dtype=np.float32), device=self.device)
        dim = self.config.predictor.extrinsics_dim
        if pose.shape[-1:] != (dim,) or pose.dim() > 3 or not torch.isfinite(pose).all():
            raise ValueError(f"camera_pose must be finite (..., {dim}), got {tuple(pose.shape)}")
        if pose.dim() == 2:
            pose = pose[:, None]
        try:
            pose = pose.expand(batch, frames, dim)
        except RuntimeError:
            raise ValueError(f"camera_pose {tuple(pose.shape)} does not fit {batch} samples of {frames} "
                             f"frames") from None
        center = torch.tensor(self.config.camera_center, device=pose.device)
        scale = torch.tensor(self.config.camera_scale, device=pose.device)
        return ((pose - center) / scale).to(self._dtype)

    @property
    def tokens_per_frame(self) -> int:
        return (self.image_size // self.config.encoder.patch_size) ** 2

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if not self.autocast_bf16:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)

    # -- encoding -------------------------------------------------------------------------------------------
    def preprocess(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 (B, H, W, 3) -> float (B, 3, S, S): [0,1], bilinear (antialiased) resize to image_size S if
        needed (aspect is not preserved: crop beforehand if needed), ImageNet mean/std."""
        x = _as_tensor_images(images, 4).to(self.device)
        x = x.permute(0, 3, 1, 2).float().div_(255.0)  # (B, 3, H, W)
        if x.shape[-2:] != (self.image_size, self.image_size):
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", antialias=True,
                              align_corners=False)
        mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std

    def _chunks(self, n: int) -> Iterator[slice]:
        step = max(1, self.encode_batch_size)
        for i in range(0, n, step):
            yield slice(i, min(n, i + step))

    @torch.no_grad()
    def encode(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 images (B, H, W, 3) -> latents (B, N, D), N = (S/16)^2: each image repeated to one 2-frame
        tubelet, encoded, then layer-normed (no affine). Float32 output."""
        x = self.preprocess(images)
        outs = []
        for sl in self._chunks(x.shape[0]):
            video = x[sl].unsqueeze(2).repeat(1, 1, self.config.encoder.tubelet_size, 1, 1)  # (b, 3, 2, S, S)
            video = video.to(self._encoder_dtype)
            with self._autocast():
                h = self.encoder(video)
            outs.append(F.layer_norm(h.float(), (h.shape[-1],)))
        return torch.cat(outs, dim=0)

    @torch.no_grad()
    def encode_frames(self, frames: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 frames (B, T, H, W, 3) -> (B, T, N, D), every frame encoded independently."""
        frames = _as_tensor_images(frames, 5)
        B, T = frames.shape[:2]
        z = self.encode(frames.flatten(0, 1))  # (B*T, N, D)
        return z.unflatten(0, (B, T))

    # -- prediction -----------------------------------------------------------------------------------------
    def _check_cond(self, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor, frames: int) -> None:
        if z.dim() != 4 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must be (B, T, N, {self.latent_dim}), got {tuple(z.shape)}")
        for name, a in (("actions", actions), ("states", states)):
            if a.dim() != 3 or a.shape[0] != z.shape[0] or a.shape[1] != frames or a.shape[2] != 7:
                raise ValueError(f"{name} must be (B={z.shape[0]}, {frames}, 7), got {tuple(a.shape)}")
            if a.device.type != "meta" and not torch.isfinite(a).all():
                raise ValueError(f"{name} contain NaN or inf")

    def predict(
        self, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor, camera_pose: Any = None
    ) -> torch.Tensor:
        """Teacher forcing: z (B, T, N, D) latents of frames 0..T-1, actions/states (B, T, 7) ->
        layer-normed predictions of frames 1..T, (B, T, N, D), float32. camera_pose: see :meth:`camera_input`
        (only for a camera-conditioned model)."""
        z, actions, states = (torch.as_tensor(v, device=self.device, dtype=self._dtype) for v in (z, actions, states))
        self._check_cond(z, actions, states, z.shape[1] if z.dim() == 4 else -1)
        extrinsics = self.camera_input(camera_pose, z.shape[0], z.shape[1])
        with self._autocast():
            out = self.predictor(z, actions, states, extrinsics)
        return F.layer_norm(out.float(), (out.shape[-1],))

    def rollout(
        self, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor, use_cache: bool | None = None,
        camera_pose: Any = None,
    ) -> torch.Tensor:
        """Autoregressive prediction (agent.protocol.LatentWorldModel.rollout).

        z: context latents (B, T0, N, D) or (B, N, D); actions/states (B, T0-1+H, 7) for frames 0..T0+H-2
        (a z batch of 1 is broadcast to the actions' batch). Returns frames T0..T0+H-1, (B, H, N, D), each
        prediction layer-normed before being fed back. use_cache (default self.use_cache): KV-cached path,
        one frame-pass per step; False recomputes the whole sequence each step (reference path). camera_pose:
        see :meth:`camera_input` (a camera-conditioned model only; one pose for every frame of a sample).
        """
        z, actions, states = (torch.as_tensor(v) for v in (z, actions, states))
        if z.dim() == 3:
            z = z[:, None]  # (B, 1, N, D)
        if z.dim() != 4:
            raise ValueError(f"z must be (B, T0, N, D) or (B, N, D), got {tuple(z.shape)}")
        if actions.dim() == 3 and z.shape[0] == 1 and actions.shape[0] > 1:
            z = z.expand(actions.shape[0], -1, -1, -1)
        T0 = z.shape[1]
        H = actions.shape[1] - T0 + 1 if actions.dim() == 3 else 0
        if H < 1:
            raise ValueError(f"actions must be (B, T0-1+H, 7) with H >= 1; T0={T0}, got {tuple(actions.shape)}")
        self._check_cond(z, actions, states, T0 - 1 + H)
        z, actions, states = (v.to(self.device, self._dtype) for v in (z, actions, states))
        extr = self.camera_input(camera_pose, z.shape[0], T0 - 1 + H)
        use_cache = self.use_cache if use_cache is None else use_cache
        with self._autocast():
            if use_cache:
                preds = self._rollout_cached(z, actions, states, H, extr)
            else:
                preds = self._rollout_full(z, actions, states, H, extr)
        return torch.cat(preds, dim=1)

    def _rollout_full(self, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor, H: int,
                      extr: torch.Tensor | None) -> list[torch.Tensor]:
        preds: list[torch.Tensor] = []
        for _ in range(H):
            T = z.shape[1]
            out, _ = self.predictor.forward_cached(z, actions[:, :T], states[:, :T], None,
                                                   None if extr is None else extr[:, :T], last_frame_only=True)
            nxt = F.layer_norm(out.float(), (out.shape[-1],))  # (B, 1, N, D)
            preds.append(nxt)
            z = torch.cat([z, nxt.to(z.dtype)], dim=1)
        return preds

    def _rollout_cached(self, z: torch.Tensor, actions: torch.Tensor, states: torch.Tensor, H: int,
                        extr: torch.Tensor | None) -> list[torch.Tensor]:
        T0 = z.shape[1]
        cache: PredictorCache | None = None
        preds: list[torch.Tensor] = []
        new, lo = z, 0  # frames to feed: first the whole context, then one predicted frame at a time
        for _ in range(H):
            hi = lo + new.shape[1]
            out, cache = self.predictor.forward_cached(new, actions[:, lo:hi], states[:, lo:hi], cache,
                                                       None if extr is None else extr[:, lo:hi],
                                                       last_frame_only=True)
            pred = F.layer_norm(out.float(), (out.shape[-1],))  # (B, 1, N, D), float32
            preds.append(pred)
            new = pred.to(z.dtype)  # fed back in the predictor's dtype (a model cast with .to(bf16) works too)
            lo = hi
        assert lo == T0 - 1 + H
        return preds


def build_world_model(name_or_cfg: str | WorldModelConfig, **kwargs: Any) -> WorldModel:
    """Randomly initialised WorldModel from a name in WORLD_MODEL_CONFIGS or a config."""
    if isinstance(name_or_cfg, str):
        try:
            name_or_cfg = WORLD_MODEL_CONFIGS[name_or_cfg]
        except KeyError:
            raise KeyError(f"unknown world model '{name_or_cfg}'; available: {sorted(WORLD_MODEL_CONFIGS)}") from None
    return WorldModel(name_or_cfg, **kwargs)
