"""Training on several processes or machines (torchrun + DistributedDataParallel) and the training device.

A training run started by ``torchrun`` (environment variables ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR``/``MASTER_PORT``) with ``WORLD_SIZE > 1`` joins a process group (backend ``gloo`` on CPU, ``nccl``
on CUDA); without torchrun (or with one process) nothing changes: no process group, no DDP wrapper.

Data split (:func:`rank_micro_batches`): every rank draws the *global* batch of the step from the same seeded
generator (identical draws on every rank, so the generator state is global and one checkpoint fits any number of
processes), then keeps its contiguous slice ``[rank * B / W, (rank + 1) * B / W)`` and cuts it into
``accum_steps`` micro-batches of ``B / (W * accum_steps)`` clips. The union over ranks is exactly the clips a
one-process run draws. Each micro-batch loss is a mean over equally sized micro-batches, scaled by
``1 / accum_steps`` and summed by backward; DDP averages over the W ranks: the gradient is the mean over the
global batch, as in one process.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from dataclasses import dataclass
from typing import Iterator, Sequence, TypeVar

import torch
import torch.distributed as dist
from torch import nn

T = TypeVar("T")

_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


@dataclass(frozen=True)
class DistContext:
    """Where this process trains: its rank among ``world_size`` processes and its torch device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    bf16: bool = False  # train under bf16 autocast (training.precision)

    @property
    def distributed(self) -> bool:
        """True when the run spans several processes (a process group is in use)."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that logs, shows progress bars and writes files."""
        return self.rank == 0


def check_device_name(owner: str, value: object) -> None:
    """``value`` is ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (availability is checked when the run starts)."""
    if not isinstance(value, str) or not _DEVICE.match(value.strip().lower()):
        raise ValueError(f"{owner}.device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {value!r}")


def env_world_size() -> int:
    """WORLD_SIZE as set by torchrun (1 when not launched by torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def env_rank() -> int:
    """RANK as set by torchrun (0 when not launched by torchrun)."""
    return int(os.environ.get("RANK", "0"))


def is_main_process() -> bool:
    """True on rank 0 (and in a plain, single-process run); readable before the process group exists."""
    return (dist.get_rank() if dist.is_available() and dist.is_initialized() else env_rank()) == 0


def training_device(name: str, local_rank: int, world_size: int) -> torch.device:
    """The device of this process: ``auto`` = CUDA when present, else CPU; ``cpu``/``cuda`` force. Under torchrun
    with several processes each one takes ``cuda:LOCAL_RANK`` (an explicit ``cuda:N`` is then refused)."""
    from world_model.precision import resolve_device

    device = resolve_device(name)
    if device.type != "cuda" or world_size == 1:
        return device
    if device.index is not None:
        raise ValueError(f"device={name!r} names one GPU, but this run has {world_size} processes: use device=cuda "
                         f"or auto (each process takes cuda:LOCAL_RANK)")
    if local_rank >= torch.cuda.device_count():
        raise ValueError(f"LOCAL_RANK={local_rank} but this machine has {torch.cuda.device_count()} GPUs: start at "
                         f"most that many processes per node (torchrun --nproc_per_node)")
    return torch.device("cuda", local_rank)


def _join_group(device: torch.device) -> bool:
    """Initialise the default process group from the torchrun environment; True when this call created it."""
    if dist.is_initialized():
        return False
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo", init_method="env://")
    return True


@contextlib.contextmanager
def distributed_context(device: str) -> Iterator[DistContext]:
    """The :class:`DistContext` of this process; joins (and on exit leaves) the process group when launched by
    torchrun with WORLD_SIZE > 1. A group that already exists (a caller's) is used and left open."""
    world_size = env_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = training_device(device, local_rank, world_size)
    if world_size == 1:
        yield DistContext(0, 1, 0, dev)
        return
    created = _join_group(dev)
    try:
        yield DistContext(dist.get_rank(), dist.get_world_size(), local_rank, dev)
    finally:
        if created:
            dist.destroy_process_group()


@contextlib.contextmanager
def quiet_unless_main(ctx: DistContext) -> Iterator[None]:
    """Silence warnings (e.g. skipped corrupt episodes) on ranks other than 0, which load the same data: the
    report is printed once."""
    if ctx.is_main:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def micro_batch_size(owner: str, batch_size: int, world_size: int, accum_steps: int) -> int:
    """Clips per forward pass on one rank: ``batch_size / (world_size * accum_steps)`` (ValueError unless whole)."""
    parts = world_size * accum_steps
    if batch_size % parts:
        raise ValueError(f"{owner}.batch_size={batch_size} (the global batch) must be divisible by the number of "
                         f"processes ({world_size}) x accum_steps ({accum_steps}) = {parts}")
    return batch_size // parts


def rank_micro_batches(items: Sequence[T], ctx: DistContext, accum_steps: int) -> list[list[T]]:
    """This rank's micro-batches of one global batch ``items``: its contiguous slice, cut into ``accum_steps``
    equal parts (the caller has checked divisibility with :func:`micro_batch_size`)."""
    per_rank = len(items) // ctx.world_size
    mine = list(items[ctx.rank * per_rank:(ctx.rank + 1) * per_rank])
    size = per_rank // accum_steps
    return [mine[i * size:(i + 1) * size] for i in range(accum_steps)]


def wrap_ddp(module: nn.Module, ctx: DistContext) -> nn.Module:
    """``module`` in DistributedDataParallel when the run is distributed, else ``module`` itself. Parameters that
    a step does not use (e.g. the extrinsics encoder) keep a None gradient, as in one process."""
    if not ctx.distributed:
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=True)


def sync_unless(module: nn.Module, skip: bool) -> contextlib.AbstractContextManager:
    """``module.no_sync()`` when ``skip`` (a micro-batch before the last one of a step), else a no-op context."""
    if skip and hasattr(module, "no_sync"):
        return module.no_sync()
    return contextlib.nullcontext()


def global_mean(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """The mean of ``values`` over ranks (each rank's values are means over equally many clips)."""
    if not ctx.distributed:
        return values
    out = values.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / ctx.world_size


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (no-op in one process); the device is named so NCCL does not guess it."""
    if ctx.distributed:
        dist.barrier(device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)


# Why ranks may disagree on what they read (checkpoint step, episode count, a finished run): say what to fix.
SHARED_FILES_HINT = "every process must see the same out_dir and data_dir (a shared filesystem on several machines)"


def check_same_on_all_ranks(ctx: DistContext, what: str, value: int, hint: str) -> None:
    """ValueError (raised on every rank) when the ranks see different ``value`` s, e.g. a checkpoint step or an
    episode count that only some machines see."""
    if not ctx.distributed:
        return
    mine = torch.tensor([value], dtype=torch.int64, device=ctx.device)
    seen = [torch.zeros_like(mine) for _ in range(ctx.world_size)]
    dist.all_gather(seen, mine)
    values = [int(v.item()) for v in seen]
    if len(set(values)) > 1:
        listing = ", ".join(f"rank {r}: {v}" for r, v in enumerate(values))
        raise ValueError(f"the processes disagree on {what} ({listing}); {hint}")
