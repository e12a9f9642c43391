"""`vjepa-eval`: the sim evaluation suite (hydra). Example:

    vjepa-eval agent=learned planner=cem episodes=50 tasks='[FrankaReach-v0]'
    vjepa-eval agent=oracle planner=cem jobs=2
    vjepa-eval agent=learned variants=robustness episodes=20          # every variant of agent.eval.VARIANTS
    vjepa-eval agent=learned 'variants=[nominal,lighting,far_goals]'
    vjepa-eval agent=learned tasks='[FrankaPickPlace-v0]' subgoals=true subgoal_steps=30
    vjepa-eval agent=learned model=runs/multitask/model tasks='[FrankaGrasp-v0]'   # the model's size/camera
    vjepa-eval agent=oracle camera=workspace image_size=96
    vjepa-eval agent=energy_oracle model=sim_multitask_distilled tasks='[FrankaGrasp-v0]' subgoals=true

``agent=energy_oracle`` is the learned agent with a perfect predictor (the simulator's true future frames, encoded by
the model's encoder; ``agent.true_future``): the ceiling of predictor training for that encoder, energy and planner.

``image_size`` and ``camera`` default to ``auto``: for agent=learned|energy_oracle the image size (px) and camera
preset the model was trained on (its JSON header: config.image_size and metadata.camera, "front" when the model
records none); for agent=oracle|random 64 px and "front". Explicit values are validated, and refused for
agent=learned|energy_oracle when they differ from the model's (its images would not look like its training data).
The resolved values are what results.json records (and what a resumed run must match).

Bad settings (unknown keys such as ``+epsiodes=50``, ``episodes=0``, ``bf16=maybe``, an unknown planner, ...) end
the run before any episode with one line on stderr and exit status 1 (``VJEPA_DEBUG=1`` shows the traceback).
With ``out_dir=`` set, nothing is written outside it (no ``outputs/eval/<time>``, ``.hydra`` or log file).
"""

from __future__ import annotations

import difflib
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from agent.cli_errors import cli_errors

PROG = "vjepa-eval"
TOP_KEYS = ("agent", "planner", "planner_overrides", "model", "tasks", "episodes", "seed", "image_size", "camera",
            "max_steps", "video", "bf16", "device", "jobs", "energy", "label", "out_dir", "variants", "subgoals",
            "subgoal_steps", "subgoal_energy_threshold", "subgoal_plateau_patience", "subgoal_waypoint_spacing",
            "release_in_place", "planner_seeding", "one_step_alternative")
ENERGY_KEYS = ("all_frames", "state_weight", "norm")
AUTO = "auto"
DEFAULT_VIEW = (64, "front")  # image size (px) and camera preset of agent=oracle|random with auto


def _first_set(value: Any, default: Any) -> Any:
    """Resolver for the hydra run dir: ``out_dir`` when given, else the timestamped default."""
    return default if value in (None, "") else value


if not OmegaConf.has_resolver("vjepa_first_set"):
    OmegaConf.register_new_resolver("vjepa_first_set", _first_set)


def _unknown(keys: Any, known: tuple[str, ...], where: str) -> list[str]:
    problems = []
    for key in keys:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown config key {where + str(key)!r}{hint}")
    return problems


def check_keys(cfg: DictConfig) -> None:
    """ValueError listing unknown or missing keys (a typo such as ``+epsiodes=50`` would otherwise be ignored)."""
    problems = _unknown(cfg.keys(), TOP_KEYS, "")
    problems += [f"config key {key!r} is missing" for key in TOP_KEYS if key not in cfg]
    energy = cfg.get("energy")
    if not isinstance(energy, DictConfig):
        problems.append(f"energy must be a mapping with {', '.join(ENERGY_KEYS)}, got {energy!r}")
    else:
        problems += _unknown(energy.keys(), ENERGY_KEYS, "energy.")
        problems += [f"config key 'energy.{key}' is missing" for key in ENERGY_KEYS if key not in energy]
    if problems:
        raise ValueError("; ".join(problems) + f"; valid keys: {', '.join(TOP_KEYS)}")


def _plain(value: Any) -> Any:
    """OmegaConf containers as plain Python values (lists, dicts)."""
    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


def _text(name: str, value: Any, allow_none: bool = False) -> str | None:
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, list, dict)) or OmegaConf.is_config(value) or value is None:
        raise ValueError(f"{name} must be a string, got {_plain(value)!r}")
    return str(value)


def _check_learned_view(model: str, view: tuple[int, str], asked: tuple[Any, Any]) -> None:
    """ValueError when an explicit image size (px) or camera differs from what the learned model was trained on."""
    for name, value, trained in zip(("image_size", "camera"), asked, view):
        if value != AUTO and value != trained:
            raise ValueError(f"{name}={value!r} but the world model {model!r} was trained with {name}={trained!r}: "
                             f"use {name}=auto (or {trained})")


def resolve_view(kind: str, model: str, image_size: Any, camera: Any) -> tuple[Any, Any]:
    """(image size in px, camera preset) with ``auto`` resolved: the learned agent's model's (from its JSON header;
    "front" when it records no camera), :data:`DEFAULT_VIEW` for the oracle and random agents. Explicit values are
    validated (ValueError listing the choices) and, for agent=learned|energy_oracle, must equal the model's."""
    from agent.eval import check_camera, check_image_size
    from agent.factory import MODEL_KINDS

    image_size = image_size if image_size == AUTO else check_image_size(image_size)
    camera = camera if camera == AUTO else check_camera(camera)
    if kind not in MODEL_KINDS:
        return (DEFAULT_VIEW[0] if image_size == AUTO else image_size, DEFAULT_VIEW[1] if camera == AUTO else camera)
    from agent.factory import model_view, resolve_model_path

    view = model_view(resolve_model_path(model))
    _check_learned_view(model, view, (image_size, camera))
    return view


def build(cfg: DictConfig, out_dir: str) -> tuple[Any, Any, str]:
    """(EvalConfig, AgentSpec, label) from the hydra config, ``auto`` image size / camera resolved (see
    :func:`resolve_view`); ValueError naming the first bad setting."""
    from agent.energy import EnergyConfig
    from agent.eval import AgentSpec, EvalConfig

    check_keys(cfg)
    energy = EnergyConfig(all_frames=cfg.energy.all_frames, state_weight=cfg.energy.state_weight,
                          norm=cfg.energy.norm)
    spec = AgentSpec(kind=_text("agent", cfg.agent), planner=_text("planner", cfg.planner),
                     planner_overrides=_plain(cfg.planner_overrides), model=_text("model", cfg.model),
                     seed=cfg.seed, bf16=cfg.bf16, device=_text("device", cfg.device), energy=energy,
                     release_in_place=cfg.release_in_place, one_step_alternative=cfg.one_step_alternative)
    image_size, camera = resolve_view(spec.kind, spec.model, _plain(cfg.image_size), _plain(cfg.camera))
    eval_cfg = EvalConfig(tasks=_plain(cfg.tasks), episodes=cfg.episodes, seed=cfg.seed, image_size=image_size,
                          camera=camera, max_steps=cfg.max_steps, video=cfg.video, out_dir=out_dir, jobs=cfg.jobs,
                          variants=_plain(cfg.variants), subgoals=cfg.subgoals, subgoal_steps=cfg.subgoal_steps,
                          subgoal_energy_threshold=cfg.subgoal_energy_threshold,
                          subgoal_plateau_patience=cfg.subgoal_plateau_patience,
                          subgoal_waypoint_spacing=cfg.subgoal_waypoint_spacing,
                          planner_seeding=_text("planner_seeding", cfg.planner_seeding))
    label = _text("label", cfg.label, allow_none=True)
    if label is None:
        label = f"{spec.kind}+{spec.planner}" if spec.kind != "random" else "random"
    return eval_cfg, spec, label


def run(cfg: DictConfig) -> dict:
    from agent.eval import format_table, run_suite

    out_dir = cfg.get("out_dir") or hydra.core.hydra_config.HydraConfig.get().runtime.output_dir
    eval_cfg, spec, label = build(cfg, str(out_dir))
    results = run_suite(eval_cfg, spec, label)
    print(format_table(results))
    print(f"results: {out_dir}/results.json")
    return results


@cli_errors(PROG)
def _run_cli(cfg: DictConfig) -> None:
    run(cfg)


@hydra.main(version_base=None, config_path="../configs/eval", config_name="eval")
def main(cfg: DictConfig) -> None:
    _run_cli(cfg)  # errors become one line here: hydra would print a traceback for anything raised past this


if __name__ == "__main__":
    main()
