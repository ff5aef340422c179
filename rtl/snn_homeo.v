// One neuron's homeostatic update (combinational): leaky spike-rate estimate and threshold adaptation.
// Bit-exact twin of the loop body of SnnCore::homeostasis in micro-hnsw/src/snn.rs.
`default_nettype none
`include "snn_params.vh"

module snn_homeo (
  input  wire        [32:0] h_i,            // min(dt / tau_homeo, 1), Q0.32
  input  wire        [31:0] rate_i,         // Q8.24 spikes/ms
  input  wire signed [31:0] threshold_i,    // Q16.16
  input  wire               spike_i,        // spiked in the last step
  output wire        [31:0] rate_o,
  output wire signed [31:0] threshold_o
);
  // rate - floor(rate * h / 2^32); rate * h < 2^64.
  wire [63:0] decay_prod_w = {32'd0, rate_i} * {31'd0, h_i};
  wire unused_decay_prod = ^decay_prod_w[31:0];
  wire [31:0] decayed_w = rate_i - decay_prod_w[63:32];
  wire [32:0] bumped_w  = {1'b0, decayed_w} + {1'b0, `SNN_RATE_SPIKE_INC};
  wire [31:0] rate_w    = !spike_i ? decayed_w : (bumped_w[32] ? 32'hFFFF_FFFF : bumped_w[31:0]);
  assign rate_o = rate_w;

  // threshold + floor(floor((rate - target) / 2^8) * h / 2^32), clamped.
  // The difference goes through a signed wire first: a concatenation is unsigned, and >>> of an
  // unsigned expression would be a logical shift.
  wire signed [63:0] diff_w  = {32'd0, rate_w} - {32'd0, `SNN_HOMEO_TARGET};
  wire signed [63:0] err_w   = diff_w >>> 8;
  wire signed [63:0] h64_w   = {31'd0, h_i};
  wire signed [63:0] delta_w = (err_w * h64_w) >>> 32;
  wire signed [63:0] thr_w   = {{32{threshold_i[31]}}, threshold_i} + delta_w;
  wire signed [63:0] thr_min_w = {{32{1'b0}}, `SNN_THRESHOLD_MIN};
  wire signed [63:0] thr_max_w = {{32{1'b0}}, `SNN_THRESHOLD_MAX};
  assign threshold_o = (thr_w < thr_min_w) ? `SNN_THRESHOLD_MIN :
                       (thr_w > thr_max_w) ? `SNN_THRESHOLD_MAX : thr_w[31:0];
endmodule
`default_nettype wire
