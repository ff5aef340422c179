// One synapse i -> t (combinational): the current it delivers when i spikes, and its STDP update.
// Bit-exact twin of the loop bodies of SnnCore::propagate and SnnCore::stdp in micro-hnsw/src/snn.rs.
`default_nettype none
`include "snn_params.vh"

module snn_synapse (
  input  wire signed [31:0] gain_i,         // Q16.16
  input  wire        [7:0]  weight_i,       // value / 256
  input  wire        [7:0]  node_weight_i,  // value / 256, of the presynaptic node
  input  wire signed [31:0] current_i,      // pending current of the target t
  input  wire               pre_spike_i,    // neuron i spiked in the last step
  input  wire               post_spike_i,   // neuron t spiked in the last step
  input  wire        [15:0] pre_trace_i,    // trace of i, Q0.16
  input  wire        [15:0] post_trace_i,   // trace of t, Q0.16
  output wire signed [31:0] current_o,      // current of t after this synapse delivered
  output wire        [7:0]  weight_o        // weight after STDP
);
  // Propagation: current + floor(gain * weight * node_weight / 2^16), saturated.
  wire        [15:0] scale_w  = {8'd0, weight_i} * {8'd0, node_weight_i};
  wire signed [63:0] gain_w   = {{32{gain_i[31]}}, gain_i};
  wire signed [63:0] scale64_w = {48'd0, scale_w};
  wire signed [63:0] contrib_w = (gain_w * scale64_w) >>> 16;
  wire signed [63:0] sum_w    = {{32{current_i[31]}}, current_i} + contrib_w;
  assign current_o = (sum_w > 64'sh0000_0000_7FFF_FFFF) ? 32'sh7FFF_FFFF :
                     (sum_w < 64'shFFFF_FFFF_8000_0000) ? 32'sh8000_0000 : sum_w[31:0];

  // STDP: (ltp - ltd) is Q8.24 weight units; floor to whole weight steps, then clamp to 0..255.
  wire signed [31:0] pre_trace_w  = {16'd0, pre_trace_i};
  wire signed [31:0] post_trace_w = {16'd0, post_trace_i};
  wire signed [31:0] ltp_w = post_spike_i ? `SNN_STDP_A_PLUS * pre_trace_w : 32'sd0;
  wire signed [31:0] ltd_w = pre_spike_i ? `SNN_STDP_A_MINUS * post_trace_w : 32'sd0;
  wire signed [31:0] dw_w  = (ltp_w - ltd_w) >>> 24;
  wire signed [31:0] w_w   = {24'd0, weight_i} + dw_w;
  assign weight_o = (w_w < 32'sd0) ? 8'd0 : (w_w > 32'sd255) ? 8'd255 : w_w[7:0];
endmodule
`default_nettype wire
