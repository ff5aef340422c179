#!/usr/bin/env bash
# Runs the co-simulation for several seeds and checks the total number of neuron-updates.
# usage: cosim_seeds.sh <generator> <simulator> <steps> <min-updates> <seed>...
set -uo pipefail
gen=$1 sim=$2 steps=$3 min=$4
shift 4
total_steps=0 total_updates=0 total_mismatches=0 failed=0
cov=$(mktemp)
trap 'rm -f "$cov"' EXIT
for seed in "$@"; do
  out=$("$gen" "$seed" "$steps" 2>"$cov" | "$sim")
  rc=$?
  [ -n "$out" ] && printf '%s\n' "$out" | sed "s/^/seed $seed: /"
  sed "s/^/seed $seed: /" "$cov"
  # every corner case the generator measures must have been reached
  if ! grep -q '^coverage:' "$cov" || grep -qE '=0( |$)' "$cov"; then
    echo "seed $seed: the stimulus missed a corner case (a coverage count is 0)"
    failed=1
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
echo "cosim: $total_steps steps, $total_updates neuron-updates, $total_mismatches mismatches"
exit $failed
