"""Console entry points vjepa-collect / vjepa-pretrain / vjepa-posttrain (hydra configs in configs/).

Override any field on the command line, e.g. ``vjepa-posttrain data_dir=data/reach64 steps=3000``.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any, Callable

import hydra
from omegaconf import DictConfig, OmegaConf

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")


def to_dataclass(cls: type, cfg: DictConfig) -> Any:
    """Frozen library config from a hydra config (unknown keys are an error, ``hydra`` is ignored)."""
    raw = {k: v for k, v in OmegaConf.to_container(cfg, resolve=False).items() if k != "hydra"}
    data = OmegaConf.to_container(OmegaConf.create(raw), resolve=True)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys: {unknown}; known: {sorted(known)}")
    return cls(**data)


def _entry(config_name: str, run: Callable[[DictConfig], Any]) -> Callable[[], None]:
    @hydra.main(version_base=None, config_path=CONFIG_DIR, config_name=config_name)
    def _main(cfg: DictConfig) -> None:
        print(run(cfg))

    return _main


def _collect(cfg: DictConfig):
    from training.collect import CollectConfig, collect
    return collect(to_dataclass(CollectConfig, cfg))


def _pretrain(cfg: DictConfig):
    from training.pretrain import PretrainConfig, pretrain
    return pretrain(to_dataclass(PretrainConfig, cfg))


def _posttrain(cfg: DictConfig):
    from training.posttrain import PosttrainConfig, posttrain
    return posttrain(to_dataclass(PosttrainConfig, cfg))


collect_main = _entry("collect", _collect)
pretrain_main = _entry("pretrain", _pretrain)
posttrain_main = _entry("posttrain", _posttrain)
