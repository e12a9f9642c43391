"""`vjepa-eval`: the sim evaluation suite (hydra). Example:

    vjepa-eval agent=learned planner=cem episodes=50 tasks='[FrankaReach-v0]'
    vjepa-eval agent=oracle planner=cem
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig, OmegaConf


def run(cfg: DictConfig) -> dict:
    from agent.energy import EnergyConfig
    from agent.eval import EvalConfig, format_table, run_suite
    from agent.factory import make_agent

    out_dir = cfg.out_dir or hydra.core.hydra_config.HydraConfig.get().runtime.output_dir
    eval_cfg = EvalConfig(tasks=tuple(cfg.tasks), episodes=cfg.episodes, seed=cfg.seed, image_size=cfg.image_size,
                          max_steps=cfg.max_steps, video=cfg.video, out_dir=out_dir)
    overrides = OmegaConf.to_container(cfg.planner_overrides, resolve=True) if cfg.planner_overrides else {}
    energy = EnergyConfig(all_frames=cfg.energy.all_frames, state_weight=cfg.energy.state_weight)

    def factory(env):
        return make_agent(cfg.agent, env, cfg.planner, overrides, cfg.model, cfg.seed, cfg.bf16, energy)

    label = cfg.label or (f"{cfg.agent}+{cfg.planner}" if cfg.agent != "random" else "random")
    results = run_suite(eval_cfg, factory, label)
    print(format_table(results))
    print(f"results: {out_dir}/results.json")
    return results


@hydra.main(version_base=None, config_path="../configs/eval", config_name="eval")
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    main()
