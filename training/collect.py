"""Collect episodes in the sim envs with scripted/noisy/random policies (resumable, seeded, atomic).

The collect config is stored as ``<out_dir>/collect.json``; a rerun into the same directory (to resume, or to add
episodes) must use the same config except for ``COLLECT_MAY_CHANGE``, otherwise it is refused, so one dataset
directory never mixes tasks, image sizes or episode lengths.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from training.checks import check_float, check_int, check_str
from training.dataset import episode_dir, list_episodes, save_episode
from training.run_lock import exclusive_out_dir
from training.state import write_json_atomic

COLLECT_CONFIG = "collect.json"
# Fields that may differ when collecting again into an existing dataset directory: more (or fewer) episodes,
# and where the directory now lives.
COLLECT_MAY_CHANGE = ("episodes", "out_dir")
# task="mixed": the multi-task play dataset (issue 12), episodes cycle through these.
MIXED_TASKS = ("FrankaReach-v0", "FrankaGrasp-v0", "FrankaReachWithObject-v0", "FrankaPickPlace-v0")


@dataclass(frozen=True)
class CollectConfig:
    """policy_mix: fractions of episodes from (noisy expert, random actions); expert_noise in units of the
    0.05 m step; gripper_prob: chance per step that a random policy also moves the gripper; randomize: a scene
    randomisation preset name (envs.randomization.PRESETS), seeded per episode so the goal image shares the
    episode's scene; nominal_frames: also record each frame's twin in the nominal scene (same state, nominal
    lights/colours/camera, no distractors or noise; Franka envs only), the targets of ``training.distill``;
    twin_keeps_camera: the twins keep the episode's camera pose and field of view (appearance-only twins);
    gripper_flip_prob: chance per step of a noisy-expert episode that its gripper command is replaced by a full
    open (-1) or close (+1) command, each half the time: grasps, drops and closures at and away from the cube that
    the experts alone rarely show (0: off, and the episodes are those of a dataset collected without it)."""

    task: str = "FrankaReach-v0"
    out_dir: str = "data/reach"
    episodes: int = 300
    steps: int = 20
    image_size: int = 64
    seed: int = 0
    expert_fraction: float = 0.6
    expert_noise: float = 0.6
    random_step: float = 0.05
    gripper_prob: float = 0.3
    gripper_flip_prob: float = 0.0
    randomize: str = "none"  # scene randomisation preset of envs.randomization (Franka envs): none, all, lighting, ...
    randomize_fraction: float = 1.0  # share of episodes recorded with ``randomize`` (the rest: the nominal scene)
    camera: str = "front"  # camera preset of envs.scene.CAMERAS (Franka envs)
    nominal_frames: bool = False  # also store every frame's state rendered in the nominal scene (training.distill)
    twin_keeps_camera: bool = False  # nominal_frames keep the episode's camera pose: only appearance is made nominal

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_str(owner, "randomize", self.randomize)
        check_str(owner, "task", self.task)
        check_str(owner, "out_dir", self.out_dir)
        for name, minimum in (("episodes", 1), ("steps", 1), ("image_size", 8), ("seed", 0)):
            check_int(owner, name, getattr(self, name), minimum)
        check_float(owner, "expert_fraction", self.expert_fraction, 0.0, 1.0)
        check_float(owner, "expert_noise", self.expert_noise, low=0.0)
        check_float(owner, "random_step", self.random_step, low=0.0)
        check_float(owner, "gripper_prob", self.gripper_prob, 0.0, 1.0)
        check_float(owner, "gripper_flip_prob", self.gripper_flip_prob, 0.0, 1.0)
        check_float(owner, "randomize_fraction", self.randomize_fraction, 0.0, 1.0)
        check_str(owner, "camera", self.camera)
        if self.twin_keeps_camera and not self.nominal_frames:
            raise ValueError(f"{owner}.twin_keeps_camera needs nominal_frames=true (it says how the twins are made)")
        tasks = self.tasks()
        if len(set(tasks)) != len(tasks):
            raise ValueError(f"{owner}.task lists a task twice: {self.task!r}")

    def tasks(self) -> list[str]:
        """The tasks episodes cycle through: ``task`` is one env id, a comma-separated list of ids, or "mixed"
        (the four Franka tasks). Episode i is recorded in ``tasks()[i % len(tasks())]``."""
        if self.task == "mixed":
            return list(MIXED_TASKS)
        return [t.strip() for t in self.task.split(",") if t.strip()]

    @property
    def mixed(self) -> bool:
        return len(self.tasks()) > 1


def random_action(rng: np.random.Generator, step: float, gripper_prob: float) -> np.ndarray:
    """Uniform dxyz in a ball of radius ``step`` (m), no rotation, occasional gripper delta in [-1, 1]."""
    d = rng.normal(size=3)
    d *= rng.uniform(0, step) / max(np.linalg.norm(d), 1e-9)
    grip = rng.uniform(-1, 1) if rng.random() < gripper_prob else 0.0
    return np.concatenate([d, np.zeros(3), [grip]]).astype(np.float32)


def collect_episode(env: gym.Env, cfg: CollectConfig, seed: int, task: str | None = None,
                    randomized: bool | None = None) -> dict:
    """One episode in ``env`` (of ``task``, default ``cfg.task``); ``randomized`` says whether ``env``
    randomises its scene (default: ``cfg.randomize != "none"``). Returns frames/states/actions and meta, plus
    ``nominal_frames`` (the same states rendered in the nominal scene) when ``cfg.nominal_frames``."""
    from envs.experts import make_expert

    task = cfg.task if task is None else task
    randomized = cfg.randomize != "none" if randomized is None else randomized
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    use_expert = rng.random() < cfg.expert_fraction
    expert = make_expert(env, noise=cfg.expert_noise, seed=seed) if use_expert else None
    frames, states, actions = [obs["image"]], [obs["state"]], []
    pose = getattr(env.unwrapped, "camera_pose", None)  # Franka envs of this package; robosuite ids have none
    poses = None if pose is None else [pose()]
    nominal = [nominal_image(env, cfg.twin_keeps_camera)] if cfg.nominal_frames else None
    for _ in range(cfg.steps):
        if expert is not None:
            action = expert.act(obs)
            if rng.random() < cfg.gripper_prob * 0.5:
                action[6] = rng.uniform(-1, 1)
            if cfg.gripper_flip_prob and rng.random() < cfg.gripper_flip_prob:  # no draw when off
                action[6] = -1.0 if rng.random() < 0.5 else 1.0
        else:
            action = random_action(rng, cfg.random_step, cfg.gripper_prob)
        obs, _, term, trunc, info = env.step(action)
        frames.append(obs["image"]), states.append(obs["state"]), actions.append(action)
        if poses is not None:
            poses.append(pose())
        if nominal is not None:
            nominal.append(nominal_image(env, cfg.twin_keeps_camera))
        if term:
            break
    return {
        "frames": np.stack(frames), "states": np.stack(states), "actions": np.stack(actions),
        "nominal_frames": None if nominal is None else np.stack(nominal),
        "camera_pose": None if poses is None else np.stack(poses),
        "meta": {"task": task, "image_size": cfg.image_size, "control_hz": env.unwrapped.control_hz,
                 "seed": seed, "policy": "noisy_expert" if use_expert else "random",
                 "success": bool(info["is_success"]), "randomize": cfg.randomize if randomized else "none",
                 **({"scene_axes": list(env.unwrapped.scene_axes)} if randomized else {}),
                 **({"camera": cfg.camera} if cfg.camera != "front" else {}),
                 **({"mix": ",".join(cfg.tasks())} if cfg.mixed else {})},
    }


def nominal_image(env: gym.Env, keep_camera: bool = False) -> np.ndarray:
    """The env's current state rendered in the nominal scene (``FrankaEnv.nominal_image``, the episode's camera
    kept if ``keep_camera``); ValueError for an env that cannot render one (e.g. robosuite ids)."""
    render = getattr(env.unwrapped, "nominal_image", None)
    if render is None:
        raise ValueError(f"nominal_frames=true needs a Franka env of this package; {type(env.unwrapped).__name__} "
                         f"has no nominal_image()")
    return render(keep_camera=keep_camera)


def check_existing_dataset(out: Path, cfg: CollectConfig) -> bool:
    """Refuse (ValueError naming the keys) to add to a dataset collected with another config.

    Returns True when ``collect.json`` may be (re)written: a new directory, or one whose stored config matches.
    A legacy directory (episodes but no collect.json) is checked against its first episode's task/image size."""
    stored = out / COLLECT_CONFIG
    if stored.exists():
        try:
            saved = json.loads(stored.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"{stored}: unreadable collect config ({exc})") from exc
        current = asdict(cfg)
        defaults = asdict(CollectConfig())  # fields added after a dataset was collected count as their defaults
        differing = sorted(k for k in set(saved) | set(current)
                           if k not in COLLECT_MAY_CHANGE and saved.get(k, defaults.get(k)) != current.get(k))
        if differing:
            changes = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in differing)
            raise ValueError(f"{out} was collected with another config ({changes}); only {list(COLLECT_MAY_CHANGE)} "
                             f"may change: use a new out_dir")
        return True
    existing = list_episodes(out)
    if not existing:
        return True
    try:
        meta = json.loads((existing[0] / "meta.json").read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{existing[0] / 'meta.json'}: unreadable, cannot check what {out} holds ({exc})") from exc
    if (meta.get("task"), meta.get("image_size")) != (cfg.task, cfg.image_size) or cfg.mixed:
        raise ValueError(f"{out} holds {meta.get('task')!r} episodes at {meta.get('image_size')!r} px "
                         f"({existing[0].name}), not {cfg.task!r} at {cfg.image_size} px: use a new out_dir")
    return False


def collect(cfg: CollectConfig) -> Path:
    """Record ``cfg.episodes`` episodes to ``cfg.out_dir``; episodes already on disk are skipped (resume). Holds
    the out_dir for the run (training.run_lock: a second collection into it fails at once)."""
    import envs  # noqa: F401 - registers the ids

    out = Path(cfg.out_dir)
    with exclusive_out_dir(out, "vjepa-collect"):  # creates out (removed again if nothing is written)
        return _collect(cfg, out, check_existing_dataset(out, cfg))


def _collect(cfg: CollectConfig, out: Path, record: bool) -> Path:
    """collect's body: ``record`` writes collect.json (a new dataset, or one that gains its record)."""
    tasks = cfg.tasks()
    todo = []  # (index, seed, task, randomized) of the episodes not on disk yet
    for i in range(cfg.episodes):
        if not episode_dir(out, i).exists():
            seed = cfg.seed * 1_000_003 + i
            todo.append((i, seed, tasks[i % len(tasks)], cfg.randomize != "none" and episode_randomized(cfg, seed)))
    envs_by_key: dict[tuple[str, bool], gym.Env] = {}
    try:
        # Every env is made first: a bad task, preset or camera fails before anything is written (a collect.json
        # left behind would refuse the corrected rerun).
        for _, _, task, randomized in todo:
            if (task, randomized) not in envs_by_key:
                envs_by_key[task, randomized] = make_collect_env(cfg, task, randomized)
        if record:
            write_json_atomic(out / COLLECT_CONFIG, asdict(cfg))
        for i, seed, task, randomized in tqdm(todo, desc=f"collect {cfg.task}"):
            ep = collect_episode(envs_by_key[task, randomized], cfg, seed, task, randomized)
            save_episode(out, i, ep["frames"], ep["states"], ep["actions"], ep["meta"], ep["nominal_frames"],
                         ep["camera_pose"])
    finally:
        for env in envs_by_key.values():
            env.close()
    return out


def episode_randomized(cfg: CollectConfig, seed: int) -> bool:
    """Whether the episode of ``seed`` uses the randomised scene (a draw of its own, so it does not shift the
    episode's other random numbers)."""
    return cfg.randomize_fraction >= 1.0 or np.random.default_rng([seed, 7]).random() < cfg.randomize_fraction


def make_collect_env(cfg: CollectConfig, task: str, randomized: bool) -> gym.Env:
    """The env episodes of ``task`` are recorded in (Franka envs take ``randomize`` and ``camera``; robosuite ids
    take neither)."""
    from envs.scene import camera_env_kwargs

    extra: dict = {"randomize": cfg.randomize} if randomized else {}
    return gym.make(task, image_size=cfg.image_size, max_episode_steps=cfg.steps + 1, **extra,
                    **camera_env_kwargs(cfg.camera))


def dataset_camera(data_dir: str | Path, data_format: str = "npz") -> str | None:
    """The camera preset (``envs.scene.CAMERAS`` name) a collected npz dataset was recorded with: ``camera`` of its
    ``collect.json`` (else of its first episode's meta.json, for directories collected before collect.json),
    "front" where the field is absent (data collected before camera presets).

    None when it cannot be told: another ``data_format`` (e.g. "lerobot": no preset), no such directory, no
    collected episodes, or an unreadable file (never raises: it runs when a finished model is saved)."""
    out = Path(data_dir)
    if data_format != "npz" or not out.is_dir():
        return None
    source = out / COLLECT_CONFIG
    if not source.exists():
        episodes = list_episodes(out)
        if not episodes:
            return None
        source = episodes[0] / "meta.json"
    try:
        saved = json.loads(source.read_text())
    except (OSError, ValueError):
        return None
    camera = saved.get("camera", "front") if isinstance(saved, dict) else None
    return camera if isinstance(camera, str) else None
