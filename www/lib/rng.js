// A small seeded random generator (mulberry32) so every run of the demo — and of its tests — can be
// replayed exactly: the learning run and the baseline run see the very same request stream.

/** @param {number} seed 32-bit seed */
export function createRng(seed) {
  let state = seed >>> 0;
  /** Uniform in [0, 1). */
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare = null;
  /** Standard normal (Box–Muller, the second value kept for the next call). */
  const gaussian = () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * next();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
  /** Integer in [0, n). */
  const int = (n) => Math.floor(next() * n);
  return { next, gaussian, int };
}

/** Scale `v` in place to unit length (left unchanged if it is all zeros); returns `v`. */
export function normalize(v) {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i] *= inv;
  }
  return v;
}
