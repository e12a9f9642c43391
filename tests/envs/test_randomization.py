"""Scene randomisation: config resolution, seeding, appearance-only effect, ranges, goal range scaling."""

import numpy as np
import pytest
import gymnasium as gym

import envs  # noqa: F401  (registers the ids)
from envs.randomization import AXES, PRESETS, SceneRandomization, resolve_randomization
from envs.tasks import REACH_HIGH, REACH_LOW, scaled_box

from tests.envs._experts import expert_wins


def _make(task_id="FrankaPickPlace-v0", **kw):
    return gym.make(task_id, image_size=64, **kw)


@pytest.fixture(scope="module")
def default_pp():
    env = _make()
    yield env
    env.close()


@pytest.fixture(scope="module")
def all_pp():
    env = _make(randomize="all")
    yield env
    env.close()


# ------------------------------------------------------------------------------------------------ config
def test_resolve_accepts_presets_dicts_and_objects():
    assert resolve_randomization(None) == SceneRandomization() and not resolve_randomization(None).enabled
    assert resolve_randomization("all").enabled and all(getattr(PRESETS["all"], a) for a in AXES)
    for axis in AXES:
        cfg = resolve_randomization(axis)
        assert [getattr(cfg, a) for a in AXES] == [a == axis for a in AXES]
    cfg = resolve_randomization({"preset": "lighting", "light_scale": [0.5, 1.5], "noise": True})
    assert cfg.lighting and cfg.noise and cfg.light_scale == (0.5, 1.5) and not cfg.colors
    obj = SceneRandomization(camera=True)
    assert resolve_randomization(obj) is obj


@pytest.mark.parametrize("value,error", [
    ("sunny", ValueError), ({"brightness": 2}, ValueError), (3, TypeError),
    ({"light_scale": (1.5, 0.5)}, ValueError), ({"texture_prob": 2.0}, ValueError),
    ({"distractor_abs_y": (0.2, 0.5)}, ValueError), ({"distractor_count": (1, 9)}, ValueError),
    ({"camera_shift_m": -0.1}, ValueError),
])
def test_resolve_rejects_bad_values(value, error):
    with pytest.raises(error):
        resolve_randomization(value)


def test_bad_randomize_in_gym_make_raises():
    with pytest.raises(ValueError, match="preset"):
        _make("FrankaReach-v0", randomize="sunny")


# ------------------------------------------------------------------------------------------------ behaviour
def test_none_preset_is_the_default_env(default_pp):
    env = _make(randomize="none")
    a, ia = env.reset(seed=4)
    b, ib = default_pp.reset(seed=4)
    assert np.array_equal(a["image"], b["image"]) and np.array_equal(ia["goal"]["image"], ib["goal"]["image"])
    assert env.unwrapped.model.ngeom == default_pp.unwrapped.model.ngeom
    env.close()


def test_same_seed_same_scene_and_goal_different_seed_differs(all_pp):
    other = _make(randomize="all")
    o1, i1 = all_pp.reset(seed=21)
    other.reset(seed=3)
    o2, i2 = other.reset(seed=21)
    for key in ("image", "state"):
        assert np.array_equal(o1[key], o2[key]) and np.array_equal(i1["goal"][key], i2["goal"][key])
    for g1, g2 in zip(i1["subgoals"], i2["subgoals"]):
        assert np.array_equal(g1["image"], g2["image"])
    act = np.array([0.02, 0.0, -0.01, 0, 0, 0, 0.0], np.float32)
    assert np.array_equal(all_pp.step(act)[0]["image"], other.step(act)[0]["image"]), "per-step noise is seeded"
    o3, i3 = other.reset(seed=22)
    assert not np.array_equal(o1["image"], o3["image"]) and not np.array_equal(i1["goal"]["image"],
                                                                                 i3["goal"]["image"])
    other.close()


def test_randomisation_changes_appearance_not_physics(default_pp, all_pp):
    """Same seed: identical states (start, goal, subgoals, after steps), different images."""
    a, ia = default_pp.reset(seed=8)
    b, ib = all_pp.reset(seed=8)
    assert np.array_equal(a["state"], b["state"]) and np.array_equal(ia["goal"]["state"], ib["goal"]["state"])
    assert [g["state"].tolist() for g in ia["subgoals"]] == [g["state"].tolist() for g in ib["subgoals"]]
    assert np.abs(a["image"].astype(int) - b["image"]).mean() > 5
    act = np.array([0.03, -0.02, -0.01, 0, 0, 0, 0.3], np.float32)
    for _ in range(3):
        a, *_ = default_pp.step(act)
        b, *_ = all_pp.step(act)
    assert np.array_equal(a["state"], b["state"])


@pytest.mark.parametrize("preset", ["all", "camera", "lighting", "distractors"])
def test_nominal_image_is_the_default_scene_and_leaves_the_episode_scene(default_pp, preset):
    """nominal_image() of a randomised env equals the default env's image in the same state, pixel for pixel
    (camera and lights moved back, distractors hidden), and the episode's own appearance is back afterwards."""
    env = _make(randomize=preset)
    try:
        env.reset(seed=11), default_pp.reset(seed=11)
        act = np.array([0.02, 0.02, -0.02, 0, 0, 0, 0.4], np.float32)
        for _ in range(2):
            env.step(act), default_pp.step(act)
        before = env.unwrapped.render_image()
        np.testing.assert_array_equal(env.unwrapped.nominal_image(), default_pp.unwrapped.render_image())
        np.testing.assert_array_equal(env.unwrapped.render_image(), before)
        assert not np.array_equal(before, default_pp.unwrapped.render_image())
    finally:
        env.close()


def test_nominal_image_keeping_the_camera_is_the_camera_variant_alone():
    """keep_camera=True: appearance made nominal, the episode's camera pose kept = what the camera-only variant
    shows for the same seed (the camera axis draws from its own stream)."""
    env, cam_only = _make(randomize="all"), _make(randomize="camera")
    try:
        env.reset(seed=4), cam_only.reset(seed=4)
        np.testing.assert_array_equal(env.unwrapped.nominal_image(keep_camera=True),
                                      cam_only.unwrapped.render_image())
        assert not np.array_equal(env.unwrapped.nominal_image(keep_camera=True), env.unwrapped.nominal_image())
    finally:
        env.close(), cam_only.close()


def test_nominal_image_of_a_default_env_is_its_image(default_pp):
    default_pp.reset(seed=2)
    np.testing.assert_array_equal(default_pp.unwrapped.nominal_image(), default_pp.unwrapped.render_image())


@pytest.mark.parametrize("preset", [a for a in AXES])
def test_each_axis_changes_the_image(default_pp, preset):
    env = _make(randomize=preset)
    changed = 0
    for seed in range(3):
        a, _ = default_pp.reset(seed=seed)
        b, _ = env.reset(seed=seed)
        changed += not np.array_equal(a["image"], b["image"])
    env.close()
    assert changed == 3, f"{preset} left the image unchanged"


def test_axes_draw_independently():
    """The lighting drawn for a seed is the same whether or not other axes are on."""
    light, full = _make("FrankaReach-v0", randomize="lighting"), _make("FrankaReach-v0", randomize="all")
    light.reset(seed=5)
    full.reset(seed=5)
    assert np.array_equal(light.unwrapped.model.light_diffuse, full.unwrapped.model.light_diffuse)
    assert np.array_equal(light.unwrapped.model.light_dir, full.unwrapped.model.light_dir)
    light.close(), full.close()


def test_ranges_respected_and_nominal_restored(all_pp):
    model, cfg = all_pp.unwrapped.model, PRESETS["all"]
    nominal = _make(randomize="none")
    nominal_model = nominal.unwrapped.model
    all_pp.reset(seed=0)
    first = (model.cam_pos.copy(), model.light_diffuse.copy(), model.geom_rgba.copy())
    for seed in range(1, 8):
        all_pp.reset(seed=seed)
        assert np.all(np.abs(model.cam_pos - nominal_model.cam_pos) <= cfg.camera_shift_m + 1e-12)
        ratio = model.cam_fovy / nominal_model.cam_fovy
        assert np.all((ratio >= cfg.fovy_scale[0]) & (ratio <= cfg.fovy_scale[1]))
        gain = model.light_diffuse / nominal_model.light_diffuse
        lo = cfg.light_scale[0] * cfg.light_color_gain[0]
        hi = cfg.light_scale[1] * cfg.light_color_gain[1]
        assert np.all((gain >= lo - 1e-9) & (gain <= hi + 1e-9))
        _check_distractors(model, cfg)
    all_pp.reset(seed=0)
    assert np.array_equal(first[0], model.cam_pos) and np.array_equal(first[1], model.light_diffuse)
    assert np.array_equal(first[2], model.geom_rgba), "redrawn from the nominal scene, not cumulatively"
    nominal.close()


def _check_distractors(model, cfg):
    shown = [i for i in range(model.ngeom) if model.geom(i).name.startswith("distractor") and model.geom_group[i] == 0]
    assert cfg.distractor_count[0] <= len(shown) <= cfg.distractor_count[1]
    for i in shown:
        assert model.geom_contype[i] == 0 and model.geom_conaffinity[i] == 0, "distractors must not collide"
        assert abs(model.geom_pos[i][1]) >= cfg.distractor_abs_y[0] > 0.35, "inside the workspace"


def test_noise_on_observation_and_goal_but_not_render():
    clean = _make("FrankaReach-v0", render_mode="rgb_array")
    noisy = _make("FrankaReach-v0", render_mode="rgb_array", randomize="noise")
    a, ia = clean.reset(seed=2)
    b, ib = noisy.reset(seed=2)
    for x, y in ((a["image"], b["image"]), (ia["goal"]["image"], ib["goal"]["image"])):
        diff = np.abs(x.astype(int) - y)
        assert 0.5 < diff.mean() < 8.0, diff.mean()
    assert np.array_equal(clean.render(), noisy.render())
    clean.close(), noisy.close()


def test_expert_still_solves_pick_place_with_all_randomisation(all_pp):
    assert expert_wins(all_pp, range(100, 103)) >= 2


# ------------------------------------------------------------------------------------------------ goal range
def test_scaled_box_identity_and_growth():
    lo, hi = scaled_box(REACH_LOW, REACH_HIGH, 1.0, REACH_LOW - 1, REACH_HIGH + 1)
    assert lo is REACH_LOW and hi is REACH_HIGH
    lo, hi = scaled_box(REACH_LOW, REACH_HIGH, 2.0, REACH_LOW - 1, REACH_HIGH + 1)
    assert np.allclose(hi - lo, 2 * (REACH_HIGH - REACH_LOW)) and np.allclose(lo + hi, REACH_LOW + REACH_HIGH)
    lo, hi = scaled_box(REACH_LOW, REACH_HIGH, 5.0, REACH_LOW - 0.01, REACH_HIGH + 0.01)
    assert np.allclose(lo, REACH_LOW - 0.01) and np.allclose(hi, REACH_HIGH + 0.01)


def test_goal_range_scale_reaches_beyond_training_range():
    env = _make("FrankaReach-v0", goal_range_scale=1.8)
    outside = 0
    for seed in range(8):
        env.reset(seed=seed)
        goal = env.unwrapped.task.goal_pos
        outside += bool(np.any(goal < REACH_LOW - 0.01) or np.any(goal > REACH_HIGH + 0.01))
    env.close()
    assert outside >= 2


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), "2"])
def test_bad_goal_range_scale_raises(scale):
    with pytest.raises(ValueError, match="goal_range_scale"):
        _make("FrankaReach-v0", goal_range_scale=scale)


@pytest.mark.parametrize("task_id", ["FrankaReach-v0", "FrankaPickPlace-v0"])
def test_check_env_with_all_randomisation(task_id):
    from gymnasium.utils.env_checker import check_env

    env = gym.make(task_id, image_size=64, render_mode="rgb_array", randomize="all")
    check_env(env.unwrapped, skip_render_check=False)
    env.close()


@pytest.mark.parametrize("task_id", ["FrankaGrasp-v0", "FrankaPickPlace-v0"])
def test_expert_solves_goals_beyond_the_training_range(task_id):
    """goal_range_scale=2 (cube / target box doubled, clipped to the reachable table) keeps tasks solvable."""
    env = _make(task_id, goal_range_scale=2.0)
    wins = expert_wins(env, range(2))
    env.close()
    assert wins == 2


def test_camera_axis_perturbs_the_chosen_camera_preset():
    """randomize=camera jitters the env's own camera preset (here "workspace"), within the configured ranges."""
    from envs.scene import CAMERAS

    nominal = _make("FrankaReach-v0", camera="workspace")
    jittered = _make("FrankaReach-v0", camera="workspace", randomize="camera")
    cfg = jittered.unwrapped.randomization
    base = nominal.unwrapped.model
    assert np.allclose(base.cam_pos[0], CAMERAS["workspace"].pos) and base.cam_fovy[0] == CAMERAS["workspace"].fovy
    for seed in range(3):
        a, _ = nominal.reset(seed=seed)
        b, _ = jittered.reset(seed=seed)
        model = jittered.unwrapped.model
        shift = model.cam_pos[0] - base.cam_pos[0]
        assert 0 < np.abs(shift).max() <= cfg.camera_shift_m + 1e-9
        low, high = cfg.fovy_scale
        assert low * base.cam_fovy[0] - 1e-9 <= model.cam_fovy[0] <= high * base.cam_fovy[0] + 1e-9
        assert not np.array_equal(a["image"], b["image"])
    nominal.close(), jittered.close()


def test_axis_prob_shows_every_subset_seeded_and_hides_old_distractors():
    """mixed_axes: each axis in about half the episodes, single-axis and unrandomised scenes among them, the same
    subset for the same seed; an episode without distractors after one with them shows none."""
    env = _make("FrankaReach-v0", randomize="mixed_axes")
    try:
        subsets = {}
        for seed in range(40):
            env.reset(seed=seed)
            subsets[seed] = env.unwrapped.scene_axes
        counts = {axis: sum(axis in s for s in subsets.values()) for axis in AXES}
        assert all(10 <= c <= 30 for c in counts.values()), counts
        assert any(len(s) == 1 for s in subsets.values()) and any(not s for s in subsets.values())
        env.reset(seed=7)
        assert env.unwrapped.scene_axes == subsets[7]
        with_d = next(s for s, axes in subsets.items() if "distractors" in axes)
        bare = next(s for s, axes in subsets.items() if not axes)
        env.reset(seed=with_d)
        obs, _ = env.reset(seed=bare)
        plain = _make("FrankaReach-v0")
        try:
            np.testing.assert_array_equal(obs["image"], plain.reset(seed=bare)[0]["image"])
        finally:
            plain.close()
    finally:
        env.close()


def test_wide_camera_preset_scales_the_same_draws():
    """mixed_axes_wide_camera: the episodes of mixed_axes (same axes, same appearance) with camera offsets exactly
    1.5x as large: position, orientation and field of view."""
    narrow, wide = PRESETS["mixed_axes"], PRESETS["mixed_axes_wide_camera"]
    assert wide.camera_shift_m == pytest.approx(1.5 * narrow.camera_shift_m)
    assert wide.camera_rot_deg == pytest.approx(1.5 * narrow.camera_rot_deg)
    envs_ = {name: _make("FrankaReach-v0", randomize=name) for name in ("none", "mixed_axes", "mixed_axes_wide_camera")}
    try:
        moved = 0
        for seed in range(12):
            for env in envs_.values():
                env.reset(seed=seed)
            assert envs_["mixed_axes"].unwrapped.scene_axes == envs_["mixed_axes_wide_camera"].unwrapped.scene_axes
            base, a, b = (envs_[n].unwrapped.model for n in envs_)
            if "camera" not in envs_["mixed_axes"].unwrapped.scene_axes:
                np.testing.assert_array_equal(a.cam_pos, b.cam_pos)
                continue
            moved += 1
            np.testing.assert_allclose(b.cam_pos - base.cam_pos, 1.5 * (a.cam_pos - base.cam_pos), atol=1e-12)
            np.testing.assert_allclose(b.cam_fovy / base.cam_fovy - 1, 1.5 * (a.cam_fovy / base.cam_fovy - 1),
                                       atol=1e-12)
            assert not np.allclose(a.cam_quat, b.cam_quat)
        assert moved >= 2
    finally:
        for env in envs_.values():
            env.close()


def test_axis_prob_out_of_range_is_refused():
    with pytest.raises(ValueError, match="axis_prob"):
        SceneRandomization(lighting=True, axis_prob=1.5)


def test_camera_wide_preset_moves_only_the_camera_1_5x_as_far():
    """camera_wide: every episode's camera moved, exactly 1.5x the "camera" preset's offsets, nothing else."""
    narrow, wide = PRESETS["camera"], PRESETS["camera_wide"]
    assert [axis for axis in AXES if getattr(wide, axis)] == ["camera"]
    envs_ = {name: _make("FrankaReach-v0", randomize=name) for name in ("none", "camera", "camera_wide")}
    try:
        for seed in range(4):
            for env in envs_.values():
                env.reset(seed=seed)
            base, a, b = (envs_[n].unwrapped.model for n in envs_)
            assert not np.allclose(a.cam_pos, base.cam_pos)
            np.testing.assert_allclose(b.cam_pos - base.cam_pos, 1.5 * (a.cam_pos - base.cam_pos), atol=1e-12)
            np.testing.assert_allclose(b.cam_fovy / base.cam_fovy - 1, 1.5 * (a.cam_fovy / base.cam_fovy - 1),
                                       atol=1e-12)
            np.testing.assert_array_equal(b.geom_rgba, base.geom_rgba)  # no appearance change
    finally:
        for env in envs_.values():
            env.close()


def test_camera_wide_lighting_preset_is_camera_wide_plus_the_lighting_preset():
    """camera_wide_lighting: camera_wide's camera and the "lighting" preset's lights, in every episode, no other
    change (same seeds, same draws)."""
    both = PRESETS["camera_wide_lighting"]
    assert [axis for axis in AXES if getattr(both, axis)] == ["lighting", "camera"]
    names = ("none", "lighting", "camera_wide", "camera_wide_lighting")
    envs_ = {name: _make("FrankaReach-v0", randomize=name) for name in names}
    try:
        for seed in range(3):
            for env in envs_.values():
                env.reset(seed=seed)
            base, lit, cam, both_ = (envs_[n].unwrapped.model for n in names)
            np.testing.assert_array_equal(both_.cam_pos, cam.cam_pos)
            np.testing.assert_array_equal(both_.cam_fovy, cam.cam_fovy)
            np.testing.assert_array_equal(both_.light_diffuse, lit.light_diffuse)
            np.testing.assert_array_equal(both_.light_dir, lit.light_dir)
            assert not np.allclose(both_.light_diffuse, base.light_diffuse)
            assert not np.allclose(both_.cam_pos, base.cam_pos)
            np.testing.assert_array_equal(both_.geom_rgba, base.geom_rgba)  # no colour change
    finally:
        for env in envs_.values():
            env.close()
