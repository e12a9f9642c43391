# A plan for scripts/eval_on_gpu_machine.sh (sourced there), as run in session 7 for MODEL (the sim_multitask
# continuation to 16000 post-training steps): every evaluation at once, its worker count set so that all end in
# ~7 minutes on 16 cores (a worker does ~7 simulator steps per second with the CPU planner budget), except the
# reach-with-object robustness run, which a second call of the same plan (results carried back) completes:
#   the 50-episode table with subgoals (CEM and MPPI; grasp and pick-and-place without subgoals were 0/50 at 6500
#   steps and are not rerun), the robustness suite for reach, grasp and reach-with-object (ROBUST_EPISODES per
#   variant), the L2 energy ablation on reach and grasp, and jepa-wms's horizon-3 CEM budget on reach and grasp.
SUB="subgoals=true subgoal_steps=12 subgoal_plateau_patience=2"
ALL="[FrankaReach-v0,FrankaGrasp-v0,FrankaReachWithObject-v0,FrankaPickPlace-v0]"
VARIANTS="[lighting,colors,camera,distractors,noise,all,far_goals]"
M="model=$MODEL agent=learned"
R_EPISODES=${ROBUST_EPISODES:-50}
# shellcheck disable=SC2086  # word splitting of $M and $SUB is intended
{
  evalrun mt/learned_cem_subgoals 3 tasks="$ALL" $M planner=cem $SUB label=learned+cem+subgoals
  evalrun mt/learned_mppi_subgoals 3 tasks="$ALL" $M planner=mppi $SUB label=learned+mppi+subgoals
  evalrun mt/robustness_reach 2 tasks=[FrankaReach-v0] $M planner=cem $SUB label=learned+cem+subgoals \
    variants="$VARIANTS" episodes="$R_EPISODES"
  evalrun mt/robustness_grasp 4 tasks=[FrankaGrasp-v0] $M planner=cem $SUB label=learned+cem+subgoals \
    variants="$VARIANTS" episodes="$R_EPISODES"
  evalrun mt/robustness_rwo 2 tasks=[FrankaReachWithObject-v0] $M planner=cem $SUB label=learned+cem+subgoals \
    variants="$VARIANTS" episodes="$R_EPISODES"
  evalrun mt/l2_cem_subgoals 2 tasks=[FrankaReach-v0,FrankaGrasp-v0] $M planner=cem $SUB energy.norm=l2 \
    label=learned+cem+subgoals+l2
  budgetrun h3 FrankaReach-v0 "${BUDGET_EPISODES:-30}"
  budgetrun h3 FrankaGrasp-v0 "${BUDGET_EPISODES:-24}"
}
