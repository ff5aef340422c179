//! Dendritic branches: one compartment per synapse slot of each neuron, integer Q16.16.
//!
//! Branch `b` of neuron `n` collects the input arriving over the synapse in slot `b` of `n`'s
//! synapse list (the graph is bidirectional, so the link `n — m` occupies a slot in both lists).
//! [`Dendrites::integrate`] passes every branch through the supralinear nonlinearity
//! `f(d) = d` for `d ≤ 1.0` and `f(d) = d²` above (exponent 2.0; continuous at 1.0, so coincident
//! input on one branch counts more than the same input spread over several), adds the sum to the
//! soma and empties the branches (the charge has moved). Arithmetic: `d²` is
//! `(d as i64 * d) >> 16` (floor), saturated to `i32`; sums saturate.
use crate::snn::{Fx, Synapses, MAX_EDGES, NEURONS};

/// 1.0 in Q16.16.
const ONE: Fx = 1 << 16;
/// The smallest d whose `d² >> 16` exceeds `i32::MAX` (d² ≥ 2^47; 11_863_283² < 2^47).
const SQUARE_OVERFLOW: Fx = 11_863_284;
const _: () = assert!(
    (SQUARE_OVERFLOW as i64 - 1).pow(2) >> 16 <= i32::MAX as i64
        && (SQUARE_OVERFLOW as i64).pow(2) >> 16 > i32::MAX as i64
);

/// Branch potentials of every neuron.
#[derive(Default)]
pub struct Dendrites {
    /// `branch[n][b]`: Q16.16 potential of branch `b` of neuron `n`.
    pub branch: [[Fx; MAX_EDGES]; NEURONS],
}

/// The supralinear branch nonlinearity on a Q16.16 value.
pub fn nonlinearity(d: Fx) -> Fx {
    // d² >> 16 exceeds i32::MAX exactly when d ≥ SQUARE_OVERFLOW: an i32 comparison instead of an
    // i64 one with a 7-byte constant. The square is formed unconditionally (truncated where it is
    // not used), so the three cases compile to selects, not branches (size budget).
    let sq = ((d as i64 * d as i64) >> 16) as i32;
    if d <= ONE {
        d
    } else if d >= SQUARE_OVERFLOW {
        i32::MAX
    } else {
        sq
    }
}

impl Dendrites {
    /// All branches at zero.
    pub const fn new() -> Dendrites {
        Dendrites { branch: [[0; MAX_EDGES]; NEURONS] }
    }

    /// Zeroes every branch.
    pub fn reset(&mut self) {
        *self = Dendrites::new();
    }

    /// Adds `current` to branch `b` (< 6) of neuron `n` (< 32) (saturating).
    pub fn inject(&mut self, n: usize, b: usize, current: Fx) {
        let (n, b) = (n & (NEURONS - 1), b.min(MAX_EDGES - 1));
        crate::snn::add_saturating(&mut self.branch[n][b], current);
    }

    /// Sum of `f(branch)` over the `branches` connected branches of `n`; empties all of `n`'s
    /// branches and returns the sum (which the caller adds to the soma).
    pub fn integrate(&mut self, n: usize, branches: usize) -> Fx {
        let n = n & (NEURONS - 1);
        let mut total: Fx = 0;
        for b in 0..MAX_EDGES {
            if b < branches {
                total = crate::snn::sat_add(total, nonlinearity(self.branch[n][b]));
            }
            self.branch[n][b] = 0;
        }
        total
    }

    /// For every neuron `i` set in `spikes`, adds `gain × w / 65536` to the branch of each
    /// neighbour `t` that faces `i`, where `w = synaptic weight(i→t) × node_weight[i]` (both u8, so
    /// `w/65536` ∈ [0, 0.993]); the product is computed in i64 and floored.
    pub fn propagate(&mut self, syn: &Synapses, node_weight: &[u8; NEURONS], spikes: u32, gain: Fx) {
        for i in crate::snn::Neurons(spikes) {
            // gain × node_weight[i] once per sender: |gain| < 2^31 and both weights < 2^8, so no
            // product overflows i64 and the order of the factors changes nothing.
            let gain_nw = gain as i64 * node_weight[i] as i64;
            // All six slots with the in-use test inside (j < 6, so j < count[i] is j < edges(i)):
            // a loop of fixed length, without the empty-list guard and the min(count, 6) of a
            // variable one (size budget; this export is not on a hot path).
            for j in 0..MAX_EDGES {
                if j >= syn.count[i] as usize {
                    continue;
                }
                let t = syn.target[i][j] as usize & (NEURONS - 1);
                let current = ((gain_nw * syn.weight[i][j] as i64) >> 16) as Fx;
                // The branch of t that faces i, if t links back to i. slot_of finds the first slot
                // b < count[t] holding i, else returns 0; so target[t][b] == i means a link unless
                // b = 0 was not found, which (slot 0 holding i) happens only when count[t] = 0:
                // testing count[t] != 0 replaces b < count[t] (size budget).
                // The branch and its synapse as one flat row-major index (t < 32 and b < 6, so
                // below 192), which the target and branch tables share (size budget).
                let s = t * MAX_EDGES + syn.slot_of(t, i);
                if syn.target.as_flattened()[s] as usize == i && syn.count[t] != 0 {
                    crate::snn::add_saturating(&mut self.branch.as_flattened_mut()[s], current);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonlinearity_is_linear_below_one_and_square_above() {
        assert_eq!(nonlinearity(0), 0);
        assert_eq!(nonlinearity(-3 * ONE), -3 * ONE);
        assert_eq!(nonlinearity(ONE / 2), ONE / 2);
        assert_eq!(nonlinearity(ONE), ONE);
        assert_eq!(nonlinearity(2 * ONE), 4 * ONE);
        assert_eq!(nonlinearity(3 * ONE / 2), 9 * ONE / 4);
        assert_eq!(nonlinearity(1000 * ONE), i32::MAX, "saturates");
    }

    #[test]
    fn coincident_input_on_one_branch_beats_spread_input() {
        let mut d = Dendrites::new();
        d.inject(0, 0, ONE);
        d.inject(0, 0, ONE);
        d.inject(1, 0, ONE);
        d.inject(1, 1, ONE);
        assert_eq!(d.integrate(0, 6), 4 * ONE);
        assert_eq!(d.integrate(1, 6), 2 * ONE);
        assert_eq!(d.integrate(0, 6), 0, "integration empties the branches");
    }

    #[test]
    fn unconnected_branches_are_ignored_but_cleared() {
        let mut d = Dendrites::new();
        d.inject(3, 4, ONE);
        assert_eq!(d.integrate(3, 2), 0);
        assert_eq!(d.branch[3][4], 0);
    }

    #[test]
    fn propagation_reaches_the_branch_facing_the_sender() {
        let mut syn = Synapses::new();
        // 0 — 1 and 0 — 2; neuron 1 lists 0 in slot 0, neuron 2 lists 0 in slot 0.
        syn.target[0][0] = 1;
        syn.target[0][1] = 2;
        syn.count[0] = 2;
        syn.target[1][0] = 0;
        syn.count[1] = 1;
        syn.target[2][0] = 0;
        syn.count[2] = 1;
        syn.weight[0][0] = 255;
        syn.weight[0][1] = 128;
        let mut nw = [0u8; NEURONS];
        nw[0] = 255;
        let mut d = Dendrites::new();
        d.propagate(&syn, &nw, 1, 2 * ONE);
        assert_eq!(d.branch[1][0], ((2 * ONE as i64 * 255 * 255) >> 16) as i32);
        assert_eq!(d.branch[2][0], ((2 * ONE as i64 * 128 * 255) >> 16) as i32);
        assert_eq!(d.branch[0], [0; MAX_EDGES], "the sender receives nothing");
    }
}
