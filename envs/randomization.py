"""Scene randomisation for the lean Franka envs (issue 13): lighting, colours/textures, camera, distractors, noise.

Off by default. ``gym.make(task_id, randomize=...)`` accepts a :class:`SceneRandomization`, a preset name from
:data:`PRESETS` (``"none"``, ``"lighting"``, ``"colors"``, ``"camera"``, ``"distractors"``, ``"noise"``, ``"all"``)
or a dict of :class:`SceneRandomization` fields (optionally with a ``"preset"`` key as the base to override).

Seeding: every axis draws from its own generator seeded by ``(episode seed, axis)``, where the episode seed is the
``seed`` passed to ``reset``; the same seed therefore gives the same scene AND the same goal image, and switching
one axis on or off never changes what another axis draws. The task layout (start pose, cube, goal) comes from the
env's ``np_random`` and is untouched by randomisation: a randomised episode has exactly the same physics as the
default env's episode with the same seed, only its appearance differs.

Ranges (chosen to resemble the spread between real labs / days; all documented on the dataclass fields):

=============  ======================================================================================
axis           what changes per episode
=============  ======================================================================================
lighting       all lights (2 scene lights + headlight) scaled by x0.3..x1.7; per-channel colour gain
               0.8..1.2; each scene light's direction tilted by up to 25 deg
colors         table / floor / cube colours drawn in HSV; robot links tinted (brightness x0.7..x1.1,
               per-channel +-0.04); table and floor each get a builtin checker or gradient texture
               with probability 0.5
camera         camera position +-5 cm per axis, orientation +-5 deg per camera axis, field of view
               x0.9..x1.1 (nominal 50 deg vertical); cameras fixed in the world only (a wrist camera
               riding on the hand stays as mounted)
distractors    1..3 small static shapes (box/sphere/cylinder/capsule/ellipsoid, half-size 1.5..3.5 cm,
               random colour) on the table at |y| in 0.40..0.55 m, x in 0.15..0.85 m: outside the
               workspace box (|y| <= 0.35 m) and visual-only (no collisions), so no task becomes unsolvable
noise          zero-mean Gaussian pixel noise, std 2..8 (uint8 units, drawn per episode), on observation
               images AND goal/subgoal images (both are camera captures for a real user);
               ``env.render()`` stays noise-free
=============  ======================================================================================

Rendering stays cheap: no shadows, reflections or skybox are added; textures are 64x64 builtins.
"""

from __future__ import annotations

import colorsys
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any, Iterator, Mapping

import mujoco
import numpy as np
from scipy.spatial.transform import Rotation

AXES = ("lighting", "colors", "camera", "distractors", "noise")
_STREAM_SALT = 0x5CE7E  # separates the scene streams from any other use of the episode seed
_DISTRACTOR_PREFIX = "distractor"
_DISTRACTOR_SHAPES = (mujoco.mjtGeom.mjGEOM_BOX, mujoco.mjtGeom.mjGEOM_SPHERE, mujoco.mjtGeom.mjGEOM_CYLINDER,
                      mujoco.mjtGeom.mjGEOM_CAPSULE, mujoco.mjtGeom.mjGEOM_ELLIPSOID)
_HIDDEN_GROUP = 3  # geom group the env's scene option never draws
_TEXTURE_KINDS = ("checker", "gradient")
_TEXTURED_SURFACES = ("table", "floor")
# MjModel arrays the randomiser changes (besides the headlight and the distractors' geom fields)
_APPEARANCE_FIELDS = ("light_diffuse", "light_ambient", "light_dir", "cam_pos", "cam_quat", "cam_fovy", "geom_rgba",
                      "mat_rgba", "geom_matid")
_SCENE_BODIES = ("world", "table", "target", "place_target", _DISTRACTOR_PREFIX + "s")


@dataclass(frozen=True)
class SceneRandomization:
    """Which axes are randomised and over which ranges. Ranges ``(lo, hi)`` are sampled uniformly.

    lighting: light_scale (multiplier on every light's diffuse and ambient), light_color_gain (per-channel
        multiplier, RGB), light_tilt_deg (max tilt of each scene light's direction, degrees).
    colors: table_value / floor_value (HSV value of the surface colour; hue uniform, saturation in
        surface_saturation), cube_saturation / cube_value (hue uniform; redrawn until it differs from the table by
        at least min_cube_contrast in RGB Euclidean distance), robot_brightness (multiplier on the grey links),
        robot_tint (per-channel additive shift), texture_prob (chance table and floor each get a builtin texture).
    camera: camera_shift_m (max |offset| per axis of the camera position, metres, base frame),
        camera_rot_deg (max |rotation| about each camera axis, degrees), fovy_scale (multiplier on the vertical
        field of view).
    distractors: distractor_count (inclusive integer range; at most max_distractors geoms are allocated),
        distractor_half_size (metres), distractor_x / distractor_abs_y (placement box on the table top, metres,
        base frame; the side is random).
    noise: noise_std (std of the Gaussian pixel noise in uint8 units, drawn once per episode).
    axis_prob: chance that each switched-on axis is applied in an episode (drawn per episode and axis from a
        stream of its own); 1 applies every switched-on axis every episode. Below 1, episodes show every subset of
        the axes, the single-axis scenes included (preset ``mixed_axes``: all five axes at 0.5, for training data;
        ``mixed_axes_wide_camera``: the same with 1.5x the camera ranges).
    """

    lighting: bool = False
    colors: bool = False
    camera: bool = False
    distractors: bool = False
    noise: bool = False

    light_scale: tuple[float, float] = (0.3, 1.7)
    light_color_gain: tuple[float, float] = (0.8, 1.2)
    light_tilt_deg: float = 25.0

    table_value: tuple[float, float] = (0.25, 0.85)
    floor_value: tuple[float, float] = (0.12, 0.6)
    surface_saturation: tuple[float, float] = (0.0, 0.5)
    cube_saturation: tuple[float, float] = (0.6, 1.0)
    cube_value: tuple[float, float] = (0.5, 1.0)
    min_cube_contrast: float = 0.3
    robot_brightness: tuple[float, float] = (0.7, 1.1)
    robot_tint: float = 0.04
    texture_prob: float = 0.5

    camera_shift_m: float = 0.05
    camera_rot_deg: float = 5.0
    fovy_scale: tuple[float, float] = (0.9, 1.1)

    distractor_count: tuple[int, int] = (1, 3)
    max_distractors: int = 3
    distractor_half_size: tuple[float, float] = (0.015, 0.035)
    distractor_x: tuple[float, float] = (0.15, 0.85)
    distractor_abs_y: tuple[float, float] = (0.40, 0.55)

    noise_std: tuple[float, float] = (2.0, 8.0)

    axis_prob: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                _check_range(f.name, value)
        for name in ("light_tilt_deg", "robot_tint", "camera_shift_m", "camera_rot_deg", "min_cube_contrast"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.axis_prob <= 1.0:
            raise ValueError(f"axis_prob must be in [0, 1], got {self.axis_prob}")
        if not 0.0 <= self.texture_prob <= 1.0:
            raise ValueError(f"texture_prob must be in [0, 1], got {self.texture_prob}")
        if self.distractor_count[0] < 0 or self.distractor_count[1] > self.max_distractors:
            raise ValueError(f"distractor_count {self.distractor_count} must lie in [0, max_distractors="
                             f"{self.max_distractors}]")
        if self.distractor_abs_y[0] < 0.36:
            raise ValueError("distractor_abs_y must stay outside the workspace box (|y| > 0.35 m)")
        if self.noise_std[0] < 0 or self.light_scale[0] < 0 or self.fovy_scale[0] <= 0:
            raise ValueError("noise_std, light_scale must be >= 0 and fovy_scale > 0")

    @property
    def enabled(self) -> bool:
        """True when at least one axis is switched on."""
        return any(getattr(self, axis) for axis in AXES)


def _check_range(name: str, value: tuple) -> None:
    if len(value) != 2 or not all(np.isfinite(v) for v in value) or value[0] > value[1]:
        raise ValueError(f"{name} must be a finite (lo, hi) pair with lo <= hi, got {value}")


PRESETS: dict[str, SceneRandomization] = {
    "none": SceneRandomization(),
    **{axis: SceneRandomization(**{axis: True}) for axis in AXES},
    "all": SceneRandomization(**{axis: True for axis in AXES}),
    "mixed_axes": SceneRandomization(**{axis: True for axis in AXES}, axis_prob=0.5),
    # training data whose camera range is 1.5x the evaluation's ("camera", "all"), so that a moved evaluation
    # camera lies inside the range the model saw rather than on its edge
    "mixed_axes_wide_camera": SceneRandomization(**{axis: True for axis in AXES}, axis_prob=0.5,
                                                 camera_shift_m=0.075, camera_rot_deg=7.5, fovy_scale=(0.85, 1.15)),
    # the camera alone, moved in every episode over 1.5x the evaluation's range: training data for the moved camera
    "camera_wide": SceneRandomization(camera=True, camera_shift_m=0.075, camera_rot_deg=7.5, fovy_scale=(0.85, 1.15)),
    # camera_wide with the lighting changed too (the evaluation's lighting ranges), every episode: training data
    # for the two axes on which the wrist model's predictor loses most (scripts/train_sim_wrist_camera.sh)
    "camera_wide_lighting": SceneRandomization(camera=True, lighting=True, camera_shift_m=0.075, camera_rot_deg=7.5,
                                               fovy_scale=(0.85, 1.15)),
}


def resolve_randomization(value: SceneRandomization | str | Mapping[str, Any] | None) -> SceneRandomization:
    """Turn ``None`` / a preset name / a dict of fields (optional ``"preset"`` base) into a config."""
    if value is None:
        return PRESETS["none"]
    if isinstance(value, SceneRandomization):
        return value
    if isinstance(value, str):
        if value not in PRESETS:
            raise ValueError(f"unknown randomisation preset {value!r}; known: {sorted(PRESETS)}")
        return PRESETS[value]
    if isinstance(value, Mapping):
        overrides = dict(value)
        base = resolve_randomization(overrides.pop("preset", "none"))
        known = {f.name for f in fields(SceneRandomization)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown randomisation fields {unknown}; known: {sorted(known)}")
        return replace(base, **{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()})
    raise TypeError(f"randomize must be None, a preset name, a dict or a SceneRandomization, "
                    f"got {type(value).__name__}")


# ------------------------------------------------------------------------------------------------ model assets
def add_randomization_assets(spec: mujoco.MjSpec, cfg: SceneRandomization) -> None:
    """Add what the runtime randomiser switches between: surface textures/materials and hidden distractor geoms.

    Only called for a randomised env, so the default scene is unchanged. Distractors are visual-only
    (contype = conaffinity = 0) geoms of one static body; they start hidden (group 3).
    """
    if cfg.colors:
        for surface in _TEXTURED_SURFACES:
            _add_surface_materials(spec, surface)
    if cfg.distractors:
        body = spec.worldbody.add_body(name=_DISTRACTOR_PREFIX + "s", pos=[0.0, 0.0, 0.0])
        for i in range(cfg.max_distractors):
            body.add_geom(name=f"{_DISTRACTOR_PREFIX}{i}", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.02] * 3,
                          pos=[0.5, 0.5, 0.02], contype=0, conaffinity=0, group=_HIDDEN_GROUP, mass=0.0)


def _add_surface_materials(spec: mujoco.MjSpec, surface: str) -> None:
    """One checker and one gradient material (64x64 builtin textures, white-to-grey, tinted by material rgba)."""
    builtins = {"checker": mujoco.mjtBuiltin.mjBUILTIN_CHECKER, "gradient": mujoco.mjtBuiltin.mjBUILTIN_GRADIENT}
    for kind in _TEXTURE_KINDS:
        name = f"rand_{surface}_{kind}"
        spec.add_texture(name=name, type=mujoco.mjtTexture.mjTEXTURE_2D, builtin=builtins[kind],
                         rgb1=[1.0, 1.0, 1.0], rgb2=[0.55, 0.55, 0.55], width=64, height=64)
        mat = spec.add_material(name=name, texrepeat=[6.0, 6.0] if kind == "checker" else [1.0, 1.0],
                                texuniform=kind == "checker", reflectance=0.0)
        mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = name


# ------------------------------------------------------------------------------------------------ sampling
@dataclass(frozen=True)
class Distractor:
    """One distractor: MuJoCo geom type, size (3,) m, position (3,) m and quat (w, x, y, z) in the base frame."""

    shape: int
    size: np.ndarray
    pos: np.ndarray
    quat: np.ndarray
    rgb: np.ndarray


def _hsv(rng: np.random.Generator, saturation: tuple[float, float], value: tuple[float, float]) -> np.ndarray:
    """RGB in [0, 1] from uniform hue and the given saturation/value ranges."""
    return np.array(colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(*saturation), rng.uniform(*value)))


def _tilt(direction: np.ndarray, max_deg: float, rng: np.random.Generator) -> np.ndarray:
    """``direction`` rotated by an angle in [0, max_deg] about a random axis perpendicular to it."""
    axis = np.cross(direction, rng.normal(size=3))
    axis /= np.linalg.norm(axis)
    angle = np.deg2rad(rng.uniform(0.0, max_deg))
    return Rotation.from_rotvec(axis * angle).apply(direction)


def _resting_height(shape: int, size: np.ndarray) -> float:
    """Height of the centre above the table for a geom standing upright on it (metres)."""
    if shape == mujoco.mjtGeom.mjGEOM_SPHERE:
        return float(size[0])
    if shape == mujoco.mjtGeom.mjGEOM_CAPSULE:
        return float(size[0] + size[1])
    if shape == mujoco.mjtGeom.mjGEOM_CYLINDER:
        return float(size[1])
    return float(size[2])


def _sample_distractor(cfg: SceneRandomization, rng: np.random.Generator) -> Distractor:
    shape = _DISTRACTOR_SHAPES[int(rng.integers(len(_DISTRACTOR_SHAPES)))]
    size = rng.uniform(*cfg.distractor_half_size, size=3)
    if shape == mujoco.mjtGeom.mjGEOM_SPHERE:
        size[:] = size[0]
    elif shape in (mujoco.mjtGeom.mjGEOM_CYLINDER, mujoco.mjtGeom.mjGEOM_CAPSULE):
        size[2] = 0.0
    side = 1.0 if rng.uniform() < 0.5 else -1.0
    pos = np.array([rng.uniform(*cfg.distractor_x), side * rng.uniform(*cfg.distractor_abs_y),
                    _resting_height(shape, size)])
    quat = Rotation.from_euler("z", rng.uniform(0.0, 2 * np.pi)).as_quat()[[3, 0, 1, 2]]
    return Distractor(shape, size, pos, quat, _hsv(rng, (0.3, 1.0), (0.3, 1.0)))


# ------------------------------------------------------------------------------------------------ runtime
class SceneRandomizer:
    """Applies a :class:`SceneRandomization` to a compiled model once per episode, and noise to images.

    ``bind(model)`` records the nominal values; ``new_episode(seed)`` redraws every enabled axis from the
    nominal scene (never cumulatively); ``noisy(image)`` adds this episode's pixel noise.
    """

    def __init__(self, cfg: SceneRandomization) -> None:
        self.cfg = cfg
        self._master = np.random.default_rng()
        self._noise_rng = np.random.default_rng(0)
        self.noise_std = 0.0
        self.episode_seed: int | None = None
        self.applied_axes: tuple[str, ...] = ()  # the axes the current episode applies

    def bind(self, model: mujoco.MjModel) -> None:
        """Record the nominal appearance of ``model`` (call once, right after compiling)."""
        self.model = model
        self._nominal = {
            "light_diffuse": model.light_diffuse.copy(), "light_ambient": model.light_ambient.copy(),
            "light_dir": model.light_dir.copy(), "head_diffuse": model.vis.headlight.diffuse.copy(),
            "head_ambient": model.vis.headlight.ambient.copy(), "cam_pos": model.cam_pos.copy(),
            "cam_quat": model.cam_quat.copy(), "cam_fovy": model.cam_fovy.copy(),
            "geom_rgba": model.geom_rgba.copy(), "mat_rgba": model.mat_rgba.copy(),
            "geom_matid": model.geom_matid.copy(),
        }
        self._robot_geoms = [i for i in range(model.ngeom) if _is_robot_geom(model, i)]
        self._distractor_geoms = [i for i in range(model.ngeom) if model.geom(i).name.startswith(_DISTRACTOR_PREFIX)]
        self._robot_mats = [i for i in range(model.nmat) if not model.mat(i).name.startswith("rand_")]

    def new_episode(self, seed: int | None) -> None:
        """Draw and apply this episode's scene; ``seed=None`` continues from the previous episodes' stream."""
        if seed is not None:
            self._master = np.random.default_rng([_STREAM_SALT, int(seed)])
        self.episode_seed = int(self._master.integers(2**63))
        self._restore_nominal()
        self.noise_std = 0.0
        applied = self._axes_applied()
        for index, axis in enumerate(AXES):
            if axis in applied:
                rng = np.random.default_rng([_STREAM_SALT, self.episode_seed, index])
                getattr(self, f"_apply_{axis}")(rng)
        self.applied_axes = applied

    def _axes_applied(self) -> tuple[str, ...]:
        """The switched-on axes this episode applies: all of them, or each with ``axis_prob`` (its own stream)."""
        on = [axis for axis in AXES if getattr(self.cfg, axis)]
        if self.cfg.axis_prob >= 1.0:
            return tuple(on)
        draws = np.random.default_rng([_STREAM_SALT, self.episode_seed, len(AXES)]).random(len(AXES))
        return tuple(axis for axis, u in zip(AXES, draws) if axis in on and u < self.cfg.axis_prob)

    @contextmanager
    def nominal_view(self, data: mujoco.MjData, keep_camera: bool = False) -> Iterator[None]:
        """Inside the block the model shows the nominal scene (nominal lights, colours and camera, distractors
        hidden; with ``keep_camera`` the episode's camera pose and field of view stay); on leaving it, this
        episode's randomised appearance is put back exactly. Physics is untouched: only appearance fields change,
        and ``data``'s camera and light poses are recomputed for them (``mj_camlight``; ``data`` must hold a state
        whose kinematics are computed, as after any step). Used to render the nominal twin of a randomised frame
        (training.distill)."""
        m = self.model
        drawn = {name: getattr(m, name).copy() for name in _APPEARANCE_FIELDS}
        head = m.vis.headlight.diffuse.copy(), m.vis.headlight.ambient.copy()
        groups = m.geom_group.copy()
        try:
            self._restore_nominal()
            if keep_camera:
                m.cam_pos[:], m.cam_quat[:], m.cam_fovy[:] = drawn["cam_pos"], drawn["cam_quat"], drawn["cam_fovy"]
            mujoco.mj_camlight(m, data)
            yield
        finally:
            for name, value in drawn.items():
                getattr(m, name)[:] = value
            m.vis.headlight.diffuse[:], m.vis.headlight.ambient[:] = head
            m.geom_group[:] = groups
            mujoco.mj_camlight(m, data)

    def noisy(self, image: np.ndarray) -> np.ndarray:
        """``image`` (uint8 (H, W, 3)) plus this episode's Gaussian pixel noise (unchanged if noise is off)."""
        if not self.cfg.noise or self.noise_std == 0.0:
            return image
        noisy = self._noise_rng.standard_normal(image.shape, dtype=np.float32)  # in place: ~5 ms at 256 px
        noisy *= np.float32(self.noise_std)
        noisy += image
        np.rint(noisy, out=noisy)
        np.clip(noisy, 0, 255, out=noisy)
        return noisy.astype(np.uint8)

    # -------------------------------------------------------------------------------- per-axis application
    def _restore_nominal(self) -> None:
        m, n = self.model, self._nominal
        m.light_diffuse[:], m.light_ambient[:], m.light_dir[:] = n["light_diffuse"], n["light_ambient"], n["light_dir"]
        m.vis.headlight.diffuse[:], m.vis.headlight.ambient[:] = n["head_diffuse"], n["head_ambient"]
        m.cam_pos[:], m.cam_quat[:], m.cam_fovy[:] = n["cam_pos"], n["cam_quat"], n["cam_fovy"]
        m.geom_rgba[:], m.mat_rgba[:], m.geom_matid[:] = n["geom_rgba"], n["mat_rgba"], n["geom_matid"]
        m.geom_group[self._distractor_geoms] = _HIDDEN_GROUP

    def _apply_lighting(self, rng: np.random.Generator) -> None:
        m, n, cfg = self.model, self._nominal, self.cfg
        gain = rng.uniform(*cfg.light_scale) * rng.uniform(*cfg.light_color_gain, size=3)
        m.light_diffuse[:] = np.clip(n["light_diffuse"] * gain, 0.0, 1.0)
        m.light_ambient[:] = np.clip(n["light_ambient"] * gain, 0.0, 1.0)
        m.vis.headlight.diffuse[:] = np.clip(n["head_diffuse"] * gain, 0.0, 1.0)
        m.vis.headlight.ambient[:] = np.clip(n["head_ambient"] * gain, 0.0, 1.0)
        for i in range(m.nlight):
            direction = n["light_dir"][i] / np.linalg.norm(n["light_dir"][i])
            m.light_dir[i] = _tilt(direction, cfg.light_tilt_deg, rng)

    def _apply_colors(self, rng: np.random.Generator) -> None:
        m, cfg = self.model, self.cfg
        table = _hsv(rng, cfg.surface_saturation, cfg.table_value)
        self._paint_surface("table", "table_top", table, rng)
        self._paint_surface("floor", "floor", _hsv(rng, cfg.surface_saturation, cfg.floor_value), rng)
        for i in range(m.ngeom):
            if m.geom(i).name.startswith("cube") and m.geom(i).name.endswith("_geom"):
                m.geom_rgba[i, :3] = self._cube_color(table, rng)
        brightness = rng.uniform(*cfg.robot_brightness)
        tint = rng.uniform(-cfg.robot_tint, cfg.robot_tint, size=3)
        for i in self._robot_geoms:
            m.geom_rgba[i, :3] = np.clip(self._nominal["geom_rgba"][i, :3] * brightness + tint, 0.0, 1.0)
        for i in self._robot_mats:
            m.mat_rgba[i, :3] = np.clip(self._nominal["mat_rgba"][i, :3] * brightness + tint, 0.0, 1.0)

    def _cube_color(self, table: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A saturated colour at least ``min_cube_contrast`` away from the table (20 tries, then the last)."""
        for _ in range(20):
            color = _hsv(rng, self.cfg.cube_saturation, self.cfg.cube_value)
            if np.linalg.norm(color - table) >= self.cfg.min_cube_contrast:
                break
        return color

    def _paint_surface(self, surface: str, geom: str, rgb: np.ndarray, rng: np.random.Generator) -> None:
        """Colour ``geom``; with probability texture_prob through a tinted builtin texture instead."""
        m = self.model
        gid = m.geom(geom).id
        m.geom_rgba[gid, :3] = rgb
        if rng.uniform() < self.cfg.texture_prob:
            kind = _TEXTURE_KINDS[int(rng.integers(len(_TEXTURE_KINDS)))]
            mat = m.mat(f"rand_{surface}_{kind}").id
            m.geom_matid[gid] = mat
            m.mat_rgba[mat] = [*rgb, 1.0]

    def _apply_camera(self, rng: np.random.Generator) -> None:
        m, n, cfg = self.model, self._nominal, self.cfg
        for cam in range(m.ncam):
            # every camera draws its offsets (the same draws whatever rides on the robot), but only cameras placed
            # in the world move: one riding on the robot (a wrist camera) is rigidly mounted
            shift = rng.uniform(-cfg.camera_shift_m, cfg.camera_shift_m, size=3)
            delta = Rotation.from_euler("xyz", rng.uniform(-cfg.camera_rot_deg, cfg.camera_rot_deg, size=3),
                                        degrees=True)
            zoom = rng.uniform(*cfg.fovy_scale)
            if m.cam_bodyid[cam] != 0:
                continue
            m.cam_pos[cam] = n["cam_pos"][cam] + shift
            nominal = Rotation.from_quat(n["cam_quat"][cam][[1, 2, 3, 0]])
            m.cam_quat[cam] = (nominal * delta).as_quat()[[3, 0, 1, 2]]  # delta in the camera's own frame
            m.cam_fovy[cam] = n["cam_fovy"][cam] * zoom

    def _apply_distractors(self, rng: np.random.Generator) -> None:
        m, cfg = self.model, self.cfg
        count = int(rng.integers(cfg.distractor_count[0], cfg.distractor_count[1] + 1))
        for i in range(cfg.max_distractors):
            gid = m.geom(f"{_DISTRACTOR_PREFIX}{i}").id
            m.geom_group[gid] = _HIDDEN_GROUP
            if i >= count:
                continue
            d = _sample_distractor(cfg, rng)
            m.geom_type[gid], m.geom_size[gid], m.geom_pos[gid], m.geom_quat[gid] = d.shape, d.size, d.pos, d.quat
            m.geom_rgba[gid] = [*d.rgb, 1.0]
            m.geom_rbound[gid] = 2.0 * float(np.max(d.size))
            m.geom_group[gid] = 0

    def _apply_noise(self, rng: np.random.Generator) -> None:
        self.noise_std = float(rng.uniform(*self.cfg.noise_std))
        self._noise_rng = np.random.default_rng(rng.integers(2**63))


def _is_robot_geom(model: mujoco.MjModel, geom: int) -> bool:
    """Geoms of the arm and gripper (everything not on a scene body and not a cube)."""
    body = model.body(model.geom_bodyid[geom]).name
    return body not in _SCENE_BODIES and not body.startswith("cube") and model.geom_matid[geom] < 0
