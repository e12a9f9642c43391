"""The sim evaluation suite: N seeded episodes per task -> results.json, per-episode mp4, summary table.

An episode ends at success (judged from the TRUE simulator state by ``env.is_success()``) or after
``max_steps`` actions. Each episode depends only on its seed: the env is reset with it and the agent is reset
(re-seeded, planner warm start cleared) before every episode, so ``jobs=N`` worker processes give the same
per-episode results as a serial run. Every finished episode is recorded in results.json at once (atomic, locked:
see :mod:`agent.eval_results`); an interrupted run resumes where it stopped, and a run whose agent, planner, model,
seed, image size, camera, max steps or subgoal mode differ from the stored results is refused.

Camera (``EvalConfig.camera``): the preset of :data:`envs.scene.CAMERAS` the Franka sim envs render with (robosuite
ids take none: only "front", the default, which is not passed to them). A learned agent must be evaluated with the
image size and camera its model was trained on (:func:`agent.factory.make_agent` refuses others).

Robustness suite (``variants``): every task is evaluated under each named variant of :data:`VARIANTS` (a scene
randomisation preset of :mod:`envs.randomization` and/or goals beyond the training range); ``"robustness"``
expands to all of them. Goal images are rendered by the episode's own env, so they come from the same variant.

Subgoal mode (``EvalConfig.subgoals``): the agent is wrapped in :class:`agent.subgoals.SubgoalAgent` and fed the
env's goal sequence ``info["subgoals"]`` (refreshed from ``info`` every step); each episode records its switches.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from agent.energy import EnergyConfig
from agent.eval_results import NOMINAL, ResultsStore, entry_key, iter_entries, summarise  # noqa: F401 - API
from agent.seeding import check_planner_seeding, reset_agent
from agent.subgoals import SubgoalAgent, SubgoalConfig
from envs.scene import DEFAULT_CAMERA, camera_env_kwargs, camera_preset
from envs.spec import SUPPORTED_IMAGE_SIZES
from envs.registration import check_waypoint_spacing, waypoint_task_ids
from envs.tasks import SUCCESS_TEST_VERSION, subgoal_sequences

AGENT_KINDS = ("learned", "energy_oracle", "oracle", "random")
BF16_CHOICES = ("auto", True, False)


def require_int(name: str, value: Any, minimum: int) -> int:
    """``value`` if it is an integer (not a bool) >= ``minimum``; ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Variant:
    """One evaluation condition: the env built with ``randomize`` (a preset of :mod:`envs.randomization`, whose
    ranges are documented there) and ``goal_range_scale`` (1.0: goals drawn from the training range)."""

    description: str
    randomize: str = "none"
    goal_range_scale: float = 1.0

    def env_kwargs(self) -> dict[str, Any]:
        """The ``gym.make`` kwargs that differ from the default env (empty for the nominal scene and goals)."""
        kwargs: dict[str, Any] = {}
        if self.randomize != "none":
            kwargs["randomize"] = self.randomize
        if self.goal_range_scale != 1.0:
            kwargs["goal_range_scale"] = self.goal_range_scale
        return kwargs


FAR_GOAL_SCALE = 1.5
VARIANTS: Mapping[str, Variant] = MappingProxyType({
    NOMINAL: Variant("the training conditions: default scene, goals from the training range"),
    "lighting": Variant("light intensity, colour and direction randomised", randomize="lighting"),
    "colors": Variant("table, floor, cube and robot colours / textures randomised", randomize="colors"),
    "camera": Variant("camera position, orientation and field of view perturbed", randomize="camera"),
    "distractors": Variant("1-3 static visual-only shapes beside the workspace", randomize="distractors"),
    "noise": Variant("Gaussian pixel noise on observation and goal images", randomize="noise"),
    "all": Variant("every randomisation axis at once", randomize="all"),
    "far_goals": Variant(f"nominal scene, goal box scaled x{FAR_GOAL_SCALE} beyond the training range",
                         goal_range_scale=FAR_GOAL_SCALE),
    "all_far_goals": Variant(f"every randomisation axis and goals scaled x{FAR_GOAL_SCALE}", randomize="all",
                             goal_range_scale=FAR_GOAL_SCALE),
})
SUITE_SHORTCUTS: Mapping[str, tuple[str, ...]] = MappingProxyType({"robustness": tuple(VARIANTS)})


def variant_env_kwargs(variant: str) -> dict[str, Any]:
    """``gym.make`` kwargs of a named variant; ValueError listing the known names."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)} "
                         f"(or {', '.join(SUITE_SHORTCUTS)} for all of them)")
    return VARIANTS[variant].env_kwargs()


def check_camera(camera: Any) -> str:
    """``camera`` if it names a preset of envs.scene.CAMERAS; ValueError listing the presets otherwise."""
    if not isinstance(camera, str):
        raise ValueError(f"camera must be a camera preset name, got {camera!r}")
    camera_preset(camera)
    return camera


def check_image_size(image_size: Any) -> int:
    """``image_size`` (px) if it is one of envs.spec.SUPPORTED_IMAGE_SIZES; ValueError listing them otherwise."""
    if isinstance(image_size, bool) or image_size not in SUPPORTED_IMAGE_SIZES:
        raise ValueError(f"image_size must be one of {SUPPORTED_IMAGE_SIZES}, got {image_size!r}")
    return int(image_size)


def _normalise_variants(variants: Any) -> tuple[str, ...]:
    """A name string is one variant; shortcuts (``robustness``) expand; order kept, repeats dropped."""
    if isinstance(variants, str):
        variants = (variants,)
    try:
        names = tuple(variants)
    except TypeError:
        raise ValueError(f"variants must be a list of variant names, got {variants!r}") from None
    if not names or not all(isinstance(v, str) for v in names):
        raise ValueError(f"variants must be a non-empty list of variant names, got {list(names)!r}")
    expanded: list[str] = []
    for name in names:
        for variant in SUITE_SHORTCUTS.get(name, (name,)):
            variant_env_kwargs(variant)  # ValueError for an unknown name
            if variant not in expanded:
                expanded.append(variant)
    return tuple(expanded)


def _normalise_tasks(tasks: Any) -> tuple[str, ...]:
    """A task id string is one task; otherwise a non-empty sequence of distinct non-empty id strings."""
    if isinstance(tasks, str):
        tasks = (tasks,)
    try:
        tasks = tuple(tasks)
    except TypeError:
        raise ValueError(f"tasks must be a list of env ids, got {tasks!r}") from None
    if not tasks or not all(isinstance(t, str) and t for t in tasks):
        raise ValueError(f"tasks must be a non-empty list of env ids, got {list(tasks)!r}")
    if len(set(tasks)) != len(tasks):
        raise ValueError(f"tasks lists an env more than once: {list(tasks)!r}")
    return tasks


def _check_subgoal_fields(subgoals: Any, steps: Any, threshold: Any, patience: Any = None) -> None:
    if not isinstance(subgoals, bool):
        raise ValueError(f"subgoals must be true or false, got {subgoals!r}")
    if steps is not None:
        require_int("subgoal_steps", steps, 1)
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                  or not math.isfinite(threshold)):
        raise ValueError(f"subgoal_energy_threshold must be a finite number or null, got {threshold!r}")
    if patience is not None:
        require_int("subgoal_plateau_patience", patience, 1)
    if subgoals and steps is None and threshold is None and patience is None:
        raise ValueError("subgoals=true needs subgoal_steps and/or subgoal_energy_threshold (or "
                         "subgoal_plateau_patience), otherwise no subgoal is ever left")


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate: ``episodes`` seeds ``seed, seed+1, ...`` on each task under each of ``variants`` (names
    of :data:`VARIANTS`; ``"robustness"`` is all of them). max_steps None: the task's max_episode_steps. jobs:
    worker processes (spawned) that share the episodes. image_size: observation side in px. camera: the camera
    preset of the Franka envs (:data:`envs.scene.CAMERAS`; "front" for robosuite ids). subgoals: follow
    ``info["subgoals"]`` with a :class:`agent.subgoals.SubgoalAgent` switching after ``subgoal_steps`` actions
    and/or once the plan cost is <= ``subgoal_energy_threshold``. subgoal_waypoint_spacing (metres, subgoal mode
    only): reach, grasp and pick-and-place envs add waypoint images that split the (expert's) free-space moves
    into legs of at most about that length (``envs.tasks.leg_ends``). planner_seeding: "per_episode" seeds each
    episode's planner noise from (agent seed, episode seed), so episodes are independent draws; "shared" restarts
    one stream before every episode, as every run before session 19 did (:mod:`agent.seeding`)."""

    tasks: tuple[str, ...] = ("FrankaReach-v0",)
    episodes: int = 10
    seed: int = 1000
    image_size: int = 64
    camera: str = DEFAULT_CAMERA
    max_steps: int | None = None
    video: bool = True
    out_dir: str = "outputs/eval"
    jobs: int = 1
    variants: tuple[str, ...] = (NOMINAL,)
    subgoals: bool = False
    subgoal_steps: int | None = 20
    subgoal_energy_threshold: float | None = None
    subgoal_plateau_patience: int | None = None
    subgoal_waypoint_spacing: float | None = None
    planner_seeding: str = "per_episode"

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", _normalise_tasks(self.tasks))
        check_planner_seeding(self.planner_seeding)
        object.__setattr__(self, "variants", _normalise_variants(self.variants))
        _check_subgoal_fields(self.subgoals, self.subgoal_steps, self.subgoal_energy_threshold,
                              self.subgoal_plateau_patience)
        if self.subgoal_waypoint_spacing is not None:
            if not self.subgoals:
                raise ValueError("subgoal_waypoint_spacing adds subgoal images: it needs subgoals=true")
            check_waypoint_spacing(self.subgoal_waypoint_spacing)
        require_int("episodes", self.episodes, 1)
        require_int("seed", self.seed, 0)
        require_int("jobs", self.jobs, 1)
        if self.max_steps is not None:
            require_int("max_steps", self.max_steps, 1)
        check_image_size(self.image_size)
        check_camera(self.camera)
        if not isinstance(self.video, bool):
            raise ValueError(f"video must be true or false, got {self.video!r}")
        if not isinstance(self.out_dir, (str, Path)) or not str(self.out_dir):
            raise ValueError(f"out_dir must be a non-empty path, got {self.out_dir!r}")

    def subgoal_config(self) -> SubgoalConfig | None:
        """The switch rule of subgoal mode, or None when it is off."""
        if not self.subgoals:
            return None
        threshold = None if self.subgoal_energy_threshold is None else float(self.subgoal_energy_threshold)
        return SubgoalConfig(steps_per_subgoal=self.subgoal_steps, energy_threshold=threshold,
                             plateau_patience=self.subgoal_plateau_patience)


def _check_energy(energy: EnergyConfig) -> None:
    weight = energy.state_weight
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
        raise ValueError(f"energy.state_weight must be a finite number >= 0, got {weight!r}")
    if not isinstance(energy.all_frames, bool):
        raise ValueError(f"energy.all_frames must be true or false, got {energy.all_frames!r}")


def energy_identity(energy: EnergyConfig) -> dict[str, Any]:
    """The energy's fields for the run identity; the norm only when it is not the paper's L1, so results stored
    before the option existed resume unchanged."""
    fields = asdict(energy)
    if fields["norm"] == "l1":
        del fields["norm"]
    return fields


def _check_device(device: Any) -> None:
    ok = isinstance(device, str) and (device in ("auto", "cpu", "cuda")
                                      or (device.startswith("cuda:") and device[5:].isdigit()))
    if not ok:
        raise ValueError(f"device must be auto, cpu, cuda or cuda:<index>, got {device!r}")


@dataclass(frozen=True)
class AgentSpec:
    """A picklable recipe for the agent under evaluation (what :func:`agent.factory.make_agent` needs), so that
    spawned workers can build their own. Call it with an env to build the agent.

    bf16: "auto" (the factory picks by device), True or False. device: "auto", "cpu", "cuda" or "cuda:<i>".
    one_step_alternative: also search plans that move once and then hold still (:mod:`planners.one_step`).
    release_in_place: the arm holds still in a step that lets go (:mod:`agent.release`; learned and energy_oracle
    agents)."""

    kind: str = "learned"
    planner: str = "cem"
    planner_overrides: Mapping[str, Any] | None = None
    model: str = "shipped"
    seed: int = 0
    bf16: str | bool = "auto"
    device: str = "auto"
    energy: EnergyConfig = field(default_factory=EnergyConfig)
    release_in_place: bool = False
    one_step_alternative: bool = False

    def __post_init__(self) -> None:
        from agent.factory import CPU_PLANNER_DEFAULTS, check_agent_options, planner_defaults

        if self.kind not in AGENT_KINDS:
            raise ValueError(f"unknown agent kind {self.kind!r}; choose one of {', '.join(AGENT_KINDS)}")
        planner_defaults(CPU_PLANNER_DEFAULTS, self.planner)  # ValueError listing the planners
        if self.planner_overrides is not None and not isinstance(self.planner_overrides, Mapping):
            raise ValueError("planner_overrides must be a mapping like {samples: 400}, "
                             f"got {self.planner_overrides!r}")
        if not isinstance(self.model, str) or not self.model:
            raise ValueError(f"model must be 'shipped' or a path, got {self.model!r}")
        require_int("seed", self.seed, 0)
        if not any(self.bf16 is c or (isinstance(c, str) and self.bf16 == c) for c in BF16_CHOICES):
            raise ValueError(f"bf16 must be auto, true or false, got {self.bf16!r}")
        _check_device(self.device)
        _check_energy(self.energy)
        for name in ("release_in_place", "one_step_alternative"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        check_agent_options(self.kind, self.release_in_place, self.one_step_alternative)

    def identity(self) -> dict[str, Any]:
        """The fields that make results comparable (recorded in results.json and checked on resume): also every
        resolved planner setting (so that changed defaults start new results) and, for a learned agent, the SHA-256
        of the model's weights file (so that a model retrained under the same name or path does not add to the
        results of the old one). ``release_in_place`` and ``one_step_alternative`` only when on, so results stored
        before they existed resume."""
        from agent.factory import MODEL_KINDS, check_one_step_horizon, model_fingerprint, resolved_planner_settings

        uses_model = self.kind in MODEL_KINDS
        overrides = dict(self.planner_overrides) if self.planner_overrides else {}
        settings = None if self.kind == "random" else resolved_planner_settings(self.kind, self.planner, overrides)
        options = {"release_in_place": True} if self.release_in_place else {}  # only when on (older results resume)
        if self.one_step_alternative:
            check_one_step_horizon(settings["horizon"])
            options["one_step_alternative"] = True
        return {"agent_kind": self.kind, "planner": None if self.kind == "random" else self.planner,
                "planner_overrides": overrides if self.kind != "random" else {},
                "planner_settings": settings,
                "model": self.model if uses_model else None,
                "model_sha256": model_fingerprint(self.model) if uses_model else None,
                "bf16": self.bf16 if uses_model else None,
                "device": self.device if uses_model else None,
                "energy": energy_identity(self.energy) if uses_model else None, "agent_seed": self.seed, **options}

    def __call__(self, env: gym.Env) -> Any:
        from agent.factory import make_agent

        overrides = dict(self.planner_overrides) if self.planner_overrides else {}
        return make_agent(self.kind, env, self.planner, overrides, self.model, self.seed, bf16=self.bf16,
                          energy=self.energy, device=self.device, release_in_place=self.release_in_place,
                          one_step_alternative=self.one_step_alternative)


@dataclass
class EpisodeResult:
    task: str
    seed: int
    success: bool
    steps: int
    final_distance: float
    initial_distance: float
    plan_time_s: float  # mean planning time per action
    video: str | None = None
    variant: str = NOMINAL
    subgoal_switches: list[dict[str, Any]] | None = None  # subgoal mode only: the SwitchEvents, in order


TIMING_FIELDS = ("plan_time_s",)


def _inner_agent(agent: Any) -> Any:
    """The agent under evaluation (the wrapped one in subgoal mode)."""
    return agent.agent if isinstance(agent, SubgoalAgent) else agent


def _act(agent: Any, obs: dict, info: Mapping[str, Any]) -> np.ndarray:
    """The agent's action: toward the goal sequence ``info["subgoals"]`` in subgoal mode, else the final goal."""
    return agent.act(obs, info["subgoals"]) if isinstance(agent, SubgoalAgent) else agent.act(obs, info["goal"])


def _switches(agent: Any) -> list[dict[str, Any]] | None:
    """The subgoal switches of the episode just run (None outside subgoal mode)."""
    return [asdict(event) for event in agent.switches] if isinstance(agent, SubgoalAgent) else None


def run_episode(env: gym.Env, agent, seed: int, max_steps: int, video_path: Path | None,
                variant: str = NOMINAL, episode_seed: int | None = None) -> EpisodeResult:
    """One episode: reset the env with ``seed`` and the agent (with ``episode_seed`` when given, see
    :mod:`agent.seeding`), act until success or ``max_steps`` actions.

    A :class:`agent.subgoals.SubgoalAgent` is given ``info["subgoals"]`` of the latest step, any other agent the
    final goal ``info["goal"]``."""
    from envs.video import write_video

    obs, info = env.reset(seed=seed)
    goal = info["goal"]
    reset_agent(agent, episode_seed)
    if getattr(_inner_agent(agent), "needs_camera_pose", False):  # this episode's camera (jittered or not)
        _inner_agent(agent).set_camera_pose(env.unwrapped.camera_pose())
    frames = [obs["image"]]
    initial = info["task_distance"]
    steps, success = 0, bool(info["is_success"])
    while not success and steps < max_steps:
        action = _act(agent, obs, info)
        obs, _, terminated, truncated, info = env.step(action)
        frames.append(obs["image"])
        steps += 1
        success = bool(info["is_success"])
        if terminated:
            break
    times = getattr(_inner_agent(agent), "plan_times", []) or [0.0]
    if video_path is not None:
        write_video(video_path, frames, fps=env.unwrapped.control_hz, goal=goal["image"])
    return EpisodeResult(env.unwrapped.task_name, seed, success, steps, float(info["task_distance"]), float(initial),
                         float(np.mean(times)), str(video_path) if video_path else None, variant,
                         _switches(agent))


def agent_runtime_info(agent: Any) -> dict[str, Any] | None:
    """What ``agent.runtime_info()`` reports (device, precision, ...), or None if the agent has no such method."""
    info = getattr(_inner_agent(agent), "runtime_info", None)
    if callable(info):
        info = info()
    return dict(info) if isinstance(info, Mapping) else None


@dataclass(frozen=True)
class EpisodeJob:
    """One episode to run: ``task`` under ``variant`` reset with ``seed``, at most ``max_steps`` actions, video to
    ``video``; the agent is reset with ``episode_seed`` (None: the agent's own seed alone, shared mode)."""

    task: str
    seed: int
    max_steps: int
    video: str | None
    variant: str = NOMINAL
    episode_seed: int | None = None


@dataclass(frozen=True)
class EpisodeOutcome:
    """A finished episode: its env id and variant, the :class:`EpisodeResult` as a dict, and the agent's runtime
    info."""

    task: str
    episode: dict[str, Any]
    runtime: dict[str, Any] | None
    variant: str = NOMINAL


class EpisodeRunner:
    """Runs :class:`EpisodeJob` s with one env and one agent per (task, variant), built on first use and reused;
    at most ``max_built`` are kept (the least recently used is closed), since every env holds a renderer.

    image_size: observation side (px). subgoal: the switch rule of subgoal mode (the built agent is wrapped in a
    SubgoalAgent), or None. camera: the Franka envs' camera preset (passed only when not "front").
    waypoint_spacing: metres, passed to the envs whose tasks take it (reach, grasp, pick-and-place), or None."""

    def __init__(self, make_agent: Callable[[gym.Env], Any], image_size: int, subgoal: SubgoalConfig | None = None,
                 max_built: int = 2, camera: str = DEFAULT_CAMERA, waypoint_spacing: float | None = None) -> None:
        self.make_agent = make_agent
        self.image_size = image_size
        self.camera = camera
        self.waypoint_spacing = waypoint_spacing
        self.subgoal = subgoal
        self.max_built = max_built
        self._built: OrderedDict[tuple[str, str], tuple[gym.Env, Any]] = OrderedDict()

    def _build(self, task: str, variant: str) -> tuple[gym.Env, Any]:
        import envs  # noqa: F401 - registers the env ids

        waypoints = {} if self.waypoint_spacing is None or task not in waypoint_task_ids() else {
            "waypoint_spacing": self.waypoint_spacing}
        env = gym.make(task, image_size=self.image_size, **camera_env_kwargs(self.camera),
                       **variant_env_kwargs(variant), **waypoints)
        agent = self.make_agent(env)
        return env, agent if self.subgoal is None else SubgoalAgent(agent, self.subgoal)

    def _env_agent(self, task: str, variant: str) -> tuple[gym.Env, Any]:
        key = (task, variant)
        if key not in self._built:
            while len(self._built) >= self.max_built:
                self._built.popitem(last=False)[1][0].close()
            self._built[key] = self._build(task, variant)
        self._built.move_to_end(key)
        return self._built[key]

    def run(self, job: EpisodeJob) -> EpisodeOutcome:
        """Run one episode; returns it with the job's env id and variant and the agent's runtime info."""
        env, agent = self._env_agent(job.task, job.variant)
        video = Path(job.video) if job.video else None
        episode = run_episode(env, agent, job.seed, job.max_steps, video, job.variant, job.episode_seed)
        return EpisodeOutcome(job.task, asdict(episode), agent_runtime_info(agent), job.variant)

    def close(self) -> None:
        for env, _ in self._built.values():
            env.close()
        self._built.clear()


def check_tasks(tasks: tuple[str, ...]) -> None:
    """ValueError naming an unknown env id (before any episode runs)."""
    import envs  # noqa: F401 - registers the env ids

    for task in tasks:
        if task not in gym.registry:
            known = sorted(t for t in gym.registry if t.startswith("Franka"))
            raise ValueError(f"unknown task {task!r}; registered Franka tasks: {', '.join(known)}")


def check_camera_tasks(tasks: tuple[str, ...], camera: str) -> None:
    """ValueError for a camera preset other than "front" with a task that is not a lean Franka env (robosuite ids
    have their own cameras and take no preset)."""
    from envs.tasks import TASKS

    other = [task for task in tasks if task not in TASKS]
    if camera != DEFAULT_CAMERA and other:
        raise ValueError(f"camera={camera!r} applies to the Franka envs only ({', '.join(sorted(TASKS))}), "
                         f"not to {', '.join(other)}: use camera=front for them")


def check_subgoal_agent(cfg: EvalConfig, make_agent: Callable[[gym.Env], Any]) -> None:
    """ValueError for subgoal mode with the oracle or random agent of an :class:`AgentSpec`: neither plans toward
    goal images (the oracle's cost is the true distance to the final goal, the random agent ignores goals), so
    feeding them subgoals would change nothing while the results claimed subgoal mode."""
    kind = getattr(make_agent, "kind", None) if isinstance(make_agent, AgentSpec) else None
    if cfg.subgoals and kind in ("oracle", "random"):
        raise ValueError(f"subgoals=true needs agent=learned: the {kind} agent does not plan toward goal images, "
                         "so subgoals would not change it")


def video_path(cfg: EvalConfig, task: str, variant: str, seed: int) -> str | None:
    """Where an episode's mp4 goes (``videos/<task>[_<variant>]_seed<seed>.mp4``), or None without videos."""
    if not cfg.video:
        return None
    suffix = "" if variant == NOMINAL else f"_{variant}"
    return str(Path(cfg.out_dir) / "videos" / f"{task}{suffix}_seed{seed}.mp4")


def plan_jobs(cfg: EvalConfig, done: Mapping[str, Mapping[int, Any]]) -> list[EpisodeJob]:
    """The episodes of ``cfg`` not yet in ``done`` (entry key -> seed -> episode, see
    :func:`agent.eval_results.entry_key`), in task, variant, then seed order."""
    jobs = []
    for task in cfg.tasks:
        max_steps = cfg.max_steps if cfg.max_steps is not None else gym.spec(task).max_episode_steps
        if max_steps is None:
            raise ValueError(f"task {task!r} has no default episode length; set max_steps")
        for variant in cfg.variants:
            finished = done.get(entry_key(task, variant), {})
            jobs += [EpisodeJob(task, seed, int(max_steps), video_path(cfg, task, variant, seed), variant,
                                seed if cfg.planner_seeding == "per_episode" else None)
                     for seed in range(cfg.seed, cfg.seed + cfg.episodes) if seed not in finished]
    return jobs


def run_identity(cfg: EvalConfig, label: str, agent_identity: Mapping[str, Any] | None) -> dict[str, Any]:
    """Everything that must match for stored episodes to count as this run's (see :mod:`agent.eval_results`).

    Variants are not part of it: like tasks, each has its own entries, so more can be added to a directory. In
    subgoal mode it holds the envs' subgoal sequences (names), so results made before a sequence changed (e.g.
    before the approach image was added) are refused rather than mixed; likewise the version of the tasks'
    success tests (:data:`envs.tasks.SUCCESS_TEST_VERSION`) and how the planner is seeded per episode."""
    subgoal = cfg.subgoal_config()
    return {"label": label, **dict(agent_identity or {}), "seed": cfg.seed, "image_size": cfg.image_size,
            "camera": cfg.camera, "max_steps": cfg.max_steps, "success_test": SUCCESS_TEST_VERSION,
            "planner_seeding": cfg.planner_seeding,
            "subgoals": None if subgoal is None else {"steps_per_subgoal": subgoal.steps_per_subgoal,
                                                      "energy_threshold": subgoal.energy_threshold,
                                                      "min_steps_per_subgoal": subgoal.min_steps_per_subgoal,
                                                      "reset_on_switch": subgoal.reset_on_switch,
                                                      **plateau_identity(subgoal),
                                                      "sequences": run_sequences(cfg)}}


def run_sequences(cfg: EvalConfig) -> dict[str, list[str]]:
    """The subgoal sequences of the run identity: :func:`envs.tasks.subgoal_sequences`, without reach's unless
    reach is evaluated, so that runs stored before reach took waypoints (session 27) resume unchanged."""
    sequences = subgoal_sequences(cfg.subgoal_waypoint_spacing)
    if "FrankaReach-v0" not in cfg.tasks:
        sequences.pop("reach", None)
    return sequences


def plateau_identity(subgoal: SubgoalConfig) -> dict[str, Any]:
    """The plateau rule's fields for the run identity; empty when it is off, so results stored before the rule
    existed resume unchanged."""
    if subgoal.plateau_patience is None:
        return {}
    return {"plateau_patience": subgoal.plateau_patience, "plateau_tol": subgoal.plateau_tol}


def run_suite(cfg: EvalConfig, make_agent: Callable[[gym.Env], Any], label: str = "agent",
              agent_identity: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Evaluate ``make_agent(env)`` on every task under every variant; returns (and writes) the results dict.

    agent_identity: what identifies the agent beyond ``label`` (defaults to ``make_agent.identity()`` for an
    :class:`AgentSpec`); stored results with another identity are refused (ResultsMismatchError). With
    ``cfg.jobs > 1`` the episodes run in spawned worker processes and ``make_agent`` must be picklable (an
    :class:`AgentSpec` or a module-level function)."""
    check_tasks(cfg.tasks)
    check_camera_tasks(cfg.tasks, cfg.camera)
    check_subgoal_agent(cfg, make_agent)
    if cfg.jobs > 1:
        from agent.eval_parallel import check_picklable

        check_picklable(make_agent)
    if agent_identity is None and callable(getattr(make_agent, "identity", None)):
        agent_identity = make_agent.identity()
    variants = {name: variant_env_kwargs(name) for name in cfg.variants}
    store = ResultsStore(cfg.out_dir, run_identity(cfg, label, agent_identity), asdict(cfg), variants)
    jobs = plan_jobs(cfg, store.open())
    total = cfg.episodes * len(cfg.tasks) * len(cfg.variants)
    with tqdm(total=total, initial=total - len(jobs), desc=label) as bar:
        def on_result(outcome: EpisodeOutcome) -> None:
            summary = store.record(outcome.task, outcome.episode, outcome.runtime, outcome.variant)
            bar.update(1)
            bar.set_postfix(task=entry_key(outcome.task, outcome.variant),
                            success=f"{summary['successes']}/{summary['episodes']}")

        if cfg.jobs > 1 and len(jobs) > 1:
            from agent.eval_parallel import run_parallel

            run_parallel(jobs, make_agent, cfg.image_size, min(cfg.jobs, len(jobs)), on_result,
                         cfg.subgoal_config(), cfg.camera, cfg.subgoal_waypoint_spacing)
        else:
            run_serial(jobs, make_agent, cfg.image_size, on_result, cfg.subgoal_config(), cfg.camera,
                       cfg.subgoal_waypoint_spacing)
    return store.read()


def run_serial(jobs: list[EpisodeJob], make_agent: Callable[[gym.Env], Any], image_size: int,
               on_result: Callable[[EpisodeOutcome], None], subgoal: SubgoalConfig | None = None,
               camera: str = DEFAULT_CAMERA, waypoint_spacing: float | None = None) -> None:
    """Run ``jobs`` in this process (envs at ``image_size`` px with the ``camera`` preset and, where the task
    takes it, ``waypoint_spacing``), reporting each finished episode to ``on_result``."""
    runner = EpisodeRunner(make_agent, image_size, subgoal, camera=camera, waypoint_spacing=waypoint_spacing)
    try:
        for job in jobs:
            on_result(runner.run(job))
    finally:
        runner.close()


def _fmt(value: float | None, spec: str) -> str:
    """``value`` formatted with ``spec``, or a "-" of the same width when undefined (no episodes)."""
    return format("-", spec.split(".")[0]) if value is None else format(value, spec)


def format_table(results: dict[str, Any]) -> str:
    """One row per (task, variant) entry: successes, Wilson 95% CI, mean final distance, steps, plan time."""
    lines = [f"agent: {results.get('agent')}",
             f"{'task':<28}{'variant':<15}{'success':>10}{'95% CI':>16}{'final dist (m)':>16}{'steps':>8}"
             f"{'plan s/act':>12}"]
    for task, variant, r in iter_entries(results):
        s = r["summary"]
        lines.append(f"{task:<28}{variant:<15}{s['successes']:>4}/{s['episodes']:<5}"
                     f"{s['ci95'][0]:>8.2f}-{s['ci95'][1]:.2f}{_fmt(s['mean_final_distance_m'], '>14.3f')}"
                     f"{_fmt(s['mean_steps'], '>10.1f')}{_fmt(s['mean_plan_time_s'], '>12.3f')}")
    return "\n".join(lines)
