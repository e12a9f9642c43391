#!/usr/bin/env bash
# Predictor fine-tunes made in one call on a lent GPU machine (16 cores, one GPU, no package registry; see the device
# notes): fresh play data on its CPU cores, then two fine-tunes side by side on its GPU. EXPERIMENT picks them:
#
# EXPERIMENT=wide_camera (default; docs/manipulation.md "A 17x longer predictor fine-tune"): two fine-tunes of
# session 10's sim_multitask_distilled predictor, identical but for the camera range of their data:
#   normal: randomize=mixed_axes (the evaluation's camera range: +-5 cm, +-5 deg, field of view x0.9..1.1);
#   wide:   randomize=mixed_axes_wide_camera (1.5x those ranges). Both datasets use the same seeds, so their
#           episodes are the same but for the camera offsets, which are exactly 1.5x as large in wide.
#   It needs the distilled encoder at $ENCODER and the model to start from at $INIT (runs/distill_keepcam/encoder.pt
#   and runs/distill_keepcam_posttrain/model .safetensors/.json of scripts/train_sim_multitask_distilled.sh, steps 2
#   and 3; copy them under .devdata/ and carry those files).
# EXPERIMENT=gripper_flip (docs/manipulation.md "The gripper the predictor does not see"): two fine-tunes of the
# shipped sim_multitask_distilled predictor (INIT=world_model/weights/sim_multitask_distilled, its encoder saved to
# ENCODER, which the script exports on the machine when missing: `python3 -m training.export_encoder
# sim_multitask_distilled /tmp/sim_multitask_distilled_encoder.pt`):
#   control: new mixed_axes play data (seeds 31..);
#   gripper: the same data plus as much again with gripper_flip_prob=$FLIP (seeds 41..): the noisy experts' gripper
#            command is replaced by a full open or close in that share of steps.
# EXPERIMENT=wrist (docs/manipulation.md "A wrist camera"): the shipped predictor (as gripper_flip) fine-tuned on
# play data seen through camera=workspace_wrist (the workspace view with a wrist camera beside it), on the frozen
# shipped encoder:
#   wrist:      new mixed_axes play data (seeds 51..);
#   wrist_flip: the same data plus as much again with gripper_flip_prob=$FLIP (seeds 61..).
# EXPERIMENT=wrist_distill (docs/manipulation.md "The wrist model's encoder, distilled", session 16): the encoder of
# DISTILL_FROM (session 15's sim_wrist then; it is no longer shipped: name its file, runs/sim_wrist/model16 of
# scripts/train_sim_wrist.sh, in DISTILL_FROM and INIT and carry it, or the shipped, already distilled sim_wrist is
# used) distilled on paired workspace_wrist frames (every episode randomised, each frame stored with its nominal
# twin; seeds 101..; session 16's call used 71-85, overlapping wplay's 81..: see scripts/train_sim_wrist.sh),
# collected first on all but one core until PAIRS_S, so that the wrist view too sees a randomised scene as the
# nominal one; then two fine-tunes of INIT's predictor on new workspace_wrist play data (seeds 81.., collected
# while the encoder is distilled) plus the paired episodes:
#   wdist:    on the distilled encoder's latents (session 16: the shipped sim_wrist);
#   wcontrol: on ENCODER's latents (sim_multitask_distilled's, as session 15's sim_wrist: the control, as much
#             fine-tuning without the distillation).
#   It returns the distilled encoder too (encoder_wdist.pt, invariance_wdist.json). Steps: STEPS (no probe: the
#   probe's second load and encode cost ~90 s of the call); a run cut by the time limit is exported from its last
#   checkpoint (every 250 steps).
# In all, 75% of the episodes are randomised (each axis in half of those), 25% show the nominal scene.
# Needs, carried with the repo, what scripts/gpu_machine_env.sh installs. The number of training steps is sized to
# the time left: PROBE steps are timed first (both runs side by side), then both runs resume to the largest multiple
# of 500 steps that ends by END_S seconds after the start.
# On a CPU the same runs are `vjepa-posttrain ... steps=<the run's steps>` (model.json records the config), resumable.
# Returns in $OUT: the two models (ft_<run> .safetensors + .json) and logs.tar.gz (logs and loss logs).
# It refuses to start over an earlier run's outputs/gpu_train_runs or data/gpu_train (CLEAN=1 deletes them) and
# exits nonzero when a run returns no model.
# A dry run on the development CPU:
#   CLEAN=1 DEVICE=cpu SETUP=0 EPISODES=2 PROCS=1 PROBE=4 MIN_STEPS=8 STEP_UNIT=4 WARMUP=2 DECAY=2 BATCH=4 END_S=400 \
#     EXPERIMENT=gripper_flip OUT=/tmp/gpu_dry bash scripts/train_on_gpu_machine.sh
set -uo pipefail
T0=$(date +%s)
elapsed() { echo $(($(date +%s) - T0)); }
DEST=${OUT:-outputs/gpu_train}; mkdir -p "$DEST"  # $OUT is where the lent machine returns files from
DEVICE=${DEVICE:-cuda}
EPISODES=${EPISODES:-1000}     # episodes per collecting process (each stops at COLLECT_S, its episodes kept)
PROCS=${PROCS:-7}              # collecting processes per dataset (2 x 7 on 16 cores)
COLLECT_S=${COLLECT_S:-200}    # seconds after the start at which collection stops
END_S=${END_S:-530}            # seconds after the start by which training must end
PAIRS_S=${PAIRS_S:-75}         # wrist_distill: paired collection ends, play collection and distillation start
DISTILL_END_S=${DISTILL_END_S:-200}  # wrist_distill: the distillation must end by then
DISTILL_STEPS=${DISTILL_STEPS:-1500}
PROBE=${PROBE:-300}            # steps timed to size the runs
MIN_STEPS=${MIN_STEPS:-1500}; STEP_UNIT=${STEP_UNIT:-500}
BATCH=${BATCH:-256}; LR=${LR:-0.0004}; WARMUP=${WARMUP:-200}; DECAY=${DECAY:-1000}
EXPERIMENT=${EXPERIMENT:-wide_camera}
FLIP=${FLIP:-0.2}
case $EXPERIMENT in
  wide_camera) DATASETS="normal wide"; RUNS="normal wide"
    ENCODER=${ENCODER:-.devdata/distill_keepcam_encoder.pt}; INIT=${INIT:-.devdata/distill_keepcam_posttrain/model} ;;
  gripper_flip) DATASETS="mixed flip"; RUNS="control gripper"
    ENCODER=${ENCODER:-/tmp/sim_multitask_distilled_encoder.pt}
    INIT=${INIT:-world_model/weights/sim_multitask_distilled} ;;
  wrist) DATASETS="wrist wflip"; RUNS="wrist wrist_flip"; CAMERA=workspace_wrist
    ENCODER=${ENCODER:-/tmp/sim_multitask_distilled_encoder.pt}
    INIT=${INIT:-world_model/weights/sim_multitask_distilled} ;;
  wrist_distill) DATASETS="wplay"; PAIRS=wpairs; RUNS="wdist wcontrol"; CAMERA=workspace_wrist
    ENCODER=${ENCODER:-/tmp/sim_multitask_distilled_encoder.pt}; INIT=${INIT:-world_model/weights/sim_wrist}
    DISTILL_FROM=${DISTILL_FROM:-sim_wrist}; STEPS=${STEPS:-2000}; CKPT=${CKPT:-250} ;;
  *) echo "unknown EXPERIMENT=$EXPERIMENT (wide_camera | gripper_flip | wrist | wrist_distill)" >&2; exit 2 ;;
esac
CKPT=${CKPT:-500}  # checkpoint every CKPT steps (wrist_distill: 250)
CAMERA=${CAMERA:-workspace}; PAIRS=${PAIRS:-}; DISTILL_FROM=${DISTILL_FROM:-}; STEPS=${STEPS:-}
# the encoder of a shipped model is exported on the machine rather than carried: the working tree that travels is
# limited to 64 MiB, and the tracked files (shipped weights included) with the carried wheels come close to it
case $EXPERIMENT in gripper_flip|wrist|wrist_distill) ENCODER_FROM=sim_multitask_distilled ;; *) ENCODER_FROM= ;; esac
# collect_args DATASET: the seed offset and the vjepa-collect overrides of one dataset
collect_args() {
  case $1 in
    normal) echo "20 randomize=mixed_axes" ;;
    wide) echo "20 randomize=mixed_axes_wide_camera" ;;
    mixed) echo "30 randomize=mixed_axes" ;;
    flip) echo "40 randomize=mixed_axes gripper_flip_prob=$FLIP" ;;
    wrist) echo "50 randomize=mixed_axes" ;;
    wflip) echo "60 randomize=mixed_axes gripper_flip_prob=$FLIP" ;;
    wpairs) echo "100 randomize=mixed_axes nominal_frames=true twin_keeps_camera=true" ;;
    wplay) echo "80 randomize=mixed_axes" ;;
  esac
}
# randomised share of a dataset's episodes (paired data: all, each axis in half of them)
fraction() { case $1 in wpairs) echo 1.0 ;; *) echo 0.75 ;; esac; }
# train_sets RUN: the datasets a fine-tune trains on
train_sets() { case $1 in control) echo mixed ;; gripper) echo "mixed flip" ;; wrist_flip) echo "wrist wflip" ;;
  wdist|wcontrol) echo "wplay wpairs" ;; *) echo "$1" ;; esac; }
# with_episodes DIR...: the directories among DIR... that hold an episode, one per line, in the order given
with_episodes() { local d; for d in "$@"; do if compgen -G "$d/episode_*" > /dev/null; then echo "$d"; fi; done; }
# encoder_of RUN: the frozen encoder a fine-tune trains on
encoder_of() { case $1 in wdist) echo "$R/distill/encoder.pt" ;; *) echo "$ENCODER" ;; esac; }
R=outputs/gpu_train_runs; D=data/gpu_train
# an earlier run's outputs would be mixed in (its models returned as this run's): CLEAN=1 removes them
for dir in $R $D; do
  if [ -n "$(ls -A $dir 2>/dev/null)" ]; then
    if [ "${CLEAN:-0}" = 1 ]; then rm -rf "$dir"; else
      echo "$dir holds an earlier run's files: move it away, or CLEAN=1 to delete it" >&2; exit 2; fi
  fi
done
mkdir -p $R $D
source scripts/gpu_machine_env.sh  # SETUP=0: no installing
if [ ! -f "$ENCODER" ]; then
  [ -n "$ENCODER_FROM" ] || { echo "no encoder at $ENCODER (carry it)" >&2; exit 3; }
  python3 -m training.export_encoder "$ENCODER_FROM" "$ENCODER" || exit 3
fi
# logs come back whatever happens (a failed call's did not, in session 14)
return_logs() {
  find $R -name '*.log' -exec sh -c '{ tr "\r" "\n" < "$1" | grep -v "it/s"; tr "\r" "\n" < "$1" | tail -1; } \
    | tail -40 > "$1.tail"' _ {} \;
  tar -czf "$DEST/logs.tar.gz" $R/*.txt $R/distill/log.jsonl $R/*.tail $R/*.sizing $R/ft_*/log.jsonl \
    $R/ft_*/config.json 2>/dev/null
}
trap return_logs EXIT
{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; nproc; python3 --version; } > $R/device.txt 2>&1
# rendering first: a collector that cannot render would otherwise hang or fail unseen
render_probe() {
  timeout -k 5 60 python3 -c "import mujoco; m = mujoco.MjModel.from_xml_string('<mujoco/>'); \
r = mujoco.Renderer(m, 8, 8); r.update_scene(mujoco.MjData(m)); print('render ok', r.render().shape); r.close()"
}
if ! render_probe >> $R/device.txt 2>&1; then
  echo "rendering failed with ${__EGL_VENDOR_LIBRARY_FILENAMES:-the default EGL vendor}; retrying without" \
    >> $R/device.txt
  unset __EGL_VENDOR_LIBRARY_FILENAMES
  render_probe >> $R/device.txt 2>&1 || { echo "rendering failed: stopping" | tee -a $R/device.txt; exit 3; }
fi
cat $R/device.txt

# 1. Collection: PROCS processes per dataset, seeds 21.., 31.., 41.., 51.., 61.., 81.. or 101.. (resets 21000063+,
#    disjoint from every other dataset and from the evaluation seeds), one core each, until COLLECT_S (paired data
#    first, until PAIRS_S).
collect_set() {  # DATASET PROCESSES UNTIL_S: collecting processes in the background
  local name=$1 procs=$2 until=$3 seed0 overrides p
  read -r seed0 overrides <<< "$(collect_args "$name")"
  for p in $(seq 1 "$procs"); do
    # shellcheck disable=SC2086  # word splitting of the overrides is intended
    timeout -k 10 $((until - $(elapsed))) vjepa-collect task=mixed out_dir=$D/${name}_$p episodes="$EPISODES" \
      steps=30 image_size=96 camera=$CAMERA $overrides randomize_fraction="$(fraction "$name")" \
      expert_fraction=0.8 expert_noise=0.3 seed=$((seed0 + p)) > $R/collect_${name}_$p.log 2>&1 &
  done
}
if [ -n "$PAIRS" ]; then  # paired data first, on all but one core: the distillation needs it before the rest
  collect_set "$PAIRS" "${PAIR_PROCS:-15}" "$PAIRS_S"
else
  for name in $DATASETS; do collect_set "$name" "$PROCS" "$COLLECT_S"; done
fi
# no episode within FIRST_S seconds: stop with the collectors' logs rather than train on nothing
episodes() { find $D -maxdepth 2 -type d -name 'episode_*' ! -name '*.tmp' | wc -l; }
while [ "$(episodes)" = 0 ] && [ "$(elapsed)" -lt "${FIRST_S:-90}" ]; do sleep 5; done
if [ "$(episodes)" = 0 ]; then
  echo "no episode by $(elapsed) s: stopping" | tee $R/collect.txt; pkill -9 -f vjepa-collect; pkill -9 -f collect_main
  tail -n 20 $R/collect_*.log; exit 3
fi
if [ -n "$PAIRS" ]; then
  wait
  # every process's directory that holds episodes, for vjepa-distill (in glob order: the held-out ones are the last)
  mapfile -t pair_dirs < <(with_episodes $D/"$PAIRS"_*)
  [ "${#pair_dirs[@]}" -gt 0 ] || { echo "no paired episode by $(elapsed) s: stopping" | tee $R/pairs.txt; exit 3; }
  echo "paired episodes by $(elapsed) s: $(find "${pair_dirs[@]}" -maxdepth 1 -name 'episode_*' ! -name '*.tmp' \
    | wc -l)" | tee $R/pairs.txt
  for name in $DATASETS; do collect_set "$name" "$PROCS" "$COLLECT_S"; done
fi
if [ -n "$DISTILL_FROM" ]; then  # on the GPU while the play data is collected; cut by the time limit, the run
  # resumes from its last checkpoint with steps lowered to it (the encoder of that step is kept)
  distill_args=(model=$DISTILL_FROM data_dir="${pair_dirs[0]}" "extra_data_dirs=[$(IFS=,; echo "${pair_dirs[*]:1}")]"
    out_dir=$R/distill batch_size=64 lr=0.0002
    warmup="${DISTILL_WARMUP:-100}" decay="${DISTILL_DECAY:-400}" val_episodes="${VAL_EPISODES:-50}"
    ckpt_every="${DISTILL_CKPT:-250}" threads=1 device="$DEVICE")
  { timeout -k 10 $((DISTILL_END_S - $(elapsed))) vjepa-distill "${distill_args[@]}" steps="$DISTILL_STEPS" \
      > $R/distill.log 2>&1
    if [ ! -f $R/distill/encoder.pt ] && [ -f $R/distill/last.pt ]; then
      last=$(python3 -c "import torch; print(torch.load('$R/distill/last.pt', weights_only=False)['step'])")
      echo "cut at the time limit: ending at step $last" >> $R/distill.log
      vjepa-distill "${distill_args[@]}" steps="$last" >> $R/distill.log 2>&1
    fi; } &
fi
wait
echo "collected by $(elapsed) s: $(episodes) episodes" \
  | tee $R/collect.txt

# 2. Training. posttrain RUN STEPS [overrides]: one fine-tune on every dataset of the run (train_sets) that holds
#    episodes.
posttrain() {
  local name=$1 steps=$2; shift 2
  local dirs set
  mapfile -t dirs < <(for set in $(train_sets "$name"); do with_episodes "$D/${set}"_*; done)
  local extra; extra=$(IFS=,; echo "${dirs[*]:1}")
  vjepa-posttrain data_dir="${dirs[0]}" "extra_data_dirs=[$extra]" out_dir="$R/ft_$name" model=sim_tiny96 \
    encoder_checkpoint="$(encoder_of "$name")" init_model="$INIT" steps="$steps" batch_size="$BATCH" lr="$LR" \
    warmup="$WARMUP" decay="$DECAY" ckpt_every="$CKPT" threads=4 device="$DEVICE" "$@"
}
export D R ENCODER INIT BATCH LR WARMUP DECAY DEVICE FLIP CKPT
export -f posttrain train_sets with_episodes encoder_of
if [ -n "$STEPS" ]; then  # fixed steps, no probe
  [ -z "$DISTILL_FROM" ] || [ -f $R/distill/encoder.pt ] || { echo "no distilled encoder" | tee -a $R/collect.txt
    tail -n 20 $R/distill.log; exit 3; }
  for name in $RUNS; do
    timeout -k 10 $((END_S - $(elapsed))) bash -c 'posttrain "$0" "$1"' $name "$STEPS" \
      > $R/train_$name.log 2>&1 &
  done
  wait
  echo "steps=$STEPS (fixed); trained by $(elapsed) s" | tee $R/sizing.txt
else
start=$(elapsed)
for name in $RUNS; do
  timeout -k 10 $((END_S - $(elapsed))) bash -c 'posttrain "$0" "$1" "$2"' $name "$MIN_STEPS" stop_after="$PROBE" \
    > $R/probe_$name.log 2>&1 &
done
wait
probe_s=$(($(elapsed) - start))
# steps per second from tqdm's last rate; load + encode time = the probe's wall time less its steps
first=${RUNS%% *}
steps=$(python3 - "$R/probe_$first.log" "$probe_s" "$PROBE" "$(elapsed)" "$END_S" "$MIN_STEPS" "$STEP_UNIT" <<'EOF'
import re, sys
log, probe_s, probe, now, end, least, unit = sys.argv[1], *map(float, sys.argv[2:])
text = open(log, errors="replace").read().replace("\r", "\n")
rates = re.findall(r"([\d.]+)(it/s|s/it)", text)
value, kind = rates[-1]
rate = float(value) if kind == "it/s" else 1.0 / float(value)
load_s = max(probe_s - probe / rate, 0.0)
fit = probe + rate * (end - now - load_s - 15)  # 15 s: saving the models
print(max(int(least), int(fit // unit * unit)))
print(f"rate {rate:.2f} steps/s, load+encode {load_s:.0f} s, probe {probe_s:.0f} s -> {fit:.0f} steps",
      file=open(log + ".sizing", "w"))
EOF
)
steps=${steps:-$MIN_STEPS}
echo "steps=$steps ($(cat $R/probe_$first.log.sizing 2>/dev/null))" | tee $R/sizing.txt
for name in $RUNS; do
  timeout -k 10 $((END_S + 40 - $(elapsed))) bash -c 'posttrain "$0" "$1"' $name "$steps" > $R/train_$name.log 2>&1 &
done
wait
echo "trained by $(elapsed) s" | tee -a $R/sizing.txt
fi

# 3. Return the models (a run stopped by the time limit is exported from its last checkpoint) and the logs.
STATUS=0  # nonzero when a run returns no model (training failed before its first checkpoint, or the export did)
for name in $RUNS; do
  run=$R/ft_$name
  [ -f $run/model.safetensors ] || python3 -m training.export $run $run/model >> $R/train_$name.log 2>&1
  if [ -f $run/model.safetensors ] && [ -f $run/model.json ]; then
    cp $run/model.safetensors "$DEST/ft_$name.safetensors"; cp $run/model.json "$DEST/ft_$name.json"
  else
    echo "FAILED: $name returned no model (see train_$name.log)" | tee -a $R/sizing.txt; STATUS=1
  fi
done
if [ -n "$DISTILL_FROM" ]; then
  if [ -f $R/distill/encoder.pt ]; then
    cp $R/distill/encoder.pt "$DEST/encoder_wdist.pt"; cp $R/distill/invariance.json "$DEST/invariance_wdist.json"
  else
    echo "FAILED: the distillation returned no encoder (see distill.log)" | tee -a $R/sizing.txt; STATUS=1
  fi
fi
trap - EXIT  # from here on the logs are returned once, below
return_logs
ls -la "$DEST"; cat $R/collect.txt $R/sizing.txt; tail -n 3 $R/*.tail
exit $STATUS
