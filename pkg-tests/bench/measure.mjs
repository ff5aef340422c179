// Timing helpers shared by the benchmarks (pkg-tests/tools/bench.mjs runs only *.bench.mjs files).

/** Median ns per operation: `run(n)` performs n operations; 25 batches after a warm-up. */
export function measure(run, n) {
  run(n * 4);
  const samples = [];
  for (let i = 0; i < 25; i++) {
    const t0 = performance.now();
    run(n);
    samples.push(((performance.now() - t0) * 1e6) / n);
  }
  samples.sort((a, b) => a - b);
  return samples[12];
}

/** A duration in ns as "123 ns", "1.23 µs" or "1.23 ms". */
export const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
