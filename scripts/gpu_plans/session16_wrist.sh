# A plan for scripts/eval_on_gpu_machine.sh (sourced there): session 16's wrist-camera models on grasp with the
# settings of scripts/eval_distilled.sh's *_disc rows (MPPI + subgoals + waypoints + gripper_discrete), EPISODES
# (50) episodes per row, seeds 1000-1049, 16 worker processes in all. WDIST and WCONTROL: path bases of the two
# fine-tunes of EXPERIMENT=wrist_distill (scripts/train_on_gpu_machine.sh); sim_wrist, the shipped model they start
# from, is the baseline on the same device.
SUB="subgoals=true subgoal_steps=12 subgoal_plateau_patience=2"
WP_DISC="planner=mppi $SUB subgoal_waypoint_spacing=0.1 planner_overrides={gripper_discrete:true}"
GRASP="agent=learned seed=1000 tasks=[FrankaGrasp-v0] $WP_DISC label=learned+mppi+subgoals+wp0.1+disc"
# shellcheck disable=SC2086  # word splitting of the overrides is intended
{
  evalrun wdist_grasp 3 $GRASP model="$WDIST"
  evalrun wdist_grasp_lighting 3 $GRASP model="$WDIST" variants=[lighting]
  evalrun wdist_grasp_camera 3 $GRASP model="$WDIST" variants=[camera]
  evalrun wdist_grasp_all 2 $GRASP model="$WDIST" variants=[all]
  evalrun wrist_grasp 3 $GRASP model=sim_wrist
  evalrun wcontrol_grasp 2 $GRASP model="$WCONTROL"
}
