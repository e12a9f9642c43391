"""Where does pick-and-place fail? Per-step traces of the learned subgoal agent, and each episode's failure phase.

Runs the evaluation's agent (MPPI, subgoals with plateau patience, waypoints every 10 cm, ``gripper_discrete``; the
settings of ``scripts/eval_distilled.sh`` row ``pp_disc_p1``) on FrankaPickPlace-v0 and records after every step:
the subgoal followed (its recorded name), whether the cube is held (``envs.tasks.cube_held``), the cube's height
above the table (m), its horizontal distance to the target (m) and the gripper closure (0 open, 1 shut). Each
episode is then put in the first class that fits:

* ``success``;
* ``never held``: the cube was never between closed fingers;
* ``dropped``: held at some step, not held at the end, and never within the success radius of the target while
  held (lost on the way);
* ``held at the end``: still in the hand when the steps ran out (carried, never released);
* ``released off target``: let go (not held at the end) after being carried to within the success radius, or
  released elsewhere on purpose (the final goal image was being followed when it was let go);
* with the release's placement error and the subgoal followed when it happened.

Usage:
    MUJOCO_GL=egl OMP_NUM_THREADS=1 python3 benchmarks/pick_place_trace.py [--model sim_wrist] [--seeds 1000:1010]
        [--patience 1] [--steps-per-subgoal 12] [--release-in-place] [--planner-seeding shared] [--out trace.json]

With the same ``--agent-seed`` as the evaluation's ``seed`` and the same ``--planner-seeding`` (vjepa-eval's
``planner_seeding``, per_episode by default) it reproduces the evaluation's episodes.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import asdict
from typing import Any

import gymnasium as gym

import envs  # noqa: F401  (registers the Franka envs)
from agent.eval import AgentSpec
from agent.factory import model_env_kwargs
from agent.seeding import PLANNER_SEEDINGS
from agent.subgoals import SubgoalAgent, SubgoalConfig
from envs.tasks import SUCCESS_RADIUS, cube_held, cube_pos


def step_record(env: Any, agent: SubgoalAgent, names: list[str]) -> dict[str, Any]:
    """The state after one step: subgoal followed, cube held, cube height (m), placement error (m), closure."""
    task = env.task
    return {"subgoal": names[min(agent.index, len(names) - 1)], "held": cube_held(env),
            "height": round(float(cube_pos(env)[2] - task.scene.cube_size), 4),
            "error": round(task.placement_error(env), 4), "closure": round(float(env.gripper_closure()), 3)}


def classify(trace: list[dict[str, Any]], success: bool, final: str) -> dict[str, Any]:
    """The episode's failure class (module docstring) and, for a release, where and when it happened; ``final``:
    the name of the final goal."""
    if success:
        return {"class": "success"}
    held = [t["held"] for t in trace]
    if not any(held):
        return {"class": "never held", "min_error": min(t["error"] for t in trace)}
    if held[-1]:
        return {"class": "held at the end", "error": trace[-1]["error"], "subgoal": trace[-1]["subgoal"]}
    last = max(i for i, h in enumerate(held) if h)
    release = trace[last + 1]
    near = any(t["held"] and t["error"] < SUCCESS_RADIUS for t in trace)
    on_purpose = trace[last]["subgoal"] == final or near
    return {"class": "released off target" if on_purpose else "dropped", "step": last + 1,
            "error": release["error"], "height": trace[last]["height"], "subgoal": trace[last]["subgoal"],
            "final_error": trace[-1]["error"]}


def build(model: str, patience: int, steps_per_subgoal: int, agent_seed: int,
          release_in_place: bool = False) -> tuple[gym.Env, SubgoalAgent]:
    """The env (the model's camera and image size, waypoints every 10 cm) and the evaluation's subgoal agent
    (``release_in_place``: the arm holds still in the step that lets go, agent.release)."""
    spec = AgentSpec(kind="learned", planner="mppi", planner_overrides={"gripper_discrete": True}, model=model,
                     seed=agent_seed, bf16=False, release_in_place=release_in_place)
    env = gym.make("FrankaPickPlace-v0", waypoint_spacing=0.1, **model_env_kwargs(model))
    return env, SubgoalAgent(spec(env), SubgoalConfig(steps_per_subgoal=steps_per_subgoal, plateau_patience=patience))


def run(env: gym.Env, agent: SubgoalAgent, seed: int, per_episode: bool = True) -> dict[str, Any]:
    """One traced episode (the planner seeded from the agent seed and ``seed`` when ``per_episode``, else from the
    agent seed alone, as vjepa-eval's planner_seeding)."""
    obs, info = env.reset(seed=seed)
    agent.reset(episode_seed=seed if per_episode else None)
    base = env.unwrapped
    names = [i.get("name", "?") for i in base.subgoal_info]  # one per entry of info["subgoals"], the final goal last
    trace, success = [], bool(info["is_success"])
    for _ in range(base.task.max_episode_steps):
        obs, _, terminated, truncated, info = env.step(agent.act(obs, info["subgoals"]))
        trace.append(step_record(base, agent, names))
        success = bool(info["is_success"])
        if success or terminated or truncated:
            break
    switches = [asdict(event) for event in agent.switches]  # step, from/to index, reason, plan cost seen
    return {"seed": seed, "success": success, "steps": len(trace), **classify(trace, success, names[-1]),
            "trace": trace, "switches": switches}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="sim_wrist")
    parser.add_argument("--seeds", default="1000:1010", help="first:end (end excluded)")
    parser.add_argument("--patience", type=int, default=1)
    parser.add_argument("--steps-per-subgoal", type=int, default=12)
    parser.add_argument("--agent-seed", type=int, default=1000)
    parser.add_argument("--release-in-place", action="store_true", help="the arm holds still while letting go")
    parser.add_argument("--planner-seeding", choices=PLANNER_SEEDINGS, default="per_episode",
                        help="as vjepa-eval's planner_seeding (shared: how runs before session 19 were seeded)")
    parser.add_argument("--out", default=None, help="write every episode's trace here (JSON)")
    args = parser.parse_args()
    first, end = (int(x) for x in args.seeds.split(":"))
    env, agent = build(args.model, args.patience, args.steps_per_subgoal, args.agent_seed, args.release_in_place)
    episodes = []
    for seed in range(first, end):
        ep = run(env, agent, seed, args.planner_seeding == "per_episode")
        episodes.append(ep)
        extra = {k: v for k, v in ep.items() if k not in ("trace", "switches", "seed", "success", "class")}
        print(f"seed {seed}: {ep['class']} {extra}", flush=True)
        if args.out:
            with open(args.out, "w") as f:
                json.dump({"model": args.model, "patience": args.patience,
                           "release_in_place": args.release_in_place, "agent_seed": args.agent_seed,
                           "planner_seeding": args.planner_seeding, "episodes": episodes}, f)
    env.close()
    print(dict(Counter(ep["class"] for ep in episodes)))


if __name__ == "__main__":
    main()
