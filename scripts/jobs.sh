# Sourced by the training scripts (not run): at most JOBS background jobs at once. in_background runs "$@" in the
# background and, once JOBS are going, waits for one to end; wait_all waits for the rest, and under `set -e` a
# failed job stops the calling script (plain `wait` would not).
running=0
in_background() {  # run "$@" in the background, at most JOBS at once
  "$@" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
}
wait_all() {  # wait for every job started by in_background; a failed one fails this
  while [ "$running" -gt 0 ]; do wait -n; running=$((running - 1)); done
}
