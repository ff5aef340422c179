//! `cargo bench -p sona-wasm --features std`: native timings of the SONA hot paths (256-d, rank 2,
//! medians) beside baselines measured in the same run. Natively only the scalar kernels exist
//! (the SIMD128 twins are wasm32-only), so each compared row times a hot path against the plain
//! (unfused / allocating / full-sort) way of computing the same result, and asserts that both give
//! the same answer on every benchmark input before timing them. The ratio column is ours ÷
//! baseline (below 1: ours is faster), as in the JS benches. The trajectory row has no
//! same-answer baseline: it is printed as a cost breakdown (the whole call sequence, its start +
//! end part, and the difference per add_step), without a ratio. Run the wasm numbers with
//! `node pkg-tests/bench/sona.bench.mjs`.

use sona_wasm::config::SonaConfig;
use sona_wasm::engine::SonaEngine;
use sona_wasm::kernels::{scalar, Kernels};
use std::hint::black_box;
use std::time::Instant;

const DIM: usize = 256;

/// Median ns per call of `f` over 31 batches of `batch` calls, after one warm-up batch.
fn bench(batch: usize, mut f: impl FnMut(usize)) -> f64 {
    for i in 0..batch {
        f(i);
    }
    let mut per: Vec<f64> = (0..31)
        .map(|_| {
            let t0 = Instant::now();
            for i in 0..batch {
                f(i);
            }
            t0.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    per.sort_by(|a, b| a.total_cmp(b));
    per[per.len() / 2]
}

/// One compared row; the ratio is ours ÷ baseline.
fn row(name: &str, ours: f64, baseline_name: &str, baseline: f64) {
    println!(
        "{name:<34} {ours:>10.1} ns   {baseline_name:<34} {baseline:>10.1} ns   {:>6.2}×",
        ours / baseline
    );
}

struct Lcg(u32);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(1664525).wrapping_add(1013904223);
        (self.0 as f32 / 4294967296.0) * 2.0 - 1.0
    }
    fn vec(&mut self) -> Vec<f32> {
        (0..DIM).map(|_| self.next()).collect()
    }
}

fn trained(trajectories: usize, inputs: &[Vec<f32>], topics: &[Vec<f32>]) -> SonaEngine {
    let config = SonaConfig {
        hidden_dim: DIM,
        embedding_dim: DIM,
        micro_lora_rank: 2,
        pattern_clusters: 100,
        ..SonaConfig::default()
    };
    let mut e = SonaEngine::new(config, 7).unwrap();
    for i in 0..trajectories {
        let id = e.start_trajectory(&topics[i % topics.len()]).unwrap();
        for s in 0..3 {
            e.add_step(
                id,
                &inputs[(i + s) % inputs.len()],
                &[],
                if s == 0 { 0.9 } else { 0.2 },
            )
            .unwrap();
        }
        e.end_trajectory(id, 0.8).unwrap();
    }
    e
}

fn main() {
    // `cargo bench --bench hot_paths -- <word>` runs only the rows whose section contains <word>
    // (cargo itself passes `--bench`, which is skipped).
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run =
        |section: &str| filter.is_empty() || filter.iter().any(|f| section.contains(f.as_str()));
    let mut rng = Lcg(12345);
    let inputs: Vec<Vec<f32>> = (0..64).map(|_| rng.vec()).collect();
    let topics: Vec<Vec<f32>> = (0..100).map(|_| rng.vec()).collect();
    let k = Kernels::new(false);
    println!("SONA native hot paths, {DIM}-d, rank 2, medians (this run; scalar kernels)");
    println!(
        "{:<34} {:>13}   {:<34} {:>13}   {:>7}",
        "operation (ours)", "ours", "baseline (same answer, asserted)", "baseline", "ours÷bl"
    );

    if run("kernels") {
        // Kernels: fused rank-2 down projection + finiteness probe vs two dots and a probe.
        let rows: Vec<f32> = (0..2 * DIM).map(|_| rng.next()).collect();
        for x in &inputs {
            let mut h = [0.0f32; 2];
            let probe = k.lora_down_probe(&rows, x, &mut h);
            let plain = [
                scalar::dot(&rows[..DIM], x),
                scalar::dot(&rows[DIM..], x),
                scalar::range_probe(x),
            ];
            assert_eq!(
                [h[0].to_bits(), h[1].to_bits(), probe.to_bits()],
                plain.map(f32::to_bits),
                "lora_down_probe disagrees with 2 × dot + range_probe"
            );
        }
        let fused = bench(100_000, |i| {
            let mut h = [0.0f32; 2];
            black_box(k.lora_down_probe(black_box(&rows), &inputs[i & 63], &mut h));
            black_box(h);
        });
        let plain = bench(100_000, |i| {
            let x = &inputs[i & 63];
            black_box((
                scalar::dot(&rows[..DIM], x),
                scalar::dot(&rows[DIM..], x),
                scalar::range_probe(x),
            ));
        });
        row(
            "lora_down_probe (rank 2)",
            fused,
            "2 × dot + range_probe",
            plain,
        );
    }

    if run("lora") || run("trajectory") {
        let mut e = trained(300, &inputs, &topics);
        e.run_instant_cycle();
        let mut out = vec![0.0f32; DIM];
        for x in &inputs {
            e.apply_lora_into(x, &mut out).unwrap();
            let alloc = e.apply_lora(x).unwrap();
            assert!(
                out.iter()
                    .zip(&alloc)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "apply_lora_into disagrees with apply_lora"
            );
        }
        let into = bench(100_000, |i| {
            e.apply_lora_into(&inputs[i & 63], &mut out).unwrap();
            black_box(&mut out);
        });
        let alloc = bench(100_000, |i| {
            black_box(e.apply_lora(&inputs[i & 63]).unwrap());
        });
        row("apply_lora_into", into, "apply_lora (allocates)", alloc);

        let traj = bench(20_000, |i| {
            let id = e.start_trajectory(&inputs[i & 63]).unwrap();
            for s in 1..4 {
                e.add_step(id, &inputs[(i + s) & 63], &[], [0.9, 0.1, 0.4][s - 1])
                    .unwrap();
            }
            e.end_trajectory(id, 0.8).unwrap();
        });
        let start_end = bench(20_000, |i| {
            let id = e.start_trajectory(&inputs[i & 63]).unwrap();
            e.end_trajectory(id, 0.8).unwrap();
        });
        // Not a comparison (start + end is part of the same work): a breakdown of the cost.
        println!(
            "cost breakdown (no baseline): start + 3×add_step + end {traj:.1} ns = start + end {start_end:.1} ns + 3 × {:.1} ns per add_step",
            (traj - start_end) / 3.0
        );
    }

    if !run("find") {
        return;
    }
    let mut f = trained(1000, &inputs, &topics);
    f.force_learn(0.0).unwrap();
    let n = f.patterns().len();
    // Baseline: cosine against every pattern, full sort (the same top 5, asserted first).
    let full_sort = |f: &SonaEngine, q: &[f32]| {
        let mut s: Vec<(usize, f32)> = f
            .patterns()
            .iter()
            .enumerate()
            .map(|(j, p)| (j, k.cosine(q, &p.centroid)))
            .collect();
        s.sort_by(|a, b| b.1.total_cmp(&a.1));
        s.truncate(5);
        s
    };
    let expected: Vec<Vec<usize>> = inputs
        .iter()
        .map(|q| full_sort(&f, q).into_iter().map(|(j, _)| j).collect())
        .collect();
    for (q, want) in inputs.iter().zip(&expected) {
        let ours: Vec<usize> = f
            .find_pattern_indices(q, 5, 1.0)
            .unwrap()
            .into_iter()
            .map(|(j, _)| j)
            .collect();
        assert_eq!(
            &ours, want,
            "find_pattern_indices disagrees with the full sort"
        );
    }
    let find = bench(20_000, |i| {
        black_box(f.find_pattern_indices(&inputs[i & 63], 5, 1.0).unwrap());
    });
    let full = bench(20_000, |i| {
        black_box(full_sort(&f, &inputs[i & 63]));
    });
    row(
        &format!("find_pattern_indices k=5 / {n}"),
        find,
        "cosine every pattern + full sort",
        full,
    );
}
