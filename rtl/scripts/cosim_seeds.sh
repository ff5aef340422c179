#!/usr/bin/env bash
# Runs the co-simulation for several streams (random seeds and `directed`, the generator's directed
# stream), checks every stream's coverage counters (each must be > 0) and the total number of
# neuron-updates, and compares the README's quoted output lines with the run's.
# usage: cosim_seeds.sh <generator> <simulator> <steps> <min-updates> <seed|directed>...
#   README=<file>: every line of <file> that starts with a stream's label ("seed 1 (60000 steps): " or
#   "directed: ") followed by "cosim:" or "coverage:" must equal the line this run prints for it.
set -uo pipefail
gen=$1 sim=$2 steps=$3 min=$4
shift 4
readme=${README:-}
total_steps=0 total_updates=0 total_mismatches=0 failed=0 quotes=0
cov=$(mktemp)
trap 'rm -f "$cov"' EXIT
for stream in "$@"; do
  if [ "$stream" = directed ]; then
    label="directed"
    out=$("$gen" --directed 2>"$cov" | "$sim")
  else
    label="seed $stream ($steps steps)"
    out=$("$gen" "$stream" "$steps" 2>"$cov" | "$sim")
  fi
  rc=$?
  lines=$( { [ -n "$out" ] && printf '%s\n' "$out"; cat "$cov"; } | sed "s/^/$label: /")
  printf '%s\n' "$lines"
  # every corner case the generator measures must have been reached
  if ! grep -q '^coverage:' "$cov" || grep -qE '=0( |$)' "$cov"; then
    echo "$label: the stimulus missed a corner case (a coverage count is 0)"
    failed=1
  fi
  # the README's quotes of this stream's summary and coverage lines must be this run's
  if [ -n "$readme" ]; then
    for kind in cosim: coverage:; do
      quoted=$(grep -F -- "$label: $kind " "$readme" | sed 's/^[[:space:]]*//' || true)
      [ -z "$quoted" ] && continue
      ran=$(printf '%s\n' "$lines" | grep -F -- "$label: $kind " | grep -v 'cycles/step' | tail -n 1)
      while IFS= read -r q; do
        quotes=$((quotes + 1))
        if [ "$q" != "$ran" ]; then
          printf 'readme: %s quotes\n  %s\nbut this run printed\n  %s\n' "$readme" "$q" "$ran"
          failed=1
        fi
      done <<<"$quoted"
    done
  fi
  last=$(printf '%s\n' "$out" | tail -n 1)
  if [[ $rc -ne 0 || ! $last =~ ^cosim:\ ([0-9]+)\ steps,\ ([0-9]+)\ neuron-updates,\ ([0-9]+)\ mismatches$ ]]; then
    failed=1
    continue
  fi
  total_steps=$((total_steps + BASH_REMATCH[1]))
  total_updates=$((total_updates + BASH_REMATCH[2]))
  total_mismatches=$((total_mismatches + BASH_REMATCH[3]))
done
if (( total_updates < min )); then
  echo "cosim-seeds: only $total_updates neuron-updates, need at least $min"
  failed=1
fi
if [ -n "$readme" ]; then
  if (( quotes > 0 )); then echo "readme: $quotes quoted output lines checked against this run"
  else echo "readme: $readme quotes no output line of these streams (nothing checked)"; fi
fi
echo "cosim: $total_steps steps, $total_updates neuron-updates, $total_mismatches mismatches"
exit $failed
