"""LeRobot v3 dataset reader: clips and episodes in our state/action conventions (envs.conventions).

A LeRobot v3 dataset (``codebase_version`` "v3.*") is a folder with
- ``meta/info.json``: ``fps`` (Hz), ``features`` ({key: {"dtype", "shape", "names", "info"}}), ``data_path`` and
  ``video_path`` templates (``{chunk_index}``, ``{file_index}``, ``{video_key}``);
- ``meta/episodes/chunk-XXX/file-XXX.parquet``: one row per episode with ``episode_index``, ``length``,
  ``data/chunk_index``, ``data/file_index`` and per camera ``videos/<key>/chunk_index``, ``.../file_index``,
  ``.../from_timestamp`` (s, where the episode starts inside a possibly multi-episode mp4);
- ``data/chunk-XXX/file-XXX.parquet``: one row per frame (``episode_index``, ``frame_index``, ``timestamp`` in s,
  and the vector features, e.g. ``observation.state``, ``action``);
- ``videos/<camera key>/chunk-XXX/file-XXX.mp4``.
training.lerobot_export writes this layout; DROID is published in it (``lerobot/droid_1.0.1``, 15 Hz).

Mapping (:class:`LeRobotMapping`) from feature keys to our 7-D vectors
- state = concatenation of ``state_keys`` (7 values in total): [x, y, z, roll, pitch, yaw (scipy 'xyz' Euler,
  rad), gripper closure in [0, 1]] in the robot base frame. Presets: ``ours`` = ``observation.state`` (our
  exporter); ``droid`` = ``observation.state.cartesian_position`` (6) + ``observation.state.gripper_position`` (1),
  which is DROID's own [xyz, euler xyz] + gripper convention, so no conversion is needed.
- action [dxyz, euler_xyz(R_{t+1} R_t^T), dgripper] between consecutive resampled frames, by ``action_convention``:
  ``from_states`` (default for DROID, as training.droid and V-JEPA 2-AC do): computed from the two states;
  ``delta``: ``action_keys`` hold per-step actions already in our convention at the dataset rate (our exporter);
  the steps between two resampled frames are composed (xyz and gripper summed, rotations multiplied in order);
  ``target_pose``: ``action_keys`` hold an absolute commanded pose [xyz, euler xyz, gripper] per step (e.g. DROID's
  ``action.cartesian_position`` + ``action.gripper_position``); the action is the delta from the state at frame t to
  the last target commanded before the next resampled frame. Joint-space states or actions are not converted
  (no kinematics here): map cartesian keys, or a clear error lists the features.
- camera: ``camera_key`` (a ``dtype: video`` feature); the droid preset reads ``observation.images.exterior_1_left``
  (DROID's first exterior camera, as training.droid's ``ext1``) when the dataset has it; None: the only video
  feature (several: an error listing them).
- rate: a dataset at ``fps_src`` Hz is resampled to ~``fps`` Hz by keeping every ``round(fps_src / fps)``-th row
  (15 Hz DROID -> every 4th row, 3.75 Hz, as training.droid); upsampling is refused. Video frames are taken at
  ``from_timestamp + timestamp`` of the kept rows.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import imageio.v2 as imageio
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy.spatial.transform import Rotation

from envs.conventions import EULER_SEQ, STATE_NAMES, action_between
from training.dataset import CorruptEpisodeError, Episode, load_episodes, validate_episode
from training.droid import DroidClip

DEFAULT_FPS = 4.0  # our control rate (envs.franka_env.FrankaEnv control_hz default), Hz
ACTION_CONVENTIONS = ("from_states", "delta", "target_pose")
DATA_FORMATS = ("npz", "lerobot")
DROID_CAMERA = "observation.images.exterior_1_left"


class LeRobotFormatError(ValueError):
    """A LeRobot dataset lacks what the mapping needs (the message names the file and the key)."""


@dataclass(frozen=True)
class LeRobotMapping:
    """Which LeRobot features make our state, action and frames (see the module docstring)."""

    state_keys: tuple[str, ...] = ("observation.state",)
    action_keys: tuple[str, ...] = ()
    action_convention: str = "from_states"
    camera_key: str | None = None

    def __post_init__(self) -> None:
        if self.action_convention not in ACTION_CONVENTIONS:
            raise ValueError(f"action_convention must be one of {ACTION_CONVENTIONS}, got {self.action_convention!r}")
        if not self.state_keys:
            raise ValueError("state_keys must name at least one feature")
        if (self.action_convention == "from_states") != (not self.action_keys):
            raise ValueError(f"action_keys are needed by (and only by) 'delta' / 'target_pose', got {self.action_keys}"
                             f" with {self.action_convention!r}")


PRESETS: dict[str, LeRobotMapping] = {
    "ours": LeRobotMapping(("observation.state",), ("action",), "delta"),
    "droid": LeRobotMapping(("observation.state.cartesian_position", "observation.state.gripper_position"),
                            camera_key=DROID_CAMERA),
}


# -- metadata ------------------------------------------------------------------------------------------------------
def read_info(root: Path) -> dict[str, Any]:
    """meta/info.json of a LeRobot v3 dataset, checked for version, fps and features."""
    path = root / "meta" / "info.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {root} is not a LeRobot dataset")
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise LeRobotFormatError(f"{path} is not valid JSON: {e}") from e
    version = str(info.get("codebase_version", ""))
    if not version.startswith("v3"):
        raise LeRobotFormatError(f"{path}: codebase_version {version!r}; only LeRobot v3 datasets are read (convert "
                                 "v2.x with LeRobot's convert_dataset_v21_to_v30)")
    for key in ("fps", "features"):
        if key not in info:
            raise LeRobotFormatError(f"{path}: no {key!r} (keys: {sorted(info)})")
    if not float(info["fps"]) > 0:
        raise LeRobotFormatError(f"{path}: fps must be > 0, got {info['fps']!r}")
    return info


def read_episode_rows(root: Path) -> dict[int, dict[str, Any]]:
    """episode_index -> its row of meta/episodes/*/*.parquet."""
    files = sorted((root / "meta" / "episodes").glob("chunk-*/file-*.parquet"))
    if not files:
        raise LeRobotFormatError(f"{root / 'meta' / 'episodes'}: no chunk-*/file-*.parquet episode tables")
    rows: dict[int, dict[str, Any]] = {}
    for f in files:
        columns = [c for c in pq.read_schema(f).names if not c.startswith("stats/")]  # skip per-episode stats
        for row in pq.read_table(f, columns=columns).to_pylist():
            if "episode_index" not in row:
                raise LeRobotFormatError(f"{f}: no 'episode_index' column (columns: {sorted(row)})")
            rows[int(row["episode_index"])] = {**row, "_file": f}
    return dict(sorted(rows.items()))


def feature_dim(info: dict[str, Any], key: str) -> int:
    """Number of values of feature ``key`` (product of its shape)."""
    return int(np.prod(info["features"][key].get("shape", [1])))


def _video_keys(info: dict[str, Any]) -> list[str]:
    return sorted(k for k, f in info["features"].items() if isinstance(f, dict) and f.get("dtype") == "video")


def detect_mapping(info: dict[str, Any], source: Path | str = "meta/info.json") -> LeRobotMapping:
    """The preset matching a dataset's features: ``droid`` (cartesian_position + gripper_position) or ``ours``
    (a 7-D ``observation.state`` named as envs.conventions, or unnamed: then assumed so, with a warning)."""
    features = info["features"]
    if all(k in features for k in PRESETS["droid"].state_keys):
        droid = PRESETS["droid"]
        return droid if droid.camera_key in features else replace(droid, camera_key=None)
    state = features.get("observation.state")
    if state is not None and feature_dim(info, "observation.state") == 7:
        names = state.get("names")
        if isinstance(names, dict):  # LeRobot also writes {"motors": [...]}
            names = next(iter(names.values()), None)
        if names is not None and list(names) != list(STATE_NAMES):
            raise LeRobotFormatError(
                f"{source}: observation.state is named {list(names)}, not our {list(STATE_NAMES)} (base-frame xyz, "
                "euler xyz, gripper); pass a LeRobotMapping naming cartesian features (joint-space is not converted)")
        if names is None:
            warnings.warn(f"{source}: observation.state has no names; assuming {list(STATE_NAMES)}", stacklevel=2)
        ours = PRESETS["ours"]
        has_actions = "action" in features and feature_dim(info, "action") == 7
        return ours if has_actions else replace(ours, action_keys=(), action_convention="from_states")
    raise LeRobotFormatError(
        f"{source}: no known state layout (need 'observation.state' (7) or DROID's "
        f"{list(PRESETS['droid'].state_keys)}); features: {sorted(features)}")


def resolve_camera(info: dict[str, Any], mapping: LeRobotMapping, source: Path | str) -> str:
    """The video feature to read: the mapping's camera (which must exist), or when None the only video feature."""
    videos = _video_keys(info)
    if mapping.camera_key is not None:
        if mapping.camera_key not in videos:
            raise LeRobotFormatError(f"{source}: no video feature {mapping.camera_key!r}; video features: {videos}")
        return mapping.camera_key
    if len(videos) == 1:
        return videos[0]
    raise LeRobotFormatError(f"{source}: choose a camera with LeRobotMapping(camera_key=...); video features: "
                             f"{videos or 'none'}")


def check_mapping(info: dict[str, Any], mapping: LeRobotMapping, source: Path | str) -> None:
    """LeRobotFormatError naming the missing feature, or the keys whose sizes do not add up to 7."""
    groups = [("state_keys", mapping.state_keys)]
    if mapping.action_keys:
        groups.append(("action_keys", mapping.action_keys))
    for what, keys in groups:
        missing = [k for k in keys if k not in info["features"]]
        if missing:
            raise LeRobotFormatError(f"{source}: {what} {missing} not among the features {sorted(info['features'])}")
        dims = {k: feature_dim(info, k) for k in keys}
        if sum(dims.values()) != 7:
            raise LeRobotFormatError(f"{source}: {what} {dims} give {sum(dims.values())} values, need 7 "
                                     "([x, y, z, roll, pitch, yaw, gripper] or its deltas)")


# -- actions -------------------------------------------------------------------------------------------------------
def compose_deltas(deltas: np.ndarray) -> np.ndarray:
    """One action (7,) equal to applying ``deltas`` (k, 7) in order: xyz and gripper summed, rotations composed
    on the left (R_k ... R_1), so integrate_action(s, result) == the k-step integration (gripper unclipped)."""
    deltas = np.asarray(deltas, np.float64)
    if len(deltas) == 1:
        return deltas[0].copy()
    rot = Rotation.identity()
    for d in deltas:
        rot = Rotation.from_euler(EULER_SEQ, d[3:6]) * rot
    return np.concatenate([deltas[:, :3].sum(0), rot.as_euler(EULER_SEQ), deltas[:, 6:7].sum(0)])


def clip_actions(states: np.ndarray, raw: np.ndarray | None, idx: np.ndarray, convention: str) -> np.ndarray:
    """(len(idx) - 1, 7) actions between the rows ``idx`` of per-step ``states`` (T, 7) / ``raw`` actions (T, 7)."""
    if convention == "from_states":
        return action_between(states[idx[:-1]], states[idx[1:]])
    assert raw is not None
    if convention == "delta":
        return np.stack([compose_deltas(raw[a:b]) for a, b in zip(idx[:-1], idx[1:])])
    return action_between(states[idx[:-1]], raw[idx[1:] - 1])  # target_pose


# -- tables and videos ---------------------------------------------------------------------------------------------
def column_matrix(table: pa.Table, key: str, dim: int, source: Path | str) -> np.ndarray:
    """(N, dim) float64 from a vector (list / fixed-size list) or scalar column."""
    if key not in table.column_names:
        raise LeRobotFormatError(f"{source}: no column {key!r} (columns: {table.column_names})")
    col = table.column(key).combine_chunks()
    if pa.types.is_list(col.type) or pa.types.is_fixed_size_list(col.type) or pa.types.is_large_list(col.type):
        col = col.flatten()
    values = col.to_numpy(zero_copy_only=False).astype(np.float64)
    if values.size != table.num_rows * dim:
        raise LeRobotFormatError(f"{source}: column {key!r} holds {values.size} values for {table.num_rows} rows, "
                                 f"expected {dim} per row")
    return values.reshape(table.num_rows, dim)


def read_video_frames(path: Path, wanted: Iterable[int]) -> dict[int, np.ndarray]:
    """Decode ``path`` up to the last wanted frame number; {frame number: (H, W, 3) uint8}."""
    wanted = set(int(i) for i in wanted)
    if not path.is_file():
        raise FileNotFoundError(f"video {path} not found")
    out: dict[int, np.ndarray] = {}
    reader = imageio.get_reader(path)
    try:
        for i, im in enumerate(reader):
            if i in wanted:
                out[i] = np.asarray(im, np.uint8)[..., :3]
            if len(out) == len(wanted):
                break
    finally:
        reader.close()
    missing = sorted(wanted - set(out))
    if missing:
        raise LeRobotFormatError(f"{path}: frames {missing[:5]} missing (video shorter than its parquet rows)")
    return out


@dataclass
class _EpisodePlan:
    """What to read for one episode: per-step arrays (rows sorted by frame_index) and the kept rows."""

    episode: int
    states: np.ndarray  # (T, 7) float64, per dataset step
    raw_actions: np.ndarray | None  # (T, 7) float64 or None
    rows: np.ndarray  # (n,) kept row positions
    video: Path
    frame_numbers: np.ndarray  # (n,) frame numbers in ``video``
    task: str


class LeRobotReader:
    """A LeRobot v3 dataset opened with a mapping (detected from meta/info.json when None)."""

    def __init__(self, root: str | Path, mapping: LeRobotMapping | None = None) -> None:
        self.root = Path(root).expanduser()
        self.info = read_info(self.root)
        source = self.root / "meta" / "info.json"
        self.mapping = mapping if mapping is not None else detect_mapping(self.info, source)
        check_mapping(self.info, self.mapping, source)
        self.camera = resolve_camera(self.info, self.mapping, source)
        self.episodes = read_episode_rows(self.root)
        self.fps = float(self.info["fps"])
        cam = self.info["features"][self.camera].get("info") or {}
        self.video_fps = float(cam.get("video.fps", self.fps))
        self._tables: dict[Path, pa.Table] = {}

    def skip(self, fps: float) -> int:
        """Rows between kept samples for a target rate ``fps`` (Hz): round(dataset fps / fps) >= 1."""
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        if self.fps < fps * 0.99:
            raise ValueError(f"{self.root}: the dataset is recorded at {self.fps:g} Hz, below the requested {fps:g} Hz "
                             "(upsampling is not supported)")
        return max(1, int(round(self.fps / fps)))

    def _row_value(self, row: dict[str, Any], key: str) -> Any:
        if key not in row:
            columns = sorted(k for k in row if k != "_file")
            raise LeRobotFormatError(f"{row['_file']}: no column {key!r} (columns: {columns})")
        return row[key]

    def _path(self, template_key: str, default: str, **fields: Any) -> Path:
        return self.root / str(self.info.get(template_key, default)).format(**fields)

    def _episode_table(self, episode: int) -> tuple[pa.Table, Path]:
        row = self.episodes[episode]
        path = self._path("data_path", "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
                          chunk_index=int(self._row_value(row, "data/chunk_index")),
                          file_index=int(self._row_value(row, "data/file_index")))
        if path not in self._tables:
            if not path.is_file():
                raise FileNotFoundError(f"data file {path} (episode {episode}) not found")
            wanted = {"episode_index", "frame_index", "timestamp", *self.mapping.state_keys, *self.mapping.action_keys}
            self._tables[path] = pq.read_table(path, columns=[c for c in pq.read_schema(path).names if c in wanted])
        table = self._tables[path]
        for key in ("episode_index", "frame_index"):
            if key not in table.column_names:
                raise LeRobotFormatError(f"{path}: no column {key!r} (columns: {table.column_names})")
        table = table.filter(pc.equal(table.column("episode_index"), episode))
        return table.take(pc.sort_indices(table, [("frame_index", "ascending")])), path

    def _matrix(self, table: pa.Table, keys: tuple[str, ...], source: Path) -> np.ndarray:
        return np.concatenate([column_matrix(table, k, feature_dim(self.info, k), source) for k in keys], axis=1)

    def plan(self, episode: int, rows: np.ndarray | None, fps: float) -> _EpisodePlan:
        """Arrays of ``episode`` and, for the kept ``rows`` (None: every ``skip(fps)``-th row), their frames."""
        if episode not in self.episodes:
            raise KeyError(f"{self.root}: no episode {episode} (episodes: {list(self.episodes)[:10]}...)")
        table, source = self._episode_table(episode)
        if table.num_rows == 0:
            raise LeRobotFormatError(f"{source}: no rows for episode {episode}")
        states = self._matrix(table, self.mapping.state_keys, source)
        raw = self._matrix(table, self.mapping.action_keys, source) if self.mapping.action_keys else None
        if rows is None:
            rows = np.arange(0, table.num_rows, self.skip(fps))
        if "timestamp" in table.column_names:
            stamps = table.column("timestamp").to_numpy(zero_copy_only=False).astype(np.float64)
        else:
            stamps = table.column("frame_index").to_numpy(zero_copy_only=False) / self.fps
        row = self.episodes[episode]
        prefix = f"videos/{self.camera}/"
        video = self._path("video_path", "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
                           video_key=self.camera, chunk_index=int(self._row_value(row, prefix + "chunk_index")),
                           file_index=int(self._row_value(row, prefix + "file_index")))
        start = float(self._row_value(row, prefix + "from_timestamp"))
        numbers = np.round((start + stamps[rows]) * self.video_fps).astype(int)
        tasks = row.get("tasks") or [""]
        return _EpisodePlan(episode, states, raw, rows, video, numbers, str(tasks[0]))

    def _actions(self, plan: _EpisodePlan) -> np.ndarray:
        return clip_actions(plan.states, plan.raw_actions, plan.rows, self.mapping.action_convention)

    def clip(self, episode: int, frames: int = 8, fps: float = DEFAULT_FPS, start: int = 0) -> DroidClip:
        """``frames`` samples every ``skip(fps)`` rows from row ``start`` of ``episode`` (as read_droid_clip)."""
        skip = self.skip(fps)
        rows = start + skip * np.arange(frames)
        length = int(self.episodes[episode].get("length", 0)) if episode in self.episodes else 0
        if start < 0 or (length and rows[-1] >= length):
            raise ValueError(f"{self.root}: episode {episode} has {length} steps, too few for {frames} frames every "
                             f"{skip} from {start}")
        plan = self.plan(episode, rows, fps)
        if rows[-1] >= len(plan.states):
            raise ValueError(f"{self.root}: episode {episode} has {len(plan.states)} rows, too few for {frames} "
                             f"frames every {skip} from {start}")
        images = read_video_frames(plan.video, plan.frame_numbers)
        return DroidClip(frames=np.stack([images[int(n)] for n in plan.frame_numbers]),
                         states=plan.states[rows].astype(np.float32),
                         actions=self._actions(plan).astype(np.float32), indices=rows)

    def episodes_at(self, fps: float = DEFAULT_FPS) -> tuple[list[Episode], list[str]]:
        """Every episode resampled to ~``fps`` Hz as training.dataset.Episode; invalid ones (too short after
        resampling, non-finite or implausible values) are skipped with a warning and listed in the second value.
        Each video file is decoded once."""
        plans = [self.plan(e, None, fps) for e in self.episodes]
        by_video: dict[Path, set[int]] = {}
        for p in plans:
            by_video.setdefault(p.video, set()).update(p.frame_numbers.tolist())
        decoded = {v: read_video_frames(v, wanted) for v, wanted in by_video.items()}
        good, bad = [], []
        rate = self.fps / self.skip(fps)
        for p in plans:
            try:
                good.append(self._episode(p, decoded[p.video], rate))
            except CorruptEpisodeError as exc:
                msg = f"{self.root} episode {p.episode}: {exc}"
                warnings.warn(f"skipping episode: {msg}", stacklevel=2)
                bad.append(msg)
        if not good:
            raise ValueError(f"no valid episodes in {self.root} ({len(bad)} skipped)")
        return good, bad

    def _episode(self, plan: _EpisodePlan, images: dict[int, np.ndarray], rate: float) -> Episode:
        frames = np.stack([images[int(n)] for n in plan.frame_numbers])
        states = plan.states[plan.rows].astype(np.float32)
        actions = (self._actions(plan) if len(plan.rows) > 1 else np.zeros((0, 7))).astype(np.float32)
        validate_episode(frames, states, actions)
        meta = {"task": plan.task, "control_hz": rate, "source": "lerobot", "dataset": str(self.root),
                "episode_index": plan.episode, "camera": self.camera, "length": int(len(frames))}
        return Episode(frames, states, actions, meta)


# -- entry points --------------------------------------------------------------------------------------------------
def read_lerobot_clip(root: str | Path, episode: int = 0, frames: int = 8, fps: float = DEFAULT_FPS, start: int = 0,
                      mapping: LeRobotMapping | None = None) -> DroidClip:
    """One clip (frames uint8 (T, H, W, 3), states (T, 7), actions (T - 1, 7), source row indices (T,)) of
    ``frames`` samples at ~``fps`` Hz from row ``start`` of ``episode``; the same clip as training.droid gives."""
    return LeRobotReader(root, mapping).clip(episode, frames, fps, start)


def load_lerobot_episodes(root: str | Path, fps: float = DEFAULT_FPS, mapping: LeRobotMapping | None = None
                          ) -> tuple[list[Episode], list[str]]:
    """All episodes of a LeRobot v3 dataset at ~``fps`` Hz (our control rate by default) plus the skipped ones."""
    return LeRobotReader(root, mapping).episodes_at(fps)


def load_training_episodes(data_dir: str | Path, data_format: str = "npz") -> tuple[list[Episode], list[str]]:
    """Episodes for training from ``data_dir`` in ``data_format``: 'npz' (training.dataset episode folders) or
    'lerobot' (a LeRobot v3 dataset, mapping detected, resampled to DEFAULT_FPS)."""
    if data_format == "npz":
        return load_episodes(data_dir)
    if data_format == "lerobot":
        return load_lerobot_episodes(data_dir)
    raise ValueError(f"data_format must be one of {DATA_FORMATS}, got {data_format!r}")
