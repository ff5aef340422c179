#!/usr/bin/env bash
# Prints the cell and flip-flop counts from a yosys `stat` report (generic synthesis, top snn_core):
# the totals of the "design hierarchy" section, and the cells of each module.
# usage: synth_summary.sh <stat.txt>
set -euo pipefail
stat=$1
awk '
  /^=== / { section = $2; next }
  /Number of cells:/ { cells[section] = $4; if (section != "design") order[++n] = section }
  section == "design" && $1 ~ /^\$_(S|A)?DFF|^\$_DLATCH/ { ffs += $2 }
  END {
    printf "synth: snn_core (yosys generic synth): %d cells, %d flip-flops\n", cells["design"], ffs
    for (i = 1; i <= n; i++) printf "  module %-12s %7d cells (one instance)\n", order[i], cells[order[i]]
  }' "$stat"
