#!/usr/bin/env bash
# Prints the cell and flip-flop counts from a yosys `stat` report (generic synthesis, top snn_core):
# the totals of the "design hierarchy" section, and the cells of each module; and, given the output
# of `ltp -noff` on the flattened netlist, the longest combinational path in gate levels with its
# named points (generic gates of unequal delay and no cell library: a depth, not a timing figure).
# Given also `ltp -noff` of the unflattened design, the depth of each datapath module alone.
# usage: synth_summary.sh <stat.txt> [<ltp.txt> [<ltp_modules.txt>]]
set -euo pipefail
stat=$1 ltp=${2:-} ltp_modules=${3:-}
awk '
  /^=== / { section = $2; next }
  /Number of cells:/ { cells[section] = $4; if (section != "design") order[++n] = section }
  section == "design" && $1 ~ /^\$_(S|A)?DFF|^\$_DLATCH/ { ffs += $2 }
  END {
    printf "synth: snn_core (yosys generic synth): %d cells, %d flip-flops\n", cells["design"], ffs
    for (i = 1; i <= n; i++) printf "  module %-12s %7d cells (one instance)\n", order[i], cells[order[i]]
  }' "$stat"
if [ -n "$ltp" ]; then
  awk '
    /^Longest topological path in / { match($0, /length=[0-9]+/); len = substr($0, RSTART + 7, RLENGTH - 7); on = 1; next }
    # path points: "<level>: <signal> [(via <cell>)]" and the final "ff: <signal> ..."; keep named ones
    on && $1 ~ /^([0-9]+|ff):$/ {
      sig = $2; if ($3 ~ /^\[[0-9]+\]$/) sig = sig $3
      if (sig !~ /^\$/) path = path (path == "" ? "" : " -> ") sig " (" substr($1, 1, length($1) - 1) ")"
    }
    END {
      if (len == "") { print "synth: no ltp result"; exit 1 }
      printf "synth: longest combinational path %d gate levels (ltp -noff, flattened):\n  %s\n", len, path
    }' "$ltp"
fi
if [ -n "$ltp_modules" ]; then
  # snn_core's own figure counts each submodule instance as one level: only the leaf modules
  awk '/^Longest topological path in / && $5 != "snn_core" {
         match($0, /length=[0-9]+/); printf "  module %-12s %7d gate levels, inputs to outputs\n", $5, substr($0, RSTART + 7, RLENGTH - 7)
       }' "$ltp_modules"
fi
