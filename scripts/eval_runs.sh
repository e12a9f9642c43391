# Sourced by scripts/reproduce_results.sh, scripts/reproduce_sim_wrist.sh, scripts/robustness_sim_wrist.sh,
# scripts/eval_sim_multitask.sh,
# scripts/eval_planner_gripper.sh, scripts/eval_distilled.sh and scripts/eval_on_gpu_machine.sh: run vjepa-eval
# evaluations JOBS at a time, each into $OUT/<name>/ with its log in $OUT/<name>.log. Needs OUT, EPISODES and
# JOBS set; EVAL_TIMEOUT=<seconds> (optional) stops each evaluation after that long (its results so far stay).
# PLANNER_SEEDING (default shared, how every documented row was measured, so the rows reproduce exactly;
# per_episode gives each episode its own planner noise, vjepa-eval's default since session 19: agent/seeding.py).
# check_rows / selected pick the runs named in ROWS from a list of runs; run_rows runs those one after another,
# start_rows JOBS at a time, and report_rows merges the finished ones into $OUT/table.md.
EVAL_STATUS=0

run_one() {  # name, then vjepa-eval overrides (they come after episodes=$EPISODES and planner_seeding, so theirs win)
  local name=$1; shift
  mkdir -p "$(dirname "$OUT/$name")"
  if ${EVAL_TIMEOUT:+timeout "$EVAL_TIMEOUT"} vjepa-eval episodes="$EPISODES" \
      planner_seeding="${PLANNER_SEEDING:-shared}" "$@" out_dir="$OUT/$name" \
      > "$OUT/$name.log" 2>&1; then
    echo "done: $name"
  else
    echo "FAILED: $name (see $OUT/$name.log)"; return 1
  fi
}

start_run() {  # like run_one, in the background once fewer than JOBS runs are going
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || EVAL_STATUS=1; done
  run_one "$@" &
}

check_rows() {  # the runs (each a string whose first word is its name): ROWS defaults to every name; exit 2 on a
  # name in ROWS that is no run's (an error, not a silently skipped row)
  local run name all=""
  for run in "$@"; do all+=" ${run%% *}"; done
  ROWS=${ROWS:-$all}
  for name in $ROWS; do
    [[ "$all " == *" $name "* ]] || { echo "ROWS: no run named $name" >&2; exit 2; }
  done
}

selected() {  # whether the run (a string whose first word is its name) is one of ROWS
  [[ " $ROWS " == *" ${1%% *} "* ]]
}

each_selected() {  # RUNNER (run_one or start_run), COMMON, then the runs: check_rows, then RUNNER for each run
  # selected by ROWS, with COMMON's overrides after its own
  local runner=$1 common=$2 run; shift 2
  check_rows "$@"
  for run in "$@"; do
    selected "$run" || continue
    # shellcheck disable=SC2086  # word splitting of the run's overrides is intended
    "$runner" $run $common
  done
}

run_rows() {  # COMMON, then the runs: each run selected by ROWS in turn
  each_selected run_one "$@"
}

finish_runs() {  # wait for every started run; exit 1 if any failed
  while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || EVAL_STATUS=1; done
  [ "$EVAL_STATUS" = 0 ] || { echo "some evaluations failed" >&2; exit 1; }
}

start_rows() {  # COMMON, then the runs: like run_rows, but JOBS runs at a time; returns when all are done (exit 1
  # if any failed)
  each_selected start_run "$@"
  finish_runs
}

report_rows() {  # the runs (or just their names): agent.report's table of every run with a results.json (in the
  # runs' order), also written to $OUT/table.md
  local run dirs=()
  for run in "$@"; do
    [ -f "$OUT/${run%% *}/results.json" ] && dirs+=("$OUT/${run%% *}")
  done
  python3 -m agent.report "${dirs[@]}" | tee "$OUT/table.md"
}
