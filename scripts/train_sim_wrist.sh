#!/usr/bin/env bash
# The shipped sim_wrist world model (docs/manipulation.md "A wrist camera"), on the CPU: the frozen encoder and the
# predictor of the shipped sim_multitask_distilled, the predictor fine-tuned on play data seen through
# camera=workspace_wrist (the workspace view, and beside it a camera riding on the hand). Session 15 trained it on a
# lent GPU in one call (`EXPERIMENT=wrist bash scripts/train_on_gpu_machine.sh`, run "wrist": 4240 episodes from
# seeds 51-57, 1500 steps at batch 256 under bf16 autocast, ~2 minutes); these are the same steps on the CPU, with
# the same seeds, episode counts and schedule (fp32). Every step resumes if killed; rerunning skips what is done.
# A dry run: OUT=/tmp/wrist_dry DATA=/tmp/wrist_dry/data EPISODES=2 STEPS=4 BATCH=4 WARMUP=1 \
#   DECAY=1 bash scripts/train_sim_wrist.sh
# Wall times on the 2-core development machine (AMD EPYC, AVX2), estimated from shorter runs: collection ~5 min per
# seed's 606 episodes on one core (~35 min for all seven; JOBS=2 runs two at once), fine-tuning ~9 s per step at
# batch 256 with 2 threads (~4 hours; 1.1 s per step at batch 32 was measured).
# Shipped as world_model/weights/sim_wrist with its weights stored in float16 (metadata.stored_dtype says so):
#   python3 -c "import torch; from world_model.checkpoint import *; m = load_world_model('runs/sim_wrist/model');
#     meta = read_world_model_metadata('runs/sim_wrist/model')['metadata'];
#     save_world_model(m, 'world_model/weights/sim_wrist', {**meta, 'stored_dtype': 'float16'}, dtype=torch.float16)"
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/activate.sh
export MUJOCO_GL=${MUJOCO_GL:-egl}
JOBS=${JOBS:-1}
OUT=${OUT:-runs/sim_wrist}
DATA=${DATA:-data/wrist}
EPISODES=${EPISODES:-606}; STEPS=${STEPS:-1500}; BATCH=${BATCH:-256}; WARMUP=${WARMUP:-200}; DECAY=${DECAY:-1000}
mkdir -p "$OUT"
# 1. The shipped model's encoder, as posttrain's frozen encoder_checkpoint.
[ -f "$OUT/encoder.pt" ] || python3 -m training.export_encoder sim_multitask_distilled "$OUT/encoder.pt"
# 2. Play data: 7 x 606 task=mixed episodes (30 steps, 96 px), 75% randomised with mixed_axes (each axis in half of
#    those; camera jitter moves the workspace camera, never the wrist camera), seeds 51-57 (resets 51000153+:
#    disjoint from the other datasets and the evaluation seeds). The GPU run kept what its 7 collectors had done
#    after 200 s: 4240 episodes; 606 per seed is the same count (each seed's episodes are the same).
collect() {
  OMP_NUM_THREADS=1 vjepa-collect task=mixed out_dir="${DATA}_$1" episodes="$EPISODES" steps=30 image_size=96 \
    camera=workspace_wrist randomize=mixed_axes randomize_fraction=0.75 expert_fraction=0.8 expert_noise=0.3 \
    seed="$1" > "$OUT/collect_$1.log" 2>&1
}
running=0
for s in 51 52 53 54 55 56 57; do
  collect $s &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait
# 3. Fine-tune the shipped predictor on all seven (lr 4e-4, warmup 200, decay over the last 1000 steps).
extra=$(printf "${DATA}_%s," 52 53 54 55 56 57)
vjepa-posttrain data_dir="${DATA}_51" "extra_data_dirs=[${extra%,}]" out_dir="$OUT" model=sim_tiny96 \
  encoder_checkpoint="$OUT/encoder.pt" init_model=world_model/weights/sim_multitask_distilled steps="$STEPS" \
  batch_size="$BATCH" lr=0.0004 warmup="$WARMUP" decay="$DECAY" \
  ckpt_every=50 threads=2
echo "model: $OUT/model (.safetensors + .json)"
