# Sourced by scripts/reproduce_sim_wrist.sh and scripts/robustness_sim_wrist.sh: the overrides every row shares
# (WRIST_COMMON: the model, seeds from 1000, fp32, one worker; planner noise per episode) and each task's vjepa-eval
# settings of the README's sim_wrist table (the planner is chosen per row), so the nominal table and the robustness
# suite run exactly the same agent on the same seeds.
MODEL=${MODEL:-sim_wrist}
PLANNER_SEEDING=${PLANNER_SEEDING:-per_episode}
WRIST_COMMON="model=$MODEL seed=1000 bf16=false video=false jobs=1"
DISC="planner_overrides={gripper_discrete:true}"  # three gripper commands: open fully, hold, close fully
# subgoal images with waypoints every <= 10 cm, the next one after a plan without progress
SUB="subgoals=true subgoal_steps=12 subgoal_plateau_patience=1 subgoal_waypoint_spacing=0.1"
REACH="tasks=[FrankaReach-v0] planner_overrides={horizon:3} one_step_alternative=true"
REACH_WP="$REACH $SUB"  # reach through waypoint images every <= 10 cm on the line to the goal (session 27)
GRASP="tasks=[FrankaGrasp-v0] $SUB $DISC"
RWO="tasks=[FrankaReachWithObject-v0] $DISC"
PP="tasks=[FrankaPickPlace-v0] $SUB $DISC release_in_place=true"
ALL="tasks=[FrankaReach-v0,FrankaGrasp-v0,FrankaReachWithObject-v0,FrankaPickPlace-v0]"
