#!/usr/bin/env bash
# Checks that the model's core shape, as the generated header states it, is the one rtl/ is written
# for: SNN_NEURONS = 32 (5-bit neuron indices, 32-bit masks and spike bitmap, 32-entry memories in
# snn_core.v; kNeurons in tb/cosim.cpp) and SNN_MAX_EDGES = 6 (3-bit slot and count fields and the
# table index n*8 - n*2 + slot in snn_core.v; kSlots in tb/cosim.cpp). The header's other uses of the
# two constants (table depth, count clamp, slot guard) would follow a change; those widths would not.
# usage: shape_check.sh <snn_params.vh>
set -euo pipefail
header=$1
value() {  # the decimal value of `define <name> <width>'d<value>
  sed -nE "s/^\`define $1 +[0-9]+'s?d([0-9]+).*/\1/p" "$header"
}
neurons=$(value SNN_NEURONS) edges=$(value SNN_MAX_EDGES)
if [ "$neurons" = 32 ] && [ "$edges" = 6 ]; then
  echo "shape-check: NEURONS = 32, MAX_EDGES = 6, as rtl/ is written"
else
  echo "shape-check: the model has NEURONS = ${neurons:-?}, MAX_EDGES = ${edges:-?}; rtl/snn_core.v and tb/cosim.cpp are written for 32 and 6 (see scripts/shape_check.sh)"
  exit 1
fi
