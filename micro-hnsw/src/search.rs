//! Result records, top-k collection, the exact scan and the graph beam search.
//!
//! At 32 vectors × 16 dimensions a SIMD scan of every stored vector costs less than walking the
//! graph, and it is exact, so the exported `search` scans: every distance
//! (`Graph::distances`), then [`top_k`] (`MicroHnsw::search_within`, which shares its query checks
//! with the other searches). [`beam_search`] walks the graph (entry node 0, beam width ≥
//! [`BEAM_WIDTH`]); it is kept for native use and tests, where it proves the graph is navigable:
//! with a beam as wide as the core it visits every node and agrees with the scan.
use crate::distance::Vector;
use crate::graph::Graph;
use crate::{node, BEAM_WIDTH, MAX_RESULTS, MAX_VECTORS, NONE};
use core::mem::MaybeUninit;

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

/// The `k` smallest of `key[..n]` (`n` ≤ 32) that do not exceed `bound` (ties: lower index
/// first; NaN counts as +∞, and −0 ties with +0), written to `out` as records of `core_id`
/// carrying `key` as their distance (the rest emptied). `k` must be in 1..=16 (checked by the
/// callers, not clamped again here) and `core_id` below 256 (a `u8` widened by the caller: as a
/// `u8` parameter it was masked again here). Returns how many were written: `min(k, n)` for
/// `bound` = +∞ (a `u32`, as the ABI returns it: a `u8` was masked to a byte again there).
///
/// Selection over *tagged* keys (see [`Tagged`]): each key becomes an integer with the same order
/// whose low 5 bits are replaced by its slot, so all 32 are distinct, held as the complement of
/// its (wrapping) difference from the next key to take, so a round is one maximum over eight
/// registers and one subtraction from each (no compare or bitmask: the slot is in the maximum
/// itself), and the rounds stop at the first key above `bound`. Replacing the low bits
/// merges keys that differ only there (relative difference below 2⁻¹⁸) into one *group*, ordered
/// by slot instead of by value; that can only matter inside the last group reached. So the fast
/// path checks that every emitted key is ≥ the one before it within its group, that no key left
/// out belongs to the group of the k-th (one extra round), and that no key reached shares the
/// bound's group (the bound is compared by group: a group above it ends the selection); when a
/// check fails, an exact scan answers instead (rare: distances within 2⁻¹⁸ of each other at the
/// k-th place or at the bound, or +∞ and NaN ones with no bound).
#[inline(never)]
pub fn top_k(key: &[f32; MAX_VECTORS], n: usize, k: usize, core_id: u32, out: &mut Results, bound: f32) -> u32 {
    // k is not clamped again: every caller has checked it (`MicroHnsw::valid_k`, `scan`).
    let m = k.min(n);
    // Every record emptied first, the first r overwritten below.
    *out = [ResultRecord::EMPTY; MAX_RESULTS];
    // Every record's first four bytes less its index (see `put`), built once for both paths.
    let head = core_id << 8;
    match tagged_top_k(key, n, m, head, out, bound) {
        Some(r) => r,
        None => exact_top_k(key, n, m, head, out, bound),
    }
}

/// `key[i]` as a reported distance: NaN reads as +∞.
#[inline(always)]
fn distance_of(key: &[f32; MAX_VECTORS], i: usize) -> f32 {
    let x = key[node(i)];
    if x.is_nan() {
        f32::INFINITY
    } else {
        x
    }
}

/// The group of a tagged key: the key without its slot bits, in the keys' (signed) order.
#[inline(always)]
fn group(tagged: u32) -> i32 {
    tagged as i32 >> 5
}

/// [`top_k`]'s fast path over `m` records (`out` emptied): `Some(count)` when the tagged
/// selection is provably the exact one, `None` otherwise (then `out` must be rebuilt).
#[inline(always)]
fn tagged_top_k(key: &[f32; MAX_VECTORS], n: usize, m: usize, head: u32, out: &mut Results, bound: f32) -> Option<u32> {
    let mut keys = Tagged::load(key, n);
    // The group that ends the selection: first the bound's (keys of lower groups are within the
    // bound, of higher groups above it), then, once m keys are emitted, the last one's: the next
    // key, the first one left out, must not share its group, or keys of that group may have been
    // left out that rank before the ones taken (one more round; a single call site of `take_min`
    // keeps the code small). Keys come out in ascending order and every one emitted lies below
    // the bound's group, so one test serves both ends, and the loop carries no flag (and no
    // bound recomputed in each round, as V8 did with a value that only the loop used). (m = 0,
    // which `top_k` passes only for n = 0, starts at the group of i32::MIN, below every key's:
    // it ends at once, with 0.)
    let mut end = group(if m == 0 { 0x8000_0000 } else { order_bits(bound) });
    // The group of the last key emitted. It starts as that of i32::MIN, which no key has (only a
    // negative NaN's bits would lie in it, and NaN keys read as +∞): before the first emission no
    // key shares it, so the group test below also stands for r ≠ 0.
    let mut last = group(0x8000_0000);
    let mut r = 0;
    loop {
        let c = keys.take_min();
        let g = group(c);
        // Above the end group: c and the keys of its group not reached yet are all above the
        // bound, or (once m are emitted) none of them shares the last one's group: done. In it:
        // the bound may split the group (or, with no bound, c is +∞ or NaN, which counts as +∞
        // and is reported so), or c shares the last one's group: the exact path answers.
        if g >= end {
            return if g > end { Some(r as u32) } else { None };
        }
        let d = key[node((c & 31) as usize)];
        // Inside a group the slot order decides, not the value: a key below the one before it
        // means the group was reached out of value order.
        if g == last && d < out[slot(r - 1)].distance {
            return None;
        }
        put(out, r, c & 31 | head, d);
        last = g;
        r += 1;
        if r == m {
            end = g;
        }
    }
}

/// The exact `top_k` by repeated scalar minimum over all `n` keys, `m` records: [`top_k`]'s
/// answer when the tagged selection cannot vouch for its own (rare: near-ties at the k-th place
/// or at the bound, NaN or +∞ distances). It writes at least as many records as the tagged
/// selection did (every record that one wrote is a key within the bound), so no stale record is
/// left behind.
#[inline(never)]
fn exact_top_k(key: &[f32; MAX_VECTORS], n: usize, m: usize, head: u32, out: &mut Results, bound: f32) -> u32 {
    let mut taken = 0u32;
    let mut r = 0;
    while r < m {
        // The first key not taken (bd starts as NaN, which no d is ≥), then any strictly smaller
        // one: ties go to the lower index. (d is never NaN.)
        let (mut best, mut bd) = (0, f32::NAN);
        // n ≤ 32 (`top_k`'s keys are 32), so `1 << i` is in range.
        for i in 0..n {
            let d = distance_of(key, i);
            #[allow(clippy::neg_cmp_op_on_partial_ord)] // the NaN start is the point
            if taken & 1 << i == 0 && !(d >= bd) {
                (best, bd) = (i, d);
            }
        }
        if bd > bound {
            break;
        }
        taken |= 1 << best;
        put(out, r, best as u32 | head, bd);
        r += 1;
    }
    r as u32
}

/// The bits of a distance as an i32 with the same order (as u32 here): NaN reads as +∞ and −0 as
/// +0 first, then the 31 low bits are flipped on a negative value.
fn order_bits(d: f32) -> u32 {
    let d = if d.is_nan() { f32::INFINITY } else { d + 0.0 };
    let b = d.to_bits();
    b ^ ((b as i32 >> 31) as u32 >> 1)
}

/// The selection state of [`top_k`]. Each key is *tagged*: the signed-order bits of its distance
/// (`order_bits`) with the low 5 bits replaced by its slot; a slot ≥ n holds +∞'s key, which
/// sorts with the +∞ keys, after those of the slots < n. With `above` the tagged key after the
/// last one taken (first i32::MIN, the bottom of the signed order), `x − above` read unsigned
/// (wrapping) keeps the keys not taken in order and sends the taken ones above all others. The
/// state holds, for each key x, the complement of that difference, `!(x − above)`, whose largest
/// value `M` is the next key's: [`take_min`](Tagged::take_min) takes c = `above + !M` and moves
/// every complement on to the next `above`, c + 1, by subtracting `M` (`!(x − c − 1)` =
/// `!(x − above) − M`). `above` itself is not kept: `last`, the key last taken (first
/// i32::MIN − 1), is `above − 1`, and c is `last − M`. So a round is one maximum and one
/// subtraction, with no addition of `above` back and no increment of it. Scalar twin of the
/// wasm32 one, step for step.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub struct Tagged {
    keys: [u32; MAX_VECTORS],
    last: u32,
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
impl Tagged {
    /// The state of `key[..n]`, none taken.
    pub fn load(key: &[f32; MAX_VECTORS], n: usize) -> Tagged {
        // !(x − i32::MIN) = x ^ i32::MAX.
        let keys = core::array::from_fn(|i| (order_bits(if i < n { key[i] } else { f32::NAN }) & !31 | i as u32) ^ 0x7FFF_FFFF);
        // i32::MIN − 1 (wrapping).
        Tagged { keys, last: 0x7FFF_FFFF }
    }

    /// Takes and returns the smallest tagged key not taken yet (a slot ≥ n only once every slot
    /// < n is taken).
    pub fn take_min(&mut self) -> u32 {
        let m = self.keys.iter().copied().max().unwrap_or(0);
        for x in self.keys.iter_mut() {
            *x = x.wrapping_sub(m);
        }
        self.last = self.last.wrapping_sub(m);
        self.last
    }
}

/// [`Tagged`] on wasm32: the 32 complements as eight `i32x4` rows (slot `i` = lane `i % 4` of row
/// `i / 4`) kept in registers. A round is a tree of `u32x4.max` and a fold across lanes, which
/// leaves the maximum in every lane (so the subtractions need no splat), then eight
/// subtractions: eight dependent steps from one round's maximum to the next, where a minimum over
/// differences from `above` took ten (`above` added back to it and incremented); integer maximum
/// is single-cycle on common CPUs, where the float one takes about four.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub struct Tagged {
    rows: [core::arch::wasm32::v128; MAX_VECTORS / 4],
    last: u32,
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl Tagged {
    /// The state of `key[..n]`, none taken.
    #[inline(always)]
    pub fn load(key: &[f32; MAX_VECTORS], n: usize) -> Tagged {
        use core::arch::wasm32::*;
        // Plain constants: with the loop below kept rolled, each appears once in the wasm (+∞ is
        // read from the SNN's constant table instead, 10 bytes less).
        let inf = crate::snn::lanes::infinity();
        let low = u32x4_splat(31);
        // The first row's slots with bits 5..30 set (0x7FFF_FFE0; see the last step below).
        let lanes = i32x4(0x7FFF_FFE0, 0x7FFF_FFE1, 0x7FFF_FFE2, 0x7FFF_FFE3);
        // +0.0 from a hidden zero rather than another 18-byte constant.
        let zero = crate::snn::lanes::zero();
        // n − 1 plus the same bits 5..30 (n ≤ 32: at most i32::MAX, no overflow).
        let last = i32x4_splat(0x7FFF_FFDF + n as i32);
        let rows = core::array::from_fn(|j| {
            let slots = i32x4_add(lanes, i32x4_splat(4 * j as i32));
            // SAFETY: j < 8, so the 16 bytes read lie inside the 128-byte array; no alignment needed.
            let d = unsafe { v128_load(key.as_ptr().add(4 * (j & 7)) as *const v128) };
            // A slot ≥ n reads NaN (all ones), which pmin(∞, ·) maps to +∞ as it does every NaN:
            // it sorts with the +∞ keys, after those of the slots < n. Adding +0 turns −0 into +0.
            let b = f32x4_add(f32x4_pmin(inf, v128_or(d, i32x4_gt(slots, last))), zero);
            // Signed order: the 31 low bits flipped on a negative value.
            let b = v128_xor(b, u32x4_shr(i32x4_shr(b, 31), 1));
            // The tagged key x (the slot in the low 5 bits), complemented as its difference to
            // i32::MIN, the bottom of the signed order and the first `above`:
            // !(x − i32::MIN) = x ^ i32::MAX = (b | 31) ^ (slot ^ 31) ^ i32::MAX, and
            // (slot ^ 31) ^ i32::MAX is the slot with bits 5..30 set.
            v128_xor(v128_or(b, low), slots)
        });
        // Copied whole into `Tagged`, whose rows are only ever indexed by constants: registers.
        // `last` starts at i32::MIN − 1 (wrapping), as `above` at i32::MIN.
        Tagged { rows, last: i32::MAX as u32 }
    }

    /// Takes and returns the smallest tagged key not taken yet (a slot ≥ n only once every slot
    /// < n is taken).
    #[inline(always)]
    pub fn take_min(&mut self) -> u32 {
        use core::arch::wasm32::*;
        let k = &mut self.rows;
        let m = u32x4_max(
            u32x4_max(u32x4_max(k[0], k[1]), u32x4_max(k[2], k[3])),
            u32x4_max(u32x4_max(k[4], k[5]), u32x4_max(k[6], k[7])),
        );
        let m = u32x4_max(m, i32x4_shuffle::<2, 3, 0, 1>(m, m));
        let m = u32x4_max(m, i32x4_shuffle::<1, 0, 3, 2>(m, m));
        // Written out: a loop stays rolled in a size-optimised build, and the rows then live in
        // memory.
        let t = |x: v128| i32x4_sub(x, m);
        *k = [t(k[0]), t(k[1]), t(k[2]), t(k[3]), t(k[4]), t(k[5]), t(k[6]), t(k[7])];
        self.last = self.last.wrapping_sub(i32x4_extract_lane::<0>(m) as u32);
        self.last
    }
}

/// Writes record `p` (masked to a slot) of `out`: distance `d`, and as one 32-bit store its first
/// four bytes `idx | core_id << 8` (pad 0), given as `head` (field by field they were three
/// stores; size budget).
#[inline(always)]
fn put(out: &mut Results, p: usize, head: u32, d: f32) {
    let rec = &mut out[slot(p)];
    // SAFETY: `ResultRecord` is `repr(C)` and 4-aligned, with `idx`, `core_id` and `pad` (u16)
    // in its first four bytes in that order, so this is an aligned, in-bounds write of exactly
    // those fields, whose bytes are `head`'s in little-endian order: idx, core_id, then 0, 0.
    unsafe { (rec as *mut ResultRecord as *mut u32).write(head.to_le()) };
    rec.distance = d;
}

/// `p` as a result slot: callers hold `p < 16` already; the mask lets the compiler drop the
/// bounds check (see [`crate::node`]).
#[inline(always)]
fn slot(p: usize) -> usize {
    p & (MAX_RESULTS - 1)
}

/// `keys` filled with 32 zeros, for a scan's distances. On wasm32 as eight stores of a zero
/// register in place: a plain `[0.0; 32]` becomes a `memory.fill`, and a returned array was
/// copied with a `memory.copy`, both of which engines run out of line (a call per search).
#[inline(always)]
pub(crate) fn zeroed_keys(keys: &mut MaybeUninit<[f32; MAX_VECTORS]>) -> &mut [f32; MAX_VECTORS] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::{v128, v128_store};
        let z = crate::snn::lanes::zero();
        let p = keys.as_mut_ptr() as *mut f32;
        for j in 0..MAX_VECTORS / 4 {
            // SAFETY: j < 8: the 16 bytes at p + 4j lie inside the 128 of `keys`; v128_store has
            // no alignment requirement.
            unsafe { v128_store(p.add(4 * j) as *mut v128, z) };
        }
        // SAFETY: all 128 bytes were just written with the bits of +0.0.
        unsafe { keys.assume_init_mut() }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        keys.write([0.0; MAX_VECTORS])
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
pub fn merge(global: &mut Results, records: &[ResultRecord]) -> u32 {
    let mut len = global.iter().position(|r| r.idx == NONE).unwrap_or(MAX_RESULTS);
    for r in records {
        if r.idx != NONE && !r.distance.is_nan() {
            len = insert_sorted(global, len, MAX_RESULTS, ResultRecord { pad: 0, ..*r });
        }
    }
    len as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::{norm, Metric};
    use crate::graph::tests::{filled, Rng};

    /// Exact k-nearest neighbours of `q` (norm `qn`) within distance `bound` (+∞: all) by
    /// scanning every stored vector (`k` clamped to 1..=16): what `MicroHnsw::search_within` does
    /// after its query checks, on a bare graph.
    fn scan(g: &Graph, q: &Vector, qn: f32, k: usize, core_id: u8, out: &mut Results, bound: f32) -> u32 {
        let mut keys = MaybeUninit::uninit();
        let dist = zeroed_keys(&mut keys);
        let n = g.len_inline();
        g.distances(q, qn, n, dist);
        top_k(dist, n, k.clamp(1, MAX_RESULTS), core_id as u32, out, bound)
    }

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
                    assert_eq!(scan(&g, &q, norm(&q), k, 3, &mut out, f32::INFINITY), k as u32);
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
                assert_eq!(scan(&g, &q, norm(&q), k, 1, &mut all, f32::INFINITY), k as u32);
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

    /// The exact answer of `top_k` by sorting: (distance with NaN as +∞, −0 = +0), then index.
    #[allow(clippy::neg_cmp_op_on_partial_ord)] // a NaN bound keeps every key, as in top_k
    fn reference_top_k(key: &[f32; MAX_VECTORS], n: usize, k: usize, bound: f32) -> std::vec::Vec<(u8, u32)> {
        let mut all: std::vec::Vec<(f32, usize)> =
            (0..n).map(|i| (if key[i].is_nan() { f32::INFINITY } else { key[i] }, i)).collect();
        all.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)));
        all.into_iter().filter(|&(d, _)| !(d > bound)).take(k).map(|(d, i)| (i as u8, d.to_bits())).collect()
    }

    fn check_top_k(key: &[f32; MAX_VECTORS], n: usize, k: usize, bound: f32) {
        let mut out = [ResultRecord::EMPTY; MAX_RESULTS];
        let got = top_k(key, n, k, 7, &mut out, bound) as usize;
        let want = reference_top_k(key, n, k, bound);
        let have: std::vec::Vec<(u8, u32)> = out[..got].iter().map(|r| (r.idx, r.distance.to_bits())).collect();
        assert_eq!(have, want, "n={n} k={k} bound={bound} keys={:?}", &key[..n]);
        assert!(out[..got].iter().all(|r| r.core_id == 7 && r.pad == 0));
        assert!(out[got..].iter().all(|r| *r == ResultRecord::EMPTY));
    }

    #[test]
    fn top_k_is_exact_where_tagged_keys_collide() {
        // Keys that differ only in their low bits share a tagged group and reach the selection in
        // slot order: near-ties around the k-th place, out-of-order groups, duplicates, ±0, NaN,
        // ±∞ and bounds inside a group all have to come out as the exact sort says.
        let mut rng = Rng(2024);
        let bases = [1.0f32, -1.0, 0.0, 1e-30, -3.5, 7.25e6];
        for round in 0..20_000 {
            let n = 1 + rng.below(MAX_VECTORS);
            let mut key = [0.0f32; MAX_VECTORS];
            let base = bases[rng.below(bases.len())];
            for x in key.iter_mut() {
                *x = match rng.below(10) {
                    // Same group or a neighbouring one: a few ulps apart.
                    0..=4 => f32::from_bits(base.to_bits().wrapping_add(rng.below(96) as u32)),
                    5 => -base,
                    6 => [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 0.0][rng.below(5)],
                    _ => rng.below(1000) as f32 / 100.0 - 5.0,
                };
            }
            // Garbage past n must not matter.
            for x in key[n..].iter_mut() {
                *x = -1e30;
            }
            let k = 1 + rng.below(MAX_RESULTS);
            let bound = match round % 4 {
                0 => f32::INFINITY,
                1 => key[rng.below(n)],
                2 => f32::from_bits(base.to_bits().wrapping_add(rng.below(96) as u32)),
                _ => f32::NAN,
            };
            check_top_k(&key, n, k, bound);
        }
    }

    #[test]
    fn top_k_of_no_keys_is_empty() {
        let key = [1.0f32; MAX_VECTORS];
        let mut out = [ResultRecord { idx: 3, core_id: 1, pad: 0, distance: 2.0 }; MAX_RESULTS];
        assert_eq!(top_k(&key, 0, 5, 0, &mut out, f32::INFINITY), 0);
        assert!(out.iter().all(|r| *r == ResultRecord::EMPTY));
    }

    #[test]
    fn top_k_takes_the_fast_path_on_distinct_keys() {
        // Well-separated keys need no fallback: the tagged rounds alone give the exact answer.
        let mut rng = Rng(99);
        for _ in 0..2000 {
            let mut key = [0.0f32; MAX_VECTORS];
            for x in key.iter_mut() {
                *x = rng.below(1 << 20) as f32 / 1024.0 - 512.0;
            }
            let n = 1 + rng.below(MAX_VECTORS);
            let k = 1 + rng.below(MAX_RESULTS);
            let mut out = [ResultRecord::EMPTY; MAX_RESULTS];
            let m = k.min(n);
            // Distinct keys on a 1/1024 grid never share a group (they differ above bit 5).
            let mut sorted: std::vec::Vec<f32> = key[..n].to_vec();
            sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
            if sorted.windows(2).any(|w| w[0] == w[1]) {
                continue;
            }
            assert_eq!(tagged_top_k(&key, n, m, 0, &mut out, f32::INFINITY), Some(m as u32));
            check_top_k(&key, n, k, f32::INFINITY);
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
