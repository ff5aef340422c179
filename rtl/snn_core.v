// One 32-neuron spiking core of micro-HNSW: the hardware twin of micro-hnsw/src/snn.rs (SnnCore +
// Synapses), bit-exact, checked by `make cosim`. Neurons and synapses are processed one per clock
// through the combinational datapaths snn_lif, snn_synapse and snn_homeo; see README.md for the
// block diagram, the command set and the cycles per timestep.
`default_nettype none
`include "snn_params.vh"

module snn_core (
  input  wire        clk_i,
  input  wire        rst_ni,        // synchronous, active low: neuron state and synapse counts (the
                                    // target/weight table is a memory without reset: load it)
  // Command port: a command is accepted on a clock edge with cmd_valid_i && cmd_ready_o; ready is
  // low during reset and while a multi-cycle command runs.
  input  wire        cmd_valid_i,
  output wire        cmd_ready_o,
  input  wire [4:0]  cmd_op_i,
  input  wire [4:0]  cmd_neuron_i,
  input  wire [2:0]  cmd_slot_i,
  input  wire [31:0] cmd_a_i,
  input  wire [31:0] cmd_b_i,
  input  wire [31:0] cmd_c_i,
  // Response: one-cycle pulse when a command has completed (for every command).
  output reg         rsp_valid_o,
  output reg  [31:0] rsp_data_o
);
  // ---- Commands (README.md, "Host interface") ----------------------------------------------------
  localparam [4:0] OP_RESET           = 5'd0;   // neuron state to power-on values (synapses kept)
  localparam [4:0] OP_SET_MEMBRANE    = 5'd1;   // neuron, a = Q16.16
  localparam [4:0] OP_SET_THRESHOLD   = 5'd2;   // neuron, a = Q16.16 (clamped)
  localparam [4:0] OP_INJECT          = 5'd3;   // neuron, a = Q16.16 (saturating add)
  localparam [4:0] OP_SET_SYNAPSE     = 5'd4;   // neuron, slot, a[7:0] = target, b[7:0] = weight
  localparam [4:0] OP_SET_COUNT       = 5'd5;   // neuron, a[7:0] = synapse count
  localparam [4:0] OP_SET_NODE_WEIGHT = 5'd6;   // neuron, a[7:0]
  localparam [4:0] OP_TICK            = 5'd7;   // a = dt, b = gain, c = active, slot[0] = learn
  localparam [4:0] OP_STEP            = 5'd8;   // a = dt, c = active
  localparam [4:0] OP_PROPAGATE       = 5'd9;   // b = gain
  localparam [4:0] OP_STDP            = 5'd10;
  localparam [4:0] OP_HOMEOSTASIS     = 5'd11;  // a = dt, c = active
  localparam [4:0] OP_OSCILLATOR      = 5'd12;  // a = dt
  localparam [4:0] OP_WTA_RESET       = 5'd13;
  localparam [4:0] OP_WTA_COMPETE     = 5'd14;  // c = active
  localparam [4:0] OP_WTA_SOFT        = 5'd15;  // c = active
  localparam [4:0] OP_READ            = 5'd16;  // neuron, slot, a[3:0] = field

  // ---- Sequencer stages ---------------------------------------------------------------------------
  localparam [2:0] ST_IDLE = 3'd0, ST_LIF = 3'd1, ST_PROP = 3'd2, ST_STDP = 3'd3, ST_HOMEO = 3'd4,
                   ST_OSC = 3'd5, ST_SCAN = 3'd6, ST_INHIBIT = 3'd7;

  // ---- Neuron state (one entry per neuron) -------------------------------------------------------
  reg signed [31:0] membrane_q    [0:31] /*verilator public_flat_rd*/;
  reg signed [31:0] threshold_q   [0:31] /*verilator public_flat_rd*/;
  reg signed [31:0] refractory_q  [0:31] /*verilator public_flat_rd*/;
  reg signed [31:0] current_q     [0:31] /*verilator public_flat_rd*/;
  reg        [15:0] trace_q       [0:31] /*verilator public_flat_rd*/;
  reg        [31:0] rate_q        [0:31] /*verilator public_flat_rd*/;
  reg        [31:0] spike_phase_q [0:31] /*verilator public_flat_rd*/;
  reg        [31:0] spikes_q      /*verilator public_flat_rd*/;
  reg        [31:0] phase_q       /*verilator public_flat_rd*/;
  reg        [63:0] time_q        /*verilator public_flat_rd*/;
  reg        [7:0]  winner_q      /*verilator public_flat_rd*/;

  // ---- Synapse table (slot s of neuron n at n*6+s) -----------------------------------------------
  // The shape this RTL is written for is the model's NEURONS = 32 (5-bit neuron indices, 32-bit
  // masks and spike bitmap, 32-entry memories) and MAX_EDGES = 6 (3-bit slot and count fields, the
  // index n*8 - n*2 + slot); `make consts-check` fails if snn.rs changes either (scripts/shape_check.sh).
  reg        [5:0]  target_q      [0:`SNN_NEURONS*`SNN_MAX_EDGES-1];  // {invalid, target[4:0]}
  reg        [7:0]  weight_q      [0:`SNN_NEURONS*`SNN_MAX_EDGES-1] /*verilator public_flat_rd*/;
  reg        [2:0]  count_q       [0:31];   // min(count, 6)
  reg        [7:0]  node_weight_q [0:31];

  // ---- Sequencer ----------------------------------------------------------------------------------
  reg        [2:0]  stage_q;
  reg        [4:0]  n_q;          // neuron being processed
  reg        [2:0]  slot_q;       // synapse slot being processed
  reg signed [31:0] dt_q;         // clamped to [0, DT_MAX]
  reg signed [31:0] gain_q;
  reg        [31:0] active_q;
  reg               tick_q;       // running a tick (step, propagate, STDP if learning)
  reg               learn_q;      // tick with STDP
  reg               soft_q;       // WTA kind
  reg        [5:0]  best_q;       // WTA leader {none, index}
  reg signed [31:0] best_v_q;     // WTA leader's membrane

  integer i;

  // Ready only when idle and out of reset: a command offered while rst_ni is low is not accepted
  // (the reset branch below would otherwise drop a command that met valid && ready).
  assign cmd_ready_o = rst_ni && stage_q == ST_IDLE;

  // ---- Per-command factors of dt (combinational) --------------------------------------------------
  wire signed [31:0] cmd_dt_w = ($signed(cmd_a_i) < 32'sd0) ? 32'sd0 :
                                ($signed(cmd_a_i) > `SNN_DT_MAX) ? `SNN_DT_MAX : $signed(cmd_a_i);
  wire [63:0] dt64_w         = {32'd0, dt_q};
  wire [63:0] alpha_m_prod_w = dt64_w * {32'd0, `SNN_INV_TAU_M};
  wire [63:0] alpha_s_prod_w = dt64_w * {32'd0, `SNN_INV_TAU_STDP};
  wire [63:0] h_prod_w       = dt64_w * {32'd0, `SNN_INV_TAU_HOMEO};
  wire [63:0] phase_prod_w   = dt64_w * {32'd0, `SNN_PHASE_PER_MS};
  wire unused_prods = ^{alpha_m_prod_w[15:0], alpha_s_prod_w[15:0], h_prod_w[15:0],
                        phase_prod_w[63:48], phase_prod_w[15:0]};
  wire [16:0] alpha_m_w    = (alpha_m_prod_w[63:16] > 48'h1_0000) ? 17'h1_0000 : alpha_m_prod_w[32:16];
  wire [16:0] alpha_stdp_w = (alpha_s_prod_w[63:16] > 48'h1_0000) ? 17'h1_0000 : alpha_s_prod_w[32:16];
  wire [32:0] h_w          = (h_prod_w[63:16] > 48'h1_0000_0000) ? 33'h1_0000_0000 : h_prod_w[48:16];
  wire [31:0] phase_inc_w  = phase_prod_w[47:16];

  // ---- Neuron datapaths ---------------------------------------------------------------------------
  wire signed [31:0] lif_membrane_w, lif_refractory_w, lif_current_w;
  wire        [15:0] lif_trace_w;
  wire               lif_spike_w;
  snn_lif u_lif (
    .active_i     (active_q[n_q]),
    .dt_i         (dt_q),
    .alpha_m_i    (alpha_m_w),
    .alpha_stdp_i (alpha_stdp_w),
    .membrane_i   (membrane_q[n_q]),
    .threshold_i  (threshold_q[n_q]),
    .refractory_i (refractory_q[n_q]),
    .current_i    (current_q[n_q]),
    .trace_i      (trace_q[n_q]),
    .membrane_o   (lif_membrane_w),
    .refractory_o (lif_refractory_w),
    .current_o    (lif_current_w),
    .trace_o      (lif_trace_w),
    .spike_o      (lif_spike_w)
  );

  wire        [31:0] homeo_rate_w;
  wire signed [31:0] homeo_threshold_w;
  snn_homeo u_homeo (
    .h_i         (h_w),
    .rate_i      (rate_q[n_q]),
    .threshold_i (threshold_q[n_q]),
    .spike_i     (spikes_q[n_q]),
    .rate_o      (homeo_rate_w),
    .threshold_o (homeo_threshold_w)
  );

  // ---- Synapse datapath ---------------------------------------------------------------------------
  wire [7:0] syn_idx_w  = {n_q, 3'd0} - {2'd0, n_q, 1'b0} + {5'd0, slot_q};   // n*8 - n*2 + slot
  wire [5:0] syn_tgt_w  = target_q[syn_idx_w];
  wire       tgt_ok_w   = !syn_tgt_w[5];
  wire [4:0] tgt_w      = syn_tgt_w[4:0];
  wire [2:0] edges_w    = count_q[n_q];
  wire       slot_in_w  = slot_q < edges_w;
  wire       more_w     = ({1'b0, slot_q} + 4'd1) < {1'b0, edges_w};
  wire signed [31:0] syn_current_w;
  wire        [7:0]  syn_weight_w;
  snn_synapse u_synapse (
    .gain_i        (gain_q),
    .weight_i      (weight_q[syn_idx_w]),
    .node_weight_i (node_weight_q[n_q]),
    .current_i     (current_q[tgt_w]),
    .pre_spike_i   (spikes_q[n_q]),
    .post_spike_i  (spikes_q[tgt_w]),
    .pre_trace_i   (trace_q[n_q]),
    .post_trace_i  (trace_q[tgt_w]),
    .current_o     (syn_current_w),
    .weight_o      (syn_weight_w)
  );
  wire prop_do_w  = spikes_q[n_q] && slot_in_w;           // this slot delivers current
  wire prop_stay_w = prop_do_w && more_w;                  // more slots of this neuron follow
  wire stdp_stay_w = slot_in_w && more_w;
  wire last_n_w   = n_q == 5'd31;

  // ---- Winner-take-all datapath -------------------------------------------------------------------
  wire signed [63:0] v64_w      = {{32{membrane_q[n_q][31]}}, membrane_q[n_q]};
  wire signed [63:0] best64_w   = {{32{best_v_q[31]}}, best_v_q};
  wire signed [63:0] inh64_w    = {32'd0, `SNN_WTA_INHIBITION};
  wire signed [63:0] leader_w   = best_v_q[31] ? 64'sd0 : best64_w;          // max(v_winner, 0)
  wire signed [63:0] gap_w      = best64_w - v64_w;                           // soft: m - v >= 0
  wire signed [63:0] hard_amt_w = (leader_w * inh64_w) >>> 16;
  wire signed [63:0] soft_amt_w = (gap_w * inh64_w) >>> 16;
  wire signed [63:0] inhib_w    = v64_w - (soft_q ? soft_amt_w : hard_amt_w);
  wire signed [31:0] inhibited_w = (inhib_w > 64'sh0000_0000_7FFF_FFFF) ? 32'sh7FFF_FFFF :
                                   (inhib_w < 64'shFFFF_FFFF_8000_0000) ? 32'sh8000_0000 : inhib_w[31:0];
  wire lead_w = active_q[n_q] && (best_q[5] || membrane_q[n_q] > best_v_q);
  wire inhibit_do_w = active_q[n_q] && (soft_q || n_q != best_q[4:0]);

  // ---- Host reads ---------------------------------------------------------------------------------
  wire [7:0]  cmd_idx_w   = {cmd_neuron_i, 3'd0} - {2'd0, cmd_neuron_i, 1'b0} + {5'd0, cmd_slot_i};
  wire        cmd_slot_ok_w = cmd_slot_i < `SNN_MAX_EDGES;
  wire [31:0] res_diff_w  = phase_q - spike_phase_q[cmd_neuron_i];
  wire [31:0] res_abs_w   = res_diff_w[31] ? 32'd0 - res_diff_w : res_diff_w;
  wire unused_res = ^res_abs_w[13:0];
  wire signed [31:0] resonance_w = 32'sd65536 - $signed({14'd0, res_abs_w[31:14]});
  reg  [31:0] read_w;
  always @* begin
    case (cmd_a_i[3:0])
      4'd0:  read_w = membrane_q[cmd_neuron_i];
      4'd1:  read_w = threshold_q[cmd_neuron_i];
      4'd2:  read_w = refractory_q[cmd_neuron_i];
      4'd3:  read_w = current_q[cmd_neuron_i];
      4'd4:  read_w = {16'd0, trace_q[cmd_neuron_i]};
      4'd5:  read_w = rate_q[cmd_neuron_i];
      4'd6:  read_w = spike_phase_q[cmd_neuron_i];
      4'd7:  read_w = cmd_slot_ok_w ? {24'd0, weight_q[cmd_idx_w]} : 32'd0;
      4'd8:  read_w = spikes_q;
      4'd9:  read_w = phase_q;
      4'd10: read_w = time_q[31:0];
      4'd11: read_w = time_q[63:32];
      4'd12: read_w = {24'd0, winner_q};
      4'd13: read_w = resonance_w;
      4'd14: read_w = {29'd0, count_q[cmd_neuron_i]};
      default: read_w = {24'd0, node_weight_q[cmd_neuron_i]};
    endcase
  end
  wire unused_cmd = ^cmd_a_i[31:4];

  // ---- State update -------------------------------------------------------------------------------
  always @(posedge clk_i) begin
    rsp_valid_o <= 1'b0;
    if (!rst_ni) begin
      for (i = 0; i < 32; i = i + 1) begin
        membrane_q[i]    <= 32'sd0;
        threshold_q[i]   <= `SNN_THRESHOLD_DEFAULT;
        refractory_q[i]  <= 32'sd0;
        current_q[i]     <= 32'sd0;
        trace_q[i]       <= 16'd0;
        rate_q[i]        <= 32'd0;
        spike_phase_q[i] <= 32'd0;
        count_q[i]       <= 3'd0;
        node_weight_q[i] <= 8'd0;
      end
      spikes_q   <= 32'd0;
      phase_q    <= 32'd0;
      time_q     <= 64'd0;
      winner_q   <= `SNN_NONE;
      stage_q    <= ST_IDLE;
      n_q        <= 5'd0;
      slot_q     <= 3'd0;
      dt_q       <= 32'sd0;
      gain_q     <= 32'sd0;
      active_q   <= 32'd0;
      tick_q     <= 1'b0;
      learn_q    <= 1'b0;
      soft_q     <= 1'b0;
      best_q     <= 6'h20;
      best_v_q   <= 32'sd0;
      rsp_data_o <= 32'd0;
    end else begin
      case (stage_q)
        ST_IDLE: if (cmd_valid_i) begin
          n_q        <= 5'd0;
          slot_q     <= 3'd0;
          tick_q     <= 1'b0;
          best_q     <= 6'h20;
          rsp_data_o <= 32'd0;
          case (cmd_op_i)
            OP_RESET: begin
              for (i = 0; i < 32; i = i + 1) begin
                membrane_q[i]    <= 32'sd0;
                threshold_q[i]   <= `SNN_THRESHOLD_DEFAULT;
                refractory_q[i]  <= 32'sd0;
                current_q[i]     <= 32'sd0;
                trace_q[i]       <= 16'd0;
                rate_q[i]        <= 32'd0;
                spike_phase_q[i] <= 32'd0;
              end
              spikes_q    <= 32'd0;
              phase_q     <= 32'd0;
              time_q      <= 64'd0;
              winner_q    <= `SNN_NONE;
              rsp_valid_o <= 1'b1;
            end
            OP_SET_MEMBRANE: begin
              membrane_q[cmd_neuron_i] <= $signed(cmd_a_i);
              rsp_valid_o <= 1'b1;
            end
            OP_SET_THRESHOLD: begin
              threshold_q[cmd_neuron_i] <= ($signed(cmd_a_i) < `SNN_THRESHOLD_MIN) ? `SNN_THRESHOLD_MIN :
                                           ($signed(cmd_a_i) > `SNN_THRESHOLD_MAX) ? `SNN_THRESHOLD_MAX :
                                           $signed(cmd_a_i);
              rsp_valid_o <= 1'b1;
            end
            OP_INJECT: begin
              current_q[cmd_neuron_i] <= inject_sum(current_q[cmd_neuron_i], cmd_a_i);
              rsp_valid_o <= 1'b1;
            end
            OP_SET_SYNAPSE: begin
              if (cmd_slot_ok_w) begin
                target_q[cmd_idx_w] <= (cmd_a_i[7:5] == 3'd0) ? {1'b0, cmd_a_i[4:0]} : 6'h20;
                weight_q[cmd_idx_w] <= cmd_b_i[7:0];
              end
              rsp_valid_o <= 1'b1;
            end
            OP_SET_COUNT: begin
              count_q[cmd_neuron_i] <= (cmd_a_i[7:0] > {5'd0, `SNN_MAX_EDGES}) ? `SNN_MAX_EDGES : cmd_a_i[2:0];
              rsp_valid_o <= 1'b1;
            end
            OP_SET_NODE_WEIGHT: begin
              node_weight_q[cmd_neuron_i] <= cmd_a_i[7:0];
              rsp_valid_o <= 1'b1;
            end
            OP_TICK: begin
              dt_q     <= cmd_dt_w;
              gain_q   <= $signed(cmd_b_i);
              active_q <= cmd_c_i;
              learn_q  <= cmd_slot_i[0];
              tick_q   <= 1'b1;
              stage_q  <= ST_LIF;
            end
            OP_STEP: begin
              dt_q     <= cmd_dt_w;
              active_q <= cmd_c_i;
              stage_q  <= ST_LIF;
            end
            OP_PROPAGATE: begin
              gain_q  <= $signed(cmd_b_i);
              stage_q <= ST_PROP;
            end
            OP_STDP:        stage_q <= ST_STDP;
            OP_HOMEOSTASIS: begin
              dt_q     <= cmd_dt_w;
              active_q <= cmd_c_i;
              stage_q  <= ST_HOMEO;
            end
            OP_OSCILLATOR: begin
              dt_q    <= cmd_dt_w;
              stage_q <= ST_OSC;
            end
            OP_WTA_RESET: begin
              winner_q    <= `SNN_NONE;
              rsp_valid_o <= 1'b1;
            end
            OP_WTA_COMPETE, OP_WTA_SOFT: begin
              active_q <= cmd_c_i;
              soft_q   <= cmd_op_i == OP_WTA_SOFT;
              stage_q  <= ST_SCAN;
            end
            OP_READ: begin
              rsp_data_o  <= read_w;
              rsp_valid_o <= 1'b1;
            end
            default: rsp_valid_o <= 1'b1;   // unknown command: no effect
          endcase
        end

        ST_LIF: begin
          membrane_q[n_q]   <= lif_membrane_w;
          refractory_q[n_q] <= lif_refractory_w;
          current_q[n_q]    <= lif_current_w;
          trace_q[n_q]      <= lif_trace_w;
          spikes_q[n_q]     <= lif_spike_w;
          if (lif_spike_w) spike_phase_q[n_q] <= phase_q;
          n_q <= n_q + 5'd1;
          if (last_n_w) begin
            time_q <= time_q + dt64_w;
            if (tick_q) stage_q <= ST_PROP;
            else begin
              stage_q     <= ST_IDLE;
              rsp_valid_o <= 1'b1;
              rsp_data_o  <= {lif_spike_w, spikes_q[30:0]};
            end
          end
        end

        ST_PROP: begin
          if (prop_do_w && tgt_ok_w) current_q[tgt_w] <= syn_current_w;
          if (prop_stay_w) slot_q <= slot_q + 3'd1;
          else begin
            slot_q <= 3'd0;
            n_q    <= n_q + 5'd1;
            if (last_n_w) begin
              if (tick_q && learn_q) stage_q <= ST_STDP;
              else begin
                stage_q     <= ST_IDLE;
                rsp_valid_o <= 1'b1;
                if (tick_q) rsp_data_o <= spikes_q;
              end
            end
          end
        end

        ST_STDP: begin
          if (slot_in_w && tgt_ok_w) weight_q[syn_idx_w] <= syn_weight_w;
          if (stdp_stay_w) slot_q <= slot_q + 3'd1;
          else begin
            slot_q <= 3'd0;
            n_q    <= n_q + 5'd1;
            if (last_n_w) begin
              stage_q     <= ST_IDLE;
              rsp_valid_o <= 1'b1;
              if (tick_q) rsp_data_o <= spikes_q;
            end
          end
        end

        ST_HOMEO: begin
          if (active_q[n_q]) begin
            rate_q[n_q]      <= homeo_rate_w;
            threshold_q[n_q] <= homeo_threshold_w;
          end
          n_q <= n_q + 5'd1;
          if (last_n_w) begin
            stage_q     <= ST_IDLE;
            rsp_valid_o <= 1'b1;
          end
        end

        ST_OSC: begin
          phase_q     <= phase_q + phase_inc_w;
          stage_q     <= ST_IDLE;
          rsp_valid_o <= 1'b1;
        end

        ST_SCAN: begin
          if (lead_w) begin
            best_q   <= {1'b0, n_q};
            best_v_q <= membrane_q[n_q];
          end
          n_q <= n_q + 5'd1;
          if (last_n_w) begin
            if (best_q[5] && !lead_w) begin   // no active neuron
              if (!soft_q) winner_q <= `SNN_NONE;
              stage_q     <= ST_IDLE;
              rsp_valid_o <= 1'b1;
              rsp_data_o  <= soft_q ? 32'd0 : {24'd0, `SNN_NONE};
            end else stage_q <= ST_INHIBIT;
          end
        end

        default: begin // ST_INHIBIT
          if (inhibit_do_w) membrane_q[n_q] <= inhibited_w;
          n_q <= n_q + 5'd1;
          if (last_n_w) begin
            if (!soft_q) winner_q <= {3'd0, best_q[4:0]};
            stage_q     <= ST_IDLE;
            rsp_valid_o <= 1'b1;
            rsp_data_o  <= soft_q ? 32'd0 : {27'd0, best_q[4:0]};
          end
        end
      endcase
    end
  end

  // current + i, saturated to the i32 range.
  function automatic [31:0] inject_sum;
    input [31:0] current;
    input [31:0] amount;
    reg   [32:0] sum;
    begin
      sum = {current[31], current} + {amount[31], amount};
      inject_sum = (sum[32] != sum[31]) ? (sum[32] ? 32'h8000_0000 : 32'h7FFF_FFFF) : sum[31:0];
    end
  endfunction
endmodule
`default_nettype wire
