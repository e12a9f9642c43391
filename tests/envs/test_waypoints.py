"""Waypoint subgoals (``waypoint_spacing``): the grasp and pick-and-place envs split the expert's free-space moves
into legs of at most about the spacing, reach splits the straight line to its goal, and the envs refuse the option
where it has no meaning."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401 - registers the env ids
from envs.tasks import leg_ends, pick_waypoints, subgoal_sequences


def _straight(length: float, step: float = 0.05) -> list[np.ndarray]:
    """TCP positions after each step of a straight move up from the origin, ``step`` metres per step."""
    return [np.array([0.0, 0.0, z]) for z in np.arange(step, length + 1e-9, step)]


def test_pick_waypoints_splits_a_move_into_equal_legs():
    path = _straight(0.25)  # 5, 10, ..., 25 cm; the last is the move's own end subgoal
    assert pick_waypoints(np.zeros(3), path, 0.1) == [1, 2]  # 3 legs: ends near 8.3 and 16.7 cm -> 10, 15 cm
    assert pick_waypoints(np.zeros(3), path, 0.3) == []  # one leg is short enough
    assert pick_waypoints(np.zeros(3), path[-1:], 0.05) == []  # no frame to pick
    legs = np.diff([0.0] + [path[i][2] for i in pick_waypoints(np.zeros(3), path, 0.08)] + [0.25])
    assert legs.max() <= 0.08 + 0.05 and len(legs) == 4


def test_leg_ends_split_a_line_into_the_fewest_equal_legs():
    ends = leg_ends(np.zeros(3), np.array([0.0, 0.3, 0.4]), 0.2)  # 50 cm: 3 legs of 16.7 cm
    assert len(ends) == 2
    np.testing.assert_allclose(ends[0], [0.0, 0.1, 0.4 / 3])
    np.testing.assert_allclose(np.linalg.norm(np.diff([np.zeros(3), *ends, [0.0, 0.3, 0.4]], axis=0), axis=1), 0.5 / 3)
    assert leg_ends(np.zeros(3), np.array([0.0, 0.0, 0.2]), 0.2) == []  # exactly one leg: no inner end


def _leg_lengths(obs: dict, goals: list[dict]) -> np.ndarray:
    """TCP distances (m) from the observation's pose to the first goal's, then between consecutive goals."""
    points = [obs["state"][:3]] + [g["state"][:3] for g in goals]
    return np.linalg.norm(np.diff(np.asarray(points), axis=0), axis=1)


def _legs(env, seed: int, last: str) -> tuple[list[str], np.ndarray]:
    """Subgoal names and the TCP distances (m) between the start and each goal up to the subgoal ``last``."""
    obs, info = env.reset(seed=seed)
    names = [i["name"] for i in env.unwrapped.subgoal_info]
    return names, _leg_lengths(obs, info["subgoals"][:names.index(last) + 1])


def test_grasp_waypoints_keep_every_leg_of_the_approach_short():
    plain = gym.make("FrankaGrasp-v0", image_size=64)
    spaced = gym.make("FrankaGrasp-v0", image_size=64, waypoint_spacing=0.1)
    try:
        added = 0
        for seed in range(6):
            names, legs = _legs(plain, seed, "approach")
            assert names == ["approach", "pregrasp", "grasp", "lift"]
            wp_names, wp_legs = _legs(spaced, seed, "approach")
            waypoints = wp_names.count("waypoint")
            assert wp_names[waypoints:] == names and set(wp_names[:waypoints]) == {"waypoint"}
            assert wp_legs.max() <= 0.1 + 0.05 and wp_legs.sum() == pytest.approx(legs.sum(), abs=0.03)
            added += waypoints
        assert added > 0  # the starts lie 10-35 cm from the approach pose
    finally:
        plain.close()
        spaced.close()


def test_pick_place_waypoints_also_split_the_carry():
    env = gym.make("FrankaPickPlace-v0", image_size=64, waypoint_spacing=0.05)
    try:
        env.reset(seed=0)
        names = [i["name"] for i in env.unwrapped.subgoal_info]
        lift, carry = names.index("lift"), names.index("carry")
        assert "waypoint" in names[:names.index("approach")] and set(names[lift + 1:carry]) == {"waypoint"}
        assert names[-1] == "place"
    finally:
        env.close()


def test_reach_waypoints_split_the_line_to_an_unchanged_goal():
    plain = gym.make("FrankaReach-v0", image_size=64)
    spaced = gym.make("FrankaReach-v0", image_size=64, waypoint_spacing=0.1)
    try:
        added = 0
        for seed in range(4):
            obs, info = plain.reset(seed=seed)
            wp_obs, wp_info = spaced.reset(seed=seed)
            np.testing.assert_array_equal(wp_obs["image"], obs["image"])
            np.testing.assert_array_equal(wp_info["goal"]["image"], info["goal"]["image"])  # same goal image
            assert len(info["subgoals"]) == 1
            names = [i.get("name") for i in spaced.unwrapped.subgoal_info]
            assert set(names[:-1]) <= {"waypoint"} and "name" not in spaced.unwrapped.subgoal_info[-1]
            legs = _leg_lengths(wp_obs, wp_info["subgoals"])
            straight = np.linalg.norm(wp_info["subgoals"][-1]["state"][:3] - wp_obs["state"][:3])
            assert legs.max() <= 0.1 + 0.01  # each waypoint settles within 1 cm of its leg end
            assert legs.sum() == pytest.approx(straight, abs=0.02)  # on the line
            added += len(names) - 1
        assert added > 0  # the goals lie >= 15 cm from the start
    finally:
        plain.close()
        spaced.close()


def test_waypoint_spacing_is_refused_where_it_means_nothing():
    with pytest.raises(ValueError, match="FrankaReach-v0, FrankaGrasp-v0, FrankaPickPlace-v0 only"):
        gym.make("FrankaReachWithObject-v0", waypoint_spacing=0.1)
    for bad in (0.0, -0.1, 5.0, True, "0.1"):
        with pytest.raises(ValueError, match="waypoint_spacing must be"):
            gym.make("FrankaGrasp-v0", waypoint_spacing=bad)


def test_subgoal_sequences_name_the_spacing():
    assert subgoal_sequences()["grasp"] == ["approach", "pregrasp", "grasp", "lift"]
    spaced = subgoal_sequences(0.1)
    assert spaced["grasp"][0] == "waypoints 0.1 m apart"
    assert spaced["pick_place"].count("waypoints 0.1 m apart") == 2
    assert spaced["reach"] == ["waypoints 0.1 m apart", "reach"] and "reach" not in subgoal_sequences()
