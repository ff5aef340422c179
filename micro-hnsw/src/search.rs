//! Result records, top-k collection, the exact scan and the graph beam search.
//!
//! At 32 vectors × 16 dimensions a SIMD scan of every stored vector costs less than walking the
//! graph, and it is exact, so the exported `search` uses [`scan`]. [`beam_search`] walks the graph
//! (entry node 0, beam width ≥ [`BEAM_WIDTH`]); it is kept for native use and tests, where it proves
//! the graph is navigable: with a beam as wide as the core it visits every node and agrees with
//! the scan.
use crate::distance::Vector;
use crate::graph::Graph;
use crate::{node, BEAM_WIDTH, MAX_RESULTS, MAX_VECTORS, NONE};

/// One 8-byte result record of the ABI: `{idx:u8, core_id:u8, pad:u16, distance:f32}`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct ResultRecord {
    /// Index of the vector in its core, [`NONE`] for an empty record.
    pub idx: u8,
    /// Core that holds the vector.
    pub core_id: u8,
    /// Always zero.
    pub pad: u16,
    /// Distance to the query (smaller = closer; see [`crate::distance`]).
    pub distance: f32,
}

impl ResultRecord {
    /// The empty record: `idx` = 255, `distance` = +∞.
    pub const EMPTY: ResultRecord = ResultRecord { idx: NONE, core_id: 0, pad: 0, distance: f32::INFINITY };
}

/// A buffer of up to 16 records sorted by ascending distance.
pub type Results = [ResultRecord; MAX_RESULTS];

/// Inserts `rec` (distance not NaN) into the sorted prefix `out[..len]` keeping at most `k`
/// records (`k` clamped to 1..=16); equal distances keep insertion order. Returns the new length.
/// Branch-light: one compare rejects a candidate that does not beat the k-th best, and indices
/// are masked to the buffer so the hot loop carries no bounds checks.
#[inline(always)]
pub fn insert_sorted(out: &mut Results, len: usize, k: usize, rec: ResultRecord) -> usize {
    let k = k.clamp(1, MAX_RESULTS);
    let len = len.min(k);
    // Cheap reject first: most candidates do not beat the current k-th best.
    if len == k && rec.distance >= out[slot(k - 1)].distance {
        return len;
    }
    // Shift the worse records up by one (the k-th best, if the prefix is full, falls off).
    let mut p = len.min(k - 1);
    while p > 0 && out[slot(p - 1)].distance > rec.distance {
        out[slot(p)] = out[slot(p - 1)];
        p -= 1;
    }
    out[slot(p)] = rec;
    (len + 1).min(k)
}

/// The `k` smallest of `key[..n]` that do not exceed `bound` (ties: lower index first; NaN counts
/// as +∞), written to `out` as records of `core_id` carrying `key` as their distance (the rest
/// emptied). `k` must be in 1..=16. Returns how many were written: `min(k, n)` for `bound` = +∞.
/// Selection stops at the first key above `bound`, so a tight bound costs one round.
///
/// Selection by repeated minimum rather than an insertion sort, so no branch depends on the
/// data: each round [`take_min`] finds the smallest live key (on wasm32 a few `u32x4` ops over
/// eight registers) and the slots holding it, which are emitted in index order and retired.
#[inline(never)]
pub fn top_k(key: &[f32; MAX_VECTORS], n: usize, k: usize, core_id: u8, out: &mut Results, bound: f32) -> u8 {
    let m = k.clamp(1, MAX_RESULTS).min(n);
    let mut keys = load_keys(key, n);
    // Every record emptied first (straight-line stores), the first r overwritten below.
    *out = [ResultRecord::EMPTY; MAX_RESULTS];
    let mut r = 0;
    while r < m {
        let (mut hits, d) = take_min(&mut keys);
        // Keys come in ascending order: past the bound, the rest exceed it too. (hits == 0 is
        // unreachable: fewer than n slots were retired, so a live one is left.)
        if hits == 0 || d > bound {
            break;
        }
        while hits != 0 && r < m {
            let i = node(hits.trailing_zeros() as usize);
            hits &= hits - 1;
            // −0 and +0 tie in the selection; a zero distance is reported with its own sign.
            let d = if d == 0.0 { key[i] } else { d };
            out[slot(r)] = ResultRecord { idx: i as u8, core_id, pad: 0, distance: d };
            r += 1;
        }
    }
    r as u8
}

/// The selection state of [`top_k`]: the 32 keys (NaN read as +∞; +∞ in the slots ≥ n and in
/// retired slots) and the bitmap of the live slots (< n, not yet emitted). A retired slot's +∞
/// never hides a live one: it can only tie with a live +∞, and hits are masked by `live`.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub struct Keys {
    key: [f32; MAX_VECTORS],
    live: u32,
}

/// Builds the [`Keys`] of `key[..n]`.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn load_keys(key: &[f32; MAX_VECTORS], n: usize) -> Keys {
    let mut k = Keys { key: [f32::INFINITY; MAX_VECTORS], live: 0 };
    for (i, (o, &d)) in k.key.iter_mut().zip(key.iter()).enumerate().take(n) {
        *o = if d.is_nan() { f32::INFINITY } else { d };
        k.live |= 1 << i;
    }
    k
}

/// Bitmap of the live slots holding the smallest key (−0 and +0 tie), which are then retired, and
/// that key.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn take_min(keys: &mut Keys) -> (u32, f32) {
    let m = keys.key.iter().fold(f32::INFINITY, |m, &x| if x < m { x } else { m });
    let mut hits = 0;
    for (i, x) in keys.key.iter_mut().enumerate() {
        if *x == m && keys.live & (1 << i) != 0 {
            hits |= 1 << i;
            *x = f32::INFINITY;
        }
    }
    keys.live &= !hits;
    (hits, m)
}

/// The selection state of [`top_k`] on wasm32: the 32 keys as eight `u32x4` rows (slot `i` =
/// lane `i % 4` of row `i / 4`) kept in registers. Each f32 key is stored as an unsigned integer
/// with the same order (NaN read as +∞ and −0 as +0 first, then the sign bit set on a positive
/// value and every bit flipped on a negative one), so a round uses integer minimum and compare
/// (single-cycle on common CPUs, where the float ones take about four); a retired slot, and every
/// slot ≥ n, holds `u32::MAX`, above any key.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub struct Keys {
    rows: [core::arch::wasm32::v128; MAX_VECTORS / 4],
}

/// `body` once for each row `j` = 0..8 of [`Keys`], written out: constant row indices let the
/// compiler keep the eight rows in registers (a size-optimised build would not unroll a loop).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
macro_rules! each_row {
    ($j:ident => $body:block) => {{
        { const $j: usize = 0; $body }
        { const $j: usize = 1; $body }
        { const $j: usize = 2; $body }
        { const $j: usize = 3; $body }
        { const $j: usize = 4; $body }
        { const $j: usize = 5; $body }
        { const $j: usize = 6; $body }
        { const $j: usize = 7; $body }
    }};
}

/// Builds the [`Keys`] of `key[..n]`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub fn load_keys(key: &[f32; MAX_VECTORS], n: usize) -> Keys {
    use core::arch::wasm32::*;
    // Plain constants: with the loop below kept rolled, each appears once in the wasm (routing
    // them through `black_box` to build them once cost 49 bytes of stack stores and reloads).
    let inf = f32x4_splat(f32::INFINITY);
    let sign = u32x4_splat(0x8000_0000);
    // +0.0 in a local rather than a second 18-byte constant.
    let zero = crate::snn::lanes::zero();
    // n − 1 − slot, lane-wise: negative exactly for the slots ≥ n.
    let first = i32x4_sub(i32x4_splat(n as i32 - 1), i32x4(0, 1, 2, 3));
    let rows = core::array::from_fn(|j| {
        // SAFETY: j < 8, so the 16 bytes read lie inside the 128-byte array; no alignment needed.
        let d = unsafe { v128_load(key.as_ptr().add(4 * (j & 7)) as *const v128) };
        // pmin(∞, d) = d < ∞ ? d : ∞ maps NaN to +∞; adding +0 turns −0 into +0.
        let b = f32x4_add(f32x4_pmin(inf, d), zero);
        let b = v128_xor(b, v128_or(i32x4_shr(b, 31), sign));
        let rest = i32x4_sub(first, i32x4_splat(4 * j as i32));
        // Slots ≥ n read u32::MAX.
        v128_or(b, i32x4_shr(rest, 31))
    });
    // Copied whole into `Keys`, whose rows are only ever indexed by constants: registers.
    Keys { rows }
}

/// Bitmap of the slots holding the smallest key (−0 and +0 tie), which are then retired, and
/// that key: the lane-wise minimum of the eight rows (a tree of `u32x4.min`) folded across lanes,
/// then one compare per row.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub fn take_min(keys: &mut Keys) -> (u32, f32) {
    use core::arch::wasm32::*;
    let k = &keys.rows;
    let m = u32x4_min(
        u32x4_min(u32x4_min(k[0], k[1]), u32x4_min(k[2], k[3])),
        u32x4_min(u32x4_min(k[4], k[5]), u32x4_min(k[6], k[7])),
    );
    let m = u32x4_min(m, i32x4_shuffle::<2, 3, 0, 1>(m, m));
    let m = u32x4_min(m, i32x4_shuffle::<1, 0, 3, 2>(m, m));
    let mut hits = 0u32;
    each_row!(J => {
        let eq = i32x4_eq(keys.rows[J], m);
        hits |= (i32x4_bitmask(eq) as u32) << (4 * J);
        keys.rows[J] = v128_or(keys.rows[J], eq);
    });
    // Back to the f32 the key encodes.
    let u = u32x4_extract_lane::<0>(m);
    let u = if u & 0x8000_0000 != 0 { u ^ 0x8000_0000 } else { !u };
    (hits, f32::from_bits(u))
}

/// `p` as a result slot: callers hold `p < 16` already; the mask lets the compiler drop the
/// bounds check (see [`crate::node`]).
#[inline(always)]
fn slot(p: usize) -> usize {
    p & (MAX_RESULTS - 1)
}

/// Exact k-nearest neighbours of `q` (norm `qn`) within distance `bound` (+∞: all) by scanning
/// every stored vector.
pub fn scan(g: &Graph, q: &Vector, qn: f32, k: usize, core_id: u8, out: &mut Results, bound: f32) -> u8 {
    let mut dist = zeroed_keys();
    let n = g.len_inline();
    g.distances(q, qn, n, &mut dist);
    top_k(&dist, n, k, core_id, out, bound)
}

/// 32 zeros for [`scan`]'s distances. On wasm32 as eight stores of a zero register: a plain
/// `[0.0; 32]` becomes a `memory.fill`, which engines run out of line (a call per search).
#[inline(always)]
fn zeroed_keys() -> [f32; MAX_VECTORS] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let z = crate::snn::lanes::zero();
        // SAFETY: eight v128 and 32 f32 are the same 128 bytes of plain data.
        unsafe { core::mem::transmute::<[core::arch::wasm32::v128; 8], [f32; MAX_VECTORS]>([z; 8]) }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        [0.0; MAX_VECTORS]
    }
}

/// Greedy beam search over the graph from node 0 keeping the `max(ef, k, BEAM_WIDTH)` best
/// candidates; writes the `k` best found to `out` and returns how many.
pub fn beam_search(g: &Graph, q: &Vector, qn: f32, k: usize, ef: usize, core_id: u8, out: &mut Results) -> u8 {
    let n = g.count as usize;
    if n == 0 {
        return 0;
    }
    let ef = ef.max(k).clamp(BEAM_WIDTH, MAX_VECTORS);
    // `best` holds up to ef nodes sorted by distance; `expanded` marks those already expanded.
    let mut best = [(0u8, 0.0f32); MAX_VECTORS];
    let mut len = 1;
    best[0] = (0, g.distance_to(q, qn, 0));
    let mut visited = 1u32;
    let mut expanded = 0u32;
    while let Some(pos) = (0..len).find(|&p| expanded & (1 << best[p].0) == 0) {
        let node = best[pos].0 as usize;
        expanded |= 1 << node;
        for &t in g.neighbors(node) {
            if visited & (1 << t) != 0 {
                continue;
            }
            visited |= 1 << t;
            let d = g.distance_to(q, qn, t as usize);
            if len == ef && d >= best[len - 1].1 {
                continue;
            }
            let mut p = len.min(ef - 1);
            while p > 0 && best[p - 1].1 > d {
                best[p] = best[p - 1];
                p -= 1;
            }
            best[p] = (t, d);
            len = (len + 1).min(ef);
        }
    }
    let m = len.min(k);
    for (i, r) in out.iter_mut().enumerate() {
        *r = if i < m {
            ResultRecord { idx: best[i].0, core_id, pad: 0, distance: best[i].1 }
        } else {
            ResultRecord::EMPTY
        };
    }
    m as u8
}

/// Merges records into the sorted global buffer `global` (whose valid prefix ends at the first
/// empty record), keeping the 16 best; empty records and NaN distances are skipped. Returns the
/// number of valid global records.
pub fn merge(global: &mut Results, records: &[ResultRecord]) -> u8 {
    let mut len = global.iter().position(|r| r.idx == NONE).unwrap_or(MAX_RESULTS);
    for r in records {
        if r.idx != NONE && !r.distance.is_nan() {
            len = insert_sorted(global, len, MAX_RESULTS, ResultRecord { pad: 0, ..*r });
        }
    }
    len as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::{norm, Metric};
    use crate::graph::tests::{filled, Rng};

    fn brute(g: &Graph, q: &Vector) -> std::vec::Vec<(f32, u8)> {
        let qn = norm(q);
        let mut all: std::vec::Vec<(f32, u8)> =
            (0..g.count as usize).map(|i| (g.distance_to(q, qn, i), i as u8)).collect();
        all.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        all
    }

    #[test]
    fn scan_equals_brute_force_for_every_metric_and_k() {
        for metric in [Metric::L2, Metric::Cosine, Metric::Dot] {
            let g = filled(metric, 16, 1234);
            let mut rng = Rng(77);
            for _ in 0..200 {
                let q = rng.vector(16);
                let want = brute(&g, &q);
                for k in 1..=MAX_RESULTS {
                    let mut out = [ResultRecord::EMPTY; MAX_RESULTS];
                    assert_eq!(scan(&g, &q, norm(&q), k, 3, &mut out, f32::INFINITY), k as u8);
                    for i in 0..k {
                        // The scan sums dimension by dimension, distance_to lane-wise: allow rounding.
                        assert!((out[i].distance - want[i].0).abs() <= 1e-5 * (1.0 + want[i].0.abs()));
                        assert_eq!(out[i].core_id, 3);
                    }
                    let got: std::vec::Vec<u8> = out[..k].iter().map(|r| r.idx).collect();
                    let ids: std::vec::Vec<u8> = want[..k].iter().map(|w| w.1).collect();
                    assert_eq!(got, ids, "{metric:?} k={k}");
                    assert!(out[k..].iter().all(|r| r.idx == NONE));
                }
            }
        }
    }

    #[test]
    fn bounded_scan_keeps_exactly_the_records_within_the_bound() {
        for metric in [Metric::L2, Metric::Cosine, Metric::Dot] {
            let g = filled(metric, 16, 99);
            let mut rng = Rng(5);
            for round in 0..100 {
                let q = rng.vector(16);
                let mut all = [ResultRecord::EMPTY; MAX_RESULTS];
                let k = 1 + round % MAX_RESULTS;
                assert_eq!(scan(&g, &q, norm(&q), k, 1, &mut all, f32::INFINITY), k as u8);
                // Bounds at a kept distance (ties with it are kept), between two, and below all.
                let j = round % k;
                let at = all[j].distance;
                let below = if j == 0 { at - 1.0 } else { 0.5 * (all[j - 1].distance + at) };
                for bound in [at, below, all[0].distance - 1.0] {
                    let mut out = [ResultRecord::EMPTY; MAX_RESULTS];
                    let n = scan(&g, &q, norm(&q), k, 1, &mut out, bound) as usize;
                    let want = all[..k].iter().filter(|r| r.distance <= bound).count();
                    assert_eq!(n, want, "{metric:?} k={k} bound={bound}");
                    assert_eq!(out[..n], all[..n]);
                    assert!(out[n..].iter().all(|r| *r == ResultRecord::EMPTY));
                }
            }
        }
    }

    #[test]
    fn top_k_reports_each_key_as_given_ties_by_index_nan_last() {
        // −0 and +0 tie (index order) and each keeps its own sign; NaN sorts as +∞ after every
        // finite key; equal keys come out lowest index first.
        let mut key = [7.0f32; MAX_VECTORS];
        key[4] = 0.0;
        key[2] = -0.0;
        key[9] = f32::NAN;
        key[1] = -3.5;
        key[6] = -3.5;
        let mut out = [ResultRecord::EMPTY; MAX_RESULTS];
        assert_eq!(top_k(&key, MAX_VECTORS, 16, 2, &mut out, f32::INFINITY), 16);
        let got: std::vec::Vec<(u8, u32)> = out[..5].iter().map(|r| (r.idx, r.distance.to_bits())).collect();
        let want = [(1, (-3.5f32).to_bits()), (6, (-3.5f32).to_bits()), (2, (-0.0f32).to_bits()), (4, 0), (0, 7.0f32.to_bits())];
        assert_eq!(got, want);
        // Only the first n keys count; NaN reads +∞, so it is last of all.
        assert_eq!(top_k(&key, 10, 16, 2, &mut out, f32::INFINITY), 10);
        assert_eq!((out[9].idx, out[9].distance), (9, f32::INFINITY));
        assert_eq!(out[10], ResultRecord::EMPTY);
        // A bound at −0 keeps both zeros (−0 ≤ +0 ≤ −0 as numbers).
        assert_eq!(top_k(&key, MAX_VECTORS, 16, 2, &mut out, -0.0), 4);
        assert_eq!((out[3].idx, out[3].distance.to_bits()), (4, 0));
    }

    #[test]
    fn wide_beam_search_visits_every_node() {
        for metric in [Metric::L2, Metric::Cosine, Metric::Dot] {
            for seed in 1..20 {
                let g = filled(metric, 16, seed * 31);
                let mut rng = Rng(seed);
                let q = rng.vector(16);
                let want = brute(&g, &q);
                let mut out = [ResultRecord::EMPTY; MAX_RESULTS];
                assert_eq!(beam_search(&g, &q, norm(&q), 16, MAX_VECTORS, 0, &mut out), 16);
                for i in 0..16 {
                    assert_eq!(out[i].distance, want[i].0, "{metric:?} seed {seed} rank {i}");
                }
            }
        }
    }

    #[test]
    fn narrow_beam_search_has_high_recall() {
        let (mut hit, mut total) = (0, 0);
        for metric in [Metric::L2, Metric::Cosine, Metric::Dot] {
            let g = filled(metric, 16, 4242);
            let mut rng = Rng(9);
            for _ in 0..300 {
                let q = rng.vector(16);
                let want = brute(&g, &q);
                let mut out = [ResultRecord::EMPTY; MAX_RESULTS];
                let n = beam_search(&g, &q, norm(&q), 5, 8, 0, &mut out) as usize;
                assert_eq!(n, 5);
                for r in &want[..5] {
                    total += 1;
                    if out[..n].iter().any(|o| o.idx == r.1) {
                        hit += 1;
                    }
                }
            }
        }
        let recall = hit as f64 / total as f64;
        assert!(recall >= 0.9, "beam recall@5 with ef 8 = {recall}");
    }

    #[test]
    fn merge_keeps_the_sixteen_best_across_cores() {
        let mut global = [ResultRecord::EMPTY; MAX_RESULTS];
        let mut expected = std::vec::Vec::new();
        for core in 0..4u8 {
            let recs: std::vec::Vec<ResultRecord> = (0..10u8)
                .map(|i| ResultRecord { idx: i, core_id: core, pad: 0, distance: ((i * 7 + core * 3) % 23) as f32 })
                .collect();
            expected.extend(recs.iter().map(|r| r.distance));
            merge(&mut global, &recs);
        }
        expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(merge(&mut global, &[]), 16);
        for i in 0..16 {
            assert_eq!(global[i].distance, expected[i]);
        }
        let nan = ResultRecord { idx: 1, core_id: 9, pad: 0, distance: f32::NAN };
        let before = global;
        assert_eq!(merge(&mut global, &[nan, ResultRecord::EMPTY]), 16);
        assert_eq!(global, before);
    }
}
