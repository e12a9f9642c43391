#!/usr/bin/env bash
# The evaluations of the shipped sim_multitask_distilled world model (docs/manipulation.md "The distilled model
# shipped", docs/models.md "The multi-task models"), or of another distilled model (MODEL=<name or path base>, e.g.
# runs/distill_keepcam/model, the student before the predictor fine-tune): AGENT (learned; energy_oracle: the same
# agent with the simulator's true future frames as its predictions, docs/manipulation.md), fp32, EPISODES (50)
# seeded episodes per task and variant (seeds 1000-1049). Each run writes OUT/<run>/results.json (resumable) and
# OUT/<run>.log; ROWS="<run names>" runs only those, JOBS runs at once with one torch thread each. Wall time per run
# with one job on the 2-core development machine: reach ~4 min per variant (~15-20 min with horizon 3), grasp
# ~10 min, reach-with-object ~5 min (steady-gripper settings ~12 min), pick-and-place ~15 min (CEM) to ~22 min
# (MPPI) per 50 episodes; AGENT=energy_oracle takes ~3x as long (grasp ~35 min). The *waypoints* rows are session
# 13's (docs/manipulation.md "A perfect predictor, and the first 20 cm of a grasp"); MODEL=sim_multitask
# ROWS=grasp_cem_waypoints_g02 runs one on the other multi-task model. The *disc rows are session 14's
# (docs/manipulation.md "The gripper the predictor does not see"; AGENT=energy_oracle EPISODES=20 for its perfect-
# predictor row, MODEL=<fine-tuned model> for the fine-tune's). MODEL=sim_wrist runs the wrist-camera model
# (docs/manipulation.md "A wrist camera"; session 16's weights since then): ROWS="grasp_mppi_waypoints_disc
# pp_mppi_waypoints_disc reach_cem_axes rwo_cem_disc grasp_disc_camera grasp_disc_all grasp_disc_lighting" were
# session 15's rows, "grasp_disc_p1 pp_disc_p1" session 16's, reach_cem_h3_axes session 17's, pp_disc_p1_release
# session 18's (pp_disc_p1 with release_in_place=true: the arm holds still in the step that lets go),
# reach_cem_h3_onestep, reach_cem_h3_pe and pp_disc_p1_release_pe session 19's (planner noise per episode, which
# those rows set themselves: every other row uses the shared stream it was measured with, scripts/eval_runs.sh),
# reach_cem_h3_onestep_axes session 20's (the same under lighting changes and a moved camera).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/activate.sh
export MUJOCO_GL=${MUJOCO_GL:-egl} OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
EPISODES=${EPISODES:-50}
JOBS=${JOBS:-2}
MODEL=${MODEL:-sim_multitask_distilled}
AGENT=${AGENT:-learned}
OUT=${OUT:-outputs/distilled}
COMMON="agent=$AGENT model=$MODEL seed=1000 bf16=false video=false jobs=1"
SUB="subgoals=true subgoal_steps=12 subgoal_plateau_patience=2"  # the switch rule of docs/manipulation.md
STEADY="energy.all_frames=true planner_overrides={horizon:3,gripper_init_std:0.2}"  # session 8's carrying settings
WP="subgoal_waypoint_spacing=0.1"  # session 13: waypoint images every <= ~10 cm of the expert's free-space moves
G02="planner_overrides={gripper_init_std:0.2}"  # a steady gripper (session 8) with the default horizon
DISC="planner_overrides={gripper_discrete:true}"  # session 14: gripper commands only open fully, hold or close fully
WP_DISC="planner=mppi $SUB $WP $DISC label=$AGENT+mppi+subgoals+wp0.1+disc"  # the *_disc grasp/pick-and-place rows
# session 16: the same with a subgoal switched after one step without progress (plateau patience 1, chosen on grasp
# seeds 3000-3029: docs/manipulation.md "The wrist model's encoder, distilled")
WP_DISC_P1="planner=mppi ${SUB/patience=2/patience=1} $WP $DISC label=$AGENT+mppi+subgoals+wp0.1+disc+p1"
# session 18: the arm holds still in the step that lets go (agent.release)
WP_DISC_P1_RELEASE="planner=mppi ${SUB/patience=2/patience=1} $WP $DISC release_in_place=true
  label=$AGENT+mppi+subgoals+wp0.1+disc+p1+release"
# session 19: planner noise drawn per episode (agent/seeding.py); one-step plans beside the 3-step ones
PE="planner_seeding=per_episode"
H3="planner=cem planner_overrides={horizon:3}"
runs=(
  "reach_cem tasks=[FrankaReach-v0] planner=cem label=$AGENT+cem
   variants=[nominal,lighting,colors,camera,distractors,noise,all,far_goals]"
  "reach_cem_h3 tasks=[FrankaReach-v0] planner=cem planner_overrides={horizon:3} label=$AGENT+cem+h3
   variants=[nominal,lighting,colors,camera,distractors,noise,all,far_goals]"
  "reach_rwo_mppi tasks=[FrankaReach-v0,FrankaReachWithObject-v0] planner=mppi label=$AGENT+mppi"
  "rwo_cem tasks=[FrankaReachWithObject-v0] planner=cem label=$AGENT+cem"
  "rwo_steady tasks=[FrankaReachWithObject-v0] planner=cem $STEADY label=$AGENT+cem+h3+allframes+g02
   variants=[nominal,lighting,colors,camera,distractors,noise,all]"
  "grasp_cem_subgoals tasks=[FrankaGrasp-v0] planner=cem $SUB label=$AGENT+cem+subgoals
   variants=[nominal,lighting,camera]"
  "grasp_mppi_subgoals tasks=[FrankaGrasp-v0] planner=mppi $SUB label=$AGENT+mppi+subgoals"
  "pp_cem_subgoals tasks=[FrankaPickPlace-v0] planner=cem $SUB label=$AGENT+cem+subgoals"
  "pp_mppi_subgoals tasks=[FrankaPickPlace-v0] planner=mppi $SUB label=$AGENT+mppi+subgoals"
  "grasp_cem_waypoints tasks=[FrankaGrasp-v0] planner=cem $SUB $WP label=$AGENT+cem+subgoals+wp0.1"
  "grasp_cem_waypoints_g02 tasks=[FrankaGrasp-v0] planner=cem $SUB $WP $G02 label=$AGENT+cem+subgoals+wp0.1+g02
   variants=[nominal,lighting,camera]"
  "pp_cem_waypoints_g02 tasks=[FrankaPickPlace-v0] planner=cem $SUB $WP $G02 label=$AGENT+cem+subgoals+wp0.1+g02"
  "grasp_mppi_waypoints tasks=[FrankaGrasp-v0] planner=mppi $SUB $WP label=$AGENT+mppi+subgoals+wp0.1
   variants=[nominal,lighting,camera]"
  "pp_mppi_waypoints tasks=[FrankaPickPlace-v0] planner=mppi $SUB $WP label=$AGENT+mppi+subgoals+wp0.1"
  "grasp_mppi_waypoints_disc tasks=[FrankaGrasp-v0] $WP_DISC"
  "rwo_cem_disc tasks=[FrankaReachWithObject-v0] planner=cem $DISC label=$AGENT+cem+disc"
  "pp_mppi_waypoints_disc tasks=[FrankaPickPlace-v0] $WP_DISC"
  "reach_cem_axes tasks=[FrankaReach-v0] planner=cem label=$AGENT+cem variants=[nominal,lighting,camera,all]"
  "reach_cem_h3_axes tasks=[FrankaReach-v0] planner=cem planner_overrides={horizon:3} label=$AGENT+cem+h3
   variants=[nominal,lighting,camera,all]"
  "grasp_disc_camera tasks=[FrankaGrasp-v0] $WP_DISC variants=[camera]"
  "grasp_disc_all tasks=[FrankaGrasp-v0] $WP_DISC variants=[all]"
  "grasp_disc_lighting tasks=[FrankaGrasp-v0] $WP_DISC variants=[lighting]"
  "grasp_disc_p1 tasks=[FrankaGrasp-v0] $WP_DISC_P1"
  "pp_disc_p1 tasks=[FrankaPickPlace-v0] $WP_DISC_P1"
  "pp_disc_p1_release tasks=[FrankaPickPlace-v0] $WP_DISC_P1_RELEASE"
  "pp_disc_p1_release_pe tasks=[FrankaPickPlace-v0] $WP_DISC_P1_RELEASE $PE"
  "reach_cem_h3_pe tasks=[FrankaReach-v0] $H3 $PE label=$AGENT+cem+h3"
  "reach_cem_h3_onestep tasks=[FrankaReach-v0] $H3 one_step_alternative=true $PE label=$AGENT+cem+h3+onestep"
  "reach_cem_h3_onestep_axes tasks=[FrankaReach-v0] $H3 one_step_alternative=true $PE label=$AGENT+cem+h3+onestep
   variants=[lighting,camera]"
  "reach_rwo_cem_g02 tasks=[FrankaReach-v0,FrankaReachWithObject-v0] planner=cem $G02 label=$AGENT+cem+g02
   variants=[nominal,lighting,colors,camera,distractors,noise,all]"
)
source scripts/eval_runs.sh
start_rows "$COMMON" "${runs[@]}"
report_rows "${runs[@]}"
