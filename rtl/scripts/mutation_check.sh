#!/usr/bin/env bash
# Shows that the co-simulation is sensitive to the Rust model: in a temporary copy of micro-hnsw, one
# constant of micro-hnsw/src/snn.rs is changed at a time; the mutant generator's expected trace must
# then disagree with the (unchanged) RTL. Passes only if every mutant makes the cosim fail.
# usage: mutation_check.sh <repo-root> <simulator> <cargo-target-dir-for-mutants>
set -uo pipefail
root=$1 sim=$2 target=$3
steps=${MUTATION_STEPS:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
# pattern in snn.rs -> replacement (each must match exactly one line)
mutants=(
  "pub const TAU_M_MS: i64 = 20;|pub const TAU_M_MS: i64 = 21;"
  "pub const STDP_A_MINUS_PPM: i64 = 12_000;|pub const STDP_A_MINUS_PPM: i64 = 13_000;"
  "pub const GAMMA_HZ: i64 = 40;|pub const GAMMA_HZ: i64 = 41;"
)
for m in "${mutants[@]}"; do
  from=${m%%|*} to=${m#*|}
  rm -rf "$work/micro-hnsw"
  cp -r "$root/micro-hnsw" "$work/micro-hnsw"
  file="$work/micro-hnsw/src/snn.rs"
  [ -f "$file" ] || file="$work/micro-hnsw/src/snn/mod.rs"
  if [ "$(grep -cF "$from" "$file")" != 1 ]; then
    echo "mutation-check: '$from' not found exactly once in snn.rs"
    status=1
    continue
  fi
  sed -i "s/$from/$to/" "$file"
  if ! CARGO_TARGET_DIR="$target" cargo build --quiet --release --manifest-path "$work/micro-hnsw/Cargo.toml" --example snn_cosim; then
    echo "mutation-check: mutant '$to' does not build"
    status=1
    continue
  fi
  out=$("$target/release/examples/snn_cosim" 7 "$steps" 2>/dev/null | "$sim" 2>/dev/null)
  rc=$?
  last=$(printf '%s\n' "$out" | tail -n 1)
  if [[ $rc -eq 1 && $last =~ ,\ ([1-9][0-9]*)\ mismatches$ ]]; then
    echo "mutation-check: '$to' -> cosim fails as it must ($(printf '%s\n' "$out" | head -n 1 | sed 's/^cosim: //'))"
  else
    echo "mutation-check: '$to' was NOT detected (exit $rc): $last"
    status=1
  fi
done
exit $status
