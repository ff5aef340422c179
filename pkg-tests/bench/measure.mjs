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

/**
 * Median ns per operation of `a` and of `b`, timed in 25 interleaved batch pairs (a, b, a, b, …)
 * after a warm-up of each, so both see the same drift of the machine's speed. Returns [a, b].
 */
export function measurePair(a, b, n) {
  a(n * 4);
  b(n * 4);
  const sa = [], sb = [];
  for (let i = 0; i < 25; i++) {
    let t0 = performance.now();
    a(n);
    sa.push(((performance.now() - t0) * 1e6) / n);
    t0 = performance.now();
    b(n);
    sb.push(((performance.now() - t0) * 1e6) / n);
  }
  sa.sort((x, y) => x - y);
  sb.sort((x, y) => x - y);
  return [sa[12], sb[12]];
}

/** A duration in ns as "123 ns", "1.23 µs" or "1.23 ms". */
export const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
