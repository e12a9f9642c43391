"""Frozen-encoder latents of training episodes kept on disk, so that a resumed post-training run does not encode
its whole dataset again.

Post-training runs the frozen encoder once over every episode before its first step (``encode_dataset``): ~6
minutes for 4242 two-view 96 px episodes with the tiny sim encoder on an idle 2-core CPU (an hour beside two
evaluation workers), hours for a paper-size encoder. Without a cache a run killed after that encodes everything
again on resume; reading the 4242 cached episodes back took ~18 s. With ``vjepa-posttrain latent_cache=<dir>``
each episode's latents are stored as ``<dir>/<encoding key>/<frames key>.pt`` the first time and read back
afterwards:

- the encoding key is the SHA-256 of the encoder's weights (as loaded, in memory), the model's image size,
  encoder dtype, bf16 autocast and device type, so latents of another encoder, or computed another way, are
  never mixed in;
- the frames key is the SHA-256 of the episode's frames (shape, dtype and bytes): an episode found under another
  directory, or copied, hits; a changed episode misses.

Latents are stored exactly as computed (float32 on the CPU), so a resumed run trains on the same numbers as an
uninterrupted one. A cache file that cannot be read, or whose shape does not fit its episode, is encoded again
and overwritten (with a warning). Size: frames x tokens x dim x 4 bytes (0.86 MB per 31-frame 96 px episode of
36 tokens of 192, 3.4 GB for 4242 of them).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from envs.atomic_files import remove_stale_tmp_files
from training.state import save_torch_atomic

log = logging.getLogger(__name__)


def encoding_key(model) -> str:
    """What decides a world model's latents of given frames: the SHA-256 (first 16 hex digits) of its encoder's
    parameters and buffers (by name) together with its image size, encoder dtype, bf16 autocast and device type."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.encoder.state_dict().items()):
        data = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}:{data.dtype}:{tuple(data.shape)};".encode())
        digest.update(data.reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(f"image_size={model.image_size};dtype={model._encoder_dtype};bf16={model.autocast_bf16};"
                  .encode())
    return f"{digest.hexdigest()[:16]}-{model.device.type}"


def frames_key(frames: np.ndarray) -> str:
    """Hex SHA-256 of an episode's frames: their shape, dtype and bytes."""
    frames = np.ascontiguousarray(frames)
    digest = hashlib.sha256(f"{frames.dtype.str}:{frames.shape};".encode())
    digest.update(frames.view(np.uint8).reshape(-1).data)
    return digest.hexdigest()


class LatentCache:
    """Latents ``(T, N, D)`` of episodes encoded by ``model`` (a :class:`world_model.model.WorldModel`), under
    ``root/<encoding key>/``. ``writable=False`` (the other processes of a distributed run) only reads; the main
    process writes."""

    def __init__(self, root: str | Path, model, writable: bool = True) -> None:
        self.dir = Path(root) / encoding_key(model)
        self.writable = writable
        self.hits = 0
        self.misses = 0
        if writable:
            self.dir.mkdir(parents=True, exist_ok=True)
            remove_stale_tmp_files(self.dir)  # latents half-written by a killed run

    def path(self, frames: np.ndarray) -> Path:
        return self.dir / f"{frames_key(frames)}.pt"

    def latents(self, frames: np.ndarray, encode: Callable[[], torch.Tensor]) -> torch.Tensor:
        """The latents (T, N, D) of ``frames`` (T, ...): read back when stored, else ``encode()``-d and stored
        (a read-only cache does not store)."""
        path = self.path(frames)  # hashed once per episode
        z = self._read(path, len(frames))
        if z is not None:
            self.hits += 1
            return z
        self.misses += 1
        z = encode()
        if self.writable:
            save_torch_atomic(path, z.detach().to("cpu").contiguous())
        return z

    @staticmethod
    def _read(path: Path, frames: int) -> torch.Tensor | None:
        """The tensor stored at ``path``, or None when absent, unreadable or not (frames, N, D) (with a warning)."""
        if not path.exists():
            return None
        try:
            z = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is encoded again
            log.warning("latent cache %s unreadable (%s: %s): encoding again", path, type(exc).__name__, exc)
            return None
        if not (isinstance(z, torch.Tensor) and z.dim() == 3 and z.shape[0] == frames):
            log.warning("latent cache %s holds %s, not (%d, N, D) latents: encoding again", path,
                        tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__, frames)
            return None
        return z
