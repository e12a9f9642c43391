#!/usr/bin/env bash
# Issue 12's results table for a wrist-camera world model (MODEL, default the shipped sim_wrist; or a path base such
# as runs/sim_wrist_wdist/model): per task the learned agent with CEM and with MPPI (each task's settings of the
# README's sim_wrist table, only the planner swapped), pick-and-place also without subgoal images, the oracle (CEM
# on the true simulator state) and the random agent. EPISODES (50) seeded episodes per row from seed 1000, fp32,
# planner noise drawn per episode (PLANNER_SEEDING=shared for the shared stream of the earlier rows), JOBS (2)
# evaluations at once with one torch thread each. Each run writes OUT/<run>/results.json (resumable: rerun to
# continue) and OUT/<run>.log; the merged markdown table lands in OUT/table.md. ROWS="<run names>" runs only those.
# Wall time for all rows with JOBS=2 on 2 cores: ~3 hours (session 25, the shipped model, two jobs at once: reach
# with 3-step plans ~40 min with CEM and ~60 with MPPI, grasp ~20, reach-with-object ~10, pick-and-place ~20 with
# CEM and ~35 with MPPI, and ~60 without subgoal images, where every episode runs its 60 steps).
#   EPISODES=50 JOBS=2 MODEL=sim_wrist bash scripts/reproduce_sim_wrist.sh
# A dry run (~2 minutes): EPISODES=1 EXTRA=max_steps=2 OUT=/tmp/wrist_table bash scripts/reproduce_sim_wrist.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/activate.sh
export MUJOCO_GL=${MUJOCO_GL:-egl} OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
EPISODES=${EPISODES:-50}
JOBS=${JOBS:-2}
OUT=${OUT:-outputs/sim_wrist_table}
mkdir -p "$OUT"
source scripts/sim_wrist_settings.sh  # MODEL, PLANNER_SEEDING, WRIST_COMMON, and each task's settings
COMMON="$WRIST_COMMON ${EXTRA:-}"  # EXTRA: overrides for every row
runs=(  # the README's CEM column first (each task's settings), then MPPI with the same settings
  "reach_cem $REACH planner=cem label=learned+cem"
  "grasp_cem $GRASP planner=cem label=learned+cem"
  "rwo_cem $RWO planner=cem label=learned+cem"
  "pp_cem $PP planner=cem label=learned+cem"
  "reach_wp_cem $REACH_WP planner=cem label=learned+cem+waypoints"
  "reach_mppi $REACH planner=mppi label=learned+mppi"
  "grasp_mppi $GRASP planner=mppi label=learned+mppi"
  "rwo_mppi $RWO planner=mppi label=learned+mppi"
  "pp_mppi $PP planner=mppi label=learned+mppi"
  "pp_mppi_nosub tasks=[FrankaPickPlace-v0] $DISC release_in_place=true planner=mppi
   label=learned+mppi+no-subgoals"
  "oracle $ALL agent=oracle planner=cem label=oracle+cem"
  "random $ALL agent=random label=random"
)
source scripts/eval_runs.sh
start_rows "$COMMON" "${runs[@]}"
report_rows "${runs[@]}"
