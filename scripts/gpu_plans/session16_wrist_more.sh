# A plan for scripts/eval_on_gpu_machine.sh: session 16's distilled-wrist model (WDIST) on pick-and-place (the
# grasp rows' settings of scripts/gpu_plans/session16_wrist.sh; sim_wrist beside it), reach (CEM) and
# reach-with-object (CEM + gripper_discrete), as scripts/eval_distilled.sh's sim_wrist rows, seeds 1000-1049.
SUB="subgoals=true subgoal_steps=12 subgoal_plateau_patience=2"
WP_DISC="planner=mppi $SUB subgoal_waypoint_spacing=0.1 planner_overrides={gripper_discrete:true}"
PP="agent=learned seed=1000 tasks=[FrankaPickPlace-v0] $WP_DISC label=learned+mppi+subgoals+wp0.1+disc"
# shellcheck disable=SC2086  # word splitting of the overrides is intended
{
  evalrun wdist_pp 5 $PP model="$WDIST"
  evalrun wrist_pp 5 $PP model=sim_wrist
  evalrun wdist_reach 3 agent=learned seed=1000 tasks=[FrankaReach-v0] planner=cem label=learned+cem \
    model="$WDIST" variants=[nominal,lighting,camera,all]
  evalrun wdist_rwo 3 agent=learned seed=1000 tasks=[FrankaReachWithObject-v0] planner=cem \
    planner_overrides={gripper_discrete:true} label=learned+cem+disc model="$WDIST"
}
