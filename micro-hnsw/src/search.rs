//! Result records, top-k collection, the exact scan and the graph beam search.
//!
//! At 32 vectors × 16 dimensions a SIMD scan of every stored vector costs less than walking the
//! graph, and it is exact, so the exported `search` uses [`scan`]. [`beam_search`] walks the graph
//! (entry node 0, beam width ≥ [`BEAM_WIDTH`]); it is kept for native use and tests, where it proves
//! the graph is navigable: with a beam as wide as the core it visits every node and agrees with
//! the scan.
use crate::distance::Vector;
use crate::graph::Graph;
use crate::{BEAM_WIDTH, MAX_RESULTS, MAX_VECTORS, NONE};

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
    let mut p = if len < k { len } else { k - 1 };
    while p > 0 && out[slot(p - 1)].distance > rec.distance {
        out[slot(p)] = out[slot(p - 1)];
        p -= 1;
    }
    out[slot(p)] = rec;
    len + (len < k) as usize
}

/// The `k` smallest of `key[..n]` (ties: lower index first), written to `out` as records of
/// `core_id` (the rest emptied). `k` must be in 1..=16. Returns `min(k, n)`.
#[inline(never)]
pub fn top_k(key: &[f32; MAX_VECTORS], n: usize, k: usize, core_id: u8, out: &mut Results) -> u8 {
    let k = k.clamp(1, MAX_RESULTS);
    let mut len = 0;
    for (i, &d) in key.iter().enumerate().take(n) {
        let d = if d.is_nan() { f32::INFINITY } else { d };
        len = insert_sorted(out, len, k, ResultRecord { idx: i as u8, core_id, pad: 0, distance: d });
    }
    for r in out.iter_mut().skip(len) {
        *r = ResultRecord::EMPTY;
    }
    len as u8
}

/// `p` as a result slot: callers hold `p < 16` already; the mask lets the compiler drop the
/// bounds check (see [`crate::node`]).
#[inline(always)]
fn slot(p: usize) -> usize {
    p & (MAX_RESULTS - 1)
}

/// Exact k-nearest neighbours of `q` (norm `qn`) by scanning every stored vector.
pub fn scan(g: &Graph, q: &Vector, qn: f32, k: usize, core_id: u8, out: &mut Results) -> u8 {
    let mut dist = [0.0f32; MAX_VECTORS];
    let n = g.len();
    g.distances(q, qn, n, &mut dist);
    top_k(&dist, n, k, core_id, out)
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
                    assert_eq!(scan(&g, &q, norm(&q), k, 3, &mut out), k as u8);
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
