#!/usr/bin/env bash
# Re-train the experimental two-view multi-task world model world_model/weights/sim_twoview from scratch on CPU,
# exactly as it was made. Same recipe as scripts/train_sim_multitask.sh (same episodes, seeds, randomisation,
# encoder and predictor), with one change: the "twoview" camera (the side view stacked above a front view, 96 px,
# see envs/scene.py), so that depth along one camera's line of sight is seen by the other. Wall times were measured
# on the 2-core development machine (Intel Xeon with AMX). Every step resumes where it stopped if killed: rerun the
# script. OUT=<dir> writes the model elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/activate.sh
export MUJOCO_GL=${MUJOCO_GL:-egl}
OUT=${OUT:-world_model/weights/sim_twoview}

# 1. 2000 mixed play episodes (seeds 1000003-1002002, as for sim_multitask), ~14 min: two renders per frame.
vjepa-collect task=mixed out_dir=data/mix96tv episodes=2000 steps=30 image_size=96 camera=twoview \
  randomize=all randomize_fraction=0.6 expert_fraction=0.8 expert_noise=0.3 seed=1
# 2. V-JEPA pretraining of the 96 px encoder on the same frames, ~11 min with 2 threads.
vjepa-pretrain data_dir=data/mix96tv out_dir=runs/tv_pretrain encoder=vit_sim96 image_size=96 \
  steps=2000 warmup=100 decay=400 threads=2
# 3. AC predictor on the frozen encoder (teacher forcing + 2-step rollout L1), ~30 min with 2 threads.
vjepa-posttrain data_dir=data/mix96tv out_dir=runs/tv_posttrain model=sim_tiny96 \
  encoder_checkpoint=runs/tv_pretrain/encoder.pt steps=4000 lr=0.0006 warmup=150 decay=800 threads=2
# 4. export (float16 weights) and plot the losses
python3 -m training.export runs/tv_posttrain "$OUT" --fp16
python3 -m training.plot runs/tv_pretrain runs/tv_posttrain --out runs/tv_training_losses.png
