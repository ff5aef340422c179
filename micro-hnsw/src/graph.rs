//! Vector storage and the proximity graph.
//!
//! The graph is undirected (every link is stored in both endpoints' synapse lists), each node has
//! at most [`MAX_NEIGHBORS`] links, and it is **always connected**: each node `x > 0` is attached to
//! a *parent* — the nearest earlier node able to take a link — and these spanning-tree links are
//! never pruned. Other links are the nearest neighbours found at insertion; when a node is full, a
//! closer newcomer replaces its farthest non-tree link (removed from both ends, so links stay
//! bidirectional). Because the synapse table of the spiking network [`Synapses`] *is* the adjacency
//! list, a new link starts with weight [`INITIAL_WEIGHT`] and STDP later reweights it.
use crate::distance::{norm, quad_distances, Block, Metric, Quad, Vector};
use crate::snn::{Synapses, INITIAL_WEIGHT};
use crate::{edge, node, MAX_DIMS, MAX_NEIGHBORS, MAX_VECTORS, NONE};
use core::mem::MaybeUninit;

/// Vectors, norms and links of one core.
#[repr(C, align(16))]
pub struct Graph {
    /// Stored vectors (zero beyond `dims`), dimension-major, four per [`Block`] (vector `i` is
    /// lane `i % 4` of block `i / 4`); the scan reads them as [`Quad`]s of four blocks and
    /// computes sixteen distances per pass over the dimensions. First field of a 16-byte-aligned
    /// `repr(C)` struct, so no SIMD load of a block row straddles a cache line.
    pub blocks: [Block; MAX_VECTORS / 4],
    /// `‖vectors[i]‖` (used by the cosine metric).
    pub norms: [f32; MAX_VECTORS],
    /// Spanning-tree parent of each node ([`NONE`] for node 0).
    pub parent: [u8; MAX_VECTORS],
    /// Adjacency = synapse table: `target[i][..count[i]]` are the neighbours of `i`.
    pub synapses: Synapses,
    /// `edge_length[i][j]`: distance from `i` to `synapses.target[i][j]`.
    pub edge_length: [[f32; MAX_NEIGHBORS]; MAX_VECTORS],
    /// Number of stored vectors.
    pub count: u8,
    /// Dimensionality (1..=16).
    pub dims: u8,
    /// Distance metric.
    pub metric: Metric,
}

impl Default for Graph {
    fn default() -> Self {
        Self::new()
    }
}

impl Graph {
    /// An empty 16-dimensional L2 graph.
    pub const fn new() -> Graph {
        Graph {
            blocks: [[[0.0; 4]; MAX_DIMS]; MAX_VECTORS / 4],
            norms: [0.0; MAX_VECTORS],
            parent: [NONE; MAX_VECTORS],
            synapses: Synapses::new(),
            edge_length: [[0.0; MAX_NEIGHBORS]; MAX_VECTORS],
            count: 0,
            dims: MAX_DIMS as u8,
            metric: Metric::L2,
        }
    }

    /// Distance between query `q` (norm `qn`) and stored vector `i` (NaN reported as +∞).
    pub fn distance_to(&self, q: &Vector, qn: f32, i: usize) -> f32 {
        let i = node(i);
        let d = self.metric.distance(q, qn, &self.vector(i), self.norms[i]);
        if d.is_nan() {
            f32::INFINITY
        } else {
            d
        }
    }

    /// Distances from `q` (norm `qn`) to the first `n` stored vectors, written to `out[..n]`
    /// (NaN reported as +∞); `out[n..]` may receive the distances of empty slots.
    #[inline(always)]
    pub fn distances(&self, q: &Vector, qn: f32, n: usize, out: &mut [f32; MAX_VECTORS]) {
        // SAFETY: `out` is 32 writable, initialised f32, and `distances_into` only writes f32.
        unsafe { self.distances_into(q, qn, n, out.as_mut_ptr()) }
    }

    /// [`distances`](Self::distances) into `out`, which may be uninitialised: it writes all of
    /// `out[..16 * ceil(n / 16)]` (n clamped to 32), so the first `n` are initialised after it.
    /// Insertion reads only those, so its buffer is not zero-filled first (a `memory.fill`, which
    /// V8 runs as an out-of-line call; size budget). This is the one hot loop: sixteen vectors per
    /// pass over the dimensions.
    ///
    /// # Safety
    /// `out` must be valid for writes of 32 `f32`.
    #[inline(never)]
    pub unsafe fn distances_into(&self, q: &Vector, qn: f32, n: usize, out: *mut f32) {
        let n = n.min(MAX_VECTORS);
        // Clamped: the count the kernel's `take(dims)` over 16 components gave anyway, and with it
        // the scan loops drop their second exit test (size budget, and faster).
        let dims = (self.dims as usize).min(MAX_DIMS);
        let l2 = self.metric == Metric::L2;
        for (j, quad) in self.quads().iter().enumerate().take(n.div_ceil(16)) {
            // SAFETY: j < 2, so the 16 f32 at out + 16j lie inside the 32 the caller provides
            // (f32-aligned, as `[[f32; 4]; 4]` needs).
            unsafe { (out.add(16 * j) as *mut [[f32; 4]; 4]).write(quad_distances(q, quad, dims, l2)) };
        }
        if l2 {
            // A sum of squares of finite differences is never NaN (at worst +∞): done.
            return;
        }
        // SAFETY: the loop above initialised out[..16 * ceil(n / 16)] ⊇ out[..n] (n ≤ 32).
        let out = unsafe { core::slice::from_raw_parts_mut(out, n) };
        let dot = self.metric == Metric::Dot;
        for (d, &m) in out.iter_mut().zip(&self.norms) {
            let nn = qn * m;
            // Cosine: 1 when nn is zero (1 − 0 is exactly 1), else 1 − d / nn. The division stays
            // inside the cosine branch: computed before it, for both metrics, it cost dot-metric
            // searches 2–4 % (2 bytes).
            *d = if dot { -*d } else { 1.0 - if nn == 0.0 { 0.0 } else { *d / nn } };
            if d.is_nan() {
                *d = f32::INFINITY;
            }
        }
    }

    /// The blocks as two quads (vectors 0–15 and 16–31).
    fn quads(&self) -> &[Quad; MAX_VECTORS / 16] {
        // SAFETY: `[Block; 8]` and `[[Block; 4]; 2]` have the same size, alignment and layout
        // (arrays are contiguous), and the borrow of `self.blocks` bounds the result's lifetime.
        unsafe { &*(self.blocks.as_ptr() as *const [Quad; MAX_VECTORS / 16]) }
    }

    /// Stored vector `i`, gathered from its block (by the out-of-line `gather`, straight into
    /// the caller's local).
    #[inline(always)]
    pub fn vector(&self, i: usize) -> Vector {
        let mut v = MaybeUninit::uninit();
        self.gather(i, &mut v);
        // SAFETY: `gather` wrote all 16 components.
        unsafe { v.assume_init() }
    }

    /// Writes stored vector `i` to `out`, every component. Out of line and writing through the
    /// pointer: returning the array built it in a zero-filled local and copied it out (size
    /// budget).
    #[inline(never)]
    fn gather(&self, i: usize, out: &mut MaybeUninit<Vector>) {
        let block = &self.blocks[node(i) / 4];
        let out = out.as_mut_ptr() as *mut f32;
        for (d, row) in block.iter().enumerate() {
            // SAFETY: d < 16, inside the 16-f32 array `out` points to.
            unsafe { out.add(d).write(row[i % 4]) };
        }
    }

    /// Writes vector `i` into its block and records its norm, which it returns (the callers need
    /// it next: reading it back cost a load each; size budget).
    fn store(&mut self, i: usize, v: &Vector) -> f32 {
        let i = node(i);
        for (d, &x) in v.iter().enumerate() {
            self.blocks[i / 4][d][i % 4] = x;
        }
        let n = norm(v);
        self.norms[i] = n;
        n
    }

    /// Neighbours of node `i`.
    pub fn neighbors(&self, i: usize) -> &[u8] {
        let i = node(i);
        &self.synapses.target[i][..self.degree(i)]
    }

    /// Bitmap of the stored nodes (bit `i` set for `i < count`). Out of line: inlined into its
    /// twenty-odd callers it cost ~150 bytes of the size budget.
    #[inline(never)]
    pub fn active(&self) -> u32 {
        if self.count as usize >= 32 {
            u32::MAX
        } else {
            (1u32 << self.count) - 1
        }
    }

    /// Number of stored vectors, as a slot bound. Out of line (the cold callers share one copy);
    /// the scan inlines [`len_inline`](Self::len_inline).
    #[inline(never)]
    pub fn len(&self) -> usize {
        self.len_inline()
    }

    /// [`len`](Self::len), inlined.
    #[inline(always)]
    pub fn len_inline(&self) -> usize {
        (self.count as usize).min(MAX_VECTORS)
    }

    /// True when no vector is stored.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Number of links of node `i`. Out of line: one copy serves the cold callers (size budget);
    /// insertion's candidate loop inlines [`degree_inline`](Self::degree_inline).
    #[inline(never)]
    pub fn degree(&self, i: usize) -> usize {
        self.degree_inline(i)
    }

    /// [`degree`](Self::degree), inlined.
    #[inline(always)]
    pub fn degree_inline(&self, i: usize) -> usize {
        (self.synapses.count[node(i)] as usize).min(MAX_NEIGHBORS)
    }

    /// Stores `v` (finite, zero beyond `dims`) and links it. Returns its index, or [`NONE`] when
    /// full (a plain integer: an `Option` was returned through memory in the wasm; a `u32`, as
    /// the ABI returns it, since a `u8` was masked to a byte again there; size budget).
    pub fn insert(&mut self, v: &Vector) -> u32 {
        let x = self.count as usize;
        if x >= MAX_VECTORS {
            return NONE as u32;
        }
        let xn = self.store(x, v);
        self.synapses.count[x] = 0;
        self.parent[x] = NONE;
        // x + 1, not `count += 1`: the count was x, and this needs no reload after `store`.
        self.count = x as u8 + 1;
        if x == 0 {
            return 0;
        }
        // Not zero-filled: only dist[..x] is read, which `distances_into` writes.
        let mut dist = MaybeUninit::<[f32; MAX_VECTORS]>::uninit();
        // SAFETY: `dist` holds 32 f32.
        unsafe { self.distances_into(v, xn, x, dist.as_mut_ptr() as *mut f32) };
        // SAFETY (each read): i is a bit of `untried` below, so i < x: one of the x distances
        // written (x ≤ 31 here).
        let dist = |i: usize| unsafe { (dist.as_ptr() as *const f32).add(i).read() };
        // Visit the earlier nodes nearest first. The first that can take a link becomes the
        // parent (a tree link, never pruned; one always exists because tree links use fewer than
        // two of the six slots per node on average). Each of the MAX_NEIGHBORS nearest is linked
        // too when it has room or when the newcomer is closer than its farthest prunable link,
        // which is then removed from both ends.
        // `untried`: bitmap of the earlier nodes not visited yet (x < 32, so the shift is in range).
        let mut untried = (1u32 << x) - 1;
        let mut parented = false;
        let mut rank = 0;
        while untried != 0 && (!parented || rank < MAX_NEIGHBORS) {
            // Nearest untried node, lowest index on ties: walk the set bits only.
            let mut c = untried.trailing_zeros() as usize;
            let mut cd = dist(c);
            let mut rest = untried & (untried - 1);
            while rest != 0 {
                let j = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                if dist(j) < cd {
                    c = j;
                    cd = dist(j);
                }
            }
            untried &= !(1 << c);
            rank += 1;
            if self.degree_inline(c) == MAX_NEIGHBORS {
                // Full: skipped when it has no prunable link, or (unless it is to become the
                // parent) when the newcomer is not closer than that link.
                let f = self.farthest_prunable(c);
                if f == MAX_VECTORS || (parented && self.length(c, f) <= cd) {
                    continue;
                }
                self.unlink(c, f);
            }
            if !parented {
                parented = true;
                self.parent[x] = c as u8;
            }
            self.link(x, c, cd); // cd = dist[c]
        }
        x as u32
    }

    fn is_tree_link(&self, a: usize, b: usize) -> bool {
        self.parent[node(a)] as usize == b || self.parent[node(b)] as usize == a
    }

    /// Neighbour of `i` at the largest distance among non-tree links; `MAX_VECTORS` if none.
    fn farthest_prunable(&self, i: usize) -> usize {
        let mut best = MAX_VECTORS;
        let mut best_d = f32::NEG_INFINITY;
        // Called for a full node only: all MAX_NEIGHBORS slots are its links.
        for (&t, &d) in self.synapses.target[node(i)].iter().zip(self.edge_length[node(i)].iter()) {
            if d >= best_d && !self.is_tree_link(i, t as usize) {
                best = t as usize;
                best_d = d;
            }
        }
        best
    }

    /// Slot of `b` in `a`'s list (the link exists whenever this is called).
    fn slot_of(&self, a: usize, b: usize) -> usize {
        self.synapses.slot_of(a, b)
    }

    fn length(&self, a: usize, b: usize) -> f32 {
        self.edge_length[node(a)][self.slot_of(a, b)]
    }

    /// Adds the link `a — b` of length `d` to both lists.
    fn link(&mut self, a: usize, b: usize, d: f32) {
        self.add_synapse(a, b, d);
        self.add_synapse(b, a, d);
    }

    #[inline(never)]
    fn add_synapse(&mut self, from: usize, to: usize, d: f32) {
        let from = node(from);
        let s = edge(self.degree_inline(from));
        self.synapses.target[from][s] = to as u8;
        self.synapses.weight[from][s] = INITIAL_WEIGHT;
        self.edge_length[from][s] = d;
        self.synapses.count[from] = s as u8 + 1;
    }

    /// Removes the link `a — b` from both lists (the last slot moves into the freed one).
    fn unlink(&mut self, a: usize, b: usize) {
        self.remove_synapse(a, b);
        self.remove_synapse(b, a);
    }

    fn remove_synapse(&mut self, from: usize, to: usize) {
        let from = node(from);
        let s = self.slot_of(from, to);
        // The raw count less one, clamped by `edge`: the same slot as the degree less one (a count
        // of 0 wraps to 5 either way, one above 6 gives 5 either way), one clamp fewer (size
        // budget).
        let last = edge((self.synapses.count[from] as usize).wrapping_sub(1));
        self.synapses.count[from] = last as u8;
        // Flat row-major indices (from < 32 and slots < 6, so below 192: no bounds check), which
        // the three tables share; indexed by row and slot, each table's row address was computed
        // apart (size budget).
        let (fs, fl) = (from * MAX_NEIGHBORS + s, from * MAX_NEIGHBORS + last);
        let target = self.synapses.target.as_flattened_mut();
        target[fs] = target[fl];
        let weight = self.synapses.weight.as_flattened_mut();
        weight[fs] = weight[fl];
        let length = self.edge_length.as_flattened_mut();
        length[fs] = length[fl];
    }

    /// Replaces vector `i` (already validated) and refreshes its norm and link lengths. Links are
    /// kept, so the graph stays connected. Inlined into its one caller, `update_vector`, so the
    /// two share one stack frame (size budget).
    #[inline(always)]
    pub fn replace(&mut self, i: usize, v: &Vector) {
        let i = node(i);
        let n = self.store(i, v);
        // Zero-filled: a link target is below count, but the table is writable through
        // `snn_get_synapse_ptr`, and any slot it names must read a defined distance.
        let mut dist = [0.0f32; MAX_VECTORS];
        self.distances(v, n, self.count as usize, &mut dist);
        for s in 0..self.degree(i) {
            let t = node(self.synapses.target[i][s] as usize);
            let d = dist[t];
            self.edge_length[i][s] = d;
            let back = self.slot_of(t, i);
            self.edge_length[t][back] = d;
        }
    }

    /// Bitmap of the nodes reachable from node 0 (all stored nodes, by construction).
    pub fn reachable(&self) -> u32 {
        if self.count == 0 {
            return 0;
        }
        let mut seen = 1u32;
        let mut frontier = 1u32;
        while frontier != 0 {
            let i = frontier.trailing_zeros() as usize;
            frontier &= frontier - 1;
            for &t in self.neighbors(i) {
                if seen & (1 << t) == 0 {
                    seen |= 1 << t;
                    frontier |= 1 << t;
                }
            }
        }
        seen
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// xorshift32 in [-1, 1): deterministic test vectors.
    pub struct Rng(pub u32);
    impl Rng {
        pub fn next(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            (self.0 >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        }
        /// Uniform in 0..n (n ≥ 1; slightly biased, fine for tests).
        pub fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            self.0 as usize % n
        }
        pub fn vector(&mut self, dims: usize) -> Vector {
            let mut v = [0.0; MAX_DIMS];
            for x in v.iter_mut().take(dims) {
                *x = self.next();
            }
            v
        }
    }

    pub fn filled(metric: Metric, dims: usize, seed: u32) -> Graph {
        let mut g = Graph::new();
        g.metric = metric;
        g.dims = dims as u8;
        let mut rng = Rng(seed);
        for i in 0..MAX_VECTORS {
            assert_eq!(g.insert(&rng.vector(dims)), i as u32);
        }
        g
    }

    fn check_invariants(g: &Graph) {
        let n = g.count as usize;
        assert_eq!(g.reachable(), g.active(), "every node reachable from node 0");
        for i in 0..n {
            let nb = g.neighbors(i);
            assert!(nb.len() <= MAX_NEIGHBORS);
            for (s, &t) in nb.iter().enumerate() {
                let t = t as usize;
                assert!(t < n && t != i, "link {i}->{t} in range, no self loop");
                assert_eq!(nb.iter().filter(|&&u| u as usize == t).count(), 1, "no duplicate link");
                assert!(g.neighbors(t).contains(&(i as u8)), "link {i}->{t} is bidirectional");
                let d = g.metric.distance(&g.vector(i), g.norms[i], &g.vector(t), g.norms[t]);
                assert!((g.edge_length[i][s] - d).abs() <= 1e-5 * (1.0 + d.abs()));
            }
            if i > 0 {
                assert!(nb.contains(&g.parent[i]), "tree link kept");
                assert!((g.parent[i] as usize) < i);
            }
        }
    }

    #[test]
    fn graph_stays_connected_and_bidirectional_for_every_metric() {
        for seed in 1..40u32 {
            for metric in [Metric::L2, Metric::Cosine, Metric::Dot] {
                let mut g = Graph::new();
                g.metric = metric;
                let mut rng = Rng(seed * 7919);
                for _ in 0..MAX_VECTORS {
                    assert_ne!(g.insert(&rng.vector(16)), NONE as u32);
                    check_invariants(&g);
                }
                assert_eq!(g.insert(&rng.vector(16)), NONE as u32, "a full core refuses");
                assert_eq!(g.count as usize, MAX_VECTORS);
            }
        }
    }

    #[test]
    fn identical_vectors_still_form_a_connected_graph() {
        let mut g = Graph::new();
        let v = [0.5f32; MAX_DIMS];
        for _ in 0..MAX_VECTORS {
            assert_ne!(g.insert(&v), NONE as u32);
        }
        check_invariants(&g);
    }

    #[test]
    fn nearest_earlier_node_is_linked_when_it_has_room() {
        let mut g = Graph::new();
        g.dims = 1;
        for x in [0.0f32, 10.0, 20.0, 11.0] {
            let mut v = [0.0; MAX_DIMS];
            v[0] = x;
            g.insert(&v);
        }
        assert_eq!(g.parent[3], 1, "11 is attached to 10");
        assert_eq!(g.parent[2], 1, "20 is attached to 10");
        assert_eq!(g.parent[1], 0);
    }

    /// A full node that is not the newcomer's nearest still takes the link when the newcomer is
    /// closer than its farthest non-tree link, which is dropped from both ends.
    #[test]
    fn full_neighbour_prunes_its_farthest_link_for_a_closer_newcomer() {
        let mut g = Graph::new();
        g.dims = 1;
        // 0 (hub), 100..105: the hub links to all six; only 100 is its tree child.
        // -2: nearest is the full hub; it becomes the tree parent by pruning 105.
        // -1.5 (node 8): nearest is -2 (room: parent); second nearest is the full hub, whose
        // farthest non-tree link (104, node 5) is far longer than 1.5² → pruned for node 8.
        for x in [0.0f32, 100.0, 101.0, 102.0, 103.0, 104.0, 105.0, -2.0, -1.5] {
            let mut v = [0.0; MAX_DIMS];
            v[0] = x;
            assert_ne!(g.insert(&v), NONE as u32);
        }
        assert_eq!(g.parent[7], 0);
        assert_eq!(g.parent[8], 7);
        let hub: std::vec::Vec<u8> = g.neighbors(0).to_vec();
        assert!(hub.contains(&8), "the hub links the newcomer: {hub:?}");
        assert!(!hub.contains(&5) && !g.neighbors(5).contains(&0), "the hub-104 link is gone: {hub:?}");
        assert_eq!(g.degree(0), MAX_NEIGHBORS);
        check_invariants(&g);
    }

    #[test]
    fn replace_keeps_lengths_in_sync() {
        let mut g = filled(Metric::L2, 8, 99);
        let mut rng = Rng(5);
        for i in [0usize, 7, 31] {
            g.replace(i, &rng.vector(8));
            check_invariants(&g);
        }
    }
}
