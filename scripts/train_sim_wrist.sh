#!/usr/bin/env bash
# The shipped sim_wrist world model (docs/manipulation.md "A wrist camera" and "The wrist model's encoder, distilled"),
# on the CPU. Two stages, each made on a lent GPU in one call and written here as the same steps on the CPU, with the
# same seeds, episode counts and schedules (bf16 autocast there; here precision=auto: bf16 autocast on a CPU with
# native bf16 where a probe finds it faster, fp32 elsewhere; so the weights will not be bit-equal):
#   steps 1-3 (session 15, `EXPERIMENT=wrist bash scripts/train_on_gpu_machine.sh`, run "wrist"): the frozen encoder
#     and the predictor of the shipped sim_multitask_distilled, the predictor fine-tuned on play data seen through
#     camera=workspace_wrist (the workspace view, and beside it a camera riding on the hand): 4240 episodes from
#     seeds 51-57, 1500 steps at batch 256. Its float16 copy was session 15's shipped sim_wrist ($OUT/model16).
#   steps 4-7 (session 16, `EXPERIMENT=wrist_distill`, run "wdist"): that model's encoder distilled on 1750 paired
#     workspace_wrist episodes (every one randomised, each frame stored with its nominal twin; seeds 71-85) so that
#     the wrist view too sees a randomised scene as the nominal one (1500 steps at batch 64), then its predictor
#     fine-tuned on the distilled encoder's latents of 5042 new play episodes (seeds 81-94) plus the paired ones
#     (2000 steps at batch 256). The seeds 81-85 of both sets were used in that call: the first 110-124 play
#     episodes of each of those seeds repeat a paired episode's trajectory (same resets and actions, other scene
#     randomisation): ~580 of the 6792 episodes. Kept here as run; the GPU script now uses seeds 101.. for pairs.
# Every step resumes if killed; rerunning skips what is done (a finished fine-tune or distillation returns at once:
# <out_dir>/complete.json, training/completion.py). The fine-tunes keep the frozen encoder's latents of
# their episodes in ${OUT}_latents (3.4 GB for step 3, ~6 GB for step 7; training.latent_cache), so a resumed
# fine-tune does not encode its dataset again (~6-10 minutes each on the idle CPU); delete that folder when done.
# A dry run: OUT=/tmp/wrist_dry DATA=/tmp/wrist_dry/data EPISODES=2 STEPS=4 BATCH=4 WARMUP=1 DECAY=1 DRY=1 \
#   bash scripts/train_sim_wrist.sh   (DRY=1: steps 4-7 on two collections of 3 episodes each, 4 steps each)
# Wall times on the 2-core development machine (AMD EPYC, AVX2), estimated from shorter runs: play collection ~5 min
# per 606 episodes on one core (~35 min for seeds 51-57, ~40 min for 81-94; JOBS=2 runs two at once), paired
# collection ~2x as long per episode (~35 min), distillation 1.8 steps/s (~14 min), fine-tuning ~11.4 s per step at
# batch 256 with 2 threads (measured in session 20's run: ~4.75 hours for step 3, ~6.3 hours for step 7); ~13 hours
# in all. Measured on a 2-core AMD EPYC with avx512_bf16 (sessions 22-24, bf16 autocast chosen by the probe):
# collection ~3 episodes/s per collector (2 at once: ~12-15 min each for steps 2 and 6, ~8 for step 4), step 3
# 4.5-4.8 s per step (2 h 07 min), the distillation 4.2 steps/s (~6 min), step 7 4.5-4.9 s per step (~2 h 40 min
# after ~6 min encoding its latents; finished in session 25); ~6.5 hours in all.
# Run nothing else on the 2 cores meanwhile (benchmarks/thread_contention.py): pause it with kill -STOP.
# SHIP=1 stores step 7's model as world_model/weights/${SHIP_AS} (default sim_wrist; session 26 stored this
# script's CPU run as SHIP_AS=sim_wrist_cpu) with its weights in float16 (metadata.stored_dtype says so).
# Step 7's model records the distillation (its settings and invariance report) in metadata.encoder_distillation,
# copied by vjepa-posttrain from ${OUT}_distill/encoder.json (since session 18; the shipped sim_wrist's was added by
# hand in session 16, with fewer fields).
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
collect() {  # NAME SEED COUNT [overrides]: task=mixed play data into ${DATA}_NAME, its log $OUT/collect_NAME.log
  local name=$1 seed=$2 count=$3; shift 3
  OMP_NUM_THREADS=1 vjepa-collect task=mixed out_dir="${DATA}_$name" episodes="$count" steps=30 image_size=96 \
    camera=workspace_wrist randomize=mixed_axes expert_fraction=0.8 expert_noise=0.3 seed="$seed" "$@" \
    > "$OUT/collect_$name.log" 2>&1
}
source scripts/jobs.sh  # in_background (`wait` for the last ones)
for s in 51 52 53 54 55 56 57; do in_background collect "$s" "$s" "$EPISODES" randomize_fraction=0.75; done
wait
# 3. Fine-tune sim_multitask_distilled's predictor on all seven (lr 4e-4, warmup 200, decay over the last 1000 steps).
extra=$(printf "${DATA}_%s," 52 53 54 55 56 57)
vjepa-posttrain data_dir="${DATA}_51" "extra_data_dirs=[${extra%,}]" out_dir="$OUT" model=sim_tiny96 \
  encoder_checkpoint="$OUT/encoder.pt" init_model=world_model/weights/sim_multitask_distilled steps="$STEPS" \
  batch_size="$BATCH" lr=0.0004 warmup="$WARMUP" decay="$DECAY" \
  ckpt_every=25 threads=2 latent_cache="${OUT}_latents"
fp16_copy() {  # SRC DEST: the float16 copy of a model (what is shipped)
  python3 -c "import sys, torch; from world_model.checkpoint import *; m = load_world_model(sys.argv[1]);
meta = read_world_model_metadata(sys.argv[1])['metadata'];
save_world_model(m, sys.argv[2], meta, dtype=torch.float16)" "$1" "$2"
}
[ -f "$OUT/model16.json" ] || fp16_copy "$OUT/model" "$OUT/model16"  # session 15's shipped sim_wrist
echo "session 15's model: $OUT/model16 (.safetensors + .json)"

# 4. Paired data: task=mixed as above, every episode randomised (mixed_axes), each frame with its nominal twin (the
#    episode's own camera pose kept), seeds 71-85 with the counts the GPU call's 15 collectors reached in 75 s.
if [ "${DRY:-0}" = 1 ]; then PAIR_COUNTS=(3 3); PLAY_COUNTS=(3 3); VAL=2; DSTEPS=4; DW=1; DD=2; PSTEPS=4
else
  PAIR_COUNTS=(111 111 109 118 120 119 114 118 121 117 124 116 123 110 119)  # seeds 71..85
  PLAY_COUNTS=(359 368 353 366 358 362 370 356 360 357 354 351 367 361)      # seeds 81..94
  VAL=50; DSTEPS=1500; DW=100; DD=400; PSTEPS=2000
fi
running=0
for i in "${!PAIR_COUNTS[@]}"; do
  in_background collect "pairs_$((71 + i))" $((71 + i)) "${PAIR_COUNTS[$i]}" randomize_fraction=1.0 \
    nominal_frames=true twin_keeps_camera=true
done
wait
# 5. Distil the encoder (training.distill: the student, initialised from the teacher, learns to map each frame to
#    the teacher's latent of its nominal twin), the directories in the GPU call's order (its shell glob order:
#    process 1, 10, 11, ..., 2, ...; the held-out ones are the last 50 of process 9's, as there).
glob_order() {  # COUNT PREFIX FIRST_SEED: the directories PREFIX_<seed> of processes 1..COUNT in shell glob order
  local p                                     # (process numbers sorted as text)
  for p in $(seq 1 "$1" | LC_ALL=C sort); do echo "$2_$(($3 - 1 + p))"; done
}
mapfile -t pair_dirs < <(glob_order "${#PAIR_COUNTS[@]}" "${DATA}_pairs" 71)
vjepa-distill model="$OUT/model16" data_dir="${pair_dirs[0]}" "extra_data_dirs=[$(IFS=,; echo "${pair_dirs[*]:1}")]" \
  out_dir="${OUT}_distill" steps="$DSTEPS" batch_size=64 lr=0.0002 warmup="$DW" decay="$DD" val_episodes="$VAL" \
  ckpt_every=250 threads=2
# 6. Play data as in step 2 (75% randomised), seeds 81-94 with the counts the GPU call's 14 collectors reached.
running=0
for i in "${!PLAY_COUNTS[@]}"; do
  in_background collect "play_$((81 + i))" $((81 + i)) "${PLAY_COUNTS[$i]}" randomize_fraction=0.75
done
wait
# 7. Fine-tune session 15's predictor on the distilled encoder's latents of the play and paired data, the
#    directories in the GPU call's order.
mapfile -t dirs < <(glob_order "${#PLAY_COUNTS[@]}" "${DATA}_play" 81
                    glob_order "${#PAIR_COUNTS[@]}" "${DATA}_pairs" 71)
extra=$(IFS=,; echo "${dirs[*]:1}")
vjepa-posttrain data_dir="${dirs[0]}" "extra_data_dirs=[$extra]" out_dir="${OUT}_wdist" model=sim_tiny96 \
  encoder_checkpoint="${OUT}_distill/encoder.pt" init_model="$OUT/model16" steps="$PSTEPS" \
  batch_size="$BATCH" lr=0.0004 warmup="$WARMUP" decay="$DECAY" ckpt_every=25 threads=2 \
  latent_cache="${OUT}_latents"
echo "model: ${OUT}_wdist/model (.safetensors + .json)"
if [ "${SHIP:-0}" = 1 ]; then fp16_copy "${OUT}_wdist/model" "world_model/weights/${SHIP_AS:-sim_wrist}"; fi
