#!/usr/bin/env bash
# Re-train the shipped world model world_model/weights/sim_reach from scratch on CPU, exactly as it was made
# (wall times measured on the 2-core development machine, with other jobs sharing it; ~35 min in all).
# Every step resumes where it stopped if killed: rerun the script. OUT=<dir> writes the model elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/activate.sh
export MUJOCO_GL=${MUJOCO_GL:-egl}
OUT=${OUT:-world_model/weights/sim_reach}

# 1. 400 reach episodes (60% noisy expert, 40% random, 20 steps at 4 Hz, 64 px) for encoder pretraining: ~1 min
vjepa-collect out_dir=data/reach400 episodes=400 steps=20 seed=0
# 2. V-JEPA pretraining of the vit_sim encoder (multi-block masking, EMA target, L1): ~5 min
vjepa-pretrain data_dir=data/reach400 out_dir=runs/pretrain steps=1200 decay=300 threads=1
# 3. 1200 more episodes (different seeds) for the action-conditioned post-training: ~2.5 min
vjepa-collect out_dir=data/reach1200 episodes=1200 steps=20 seed=1
# 4. AC predictor on the frozen pretrained encoder, teacher-forcing + 2-step rollout L1: ~25 min
vjepa-posttrain data_dir=data/reach1200 out_dir=runs/posttrain encoder_checkpoint=runs/pretrain/encoder.pt \
  steps=3000 lr=0.0006 warmup=100 decay=600 threads=1
# 5. export (float16 weights, 7.9 MB) and plot the losses
python3 -m training.export runs/posttrain "$OUT" --fp16
python3 -m training.plot runs/pretrain runs/posttrain --out runs/training_losses.png
