#!/usr/bin/env bash
# Issue 13, lighting: a second distillation of the shipped sim_wrist's encoder (session 22, docs/manipulation.md
# "Lighting: a second distillation, session 22"). The shipped encoder is the teacher and the student's start; the
# predictor is kept as shipped (the student maps a relit scene onto the latents it was trained on). Pairs (each
# frame with its nominal twin, the episode's camera kept) from 10 x 150 task=mixed play episodes through
# workspace_wrist (30 steps, 96 px), every one randomised: seeds 141-146 with randomize=lighting alone, seeds
# 147-150 with mixed_axes (each axis in half of them, so the student keeps what the first distillation taught it);
# resets 141000423+, disjoint from every other dataset and from the evaluation seeds. Then 1500 steps at batch 64,
# lr 2e-4, warmup 100, decay over the last 400 (the first distillation's schedule); the last 50 episodes (of seed
# 150) are held out for the invariance report. ~12 minutes on the 2-core development CPU of session 22 (AMD EPYC,
# avx512_bf16: distillation in bf16 autocast, chosen by the hardware probe): collection ~5 minutes with two
# collectors, distillation ~6. Resumable: rerunning skips finished collections and resumes the distillation.
# Output: ${OUT}/model (.safetensors + .json: student encoder + shipped predictor), ${OUT}/invariance.json.
# A dry run: OUT=/tmp/light_dry DATA=/tmp/light_dry/data DRY=1 bash scripts/distill_sim_wrist_lighting.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/activate.sh
export MUJOCO_GL=${MUJOCO_GL:-egl}
JOBS=${JOBS:-2}
OUT=${OUT:-runs/sim_wrist_lighting}
DATA=${DATA:-data/wrist_lightpairs}
SEEDS=(141 142 143 144 145 146 147 148 149 150)
PRESETS=(lighting lighting lighting lighting lighting lighting mixed_axes mixed_axes mixed_axes mixed_axes)
if [ "${DRY:-0}" = 1 ]; then EPISODES=3; STEPS=4; VAL=2; WARMUP=1; DECAY=2; SEEDS=(141 147); PRESETS=(lighting mixed_axes)
else EPISODES=150; STEPS=1500; VAL=50; WARMUP=100; DECAY=400
fi
mkdir -p "$OUT"
collect() {  # SEED PRESET: paired episodes into ${DATA}_SEED (a .done marker once complete), log in $OUT
  local seed=$1 preset=$2
  [ -f "${DATA}_$seed/.done" ] && return 0
  OMP_NUM_THREADS=1 vjepa-collect task=mixed out_dir="${DATA}_$seed" episodes="$EPISODES" steps=30 image_size=96 \
    camera=workspace_wrist randomize="$preset" randomize_fraction=1.0 expert_fraction=0.8 expert_noise=0.3 \
    nominal_frames=true twin_keeps_camera=true seed="$seed" > "$OUT/collect_$seed.log" 2>&1
  touch "${DATA}_$seed/.done"
}
source scripts/jobs.sh
for i in "${!SEEDS[@]}"; do in_background collect "${SEEDS[$i]}" "${PRESETS[$i]}"; done
wait_all  # a failed collector stops the script
extra=$(printf "${DATA}_%s," "${SEEDS[@]:1}")
vjepa-distill model=sim_wrist data_dir="${DATA}_${SEEDS[0]}" "extra_data_dirs=[${extra%,}]" out_dir="$OUT" \
  steps="$STEPS" batch_size=64 lr=0.0002 warmup="$WARMUP" decay="$DECAY" val_episodes="$VAL" ckpt_every=250 threads=2
echo "model: $OUT/model (.safetensors + .json); evaluate it before shipping (docs/manipulation.md)"
