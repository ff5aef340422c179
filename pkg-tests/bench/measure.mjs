// Timing helpers shared by the benchmarks (pkg-tests/tools/bench.mjs runs only *.bench.mjs files).

/**
 * Median ns per operation of each of `runs` (`run(n)` performs n operations): after a warm-up of
 * each, 25 rounds that time one batch of every run in turn, so all see the same drift of the
 * machine's speed.
 */
function medians(runs, n) {
  for (const run of runs) run(n * 4);
  const samples = runs.map(() => []);
  for (let i = 0; i < 25; i++) {
    runs.forEach((run, j) => {
      const t0 = performance.now();
      run(n);
      samples[j].push(((performance.now() - t0) * 1e6) / n);
    });
  }
  return samples.map((s) => s.sort((x, y) => x - y)[12]);
}

/** Median ns per operation: `run(n)` performs n operations; 25 batches after a warm-up. */
export function measure(run, n) {
  return medians([run], n)[0];
}

/** Median ns per operation of `a` and of `b`, timed in 25 interleaved batch pairs. Returns [a, b]. */
export function measurePair(a, b, n) {
  return medians([a, b], n);
}

/** A duration in ns as "123 ns", "1.23 µs" or "1.23 ms". */
export const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
