// One neuron's leaky integrate-and-fire update plus its STDP trace decay (combinational).
// Bit-exact twin of the per-neuron body of SnnCore::step in micro-hnsw/src/snn.rs.
`default_nettype none
`include "snn_params.vh"

module snn_lif (
  input  wire               active_i,      // neuron takes part in this step
  input  wire signed [31:0] dt_i,          // Q16.16 ms, already clamped to [0, DT_MAX]
  input  wire        [16:0] alpha_m_i,     // min(dt / tau_m, 1), Q16.16
  input  wire        [16:0] alpha_stdp_i,  // min(dt / tau_stdp, 1), Q16.16
  input  wire signed [31:0] membrane_i,
  input  wire signed [31:0] threshold_i,
  input  wire signed [31:0] refractory_i,  // Q16.16 ms, >= 0
  input  wire signed [31:0] current_i,
  input  wire        [15:0] trace_i,       // Q0.16
  output wire signed [31:0] membrane_o,
  output wire signed [31:0] refractory_o,
  output wire signed [31:0] current_o,
  output wire        [15:0] trace_o,
  output wire               spike_o
);
  // Leak: v - floor(v * alpha / 2^16); both operands signed 64-bit so the product is signed.
  wire signed [63:0] v_w       = {{32{membrane_i[31]}}, membrane_i};
  wire signed [63:0] alpha_w   = {47'd0, alpha_m_i};
  wire signed [63:0] leak_w    = (v_w * alpha_w) >>> 16;
  wire signed [63:0] current_w = {{32{current_i[31]}}, current_i};
  wire signed [63:0] sum_w     = v_w - leak_w + current_w;

  // Saturate the integrated potential to the i32 range.
  wire sum_high_w = sum_w > 64'sh0000_0000_7FFF_FFFF;
  wire sum_low_w  = sum_w < 64'shFFFF_FFFF_8000_0000;
  wire signed [31:0] v_next_w = sum_high_w ? 32'sh7FFF_FFFF :
                                sum_low_w  ? 32'sh8000_0000 : sum_w[31:0];

  wire in_refractory_w = refractory_i > 32'sd0;
  wire integrate_w     = active_i && !in_refractory_w;
  wire fire_w          = integrate_w && (v_next_w >= threshold_i);

  wire signed [31:0] refractory_left_w = (refractory_i > dt_i) ? refractory_i - dt_i : 32'sd0;

  assign membrane_o   = !integrate_w ? membrane_i : (fire_w ? 32'sd0 : v_next_w);
  assign refractory_o = !active_i ? refractory_i :
                        in_refractory_w ? refractory_left_w :
                        fire_w ? `SNN_REFRACTORY : refractory_i;
  assign current_o    = active_i ? 32'sd0 : current_i;
  assign spike_o      = fire_w;

  // Trace: t - floor(t * alpha / 2^16); t * alpha < 2^32. A spike sets it to the maximum.
  wire [31:0] trace_prod_w = {16'd0, trace_i} * {15'd0, alpha_stdp_i};
  wire unused_trace_prod = ^trace_prod_w[15:0];
  assign trace_o = fire_w ? `SNN_TRACE_MAX : trace_i - trace_prod_w[31:16];
endmodule
`default_nettype wire
