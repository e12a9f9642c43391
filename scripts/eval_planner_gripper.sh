#!/usr/bin/env bash
# The planner ablations of docs/manipulation.md, "Look-ahead and gripper commands" (session 8), on the shipped
# sim_multitask model: CEM with a 3-step horizon and the energy averaged over every predicted frame, with and
# without a narrow initial gripper std or a gripper deadband, and MPPI with the deadband. 50 seeded episodes per
# task (seeds 1000-1049), CEM / MPPI at the CPU default budget, fp32, JOBS episodes in parallel. Results land in
# OUT=outputs/planner_gripper/<run>/results.json (resumable: rerun to continue). ROWS="<run names>" runs only those.
# About 15 minutes per grasp or reach-with-object run on 2 cores (pick-and-place ~25).
#   ROWS="rwo_mppi_db03 grasp_mppi_db03" bash scripts/eval_planner_gripper.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/activate.sh
export MUJOCO_GL=${MUJOCO_GL:-egl}
EPISODES=${EPISODES:-50}
JOBS=${JOBS:-2}
OUT=${OUT:-outputs/planner_gripper}
COMMON="agent=learned model=sim_multitask seed=1000 bf16=false video=false jobs=$JOBS"
SUB="subgoals=true subgoal_steps=12 subgoal_plateau_patience=2"  # the switch rule of docs/manipulation.md
H3="energy.all_frames=true planner=cem"
runs=(
  "reach_h3_all tasks=[FrankaReach-v0] $H3 planner_overrides={horizon:3} label=learned+cem+h3+allframes"
  "rwo_h3_all tasks=[FrankaReachWithObject-v0] $H3 planner_overrides={horizon:3} label=learned+cem+h3+allframes"
  "grasp_h3_all tasks=[FrankaGrasp-v0] $H3 planner_overrides={horizon:3} $SUB
   label=learned+cem+subgoals+h3+allframes"
  "rwo_h3_all_g02 tasks=[FrankaReachWithObject-v0] $H3 planner_overrides={horizon:3,gripper_init_std:0.2}
   label=learned+cem+h3+allframes+g02"
  "grasp_h3_all_g02 tasks=[FrankaGrasp-v0] $H3 planner_overrides={horizon:3,gripper_init_std:0.2} $SUB
   label=learned+cem+subgoals+h3+allframes+g02"
  "rwo_h3_all_g02_robust tasks=[FrankaReachWithObject-v0] $H3 planner_overrides={horizon:3,gripper_init_std:0.2}
   label=learned+cem+h3+allframes+g02 variants=[lighting,camera]"
  "rwo_h3_all_db03 tasks=[FrankaReachWithObject-v0] $H3 planner_overrides={horizon:3,gripper_deadband:0.3}
   label=learned+cem+h3+allframes+db03"
  "grasp_h3_all_db03 tasks=[FrankaGrasp-v0] $H3 planner_overrides={horizon:3,gripper_deadband:0.3} $SUB
   label=learned+cem+subgoals+h3+allframes+db03"
  "rwo_mppi_h3_all tasks=[FrankaReachWithObject-v0] planner=mppi planner_overrides={horizon:3} energy.all_frames=true
   label=learned+mppi+h3+allframes"
  "rwo_mppi_db03 tasks=[FrankaReachWithObject-v0] planner=mppi planner_overrides={gripper_deadband:0.3}
   label=learned+mppi+db03"
  "grasp_mppi_db03 tasks=[FrankaGrasp-v0] planner=mppi planner_overrides={gripper_deadband:0.3} $SUB
   label=learned+mppi+subgoals+db03"
  "reach_h3_all_robust tasks=[FrankaReach-v0] $H3 planner_overrides={horizon:3} label=learned+cem+h3+allframes
   variants=[lighting,camera,all]"
)
source scripts/eval_runs.sh
run_rows "$COMMON" "${runs[@]}"
