"""Follow a sequence of goal images (issue 12): plan toward subgoal 1, then 2, ..., then the final goal.

The paper plans pick-and-place through visual subgoals (grasp, then place), giving the planner a fixed number of
steps per subgoal. :class:`SubgoalAgent` wraps anything with ``act(obs, goal)`` / ``reset()`` (e.g.
:class:`agent.agent.Agent`) and feeds it one goal of the sequence at a time::

    agent = SubgoalAgent(Agent(world_model, planner), SubgoalConfig(steps_per_subgoal=20))
    obs, info = env.reset(seed=0)
    agent.reset()
    for _ in range(env.spec.max_episode_steps):
        obs, *_, info = env.step(agent.act(obs, info["subgoals"]))

Switch rule (checked after each ``act`` on a non-final subgoal; the final goal is never left):

* step budget: after ``steps_per_subgoal`` actions toward the current subgoal, move to the next one;
* energy threshold (optional): if the wrapped agent exposes ``last_plan`` (a :class:`planners.base.PlanResult`)
  and the plan made during this call has cost ``<= energy_threshold`` (the planner's predicted energy to the
  subgoal at the end of its horizon), move on early, but not before ``min_steps_per_subgoal`` actions.
* plateau (optional, scale-free): move on once the plan cost has not dropped below ``(1 - plateau_tol)`` times
  its best so far on this subgoal for ``plateau_patience`` consecutive plans (the agent has got as close as it
  can), but not before ``min_steps_per_subgoal`` actions.

On a switch the wrapped agent is ``reset()`` (``reset_on_switch``) so no queued actions or warm-started plan for
the old subgoal leak into the new one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

import numpy as np

from agent.observation import check_obs
from agent.seeding import reset_agent


class GoalConditionedAgent(Protocol):
    def act(self, obs: dict, goal: dict) -> np.ndarray: ...

    def reset(self, episode_seed: int | None = None) -> None: ...


@dataclass(frozen=True)
class SubgoalConfig:
    """steps_per_subgoal: actions spent on each non-final subgoal before switching (None: no budget, then an
    energy_threshold is required). energy_threshold: switch early once the wrapped agent's last plan cost is at
    or below it (None: off; units are the planner's energy, e.g. the mean L1 latent distance).
    min_steps_per_subgoal: actions before an energy switch may happen. reset_on_switch: reset the wrapped agent
    when the subgoal changes."""

    steps_per_subgoal: int | None = 20
    energy_threshold: float | None = None
    min_steps_per_subgoal: int = 1
    reset_on_switch: bool = True
    plateau_patience: int | None = None
    plateau_tol: float = 0.02

    def __post_init__(self) -> None:
        if self.steps_per_subgoal is None and self.energy_threshold is None and self.plateau_patience is None:
            raise ValueError("set steps_per_subgoal, energy_threshold and/or plateau_patience, otherwise no subgoal "
                             "is ever left")
        if self.plateau_patience is not None and (isinstance(self.plateau_patience, bool)
                                                  or not isinstance(self.plateau_patience, int)
                                                  or self.plateau_patience < 1):
            raise ValueError(f"plateau_patience must be an integer >= 1 or None, got {self.plateau_patience!r}")
        if not (isinstance(self.plateau_tol, (int, float)) and 0.0 <= self.plateau_tol < 1.0):
            raise ValueError(f"plateau_tol must be a number in [0, 1), got {self.plateau_tol!r}")
        if self.steps_per_subgoal is not None and self.steps_per_subgoal < 1:
            raise ValueError(f"steps_per_subgoal must be >= 1, got {self.steps_per_subgoal}")
        if self.energy_threshold is not None and not np.isfinite(self.energy_threshold):
            raise ValueError(f"energy_threshold must be finite, got {self.energy_threshold}")
        if self.min_steps_per_subgoal < 1:
            raise ValueError(f"min_steps_per_subgoal must be >= 1, got {self.min_steps_per_subgoal}")


@dataclass(frozen=True)
class SwitchEvent:
    """One subgoal switch: at episode step ``step`` (0-based, the action just returned), ``from_index`` ->
    ``to_index``, because of ``reason`` ("steps", "energy" or "plateau"); ``cost`` is the plan cost seen, if
    any."""

    step: int
    from_index: int
    to_index: int
    reason: str
    cost: float | None


def check_goal_sequence(goals: Any, obs_image_shape: tuple[int, ...] | None = None) -> list[dict]:
    """Validate a goal sequence: a non-empty list/tuple of goal dicts ({"image": uint8 (H, W, 3), optional
    "state": (7,)}) whose images all have one shape, equal to ``obs_image_shape`` when given."""
    if isinstance(goals, dict):
        raise TypeError("goals must be a list of goal dicts (wrap a single goal as [goal])")
    if not isinstance(goals, (list, tuple)):
        raise TypeError(f"goals must be a list of goal dicts, got {type(goals).__name__}")
    if not goals:
        raise ValueError("goals is empty: pass at least the final goal")
    shapes = [check_obs(goal, f"goals[{i}]", need_state=False)[0].shape for i, goal in enumerate(goals)]
    if len(set(shapes)) > 1:
        raise ValueError(f"goal images must all have one shape, got {shapes}")
    if obs_image_shape is not None and shapes[0] != tuple(obs_image_shape):
        raise ValueError(f"goal images {shapes[0]} do not match the observation image {tuple(obs_image_shape)}")
    return list(goals)


def _sequence_key(goals: Sequence[dict]) -> str:
    digest = hashlib.sha1()
    for goal in goals:
        digest.update(np.ascontiguousarray(goal["image"]).tobytes())
    return digest.hexdigest()


class SubgoalAgent:
    """Wraps a goal-conditioned agent and walks it through a goal sequence (see the module docstring)."""

    def __init__(self, agent: GoalConditionedAgent, config: SubgoalConfig = SubgoalConfig()) -> None:
        if not callable(getattr(agent, "act", None)) or not callable(getattr(agent, "reset", None)):
            raise TypeError(f"agent must have act(obs, goal) and reset(), got {type(agent).__name__}")
        if config.steps_per_subgoal is None and not hasattr(agent, "last_plan"):
            raise ValueError("energy/plateau-only switching needs an agent exposing last_plan (e.g. "
                             "agent.agent.Agent); set steps_per_subgoal for this agent")
        self.agent = agent
        self.config = config
        self.reset()

    def reset(self, episode_seed: int | None = None) -> None:
        """Start a new episode: back to the first subgoal, wrapped agent reset (with ``episode_seed`` when given;
        a switch re-seeds the wrapped agent the same way)."""
        self.episode_seed = episode_seed
        reset_agent(self.agent, episode_seed)
        self.index = 0
        self.steps_on_subgoal = 0
        self.step_count = 0
        self.best_cost: float | None = None  # lowest plan cost seen on the current subgoal
        self.stalled = 0  # consecutive plans that did not improve on best_cost by plateau_tol
        self.switches: list[SwitchEvent] = []
        self._key: str | None = None

    def act(self, obs: dict, goals: Sequence[dict]) -> np.ndarray:
        """Action of the wrapped agent toward the current subgoal of ``goals``; then apply the switch rule."""
        image, _ = check_obs(obs, "obs")
        goals = check_goal_sequence(goals, image.shape)
        self._check_same_sequence(goals)
        last_plan = getattr(self.agent, "last_plan", None)
        action = self.agent.act(obs, goals[self.index])
        cost = self._new_plan_cost(last_plan)
        self.steps_on_subgoal += 1
        self._track_plateau(cost)
        reason = self._switch_reason(cost, len(goals))
        if reason is not None:
            self._advance(reason, cost)
        self.step_count += 1
        return action

    def _check_same_sequence(self, goals: list[dict]) -> None:
        key = _sequence_key(goals)
        if self._key is None:
            self._key = key
        elif key != self._key:
            raise ValueError("the goal sequence changed within an episode: call reset() before a new sequence")

    def _new_plan_cost(self, previous_plan: Any) -> float | None:
        """Cost of the plan the wrapped agent made during this call (None if it did not plan or has none)."""
        plan = getattr(self.agent, "last_plan", None)
        if plan is None or plan is previous_plan or not hasattr(plan, "costs"):
            return None
        return float(np.min(np.asarray(plan.costs.detach().cpu() if hasattr(plan.costs, "detach") else plan.costs)))

    def _track_plateau(self, cost: float | None) -> None:
        if cost is None:
            return
        if self.best_cost is None or cost < self.best_cost * (1.0 - self.config.plateau_tol):
            self.stalled = 0
        else:
            self.stalled += 1
        self.best_cost = cost if self.best_cost is None else min(self.best_cost, cost)

    def _switch_reason(self, cost: float | None, n_goals: int) -> str | None:
        cfg = self.config
        if self.index >= n_goals - 1:
            return None
        if cfg.steps_per_subgoal is not None and self.steps_on_subgoal >= cfg.steps_per_subgoal:
            return "steps"
        if (cfg.energy_threshold is not None and cost is not None and cost <= cfg.energy_threshold
                and self.steps_on_subgoal >= cfg.min_steps_per_subgoal):
            return "energy"
        if (cfg.plateau_patience is not None and self.stalled >= cfg.plateau_patience
                and self.steps_on_subgoal >= cfg.min_steps_per_subgoal):
            return "plateau"
        return None

    def _advance(self, reason: str, cost: float | None) -> None:
        self.switches.append(SwitchEvent(self.step_count, self.index, self.index + 1, reason, cost))
        self.index += 1
        self.steps_on_subgoal = 0
        self.best_cost, self.stalled = None, 0
        if self.config.reset_on_switch:
            reset_agent(self.agent, self.episode_seed)
