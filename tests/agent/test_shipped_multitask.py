"""The experimental multi-task world models ``sim_multitask`` and ``sim_multitask_distilled`` (its encoder distilled
to see lights, colours, distractors and noise as the nominal scene, its predictor fine-tuned at length): they are
shipped whole, vjepa-eval builds the env they were trained on (96 px, workspace camera), and, end to end, they
still reach image goals (slow)."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401
from agent.eval import run_episode
from agent.factory import make_agent, model_env_kwargs
from tests.agent.test_eval_camera import assert_make_agent_refused
from world_model.pretrained import available_weights, load_pretrained

MODELS = ("sim_multitask", "sim_multitask_distilled")
SEEDS = range(2000, 2006)  # not the README's evaluation seeds (1000-1049), not collection seeds (1000003+)


@pytest.mark.parametrize("model", MODELS)
def test_multitask_weights_are_shipped_with_their_camera(model):
    assert model in available_weights()
    assert model_env_kwargs(model) == {"image_size": 96, "camera": "workspace"}
    assert load_pretrained(model).config.image_size == 96


@pytest.mark.parametrize("model", MODELS)
def test_multitask_model_refuses_the_default_env(model):
    assert_make_agent_refused(model, "96 px")  # the default env: 64 px, front camera


def _lighting_pairs(episodes: int = 3, steps: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (frames under randomised lighting, the same states in the nominal scene), (E, steps + 1, 96, 96, 3)."""
    env = gym.make("FrankaReach-v0", **model_env_kwargs("sim_multitask"), randomize="lighting")
    rng = np.random.default_rng(0)
    frames, twins = [], []
    try:
        for seed in range(3000, 3000 + episodes):  # neither evaluation nor collection seeds
            obs, _ = env.reset(seed=seed)
            ep, twin = [obs["image"]], [env.unwrapped.nominal_image()]
            for _ in range(steps):
                obs, *_ = env.step(np.concatenate([rng.uniform(-0.05, 0.05, 3), np.zeros(4)]).astype(np.float32))
                ep.append(obs["image"]), twin.append(env.unwrapped.nominal_image())
            frames.append(np.stack(ep)), twins.append(np.stack(twin))
    finally:
        env.close()
    return np.stack(frames), np.stack(twins)


@torch.no_grad()
def test_distilled_encoder_sees_lighting_changes_as_the_nominal_scene():
    """The distilled encoder's latent of a relit frame lies much closer to the source encoder's latent of the same
    state in the nominal scene than the source encoder's own latent of the relit frame does (8x closer on held-out
    play data, docs/manipulation.md; here: at least 4x on a few reach frames; ~20x measured)."""
    frames, twins = _lighting_pairs()
    source, distilled = load_pretrained("sim_multitask"), load_pretrained("sim_multitask_distilled")
    target = source.encode_frames(twins)  # (E, T, N, D), layer-normed
    before = (source.encode_frames(frames) - target).abs().mean().item()
    after = (distilled.encode_frames(frames) - target).abs().mean().item()
    assert after < 0.25 * before, (before, after)


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_multitask_model_reaches_image_goals(model):
    env = gym.make("FrankaReach-v0", **model_env_kwargs(model))
    try:
        agent = make_agent("learned", env, "cem", {}, model, seed=0, bf16=False)
        results = [run_episode(env, agent, s, 30, None) for s in SEEDS]
    finally:
        env.close()
    wins = sum(r.success for r in results)
    # 13/20 (65%) on seeds 1000-1019 in docs/manipulation.md for sim_multitask; on seeds 1000-1049 33/50 for it and
    # 31/50 for sim_multitask_distilled (session 12's predictor):
    # 2 of 6 leaves room for chance; a broken model, camera or image size gets ~0 (the random agent gets 0/50)
    assert wins >= 2, [(r.seed, r.success, round(r.final_distance, 3)) for r in results]
    assert np.mean([r.final_distance for r in results]) < np.mean([r.initial_distance for r in results])
