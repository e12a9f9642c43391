"""Does the planner's energy see the gripper? Predicted against true energy for open / hold / close commands.

Two moments of a grasp decide it, and both hinge on the gripper command alone:

* **at the cube**: the open fingers around the cube (grasp seeds 1000-1019: the hand put 7 mm below the cube's
  centre, as the expert's descent ends), the goal the "grasp" subgoal image (fingers closed on the cube). The
  right command is to close.
* **lifting**: the fingers closed on the cube, one 5 cm step up, the goal the final image (the cube lifted). The
  right command is to hold (or close); opening drops the cube.

For each, 27 (at the cube: 3 x 3 x 3 moves of -1/0/+1 cm) or 9 (lifting: 3 x 3 sideways offsets) moves are combined
with each gripper command of ``gripper_discrete`` (-0.75 open, 0 hold, +0.75 close) and scored one step ahead two
ways: with the model's predictor (what the planner sees) and by executing the step in the simulator and encoding
the rendered frame (the true energy, what a perfect predictor would give). Per seed, each command's score is its
best move's energy. Printed: per seed the three scores both ways; the share of seeds in which a right command
scores lowest (lifting: hold or close, as the fingers are closed already); and the gripper's effect,
|E(close) - E(hold)| at the cube and |E(open) - E(hold)| lifting, as a share of E(hold) (mean over seeds),
predicted and true.

Usage:
    MUJOCO_GL=egl python3 benchmarks/gripper_energy.py [model ...] [--seeds 1000:1020] [--camera PRESET]
    (models: shipped names or path bases)
"""
from __future__ import annotations

import argparse
import itertools

import gymnasium as gym
import numpy as np
import torch

import envs  # noqa: F401  (registers the Franka envs)
from agent.energy import latent_energy
from agent.factory import model_env_kwargs, resolve_model_path
from agent.kinematics import integrate_sequence
from agent.true_future import TrueFutureModel
from envs.tasks import cube_pos
from planners import paper_bounds
from planners.base import GRIPPER_DIMS
from world_model.checkpoint import load_world_model

_BOUNDS = paper_bounds()  # the agent's planner bounds; gripper_discrete snaps to their gripper ends and 0
GRIPPER = {"open": _BOUNDS.low[GRIPPER_DIMS[0]], "hold": 0.0, "close": _BOUNDS.high[GRIPPER_DIMS[0]]}
# moment -> (moves in metres, the right commands, the two commands whose energies the gripper's effect compares)
MOMENTS = {
    "at the cube": ([np.array(m) * 0.01 for m in itertools.product((-1, 0, 1), repeat=3)], ("close",),
                    ("close", "hold")),
    "lifting": ([np.array([dx, dy, 0.05]) for dx in (-0.01, 0, 0.01) for dy in (-0.01, 0, 0.01)],
                ("hold", "close"), ("open", "hold")),
}


def command_actions(moves: list[np.ndarray]) -> tuple[np.ndarray, dict[str, slice]]:
    """(len(GRIPPER) * len(moves), 7) one-step actions, and the rows of each gripper command."""
    rows, index = [], {}
    for k, (name, grip) in enumerate(GRIPPER.items()):
        index[name] = slice(k * len(moves), (k + 1) * len(moves))
        rows += [np.concatenate([m, [0.0, 0.0, 0.0, grip]]) for m in moves]
    return np.asarray(rows, np.float32), index


@torch.inference_mode()
def scores(model, z0: torch.Tensor, state: np.ndarray, goal_z: torch.Tensor, actions: np.ndarray,
           index: dict[str, slice]) -> dict[str, float]:
    """Per gripper command, the lowest one-step energy of its moves under ``model`` (a world model or a
    TrueFutureModel) from the latent ``z0`` (1, N, D) of the current image."""
    a = torch.as_tensor(actions)[:, None]  # (S, 1, 7)
    states = integrate_sequence(torch.as_tensor(state, dtype=torch.float32), a)  # (S, 1, 7)
    pred = model.rollout(z0, a, states)  # (S, 1, N, D)
    energy = latent_energy(pred, goal_z).numpy()
    return {name: float(energy[rows].min()) for name, rows in index.items()}


def setups(env, wm, seed: int):
    """Yield (moment, image, state, goal latent) for one seed: at the cube, then lifting (see MOMENTS: the right
    command lifting is hold or close, as the fingers are already closed on the cube)."""
    u = env.unwrapped
    _, info = env.reset(seed=seed)
    names = [g["name"] for g in u.subgoal_info]
    grasp_z = wm.encode(info["subgoals"][names.index("grasp")]["image"][None])[0]
    lift_z = wm.encode(info["goal"]["image"][None])[0]
    cube = cube_pos(u)
    u.move_to(cube + [0.0, 0.0, 0.08])
    u.move_to(cube + [0.0, 0.0, -0.007])
    yield "at the cube", u.render_image(), u.current_state(), grasp_z
    u.set_gripper(0.8)
    u.step_physics(2 * u.substeps)
    yield "lifting", u.render_image(), u.current_state(), lift_z


def run(model: str, seeds: range, camera: str | None = None) -> None:
    path = resolve_model_path(model)
    env = gym.make("FrankaGrasp-v0", **{**model_env_kwargs(model), **({} if camera is None else {"camera": camera})})
    wm = load_world_model(path, device="cpu", autocast_bf16=False)
    true = TrueFutureModel(env.unwrapped, wm)
    right = {moment: {"pred": [], "true": []} for moment in MOMENTS}
    effect = {moment: {"pred": [], "true": []} for moment in MOMENTS}
    print(f"## {model}" + ("" if camera is None else f", camera {camera} (not the model's)") + "\n")
    print("| seed | moment | predicted open / hold / close | true open / hold / close |\n|---|---|---|---|")
    for seed in seeds:
        for moment, image, state, goal_z in setups(env, wm, seed):
            moves, want, (a, b) = MOMENTS[moment]
            actions, index = command_actions(moves)
            z0 = wm.encode(image[None])  # (1, N, D)
            both = {"pred": scores(wm, z0, state, goal_z, actions, index),
                    "true": scores(true, z0, state, goal_z, actions, index)}
            for kind, s in both.items():
                right[moment][kind].append(min(s, key=s.get) in want)
                effect[moment][kind].append(abs(s[a] - s[b]) / s["hold"])
            fmt = lambda s: " / ".join(f"{s[k]:.4f}" for k in GRIPPER)  # noqa: E731
            print(f"| {seed} | {moment} | {fmt(both['pred'])} | {fmt(both['true'])} |")
    print("\n| moment | right command lowest: predicted | true | gripper effect / energy: predicted | true |")
    print("|---|---|---|---|---|")
    for moment in right:
        r, e = right[moment], effect[moment]
        print(f"| {moment} | {np.mean(r['pred']):.2f} | {np.mean(r['true']):.2f} | {np.mean(e['pred']):.3f} | "
              f"{np.mean(e['true']):.3f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["sim_multitask_distilled"])
    parser.add_argument("--seeds", default="1000:1020", help="first:end (end excluded)")
    parser.add_argument("--camera", help="render with this camera preset instead of the model's: the true energy "
                        "then says what a model trained on that camera could see (the predicted one is off-camera)")
    args = parser.parse_args()
    first, end = (int(x) for x in args.seeds.split(":"))
    for model in args.models:
        run(model, range(first, end), args.camera)


if __name__ == "__main__":
    main()
