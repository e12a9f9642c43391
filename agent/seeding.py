"""Seeds of the planner's random generator: one stream per agent, or one per (agent, episode).

An evaluation that re-seeds the planner identically before every episode makes all its episodes share one stream
of planner noise: their outcomes are then not independent draws, and a 50-episode success rate moves by ~25 points
with the agent seed alone (pick-and-place, session 18: 10/50 with seed 2000, 23/50 with seed 1000 on the same
episodes). Seeding each episode's stream from ``(agent seed, episode seed)`` keeps every episode reproducible from
its own seed and makes the noise of different episodes independent, so a Wilson interval over episodes means what
it says.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PLANNER_SEEDINGS = ("per_episode", "shared")
"""``per_episode``: the planner stream of episode ``s`` is seeded from ``(agent seed, s)``; ``shared``: every
episode restarts the same stream from the agent seed (what every evaluation did before session 19)."""


def check_planner_seeding(mode: object) -> str:
    """``mode`` if it names a seeding in :data:`PLANNER_SEEDINGS`, else ValueError."""
    if mode not in PLANNER_SEEDINGS:
        raise ValueError(f"planner_seeding must be one of {', '.join(PLANNER_SEEDINGS)}, got {mode!r}")
    return str(mode)


def planner_seed(agent_seed: int, episode_seed: int | None = None) -> int:
    """The seed of the planner's torch.Generator: ``agent_seed`` itself without an episode seed, else a 63-bit
    mix of both (numpy's SeedSequence, so nearby seeds give unrelated streams). Seeds must be ints >= 0."""
    for name, value in (("agent_seed", agent_seed), ("episode_seed", episode_seed)):
        if value is None and name == "episode_seed":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    if episode_seed is None:
        return int(agent_seed)
    state = np.random.SeedSequence([int(agent_seed), int(episode_seed)]).generate_state(1, dtype=np.uint64)[0]
    return int(state >> np.uint64(1))


def reset_agent(agent: Any, episode_seed: int | None) -> None:
    """``agent.reset()``, or ``agent.reset(episode_seed=...)`` when there is an episode seed: agents written before
    per-episode seeding (``reset()`` without arguments) keep working in shared mode."""
    if episode_seed is None:
        agent.reset()
    else:
        agent.reset(episode_seed=episode_seed)
