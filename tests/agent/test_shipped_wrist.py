"""The shipped wrist-camera models ``sim_wrist`` (docs/manipulation.md "A wrist camera" and "The wrist model's
encoder, distilled"; trained on lent GPUs) and ``sim_wrist_cpu`` (the same recipe run on 2 CPU cores by
scripts/train_sim_wrist.sh, session 26): each shipped with its camera (``workspace_wrist``: the workspace view and a
hand-mounted camera side by side), weights stored in float16 and loaded as float32; its energy sees the fingers close
on the cube (what the fixed-camera models miss); its encoder sees a relit or recoloured scene as the nominal one,
wrist view included; and, end to end, it grasps from image goals (slow)."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401
from agent.energy import latent_energy
from agent.eval import run_episode
from agent.factory import make_agent, model_env_kwargs
from agent.kinematics import integrate_sequence
from agent.subgoals import SubgoalAgent, SubgoalConfig
from envs.tasks import cube_pos
from tests.agent.test_eval_camera import assert_make_agent_refused
from world_model.checkpoint import read_world_model_metadata
from world_model.pretrained import available_weights, load_pretrained, pretrained_path

WRIST_MODELS = ("sim_wrist", "sim_wrist_cpu")
SEEDS = range(2000, 2006)  # not the README's evaluation seeds (1000-1049), not collection seeds (1000003+)


@pytest.mark.parametrize("name", WRIST_MODELS)
def test_sim_wrist_is_shipped_with_its_camera_in_float16(name):
    assert name in available_weights()
    assert model_env_kwargs(name) == {"image_size": 96, "camera": "workspace_wrist"}
    assert read_world_model_metadata(pretrained_path(name))["metadata"]["stored_dtype"] == "float16"
    model = load_pretrained(name)
    assert model.config.image_size == 96
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_sim_wrist_cpu_was_trained_without_a_gpu():
    """Both of its training stages ran on the CPU (issue 12: a shipped model trained on 2 CPU cores), from the
    CPU-distilled encoder; sim_wrist's second stage ran on CUDA."""
    meta = read_world_model_metadata(pretrained_path("sim_wrist_cpu"))["metadata"]
    assert meta["config"]["device"] in ("auto", "cpu") and meta["processes"] == 1
    assert meta["config"]["encoder_checkpoint"].endswith("sim_wrist_distill/encoder.pt")
    assert read_world_model_metadata(pretrained_path("sim_wrist"))["metadata"]["config"]["device"] == "cuda"


@pytest.mark.parametrize("name", WRIST_MODELS)
def test_sim_wrist_refuses_the_default_env(name):
    assert_make_agent_refused(name, "96 px")  # the default env: 64 px, front camera


@pytest.mark.parametrize("name", WRIST_MODELS)
@torch.no_grad()
def test_sim_wrist_energy_sees_the_fingers_close_on_the_cube(name):
    """With the open fingers around the cube, closing them lowers the predicted energy to the "closed on the cube"
    subgoal image clearly (~54% on seeds 1000-1019, benchmarks/gripper_energy.py; 1% for sim_multitask_distilled,
    whose fixed camera shows the closure as a few pixels)."""
    env = gym.make("FrankaGrasp-v0", **model_env_kwargs(name))
    wm, u = load_pretrained(name), env.unwrapped
    hold_close = torch.zeros(2, 1, 7)  # (commands, horizon 1, 7): no move, gripper held / closed fully
    hold_close[1, 0, 6] = 0.75
    try:
        for seed in SEEDS[:3]:
            _, info = env.reset(seed=seed)
            grasp = [g["name"] for g in u.subgoal_info].index("grasp")
            goal = wm.encode(info["subgoals"][grasp]["image"][None])[0]  # (N, D)
            u.move_to(cube_pos(u) + [0.0, 0.0, 0.08])
            u.move_to(cube_pos(u) + [0.0, 0.0, -0.007])  # as the expert's descent ends
            state = torch.as_tensor(u.current_state(), dtype=torch.float32)
            pred = wm.rollout(wm.encode(u.render_image()[None]), hold_close, integrate_sequence(state, hold_close))
            hold, close = latent_energy(pred, goal).tolist()
            assert close < 0.8 * hold, (seed, hold, close)
    finally:
        env.close()


@pytest.mark.parametrize("name", WRIST_MODELS)
@pytest.mark.parametrize("axis", ["lighting", "colors"])
@torch.no_grad()
def test_sim_wrist_encoder_sees_a_changed_scene_as_the_nominal_one(axis, name):
    """Session 16 distilled the encoder on paired workspace_wrist frames (a randomised frame and its nominal twin).
    Its latent of a relit / recoloured frame stays close to the nominal frame's: mean |z - z_nominal| ~0.09 on
    these seeds, against ~0.28 for the encoder it was distilled from (sim_multitask_distilled's, session 15's
    sim_wrist's), whose distillation saw workspace frames only."""
    env = gym.make("FrankaGrasp-v0", **model_env_kwargs(name), randomize=axis)
    shipped, before = load_pretrained(name), load_pretrained("sim_multitask_distilled")
    u = env.unwrapped
    gaps = {"shipped": [], "before": []}
    try:
        for seed in SEEDS[:4]:
            env.reset(seed=seed)
            frames = np.stack([u.render_image(), u.nominal_image(keep_camera=True)])  # (2, 96, 96, 3) uint8
            assert np.abs(frames[0].astype(int) - frames[1]).mean() > 1.0  # the scene was changed
            for name, model in (("shipped", shipped), ("before", before)):
                z = model.encode(frames)  # (2, N, D) layer-normed latents
                gaps[name].append((z[0] - z[1]).abs().mean().item())
    finally:
        env.close()
    assert np.mean(gaps["shipped"]) < 0.5 * np.mean(gaps["before"]), gaps


@pytest.mark.slow
@pytest.mark.parametrize("name,planner", [("sim_wrist", "mppi"), ("sim_wrist_cpu", "cem")])
def test_sim_wrist_grasps_from_image_goals(name, planner):
    """End to end, with the settings of its README row (subgoals with waypoints every 10 cm, a subgoal switched
    after one plan without progress, three gripper levels), each shipped wrist model grasps in at least half of a
    few fixed seeds (issue 12): sim_wrist with MPPI, sim_wrist_cpu with CEM (its MPPI grasps 70% of seeds
    1000-1049, its CEM 100%)."""
    env = gym.make("FrankaGrasp-v0", **model_env_kwargs(name), waypoint_spacing=0.1)
    try:
        learned = make_agent("learned", env, planner, {"gripper_discrete": True}, name, seed=SEEDS[0],
                             bf16=False)  # the planner seeded as `vjepa-eval seed=2000` seeds it
        agent = SubgoalAgent(learned, SubgoalConfig(steps_per_subgoal=12, plateau_patience=1))
        results = [run_episode(env, agent, s, env.spec.max_episode_steps, None) for s in SEEDS]
    finally:
        env.close()
    wins = sum(r.success for r in results)
    # sim_wrist: 6 of these 6 on the development CPU and 47 of seeds 1000-1049 (README). Other CPUs draw other
    # planner samples, but at ~90% per episode fewer than 3 of 6 is a ~0.1% event, while a broken model or camera
    # grasps none (the random agent 0/50; session 15's model with patience 2 grasped 54%).
    assert wins >= 3, [(r.seed, r.success, round(r.final_distance, 3)) for r in results]


@pytest.mark.slow
def test_sim_wrist_reaches_through_waypoint_images_in_changed_colours():
    """Reach through waypoint images every 10 cm (session 27), with the README's reach settings (CEM, horizon 3,
    one-step plans beside) and grasp's subgoal rule, in recoloured scenes no training run saw: 50/50 on seeds
    1000-1049 (docs/manipulation.md, "Reach through waypoint images"), where one goal image reached 39/50. Both
    episodes here must move on from a waypoint image at least once, and one at least must reach the goal."""
    env = gym.make("FrankaReach-v0", **model_env_kwargs("sim_wrist"), waypoint_spacing=0.1, randomize="colors")
    try:
        learned = make_agent("learned", env, "cem", {"horizon": 3}, "sim_wrist", seed=SEEDS[0], bf16=False,
                             one_step_alternative=True)
        agent = SubgoalAgent(learned, SubgoalConfig(steps_per_subgoal=12, plateau_patience=1))
        results = [run_episode(env, agent, s, env.spec.max_episode_steps, None) for s in SEEDS[:2]]
    finally:
        env.close()
    assert all(r.subgoal_switches for r in results), "every reach goal lies >= 15 cm away: >= 1 waypoint image"
    # ~98% per episode on seeds 1000-1049 under colours, lighting and nominally: both failing is a ~0.04% event at
    # that rate (two episodes only: each costs ~2 CPU-minutes), while a broken model or camera reaches none.
    assert any(r.success for r in results), [(r.seed, r.success, round(r.final_distance, 3)) for r in results]
