// Co-simulation testbench: replays the stimulus stream of `snn_cosim` (micro-hnsw/examples) on the
// Verilated snn_core and compares every command response and, after every step, the full state with
// the Rust model's. Reads the stream from stdin. Prints the first mismatch in detail and, as its last
// line, `cosim: <steps> steps, <updates> neuron-updates, <k> mismatches`; exits 1 when k > 0 (2 on a
// malformed, truncated or empty stream (no step), or a hung design). Also checks that cmd_ready_o
// is low while rst_ni is: a command offered during the power-on reset must not be accepted (a
// violation counts as a mismatch).
//   usage: Vsnn_core [--trace <file.fst>]   (tracing only in the `make wave` build)
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "Vsnn_core.h"
#include "Vsnn_core___024root.h"
#include "verilated.h"
#if VM_TRACE
#include "verilated_fst_c.h"
#endif

namespace {

constexpr int kNeurons = 32;
constexpr int kSlots = 6;
constexpr int kStateWords = 5 + kNeurons * 7 + kNeurons * kSlots / 4;
const char* const kNeuronFields[7] = {"membrane", "threshold", "refractory", "current",
                                      "trace", "rate", "spike_phase"};
const char* const kOps[17] = {"reset", "set_membrane", "set_threshold", "inject", "set_synapse",
                               "set_count", "set_node_weight", "tick", "step", "propagate", "stdp",
                               "homeostasis", "oscillator", "wta_reset", "wta_compete", "wta_soft",
                               "read"};

bool read_words(uint32_t* out, size_t n) {
  if (fread(out, sizeof(uint32_t), n, stdin) != n) return false;
  return true;  // little-endian host assumed (x86-64, aarch64)
}

struct Bench {
  std::unique_ptr<VerilatedContext> ctx{new VerilatedContext};
  std::unique_ptr<Vsnn_core> top{new Vsnn_core{ctx.get()}};
#if VM_TRACE
  std::unique_ptr<VerilatedFstC> fst;
#endif
  uint64_t cycles = 0;

  void clock() {
    top->clk_i = 0;
    top->eval();
#if VM_TRACE
    if (fst) fst->dump(ctx->time());
    ctx->timeInc(1);
#endif
    top->clk_i = 1;
    top->eval();
#if VM_TRACE
    if (fst) fst->dump(ctx->time());
    ctx->timeInc(1);
#endif
    ++cycles;
  }

  // Drives one command and waits for its response; returns false if the design hangs.
  bool command(uint32_t op, uint32_t neuron, uint32_t slot, uint32_t a, uint32_t b, uint32_t c,
               uint32_t* response) {
    top->cmd_valid_i = 1;
    top->cmd_op_i = op;
    top->cmd_neuron_i = neuron;
    top->cmd_slot_i = slot;
    top->cmd_a_i = a;
    top->cmd_b_i = b;
    top->cmd_c_i = c;
    top->eval();
    if (!top->cmd_ready_o) return false;
    clock();
    top->cmd_valid_i = 0;
    for (int guard = 0; !top->rsp_valid_o; ++guard) {
      if (guard > 4096) return false;
      clock();
    }
    *response = top->rsp_data_o;
    return true;
  }

  // The RTL state in the generator's dump layout.
  void state(uint32_t* s) {
    const auto* r = top->rootp;
    s[0] = r->snn_core__DOT__spikes_q;
    s[1] = r->snn_core__DOT__phase_q;
    s[2] = static_cast<uint32_t>(r->snn_core__DOT__time_q);
    s[3] = static_cast<uint32_t>(r->snn_core__DOT__time_q >> 32);
    s[4] = r->snn_core__DOT__winner_q;
    for (int n = 0; n < kNeurons; ++n) {
      uint32_t* p = s + 5 + n * 7;
      p[0] = r->snn_core__DOT__membrane_q[n];
      p[1] = r->snn_core__DOT__threshold_q[n];
      p[2] = r->snn_core__DOT__refractory_q[n];
      p[3] = r->snn_core__DOT__current_q[n];
      p[4] = r->snn_core__DOT__trace_q[n];
      p[5] = r->snn_core__DOT__rate_q[n];
      p[6] = r->snn_core__DOT__spike_phase_q[n];
    }
    uint32_t* w = s + 5 + kNeurons * 7;
    for (int k = 0; k < kNeurons * kSlots / 4; ++k) {
      uint32_t word = 0;
      for (int b = 0; b < 4; ++b) word |= uint32_t(r->snn_core__DOT__weight_q[4 * k + b]) << (8 * b);
      w[k] = word;
    }
  }
};

std::string field_name(int i) {
  static const char* const kGlobal[5] = {"spikes", "phase", "time_lo", "time_hi", "winner"};
  if (i < 5) return kGlobal[i];
  i -= 5;
  if (i < kNeurons * 7) return std::string(kNeuronFields[i % 7]) + "[" + std::to_string(i / 7) + "]";
  i -= kNeurons * 7;
  return "weights[" + std::to_string(4 * i) + ".." + std::to_string(4 * i + 3) + "]";
}

}  // namespace

int main(int argc, char** argv) {
  Bench tb;
  tb.ctx->commandArgs(argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--trace") && i + 1 < argc) {
#if VM_TRACE
      tb.ctx->traceEverOn(true);
      tb.fst.reset(new VerilatedFstC);
      tb.top->trace(tb.fst.get(), 99);
      tb.fst->open(argv[++i]);
#else
      fprintf(stderr, "cosim: this build has no tracing (use make wave)\n");
      return 2;
#endif
    }
  }
  static char inbuf[1 << 20];
  setvbuf(stdin, inbuf, _IOFBF, sizeof inbuf);

  uint64_t mismatches = 0, updates = 0, steps = 0, commands = 0;

  // Power-on reset, with a command offered all along (SET_MEMBRANE of neuron 0): cmd_ready_o must
  // stay low while rst_ni is, or the command would meet valid && ready and be dropped by the reset.
  tb.top->rst_ni = 0;
  tb.top->cmd_valid_i = 1;
  tb.top->cmd_op_i = 1;
  tb.top->cmd_neuron_i = 0;
  tb.top->cmd_a_i = 0x12345;
  for (int k = 0; k < 2; ++k) {
    tb.top->eval();
    if (tb.top->cmd_ready_o) {
      if (mismatches++ == 0)
        printf("cosim: first mismatch before the stream: cmd_ready_o is high during reset (cycle %d), "
               "a command offered then is accepted and lost\n", k);
    }
    tb.clock();
  }
  tb.top->cmd_valid_i = 0;
  tb.top->rst_ni = 1;

  // The commands since the last state record: a state mismatch names them all (any of them may have
  // caused it), a response mismatch the command itself.
  uint64_t first_since_state = 1;
  std::vector<std::pair<uint32_t, uint64_t>> ops_since_state;  // runs of equal ops: (op, count)
  auto ops_text = [&]() {
    std::string t;
    const size_t n = ops_since_state.size();
    for (size_t k = 0; k < n; ++k) {
      if (n > 12 && k == 6) {  // a long mix: the first and last six runs
        t += ", …";
        k = n - 6;
      }
      if (!t.empty()) t += ", ";
      t += kOps[ops_since_state[k].first];
      if (ops_since_state[k].second > 1) t += " ×" + std::to_string(ops_since_state[k].second);
    }
    return t;
  };
  bool ended = false;
  auto report = [&](const std::string& where, const std::string& what, uint32_t expected, uint32_t got) {
    if (mismatches++ == 0) {
      printf("cosim: first mismatch %s: %s expected 0x%08x (%d) got 0x%08x (%d)\n", where.c_str(),
             what.c_str(), expected, (int32_t)expected, got, (int32_t)got);
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  uint32_t rec[2 + kStateWords], rtl[kStateWords];
  while (!ended && read_words(rec, 2)) {
    switch (rec[0] & 0xff) {
      case 1: {  // command
        uint32_t w[4];  // b, c, expected response, reserved
        if (!read_words(w, 4)) goto malformed;
        const uint32_t op = (rec[0] >> 8) & 0xff, neuron = (rec[0] >> 16) & 0xff, slot = rec[0] >> 24;
        if (op > 16 || neuron >= 32 || slot >= 8) goto malformed;
        ++commands;
        if (!ops_since_state.empty() && ops_since_state.back().first == op) ++ops_since_state.back().second;
        else ops_since_state.emplace_back(op, 1);
        uint32_t response = 0;
        if (!tb.command(op, neuron, slot, rec[1], w[0], w[1], &response)) {
          printf("cosim: the design did not respond to command #%llu (%s)\n", (unsigned long long)commands, kOps[op]);
          goto malformed;
        }
        if (op == 7 || op == 8) updates += __builtin_popcount(w[1]);
        if (response != w[2])
          report("at step " + std::to_string(steps) + " (command #" + std::to_string(commands) + ", " + kOps[op] + ")",
                 std::string(kOps[op]) + " response", w[2], response);
        break;
      }
      case 2: {  // state after a step
        if (!read_words(rec + 2, kStateWords)) goto malformed;
        tb.state(rtl);
        const std::string where =
            "in the state after step " + std::to_string(rec[1]) +
            (commands < first_since_state ? std::string(" (no command since the last state)")
             : " (commands #" + std::to_string(first_since_state) +
                   (commands > first_since_state ? "..#" + std::to_string(commands) : std::string()) + ": " +
                   ops_text() + ")");
        for (int i = 0; i < kStateWords; ++i)
          if (rtl[i] != rec[2 + i]) report(where, field_name(i), rec[2 + i], rtl[i]);
        ++steps;
        first_since_state = commands + 1;
        ops_since_state.clear();
        break;
      }
      case 3: {  // end
        uint32_t w[2];
        if (!read_words(w, 2)) goto malformed;
        const uint64_t expected_updates = w[0] | (uint64_t)w[1] << 32;
        if (rec[1] != steps || expected_updates != updates) {
          printf("cosim: stream says %u steps / %llu updates, replayed %llu / %llu\n", rec[1],
                 (unsigned long long)expected_updates, (unsigned long long)steps, (unsigned long long)updates);
          goto malformed;
        }
        ended = true;
        break;
      }
      default:
        goto malformed;
    }
  }
  if (!ended) goto malformed;
  if (steps == 0) {
    printf("cosim: the stream has no step: nothing was compared\n");
    printf("cosim: 0 steps, %llu neuron-updates, %llu mismatches\n", (unsigned long long)updates,
           (unsigned long long)(mismatches ? mismatches : 1));
    return 2;
  }
  {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fprintf(stderr, "cosim: %llu commands, %llu cycles (%.1f cycles/step), %.2f s: %.3g neuron-updates/s, %.3g cycles/s\n",
            (unsigned long long)commands, (unsigned long long)tb.cycles, steps ? double(tb.cycles) / steps : 0.0,
            secs, updates / secs, tb.cycles / secs);
#if VM_TRACE
    if (tb.fst) tb.fst->close();
#endif
    tb.top->final();
    printf("cosim: %llu steps, %llu neuron-updates, %llu mismatches\n", (unsigned long long)steps,
           (unsigned long long)updates, (unsigned long long)mismatches);
    return mismatches ? 1 : 0;
  }
malformed:
  printf("cosim: malformed or truncated stimulus stream (or hung design) after %llu commands\n",
         (unsigned long long)commands);
  printf("cosim: %llu steps, %llu neuron-updates, %llu mismatches\n", (unsigned long long)steps,
         (unsigned long long)updates, (unsigned long long)(mismatches ? mismatches : 1));
  return 2;
}
