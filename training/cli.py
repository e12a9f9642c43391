"""Console entry points vjepa-collect / vjepa-pretrain / vjepa-posttrain / vjepa-distill (hydra configs in configs/).

Override any field on the command line, e.g. ``vjepa-posttrain data_dir=data/reach64 steps=3000``.
Errors are one line on stderr naming the program and the problem, with exit status 1 (``VJEPA_DEBUG=1`` shows the
traceback): the one-line wrapper runs *inside* the hydra task function, because hydra would otherwise catch the
exception and print its own traceback. The configs disable hydra's ``.hydra/`` output and log files, so a run
writes only under its ``out_dir``.

Under ``torchrun`` every process runs the same command: only rank 0 prints the result, and an error line names the
rank that failed (``vjepa-posttrain[rank 1]: error: ...``).
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any, Callable

import hydra
from omegaconf import DictConfig, OmegaConf

from agent.cli_errors import cli_errors
from training.distributed import env_rank, env_world_size, is_main_process

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")
_NOT_FIELDS = ("hydra", "defaults")  # hydra's own keys in the yaml files, not config fields


def to_dataclass(cls: type, cfg: DictConfig) -> Any:
    """Frozen library config from a hydra config (unknown keys are an error, ``hydra``/``defaults`` are ignored)."""
    raw = {k: v for k, v in OmegaConf.to_container(cfg, resolve=False).items() if k not in _NOT_FIELDS}
    data = OmegaConf.to_container(OmegaConf.create(raw), resolve=True)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys: {unknown}; known: {sorted(known)}")
    return cls(**data)


def program_name(prog: str) -> str:
    """``prog``, tagged with this process's rank when torchrun started several processes."""
    return f"{prog}[rank {env_rank()}]" if env_world_size() > 1 else prog


def _entry(prog: str, config_name: str, run: Callable[[DictConfig], Any]) -> Callable[[], None]:
    @hydra.main(version_base=None, config_path=CONFIG_DIR, config_name=config_name)
    def _main(cfg: DictConfig) -> None:
        result = cli_errors(program_name(prog))(run)(cfg)
        if is_main_process():
            print(result)

    return _main


def _collect(cfg: DictConfig) -> Path:
    from training.collect import CollectConfig, collect
    return collect(to_dataclass(CollectConfig, cfg))


def _pretrain(cfg: DictConfig) -> Path:
    from training.pretrain import PretrainConfig, pretrain
    return pretrain(to_dataclass(PretrainConfig, cfg))


def _posttrain(cfg: DictConfig) -> Path:
    from training.posttrain import PosttrainConfig, posttrain
    return posttrain(to_dataclass(PosttrainConfig, cfg))


def _distill(cfg: DictConfig) -> Path:
    from training.distill import DistillConfig, distill
    return distill(to_dataclass(DistillConfig, cfg))


collect_main = _entry("vjepa-collect", "collect", _collect)
pretrain_main = _entry("vjepa-pretrain", "pretrain", _pretrain)
posttrain_main = _entry("vjepa-posttrain", "posttrain", _posttrain)
distill_main = _entry("vjepa-distill", "distill", _distill)
