"""The four Franka tasks: reach, grasp, reach-with-object and pick-and-place.

Each task places the robot/cube at reset and builds a REACHABLE goal by driving the simulator there (the
env renders the goal image in that configuration, then restores the start). Distances are metres in the base
frame. Success thresholds: reach 5 cm (TCP to goal), grasp: cube lifted >= 5 cm and held, reach-with-object:
TCP within 5 cm of the goal with the cube still held, pick-and-place: cube within 5 cm of the target spot and
resting on the table.

``goal_range_scale`` (every task, default 1.0 = the training distribution) scales the box the goal is drawn from
about its centre (reach / reach-with-object: the TCP goal box; grasp: the cube's start box; pick-and-place: the
place-target box), clipped to the reachable table area; > 1 tests goals beyond the training range.
Grasp records subgoal images on the way (the open hand above the cube, fingers around it, then closed on it) and
pick-and-place also the cube lifted and carried above the target, via ``env.record_subgoal``
(``info["subgoals"]``; their names are in ``env.unwrapped.subgoal_info``). ``waypoint_spacing`` (reach, grasp
and pick-and-place, metres, default None) adds "waypoint" images along the experts' free-space moves (reach: along
the straight line from the start to the goal), so that no two consecutive goals of such a move are much more than
that far apart (see TRAVEL_PHASES).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from envs.scene import SceneConfig

REACH_LOW = np.array([0.35, -0.22, 0.08])
REACH_HIGH = np.array([0.65, 0.22, 0.40])
CUBE_LOW = np.array([0.40, -0.15])
CUBE_HIGH = np.array([0.60, 0.15])
CARRY_LOW = np.array([0.38, -0.2, 0.12])  # reach-with-object TCP goal box
CARRY_HIGH = np.array([0.62, 0.2, 0.35])
SUCCESS_RADIUS = 0.05
# Bumped whenever a task's success test changes, so evaluation results made under another test are not resumed
# (agent.eval.run_identity). 2 (session 18): pick-and-place also needs the hand to have let go of the cube.
SUCCESS_TEST_VERSION = 2
HELD_ON_TARGET = 0.02  # m: what a cube still held over the target adds to the pick-and-place task distance
LIFT_HEIGHT = 0.05
# Where scaled goal boxes are clipped to (base frame, metres): TCP goals inside the env's workspace box, cube
# positions on the part of the table the arm reaches with the hand pointing down.
TCP_CLIP_LOW, TCP_CLIP_HIGH = np.array([0.28, -0.32, 0.06]), np.array([0.72, 0.32, 0.5])
CUBE_CLIP_LOW, CUBE_CLIP_HIGH = np.array([0.30, -0.30]), np.array([0.70, 0.30])


def scaled_box(low: np.ndarray, high: np.ndarray, scale: float, clip_low: np.ndarray,
               clip_high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The box [low, high] scaled by ``scale`` about its centre, clipped to [clip_low, clip_high].

    ``scale == 1`` returns ``low`` and ``high`` themselves, so the default draws are bit-identical."""
    if scale == 1.0:
        return low, high
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"goal_range_scale must be a finite number > 0, got {scale}")
    margin = (1.0 - scale) / 2.0 * (high - low)
    return np.clip(low + margin, clip_low, clip_high), np.clip(high - margin, clip_low, clip_high)


def _random_start(env, rng: np.random.Generator, low=REACH_LOW, high=REACH_HIGH) -> None:
    env.home()
    env.move_to(rng.uniform(low, high), settle_steps=250)


def cube_pos(env, i: int = 0) -> np.ndarray:
    return env.data.body(f"cube{i}").xpos.copy()


def set_cube(env, xy: np.ndarray, z: float | None = None, i: int = 0) -> None:
    adr = env.model.joint(f"cube{i}_joint").qposadr[0]
    size = env.task.scene.cube_size
    env.data.qpos[adr:adr + 3] = [xy[0], xy[1], size if z is None else z]
    env.data.qpos[adr + 3:adr + 7] = [1, 0, 0, 0]
    env.data.qvel[env.model.joint(f"cube{i}_joint").dofadr[0]:][:6] = 0


HOLD_MIN_CLOSURE = 0.2  # gripper closure (0 open, 1 shut) above which fingers close on a cube rather than hang open


def cube_held(env, i: int = 0) -> bool:
    """Cube between the fingers: close to the TCP and the gripper closed on it (not fully shut)."""
    tcp, _ = env.ee_pose()
    close = np.linalg.norm(cube_pos(env, i) - tcp) < 0.035
    return bool(close and HOLD_MIN_CLOSURE < env.gripper_closure() < 0.95)


@dataclass
class ReachTask:
    name: str = "reach"
    scene: SceneConfig = field(default_factory=SceneConfig)
    max_episode_steps: int = 30
    goal_range_scale: float = 1.0
    waypoint_spacing: float | None = None  # metres; None: the goal image alone (see make_goal)

    def reset(self, env, rng: np.random.Generator) -> None:
        _random_start(env, rng)

    def make_goal(self, env, rng: np.random.Generator) -> dict[str, Any]:
        """Final goal: the hand settled at a TCP position drawn from the goal box, >= 15 cm from the start. With
        ``waypoint_spacing``, "waypoint" subgoal images on the way: the hand settled at the inner ends of the
        fewest equal straight legs (start to goal) no longer than the spacing, each settled from the one before
        (no rng draws, and the goal is settled from the start: the goal image is the same as without them)."""
        start = env.ee_pose()[0]
        low, high = scaled_box(REACH_LOW, REACH_HIGH, self.goal_range_scale, TCP_CLIP_LOW, TCP_CLIP_HIGH)
        for _ in range(100):
            goal = rng.uniform(low, high)
            if np.linalg.norm(goal - start) > 0.15:
                break
        if self.waypoint_spacing is not None:
            start_state = env.get_sim_state()
            for point in leg_ends(start, goal, self.waypoint_spacing):
                env.move_to(point)
                env.record_subgoal({"name": "waypoint", "tcp": env.ee_pose()[0]})
            env.set_sim_state(start_state)  # the final goal is then settled from the start, as without waypoints
        env.move_to(goal)
        self.goal_pos = env.ee_pose()[0]
        return {"goal_pos": self.goal_pos}

    def task_distance(self, env) -> float:
        return float(np.linalg.norm(env.ee_pose()[0] - self.goal_pos))

    def is_success(self, env) -> bool:
        return self.task_distance(env) < SUCCESS_RADIUS


def _run_expert_to_goal(env, expert_name: str, rng: np.random.Generator, max_steps: int,
                        on_phase: Sequence[tuple[int, Callable[[], None]]] = (),
                        waypoint_spacing: float | None = None) -> None:
    """Run the noise-free expert until done; each ``(k, fn)`` of ``on_phase`` (in increasing k) calls ``fn()``
    once, after the first step that leaves the expert in phase >= k (used to record subgoals on the way).

    waypoint_spacing (metres, None: off): the frames of the expert's free-space moves (:data:`TRAVEL_PHASES`) are
    kept, and when such a move ends, the ones :func:`pick_waypoints` picks are recorded as "waypoint" subgoals
    before the subgoal that ends the move."""
    from envs.experts import EXPERTS

    expert = EXPERTS[expert_name](env, noise=0.0, seed=int(rng.integers(2**31)))
    pending = list(on_phase)
    travel: list[tuple[np.ndarray, dict]] = []  # (TCP, goal dict) after each step of the current free-space move
    travel_start = env.ee_pose()[0]
    for _ in range(max_steps):
        if expert.done():
            break
        phase, tcp = expert.phase, env.ee_pose()[0]
        env.simulate(expert.act(None))
        if waypoint_spacing is not None and phase in TRAVEL_PHASES:
            travel_start = tcp if not travel else travel_start
            travel.append((env.ee_pose()[0], env.capture_goal()))
        while pending and expert.phase >= pending[0][0]:
            if travel:
                _record_waypoints(env, travel_start, travel, waypoint_spacing)
                travel = []
            pending.pop(0)[1]()
    for _, record in pending:  # phases never reached: record where the expert stopped
        record()


def pick_waypoints(start: np.ndarray, path: Sequence[np.ndarray], spacing: float) -> list[int]:
    """Indices into ``path`` (TCP positions (3,), metres, in travel order; the last is the end pose of the move,
    which has a subgoal of its own) of the waypoints of a free-space move from ``start``: the move is split into
    the fewest equal straight legs no longer than ``spacing``, and each inner leg end becomes the path frame
    nearest to it. The experts move straight, at most 5 cm per step, so a leg is at most ``spacing`` plus ~5 cm:
    within the range where a greedy planner still heads for its goal. In travel order, without repeats."""
    inner = np.asarray(path[:-1], np.float64).reshape(-1, 3)
    picked: list[int] = []
    for point in (leg_ends(start, path[-1], spacing) if len(inner) else []):
        i = int(np.argmin(np.linalg.norm(inner - point, axis=1)))
        if not picked or i > picked[-1]:
            picked.append(i)
    return picked


def leg_ends(start: np.ndarray, end: np.ndarray, spacing: float) -> list[np.ndarray]:
    """The inner ends (positions (3,), metres, in order from ``start``) of the fewest equal straight legs from
    ``start`` to ``end`` no longer than ``spacing`` metres; empty when one leg is short enough."""
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    legs = max(1, int(np.ceil(np.linalg.norm(end - start) / spacing - 1e-9)))
    return [start + (end - start) * k / legs for k in range(1, legs)]


def _record_waypoints(env, start: np.ndarray, travel: list[tuple[np.ndarray, dict]], spacing: float) -> None:
    for i in pick_waypoints(start, [tcp for tcp, _ in travel], spacing):
        env.record_subgoal({"name": "waypoint", "tcp": travel[i][0]}, goal=travel[i][1])


# Grasp expert phases (envs.experts.GraspExpert) after which a subgoal image is recorded: the open hand 8 cm above
# the cube (phase 1 starts: the approach, a reach-like goal that a greedy planner can descend from); the fingers
# around the cube, open (phase 2 starts); the fingers closed on it (phase 3 starts). Pick-and-place adds the cube
# lifted at its start (phase 4) and carried above the target (phase 5). Without the approach image, the first
# subgoal asks for a 20-30 cm move down to the table, along which the image energy often does not fall (seen in
# docs/manipulation.md), and the planner stalls above the cube. Session 17 tried, for pick-and-place, a sixth image
# (the cube lowered onto the target, still held; no change: 25/50 either way) and a final image with the hand just
# opened at the placed cube rather than risen above it (the agent then never opened the hand): docs/manipulation.md,
# "Where pick-and-place fails".
GRASP_SUBGOAL_PHASES = ((1, "approach"), (2, "pregrasp"), (3, "grasp"))
PICK_PLACE_SUBGOAL_PHASES = GRASP_SUBGOAL_PHASES + ((4, "lift"), (5, "carry"))
# The experts' free-space moves, which optional waypoint subgoals split (``waypoint_spacing``): phase 0, from the
# start to the approach pose (10-35 cm), and pick-and-place's phase 4, carrying the lifted cube above the target.
# A greedy one-step planner on the image energy heads for a goal pose from up to ~15 cm away but not reliably from
# 20-25 cm (benchmarks/energy_vs_distance.py, docs/manipulation.md).
TRAVEL_PHASES = (0, 4)


def subgoal_sequences(waypoint_spacing: float | None = None) -> dict[str, list[str]]:
    """Task name -> the names of its goal images in order, the final goal last (for tasks with intermediate
    subgoals); with ``waypoint_spacing`` (metres), the waypoints (their number depends on the episode) as one entry
    naming the spacing. Evaluation results record it, so results made with another sequence are not resumed."""
    waypoints = [] if waypoint_spacing is None else [f"waypoints {waypoint_spacing:g} m apart"]
    grasp = waypoints + [name for _, name in GRASP_SUBGOAL_PHASES]
    pick_place = grasp + ["lift"] + waypoints + ["carry"]
    sequences = {"grasp": grasp + ["lift"], "pick_place": pick_place + ["place"]}
    return sequences if waypoint_spacing is None else {"reach": waypoints + ["reach"], **sequences}


def _subgoal_recorders(env, phases: Sequence[tuple[int, str]]) -> list[tuple[int, Callable[[], None]]]:
    def recorder(name: str) -> Callable[[], None]:
        return lambda: env.record_subgoal({"name": name, "cube_pos": cube_pos(env), "held": cube_held(env)})

    return [(phase, recorder(name)) for phase, name in phases]


@dataclass
class GraspTask:
    name: str = "grasp"
    scene: SceneConfig = field(default_factory=lambda: SceneConfig(objects=1))
    max_episode_steps: int = 40
    goal_range_scale: float = 1.0
    waypoint_spacing: float | None = None  # metres; None: no waypoint subgoals (see TRAVEL_PHASES)

    def reset(self, env, rng: np.random.Generator) -> None:
        _random_start(env, rng, np.array([0.4, -0.15, 0.2]), np.array([0.6, 0.15, 0.35]))
        low, high = scaled_box(CUBE_LOW, CUBE_HIGH, self.goal_range_scale, CUBE_CLIP_LOW, CUBE_CLIP_HIGH)
        set_cube(env, rng.uniform(low, high))
        env.step_physics(50)

    def make_goal(self, env, rng: np.random.Generator) -> dict[str, Any]:
        """Final goal: the cube grasped and lifted to the expert's 0.12 m. Subgoals on the way (see
        GRASP_SUBGOAL_PHASES): the open hand above the cube, fingers open around it, then closed on it."""
        _run_expert_to_goal(env, "grasp", rng, 40, on_phase=_subgoal_recorders(env, GRASP_SUBGOAL_PHASES),
                            waypoint_spacing=self.waypoint_spacing)
        return {"name": "lift", "cube_goal": cube_pos(env)}

    def lift(self, env) -> float:
        return float(cube_pos(env)[2] - env.task.scene.cube_size)

    def task_distance(self, env) -> float:
        """Shaped distance to completion (m): lift still missing, plus, while the cube is not held, the TCP-cube
        distance and a 0.05 penalty. Zero only when lifted and held; it guides the oracle through the grasp."""
        if cube_held(env):
            return max(0.0, LIFT_HEIGHT - self.lift(env))
        return LIFT_HEIGHT + 0.05 + float(np.linalg.norm(cube_pos(env) - env.ee_pose()[0]))

    def is_success(self, env) -> bool:
        return self.lift(env) >= LIFT_HEIGHT and cube_held(env)


@dataclass
class ReachWithObjectTask:
    """The cube starts grasped; carry it to a goal position without dropping it."""

    name: str = "reach_with_object"
    scene: SceneConfig = field(default_factory=lambda: SceneConfig(objects=1))
    max_episode_steps: int = 30
    goal_range_scale: float = 1.0

    def reset(self, env, rng: np.random.Generator) -> None:
        _random_start(env, rng, np.array([0.4, -0.15, 0.15]), np.array([0.6, 0.15, 0.3]))
        tcp = env.ee_pose()[0]
        set_cube(env, tcp[:2], tcp[2])
        size = env.task.scene.cube_size
        env.data.qpos[env._finger_joints[0]] = size - 0.001  # fingers already closed on the cube
        env.data.qpos[env._finger_joints[1]] = -(size - 0.001)
        env.set_gripper(1.0)
        env.step_physics(150)

    def make_goal(self, env, rng: np.random.Generator) -> dict[str, Any]:
        start = env.ee_pose()[0]
        low, high = scaled_box(CARRY_LOW, CARRY_HIGH, self.goal_range_scale, TCP_CLIP_LOW, TCP_CLIP_HIGH)
        for _ in range(100):
            goal = rng.uniform(low, high)
            if np.linalg.norm(goal - start) > 0.12:
                break
        _run_expert_to_goal_pos(env, goal)
        self.goal_pos = env.ee_pose()[0]
        return {"goal_pos": self.goal_pos}

    def task_distance(self, env) -> float:
        return float(np.linalg.norm(env.ee_pose()[0] - self.goal_pos)) + (0.0 if cube_held(env) else 0.1)

    def is_success(self, env) -> bool:
        return bool(np.linalg.norm(env.ee_pose()[0] - self.goal_pos) < SUCCESS_RADIUS and cube_held(env))


def _run_expert_to_goal_pos(env, goal: np.ndarray, max_steps: int = 30) -> None:
    """Carry to ``goal`` in <= 0.05 m steps (keeps the cube in the gripper, unlike a teleport)."""
    for _ in range(max_steps):
        delta = goal - env.ee_pose()[0]
        if np.linalg.norm(delta) < 0.005:
            break
        step = delta * min(1.0, 0.05 / max(np.linalg.norm(delta), 1e-9))
        env.simulate(np.concatenate([step, np.zeros(3), [0.0]]).astype(np.float32))


@dataclass
class PickPlaceTask:
    name: str = "pick_place"
    scene: SceneConfig = field(default_factory=lambda: SceneConfig(objects=1, goal_marker=False))
    max_episode_steps: int = 60
    goal_range_scale: float = 1.0
    waypoint_spacing: float | None = None  # metres; None: no waypoint subgoals (see TRAVEL_PHASES)

    def reset(self, env, rng: np.random.Generator) -> None:
        _random_start(env, rng, np.array([0.4, -0.15, 0.2]), np.array([0.6, 0.15, 0.35]))
        cube = rng.uniform(CUBE_LOW, CUBE_HIGH)
        low, high = scaled_box(CUBE_LOW, CUBE_HIGH, self.goal_range_scale, CUBE_CLIP_LOW, CUBE_CLIP_HIGH)
        for _ in range(100):
            target = rng.uniform(low, high)
            if np.linalg.norm(target - cube) > 0.12:
                break
        set_cube(env, cube)
        self.target_xy = target
        env.step_physics(50)

    def make_goal(self, env, rng: np.random.Generator) -> dict[str, Any]:
        """Final goal: the cube placed on the target, gripper open above it. Subgoals on the way (see
        PICK_PLACE_SUBGOAL_PHASES): the open hand above the cube, fingers around it, closed on it, cube lifted to
        the expert's 0.12 m above its start, cube carried above the target."""
        _run_expert_to_goal(env, "pick_place", rng, 70, on_phase=_subgoal_recorders(env, PICK_PLACE_SUBGOAL_PHASES),
                            waypoint_spacing=self.waypoint_spacing)
        return {"name": "place", "target_xy": self.target_xy}

    def placement_error(self, env) -> float:
        """Horizontal cube-to-target distance, metres."""
        return float(np.linalg.norm(cube_pos(env)[:2] - self.target_xy))

    def task_distance(self, env) -> float:
        """Shaped distance to completion (m): placement error; away from the target also the TCP-cube distance
        unless the cube is held; over the target also the cube's height above the table and, while it is still
        held, HELD_ON_TARGET (the hand must let go to finish, see is_success)."""
        err = self.placement_error(env)
        height = float(cube_pos(env)[2] - env.task.scene.cube_size)
        if err < SUCCESS_RADIUS:
            return err + max(0.0, height) + (HELD_ON_TARGET if cube_held(env) else 0.0)
        return err + (0.0 if cube_held(env) else float(np.linalg.norm(cube_pos(env) - env.ee_pose()[0])))

    def is_success(self, env) -> bool:
        """The cube rests on the table (its centre within 1 cm of resting height) within SUCCESS_RADIUS of the
        target, and the hand has let go of it (a cube still held there is not placed yet)."""
        resting = cube_pos(env)[2] < env.task.scene.cube_size + 0.01
        return bool(self.placement_error(env) < SUCCESS_RADIUS and resting and not cube_held(env))


TASKS = {
    "FrankaReach-v0": ReachTask,
    "FrankaGrasp-v0": GraspTask,
    "FrankaReachWithObject-v0": ReachWithObjectTask,
    "FrankaPickPlace-v0": PickPlaceTask,
}
