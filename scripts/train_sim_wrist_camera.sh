#!/usr/bin/env bash
# Issue 13, the moved camera and the lighting: the candidate next sim_wrist, NOT YET MEASURED (docs/manipulation.md,
# sessions 20-21). Under a moved workspace camera the shipped sim_wrist loses 20-24 points on reach, grasp and
# pick-and-place while the perfect predictor does not (13/20 against 14/20 on reach): the predictor is what breaks.
# Under lighting changes reach loses 16 points, and there too the predicted energy's best first move turns away from
# the goal while the true energy's holds (benchmarks/camera_energy_direction.py, session 21). The predictor saw each
# of the two axes in only ~37% of its training episodes. This script continues the model of
# scripts/train_sim_wrist.sh (its step 7) on new play data in which every episode's workspace camera is moved and
# its lighting changed:
#   1. 14 x 360 task=mixed play episodes through workspace_wrist (30 steps, 96 px, as step 6 of train_sim_wrist.sh),
#      every one with randomize=camera_wide_lighting (the workspace camera moved up to 7.5 cm and 7.5 degrees, field
#      of view x0.85-1.15: 1.5x the evaluation's range; the wrist camera rides on the hand and is never moved; the
#      lights over the evaluation's lighting ranges), seeds 121-134 (resets 121000363+: disjoint from every other
#      dataset and from the evaluation seeds).
#   2. Fine-tune step 7's predictor on those and on step 7's own data (play 81-94, pairs 71-85),
#      on step 7's distilled encoder: 2000 steps at batch 256, lr 4e-4, warmup 200, decay over the
#      last 1000 (step 7's schedule). About 66% of the episodes then show a moved camera and 66% changed lighting
#      (each ~41% in step 7's data: half of the paired episodes, 3 in 8 of the play ones). The latent cache is shared
#      with step 7 (same encoder), so only the new episodes are encoded.
# ~7 hours on the 2-core development CPU (AMD EPYC, AVX2; ~11.4 s per step), resumable: rerunning skips what is done.
# Then evaluate ${OUT}/model nominal and under variants=[lighting,camera] before it may replace anything.
# SHORT=1, the session-sized profile (session 22: a work tree here is laid anew every session, so a run must fit in
# one): start from the SHIPPED sim_wrist and its encoder (exported to $OUT/encoder.pt) instead of step 7's, collect
# 8 x 300 camera_wide_lighting episodes (seeds 121-128) plus, as replay of the shipped model's own training
# distribution, 6 x 250 play episodes as step 6 collected them (seeds 81-86, 75% randomised with mixed_axes: the
# first 250 episodes of each of those seeds, the same ones step 6 made), and fine-tune for 500 steps at batch 128,
# lr 2e-4, warmup 50, decay over the last 250, the latent cache in $OUT/latents. ~35 minutes on session 22's
# 2-core CPU (avx512_bf16). Measured there: it did NOT help (the energy's best predicted move under a moved camera
# and changed lighting pointed as before, nominally worse: docs/manipulation.md, session 22); kept as the recipe
# tried, not as one to use.
# A dry run (the shipped sim_wrist as the start, 3 episodes per collection, 4 steps):
#   python3 -m training.export_encoder sim_wrist /tmp/cam_dry/encoder.pt
#   OUT=/tmp/cam_dry/run DATA=/tmp/cam_dry/data MODEL=world_model/weights/sim_wrist ENCODER=/tmp/cam_dry/encoder.pt \
#     DRY=1 bash scripts/train_sim_wrist_camera.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/activate.sh
export MUJOCO_GL=${MUJOCO_GL:-egl}
JOBS=${JOBS:-2}
BASE=${BASE:-runs/sim_wrist}                  # train_sim_wrist.sh's OUT
DATA=${DATA:-data/wrist}                      # train_sim_wrist.sh's DATA (the camera data goes beside it)
OUT=${OUT:-${BASE}_camera}
MODEL=${MODEL:-${BASE}_wdist/model}           # step 7's model
ENCODER=${ENCODER:-${BASE}_distill/encoder.pt}  # step 7's (distilled) encoder
mkdir -p "$OUT"
REPLAY=()  # play episodes per seed 81.. collected here (SHORT=1), when step 7's own data is not at hand
LR=0.0004
if [ "${SHORT:-0}" = 1 ]; then
  MODEL=world_model/weights/sim_wrist; ENCODER="$OUT/encoder.pt"
  [ -f "$ENCODER" ] || python3 -m training.export_encoder sim_wrist "$ENCODER"
fi
for f in "$MODEL.json" "$ENCODER"; do
  [ -f "$f" ] || { echo "train_sim_wrist_camera.sh: $f not found: run scripts/train_sim_wrist.sh first" >&2; exit 1; }
done
if [ "${DRY:-0}" = 1 ]; then COUNTS=(3 3); STEPS=4; BATCH=4; WARMUP=1; DECAY=2; OLD=0; LATENTS="$OUT/latents"
  [ "${SHORT:-0}" = 1 ] && REPLAY=(3)
elif [ "${SHORT:-0}" = 1 ]; then COUNTS=(300 300 300 300 300 300 300 300); REPLAY=(250 250 250 250 250 250)
  STEPS=500; BATCH=128; LR=0.0002; WARMUP=50; DECAY=250; OLD=0; LATENTS="$OUT/latents"
else COUNTS=(360 360 360 360 360 360 360 360 360 360 360 360 360 360); STEPS=2000; BATCH=256; WARMUP=200
  DECAY=1000; OLD=1; LATENTS="${BASE}_latents"
fi
# 1. Play data, every episode's workspace camera moved and its lighting changed (SHORT=1: and step 6's again).
collect() {  # NAME SEED COUNT PRESET FRACTION: task=mixed play episodes into ${DATA}_NAME, its log $OUT/collect_NAME.log
  OMP_NUM_THREADS=1 vjepa-collect task=mixed out_dir="${DATA}_$1" episodes="$3" steps=30 image_size=96 \
    camera=workspace_wrist randomize="$4" randomize_fraction="$5" expert_fraction=0.8 expert_noise=0.3 seed="$2" \
    > "$OUT/collect_$1.log" 2>&1
}
source scripts/jobs.sh
for i in "${!COUNTS[@]}"; do
  s=$((121 + i)); in_background collect "camlight_$s" "$s" "${COUNTS[$i]}" camera_wide_lighting 1.0
done
for i in "${!REPLAY[@]}"; do  # SHORT=1: step 6's play episodes again (its seeds, the first REPLAY[i] of each)
  s=$((81 + i)); in_background collect "play_$s" "$s" "${REPLAY[$i]}" mixed_axes 0.75
done
wait_all  # a failed collector stops the script
# 2. Fine-tune step 7's predictor on the new data and step 7's.
dirs=()
for i in "${!COUNTS[@]}"; do dirs+=("${DATA}_camlight_$((121 + i))"); done
if [ "$OLD" = 1 ]; then
  for s in $(seq 81 94); do dirs+=("${DATA}_play_$s"); done
  for s in $(seq 71 85); do dirs+=("${DATA}_pairs_$s"); done
fi
for i in "${!REPLAY[@]}"; do dirs+=("${DATA}_play_$((81 + i))"); done
extra=$(IFS=,; echo "${dirs[*]:1}")
vjepa-posttrain data_dir="${dirs[0]}" "extra_data_dirs=[$extra]" out_dir="$OUT" model=sim_tiny96 \
  encoder_checkpoint="$ENCODER" init_model="$MODEL" steps="$STEPS" batch_size="$BATCH" lr="$LR" \
  warmup="$WARMUP" decay="$DECAY" ckpt_every=25 threads=2 latent_cache="$LATENTS"
echo "model: $OUT/model (.safetensors + .json); evaluate it before shipping (docs/manipulation.md)"
