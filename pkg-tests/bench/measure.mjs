// Timing helpers shared by the benchmarks (pkg-tests/tools/bench.mjs runs only *.bench.mjs files).

/**
 * ns per operation of each batch of each of `runs` (`run(n)` performs n operations): after a
 * warm-up of each, 25 rounds that time one batch of every run in turn, so all see the same drift
 * of the machine's speed.
 */
function timings(runs, n) {
  for (const run of runs) run(n * 4);
  const samples = runs.map(() => []);
  for (let i = 0; i < 25; i++) {
    runs.forEach((run, j) => {
      const t0 = performance.now();
      run(n);
      samples[j].push(((performance.now() - t0) * 1e6) / n);
    });
  }
  return samples;
}
/** The middle value of `xs` (the upper one of the two for an even count). */
export const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
function medians(runs, n) {
  return timings(runs, n).map(median);
}

/** Median ns per operation: `run(n)` performs n operations; 25 batches after a warm-up. */
export function measure(run, n) {
  return medians([run], n)[0];
}

/**
 * Median ns per operation of `a` and of `b`, timed in 25 interleaved batch pairs, and the median
 * of the 25 per-pair ratios a ÷ b. Returns [a, b, a ÷ b]. The ratio compares two batches timed
 * back to back, so a change of the machine's speed between rounds (this machine's speed can
 * halve for seconds at a time) cancels out of it; a ratio of the two medians could pair a fast
 * round of one with a slow round of the other.
 */
export function measurePair(a, b, n) {
  const [ta, tb] = timings([a, b], n);
  return [median(ta), median(tb), median(ta.map((t, i) => t / tb[i]))];
}

/** A duration in ns as "123 ns", "1.23 µs" or "1.23 ms". */
export const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
