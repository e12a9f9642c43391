#!/usr/bin/env bash
# The camera-pose experiment of docs/manipulation.md ("Telling the predictor where the camera is"): fine-tune the
# shipped sim_multitask_distilled predictor with and without the camera pose and compare held-out losses under
# moved cameras, then reach success. CAMERA=token (default: the pose as its own predictor token, as the official
# extrinsics), CAMERA=state (added to the state token) or CAMERA=none (the control). Every step resumes if killed.
# Wall times on the 2-core development machine (Intel Xeon with AMX), two runs side by side with one thread each.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/activate.sh
export MUJOCO_GL=${MUJOCO_GL:-egl}
CAMERA=${CAMERA:-token}
case $CAMERA in
  token) OUT=runs/cam_ft; COND="camera_conditioning=true camera_input=token" ;;
  state) OUT=runs/cam_ft_state; COND="camera_conditioning=true camera_input=state" ;;
  none) OUT=runs/cam_ft_ctrl; COND="camera_conditioning=false" ;;
  *) echo "CAMERA must be token, state or none" >&2; exit 2 ;;
esac
# 1. 1600 play episodes like sim_multitask's, every one randomised with mixed_axes (each axis in half of them:
#    the camera moves in ~800), each frame recorded with its camera pose (~4 min per 800 on one core; seeds 5 and 6:
#    resets 5000000+ and 6000000+, disjoint from training and evaluation seeds), and two held-out sets of 200
#    (nominal scene / moved camera only; seed 11).
for s in 5 6; do
  vjepa-collect task=mixed out_dir=data/cam96_s$s episodes=800 steps=30 image_size=96 camera=workspace \
    randomize=mixed_axes randomize_fraction=1.0 expert_fraction=0.8 expert_noise=0.3 seed=$s
done
for r in none camera; do
  d=data/diag_nominal; [ $r = camera ] && d=data/diag_camera
  vjepa-collect task=mixed out_dir=$d episodes=200 steps=30 image_size=96 camera=workspace randomize=$r \
    expert_fraction=0.8 expert_noise=0.3 seed=11
done
# 2. Fine-tune the shipped predictor on them for 1200 steps (~20 min on one core), on the distilled encoder of
#    scripts/train_sim_multitask_distilled.sh (runs/distill_keepcam/encoder.pt).
# shellcheck disable=SC2086  # word splitting of COND is intended
vjepa-posttrain data_dir=data/cam96_s5 'extra_data_dirs=[data/cam96_s6]' out_dir=$OUT model=sim_tiny96 \
  encoder_checkpoint=runs/distill_keepcam/encoder.pt init_model=world_model/weights/sim_multitask_distilled \
  steps=1200 lr=0.0002 warmup=50 decay=300 threads=1 $COND
# 3. Held-out losses (docs/results/camera_pose_validation.json) and reach success, nominal and moved camera
#    (docs/results/camera_pose_*_reach.json; ~10 min).
for d in diag_nominal diag_camera; do
  python3 -m training.validate $OUT/model data/$d --first 0 --count 200 --threads 1 --json $OUT/val_$d.json
done
OMP_NUM_THREADS=1 vjepa-eval episodes=50 agent=learned model=$OUT/model seed=1000 bf16=false video=false jobs=1 \
  'tasks=[FrankaReach-v0]' planner=cem label=learned+cem 'variants=[nominal,camera]' out_dir=${OUT}_reach
