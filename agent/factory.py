"""Build agents by name for the CLI and benchmarks: learned (world model + planner), energy_oracle (the learned
agent's energy over the simulator's true future frames: a perfect predictor), oracle (true task distance), random.

A learned or energy_oracle agent is refused for an env whose images differ from the model's training data: another
image size (px, the model config's ``image_size``) or, for the lean Franka sim envs, another camera preset (the model's
``metadata.camera``; models saved without it were trained on "front")."""

from __future__ import annotations

from pathlib import Path
from typing import Any


from agent.agent import Agent, AgentConfig
from agent.energy import EnergyConfig
from agent.oracle import OracleAgent, RandomAgent
from planners import make_planner, paper_bounds

# CPU-friendly planner settings for the shipped tiny model (the paper's: 400-800 samples, 10 iterations, horizon
# 1-2). CEM plans one step ahead (the paper's later setting, horizon 1) with 48 samples, keeps its elites across
# iterations and stops once the mean elite energy improves by < 1% (2-4 iterations): ~170 predicted frames per
# action instead of the earlier 100 x 5 x horizon 2 = 1000, at the same success in our 20-seed checks (seeds
# 3000-3019, reach: 18/20 vs 17/20; 64 samples gave 18/20 reach and 6/20 on reach-with-object, 48 samples the
# same); benchmarks/bench_planning.py times both. MPPI likewise plans one step with
# 64 samples x 4 iterations (256 frames instead of 1000).
CPU_PLANNER_DEFAULTS: dict[str, dict[str, Any]] = {
    "cem": {"samples": 48, "topk": 10, "iterations": 4, "horizon": 1, "keep_elites": True, "early_stop_tol": 0.01,
            "min_iterations": 2},
    "mppi": {"samples": 64, "iterations": 4, "horizon": 1},  # 17/20 reach, as 100 x 5 at horizon 1 or 2
    "icem": {"samples": 100, "topk": 10, "iterations": 5, "horizon": 2},
    "random": {"samples": 300, "horizon": 2},
}
ORACLE_PLANNER_DEFAULTS: dict[str, dict[str, Any]] = {
    "cem": {"samples": 32, "topk": 5, "iterations": 3, "horizon": 1},
    "mppi": {"samples": 32, "iterations": 3, "horizon": 1},
    "icem": {"samples": 32, "topk": 5, "iterations": 3, "horizon": 1},
    "random": {"samples": 64, "horizon": 1},
}


def planner_defaults(table: dict[str, dict[str, Any]], planner: str) -> dict[str, Any]:
    """The default settings of ``planner`` in ``table``; ValueError listing the choices for an unknown name."""
    if planner not in table:
        raise ValueError(f"unknown planner {planner!r}; choose one of {', '.join(sorted(table))}")
    return table[planner]


MODEL_KINDS = ("learned", "energy_oracle")  # the agent kinds that plan with a world model's encoder

SHIPPED_MODEL = "sim_reach"  # what model="shipped" means (a name in world_model/weights/)


def resolve_model_path(model: str) -> Path:
    """"shipped" -> world_model/weights/<SHIPPED_MODEL>; the name of shipped weights (``sim_reach``,
    ``sim_multitask``, ``sim_multitask_distilled``, ``sim_wrist``, ``sim_wrist_cpu``) -> world_model/weights/<name>;
    else a path base (with or without .safetensors)."""
    from world_model.pretrained import available_weights, pretrained_path

    if model == "shipped":
        return pretrained_path(SHIPPED_MODEL)
    if model in available_weights() and not Path(model).with_suffix(".safetensors").exists():
        return pretrained_path(model)
    base = Path(model)
    base = base.with_suffix("") if base.suffix == ".safetensors" else base
    if not base.with_suffix(".safetensors").exists():
        raise FileNotFoundError(f"world model {model!r}: {base.with_suffix('.safetensors')} does not exist")
    return base


def agent_planner(kind: str, planner: str, overrides: dict[str, Any] | None = None):
    """The planner ``make_agent`` gives a ``kind`` ("learned", "energy_oracle" or "oracle") agent: ``planner`` with
    this package's defaults for that agent (:data:`CPU_PLANNER_DEFAULTS`, :data:`ORACLE_PLANNER_DEFAULTS`), then
    ``overrides``."""
    table = ORACLE_PLANNER_DEFAULTS if kind == "oracle" else CPU_PLANNER_DEFAULTS
    return make_planner(planner, paper_bounds(), **{**planner_defaults(table, planner), **(overrides or {})})


def check_agent_options(kind: str, release_in_place: bool, one_step_alternative: bool) -> None:
    """ValueError for an option the agent ``kind`` cannot use: ``release_in_place`` needs a world model's agent
    (:data:`MODEL_KINDS`), ``one_step_alternative`` a planning one (not random)."""
    if release_in_place and kind not in MODEL_KINDS:
        raise ValueError(f"release_in_place applies to the learned and energy_oracle agents, not {kind!r}")
    if one_step_alternative and kind == "random":
        raise ValueError("one_step_alternative applies to planning agents, not 'random'")


def check_one_step_horizon(horizon: int, hint: str = "planner_overrides={horizon: 3}") -> None:
    """ValueError when ``one_step_alternative`` would search horizon-1 plans beside a horizon-1 planner (twice the
    time for nothing); ``hint`` says how the caller's user sets a longer horizon."""
    if horizon < 2:
        raise ValueError(f"one_step_alternative needs a planner horizon > 1 (it adds one-step plans beside longer "
                         f"ones); the planner's horizon is {horizon}: e.g. {hint}")


def _planner(kind: str, planner: str, overrides: dict[str, Any], one_step_alternative: bool):
    """:func:`agent_planner`, wrapped in a :class:`planners.one_step.OneStepAlternative` (its one-step planner the
    same planner at horizon 1) when asked."""
    full = agent_planner(kind, planner, overrides)
    if not one_step_alternative:
        return full
    check_one_step_horizon(full.horizon)
    from planners.one_step import OneStepAlternative

    return OneStepAlternative(full, agent_planner(kind, planner, {**overrides, "horizon": 1}))


def resolved_planner_settings(kind: str, planner: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every field of the config of :func:`agent_planner` (the planner's own defaults included). Recorded with
    results, so that a change of the defaults does not mix results planned with different settings."""
    import dataclasses

    return dataclasses.asdict(agent_planner(kind, planner, overrides).config)


def model_fingerprint(model: str) -> str | None:
    """Hex SHA-256 of the weights file of the world model ``model`` ("shipped", a shipped name or a path), so that
    results of a model whose weights changed under the same name are told apart; None when no such model exists
    (building the agent then fails, naming it)."""
    from training.state import file_sha256

    try:
        path = resolve_model_path(model).with_suffix(".safetensors")
    except FileNotFoundError:
        return None
    return file_sha256(path)  # ~0.1 s for the shipped models


def model_view(path: str | Path) -> tuple[int, str]:
    """(image size in px, camera preset) of the world model at ``path``'s training data, from its JSON header; a
    model without a recorded camera counts as "front"."""
    from envs.scene import DEFAULT_CAMERA
    from world_model.checkpoint import config_from_header, read_world_model_metadata, world_model_camera

    header = read_world_model_metadata(path)
    size = config_from_header(header, path).image_size
    return size, world_model_camera(path) or DEFAULT_CAMERA


def model_env_kwargs(model: str) -> dict[str, Any]:
    """The ``gym.make`` kwargs (``image_size``, and ``camera`` when not "front") that render what the world model
    ``model`` ("shipped", a shipped name or a path) was trained on."""
    from envs.scene import camera_env_kwargs

    size, camera = model_view(resolve_model_path(model))
    return {"image_size": size, **camera_env_kwargs(camera)}


def env_image_size(env) -> int | None:
    """Side (px) of the env's square observation images, or None when its observation space has no image."""
    try:
        return int(env.observation_space["image"].shape[0])
    except (AttributeError, KeyError, TypeError, IndexError):
        return None


def sim_camera(env) -> str | None:
    """The camera preset of a lean Franka sim env; None for other envs (robosuite adapters, hardware), whose
    cameras are not presets of envs.scene.CAMERAS."""
    from envs.franka_env import FrankaEnv

    unwrapped = getattr(env, "unwrapped", env)
    return unwrapped.camera if isinstance(unwrapped, FrankaEnv) else None


def check_env_matches_model(env, path: str | Path) -> None:
    """ValueError (one line, saying what to change) when ``env`` renders images the model was not trained on:
    another image size (px) or, for Franka sim envs, another camera preset."""
    size, camera = model_view(path)
    env_size, env_camera = env_image_size(env), sim_camera(env)
    if env_size is not None and env_size != size:
        raise ValueError(f"world model {path} was trained on {size} px images but the env renders {env_size} px: "
                         f"build the env with image_size={size} (vjepa-eval: image_size=auto)")
    if env_camera is not None and env_camera != camera:
        raise ValueError(f"world model {path} was trained on the {camera!r} camera but the env uses {env_camera!r}: "
                         f"build the env with camera={camera!r} (vjepa-eval: camera=auto)")


def make_agent(kind: str, env, planner: str = "cem", planner_overrides: dict[str, Any] | None = None,
               model: str = "shipped", seed: int = 0, bf16: bool | str | None = "auto",
               energy: EnergyConfig = EnergyConfig(), device: str = "auto", release_in_place: bool = False,
               one_step_alternative: bool = False):
    """kind: "learned" | "energy_oracle" | "oracle" | "random".

    "energy_oracle" is the learned agent (same encoder, energy, planner and defaults) with its predictor replaced by
    the simulator (:class:`agent.true_future.TrueFutureModel`): what a perfect predictor would achieve.

    bf16: "auto" (default: bf16 autocast only on CUDA or a CPU with native bf16 kernels, see
    world_model.precision), True or False to force it. device: "auto" (CUDA when present), "cpu" or "cuda[:N]".
    The learned agent reports both choices in ``agent.runtime_info()``; it is refused (ValueError) for an env
    whose image size or camera differ from the model's training data (see :func:`check_env_matches_model`).
    release_in_place: :class:`agent.agent.AgentConfig`'s rule (learned and energy_oracle agents only).
    one_step_alternative: also search plans that move in their first step only and then hold still, and execute
    whichever plan scores lower (:class:`planners.one_step.OneStepAlternative`; every agent but random)."""
    overrides = dict(planner_overrides or {})
    check_agent_options(kind, release_in_place, one_step_alternative)
    if kind == "random":
        return RandomAgent(env.action_space, seed=seed)
    if kind == "oracle":
        return OracleAgent(env, _planner(kind, planner, overrides, one_step_alternative), seed=seed)
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown agent kind {kind!r}; choose learned, energy_oracle, oracle or random")
    from world_model.checkpoint import load_world_model
    from world_model.precision import resolve_device, resolve_precision

    path = resolve_model_path(model)
    check_env_matches_model(env, path)
    dev = resolve_device(device)
    precision = resolve_precision(bf16, dev)
    wm = load_world_model(path, device=dev, autocast_bf16=precision.bf16)
    if kind == "energy_oracle":
        from agent.true_future import TrueFutureModel

        wm = TrueFutureModel(env, wm)
    config = AgentConfig(energy=energy, seed=seed, release_in_place=release_in_place)
    agent = Agent(wm, _planner(kind, planner, overrides, one_step_alternative), config,
                  action_space=env.action_space)
    agent.precision = precision
    return agent
