//! Proofs that the engine learns (fixed seeds), EWC++ against plain training, and the loops.

use super::*;
use crate::ewc::EwcPlusPlus;
use crate::kernels::Kernels;
use crate::lora::LoraAdapter;

/// MicroLoRA: two planted topics; after a few hundred trajectories and a flush, `applyLora(x) − x`
/// for a held-out query of each topic has cosine ≥ 0.5 with that topic's good direction.
#[test]
fn micro_lora_learns_two_topics() {
    for seed in [1u64, 2, 3] {
        let dim = 128;
        let mut rng = Rng::new(100 + seed);
        let topics = Topics::new(&mut rng, 2, dim);
        let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, ..SonaConfig::default() }, seed);
        for i in 0..300 {
            topics.run(&mut e, &mut rng, i % 2);
        }
        e.run_instant_cycle();
        for t in 0..2 {
            for _ in 0..5 {
                let x = noisy(&mut rng, &topics.query[t], 0.3);
                let y = e.apply_lora(&x).unwrap();
                let delta: Vec<f32> = y.iter().zip(&x).map(|(a, b)| a - b).collect();
                let c = cosine(&delta, &topics.good[t]);
                assert!(c >= 0.5, "seed {seed} topic {t}: cosine {c}");
            }
        }
    }
}

/// Without learning signal (all rewards equal, running mean equal too) nothing is learned, and a
/// fresh engine is the identity: the cosine above is not an artefact of initialisation.
#[test]
fn fresh_engine_is_identity() {
    let mut rng = Rng::new(5);
    let e = engine(SonaConfig { hidden_dim: 32, embedding_dim: 32, ..SonaConfig::default() }, 9);
    let x = unit(&mut rng, 32);
    assert_eq!(e.apply_lora(&x).unwrap(), x);
    assert_eq!(e.apply_lora_layer(1, &x).unwrap(), x);
}

/// Trajectories without learning signal (no steps: a zero gradient) train the up rows toward zero,
/// geometrically. They must reach zero exactly instead of lingering at subnormal magnitudes (which
/// make every later forward and accumulate several times slower on x86), and real signal must
/// still regrow them afterwards.
#[test]
fn micro_lora_decays_to_exact_zero_not_subnormals_and_regrows() {
    let dim = 32;
    let mut rng = Rng::new(61);
    let topics = Topics::new(&mut rng, 2, dim);
    let config = SonaConfig { hidden_dim: dim, embedding_dim: dim, micro_lora_lr: 0.03, ..SonaConfig::default() };
    let mut e = engine(config, 6);
    for i in 0..200 {
        topics.run(&mut e, &mut rng, i % 2);
    }
    e.run_instant_cycle();
    let up_norm = |e: &SonaEngine| e.micro.params().1.iter().map(|v| v * v).sum::<f32>();
    assert!(up_norm(&e) > 1e-3, "learned something first");
    let mut smallest_seen = f32::INFINITY;
    for _ in 0..6000 {
        let id = e.start_trajectory(&unit(&mut rng, dim)).unwrap();
        e.end_trajectory(id, 0.8).unwrap();
        let (down, up) = e.micro.params();
        for &v in down.iter().chain(up) {
            assert!(v == 0.0 || v.abs() >= crate::lora::FLUSH_BELOW, "weight {v:e} below the flush bound");
            if v != 0.0 {
                smallest_seen = smallest_seen.min(v.abs());
            }
        }
    }
    let max_up = e.micro.params().1.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(max_up == 0.0, "up rows decayed to exactly zero (largest {max_up:e})");
    assert!(smallest_seen < 1e-12, "the decay passed through tiny magnitudes ({smallest_seen:e})");
    for i in 0..200 {
        topics.run(&mut e, &mut rng, i % 2);
    }
    e.run_instant_cycle();
    assert!(up_norm(&e) > 1e-3, "real signal regrows the zeroed rows");
}

/// ReasoningBank: eight planted topics; after force_learn, find_patterns(q, 1) returns a pattern
/// whose centroid has cosine ≥ 0.95 with the right topic for ≥ 95% of held-out queries.
#[test]
fn reasoning_bank_recovers_eight_topics() {
    let dim = 128;
    let mut rng = Rng::new(77);
    let topics = Topics::new(&mut rng, 8, dim);
    let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, ..SonaConfig::default() }, 4);
    for i in 0..400 {
        topics.run(&mut e, &mut rng, i % 8);
    }
    let report = e.force_learn(1000.0).unwrap();
    assert_eq!(report.trajectories_used, 400);
    assert!(report.patterns_stored >= 8);
    let mut hits = 0;
    for i in 0..200 {
        let t = i % 8;
        let q = noisy(&mut rng, &topics.query[t], 0.3);
        let found = e.find_patterns(&q, 1, 2000.0).unwrap();
        if cosine(&found[0].0.centroid, &topics.query[t]) >= 0.95 {
            hits += 1;
        }
    }
    assert!(hits >= 190, "{hits}/200 held-out queries matched their topic");
}

/// ReasoningBank with exactly as many clusters as planted topics (8, `pattern_clusters: 8`): no
/// spare cluster, so a seeding that puts two seeds in one topic loses another. Every topic has a
/// pattern with centroid cosine ≥ 0.95 and ≥ 95% of held-out queries find it, at dims 32 and 128,
/// 6 seeds each.
#[test]
fn reasoning_bank_recovers_eight_topics_with_eight_clusters() {
    let mut failures = Vec::new();
    for dim in [32usize, 128] {
        for seed in 1u64..=6 {
            let mut rng = Rng::new(500 + seed);
            let topics = Topics::new(&mut rng, 8, dim);
            let config = SonaConfig { hidden_dim: dim, embedding_dim: dim, pattern_clusters: 8, ..SonaConfig::default() };
            let mut e = engine(config, seed);
            for i in 0..400 {
                topics.run(&mut e, &mut rng, i % 8);
            }
            assert_eq!(e.force_learn(1000.0).unwrap().trajectories_used, 400);
            let worst = topics.query.iter().map(|t| e.patterns().iter().map(|p| cosine(&p.centroid, t)).fold(-1.0, f32::max)).fold(1.0, f32::min);
            let mut hits = 0;
            for i in 0..200 {
                let t = i % 8;
                let q = noisy(&mut rng, &topics.query[t], 0.3);
                let found = e.find_patterns(&q, 1, 2000.0).unwrap();
                hits += (cosine(&found[0].0.centroid, &topics.query[t]) >= 0.95) as usize;
            }
            if worst < 0.95 || hits < 190 {
                failures.push((dim, seed, e.patterns().len(), worst, hits));
            }
        }
    }
    assert!(failures.is_empty(), "(dim, seed, patterns, worst topic cosine, hits/200): {failures:?}");
}

/// BaseLoRA: as many topics as its rank; after background cycles, `applyLoraLayer(0, x) − x`
/// points along the topic's good direction.
#[test]
fn base_lora_learns_rank_many_topics() {
    let dim = 96;
    let rank = 4;
    let mut rng = Rng::new(31);
    let topics = Topics::new(&mut rng, rank, dim);
    let config = SonaConfig {
        hidden_dim: dim,
        embedding_dim: dim,
        base_lora_rank: rank,
        base_lora_lr: 0.01,
        background_interval_ms: 1000,
        pattern_clusters: 16,
        ..SonaConfig::default()
    };
    let mut e = engine(config, 8);
    let mut now = 0.0;
    assert!(!e.tick(now).unwrap()); // starts the clock
    let mut cycles = 0;
    for round in 0..12 {
        for i in 0..40 {
            topics.run(&mut e, &mut rng, (round * 40 + i) % rank);
        }
        now += 500.0;
        assert!(!e.tick(now).unwrap(), "interval not yet passed");
        now += 500.0;
        if e.tick(now).unwrap() {
            cycles += 1;
        }
    }
    assert_eq!(cycles, 12);
    assert_eq!(e.stats().counters.background_cycles, 12);
    for t in 0..rank {
        let x = noisy(&mut rng, &topics.query[t], 0.3);
        let y = e.apply_lora_layer(0, &x).unwrap();
        let delta: Vec<f32> = y.iter().zip(&x).map(|(a, b)| a - b).collect();
        let c = cosine(&delta, &topics.good[t]);
        assert!(c >= 0.5, "topic {t}: cosine {c}");
    }
}

/// One task of the forgetting tests: `n` unit inputs (noisy copies of `base`'s, when given: the
/// tasks overlap) with random targets of length 0.8, each weighted 0.8. (inputs, targets, weights)
fn forgetting_task(rng: &mut Rng, dim: usize, n: usize, base: Option<&Vec<f32>>) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (mut x, mut t) = (Vec::new(), Vec::new());
    for j in 0..n {
        let mut v = match base {
            Some(b) => noisy(rng, &b[j * dim..(j + 1) * dim], 0.8),
            None => unit(rng, dim),
        };
        normalize(&mut v);
        x.extend_from_slice(&v);
        t.extend(unit(rng, dim).iter().map(|v| 0.8 * v));
    }
    (x, t, alloc::vec![0.8; n])
}

type Task = (Vec<f32>, Vec<f32>, Vec<f32>);

/// Trains `layers` on task `a` for `epochs` calls of `train_stack` (4 epochs each), consolidates
/// them as an EWC++ task (λ = `lambda`), trains on `b` as long. Returns A's loss after A, B's
/// loss after B and A's loss after B.
#[allow(clippy::too_many_arguments)]
fn forgetting(k: Kernels, mut layers: Vec<LoraAdapter>, lambda: f32, a: &Task, b: &Task, dim: usize, lr: f32, epochs: usize) -> (f32, f32, f32) {
    let params = layers.iter().map(|l| l.params().0.len() + l.params().1.len()).sum();
    let mut ewc = EwcPlusPlus::new(params, lambda);
    for _ in 0..epochs {
        crate::engine::train_stack(k, &mut layers, &mut ewc, &a.0, &a.1, &a.2, dim, lr, 4);
    }
    let loss_a = crate::engine::stack_loss(k, &layers, &a.0, &a.1, dim);
    let mut flat = Vec::new();
    for l in &layers {
        flat.extend_from_slice(l.params().0);
        flat.extend_from_slice(l.params().1);
    }
    ewc.consolidate(&flat);
    for _ in 0..epochs {
        crate::engine::train_stack(k, &mut layers, &mut ewc, &b.0, &b.1, &b.2, dim, lr, 4);
    }
    let loss_b = crate::engine::stack_loss(k, &layers, &b.0, &b.1, dim);
    (loss_a, loss_b, crate::engine::stack_loss(k, &layers, &a.0, &a.1, dim))
}

/// EWC++: learn task A, consolidate, learn task B on overlapping inputs. The loss on A rises
/// at most half as much with EWC++ (λ = 2000) as without (λ = 0).
#[test]
fn ewc_reduces_forgetting() {
    let k = Kernels::new(false);
    let dim = 48;
    let rank = 4;
    let lr = 0.02;
    let mut rng = Rng::new(2024);
    let a = forgetting_task(&mut rng, dim, rank, None);
    let b = forgetting_task(&mut rng, dim, rank, Some(&a.0));
    let mut rises = Vec::new();
    for lambda in [2000.0f32, 0.0] {
        let layers = alloc::vec![LoraAdapter::new(dim, rank, &mut Rng::new(3))];
        let (loss_a, loss_b, after) = forgetting(k, layers, lambda, &a, &b, dim, lr, 40);
        assert!(loss_a < 0.1, "task A learned (loss {loss_a})");
        assert!(loss_b < 0.5, "task B still learned (loss {loss_b})");
        rises.push(after - loss_a);
    }
    let (with_ewc, without) = (rises[0], rises[1]);
    assert!(without > 0.05, "task B interferes with A without EWC (rise {without})");
    assert!(with_ewc <= 0.5 * without, "rise with EWC++ {with_ewc} vs without {without}");
}

/// EWC++ at the presets' BaseLoRA sizes and rates (`ewc_reduces_forgetting` with hidden_dim 256,
/// two layers, 8 samples): the rise of A's loss with λ = 2000 is at most half the rise with λ = 0.
/// The presets whose `base_lora_lr` is above [`crate::ewc::PROXIMAL_RATE_CAP`] (the others,
/// default and max_throughput at 0.0001, are untouched by the cap: ratios 0.27 and 0.35; each row
/// takes about 13 s unoptimised).
#[test]
fn ewc_reduces_forgetting_at_preset_sizes() {
    let k = Kernels::new(false);
    let dim = 256;
    let n = 8;
    // (preset, rank, base_lora_lr, epochs per task)
    for (preset, rank, lr, epochs) in [("for_coordinator", 16usize, 0.0005f32, 200usize), ("max_quality", 16, 0.001, 200)] {
        let mut rng = Rng::new(2024);
        let a = forgetting_task(&mut rng, dim, n, None);
        let b = forgetting_task(&mut rng, dim, n, Some(&a.0));
        let mut rises = Vec::new();
        for lambda in [2000.0f32, 0.0] {
            let mut r3 = Rng::new(3);
            let layers: Vec<LoraAdapter> = (0..2).map(|_| LoraAdapter::new(dim, rank, &mut r3)).collect();
            let (loss_a, _, after) = forgetting(k, layers, lambda, &a, &b, dim, lr, epochs);
            rises.push(after - loss_a);
        }
        let (with_ewc, without) = (rises[0], rises[1]);
        assert!(without > 0.02, "{preset}: task B interferes with A without EWC (rise {without})");
        assert!(with_ewc <= 0.5 * without, "{preset}: rise with EWC++ {with_ewc} vs without {without}");
    }
}

/// Mean over the topics of cosine(Σ_layers applyLoraLayer(l, query) − query, good direction).
fn stack_score(e: &SonaEngine, t: &Topics) -> f32 {
    let dim = t.query[0].len();
    let mut total = 0.0;
    for (q, good) in t.query.iter().zip(&t.good) {
        let mut delta = alloc::vec![0.0f32; dim];
        for layer in 0..e.config().base_lora_layers {
            let y = e.apply_lora_layer(layer, q).unwrap();
            for ((d, y), x) in delta.iter_mut().zip(&y).zip(q) {
                *d += y - x;
            }
        }
        total += cosine(&delta, good);
    }
    total / t.query.len() as f32
}

/// Task A (2 topics, 40 trajectories a cycle) for 15 background cycles, then task B (2 other
/// topics) for 15, BaseLoRA rate 0.01 (EWC++ λ 2000). `force`: every cycle is a `force_learn`
/// (a consolidation each); otherwise cycles are `tick`s and a `force_learn` at the switch
/// consolidates A. Returns (A's score, B's score, the cycles at which a boundary was detected).
fn two_tasks(seed: u64, force: bool) -> (f32, f32, Vec<usize>) {
    let mut rng = Rng::new(500 + seed);
    let a = Topics::new(&mut rng, 2, 32);
    let b = Topics::new(&mut rng, 2, 32);
    let config = SonaConfig { hidden_dim: 32, embedding_dim: 32, base_lora_rank: 4, base_lora_lr: 0.01, background_interval_ms: 1000, pattern_clusters: 32, ..SonaConfig::default() };
    let mut e = engine(config, seed);
    let mut now = 0.0;
    e.tick(now).unwrap();
    let mut boundaries = Vec::new();
    for cycle in 0..30 {
        let t = if cycle < 15 { &a } else { &b };
        if cycle == 15 && !force {
            now += 1000.0;
            e.force_learn(now).unwrap();
        }
        for i in 0..40 {
            t.run(&mut e, &mut rng, i % 2);
        }
        now += 1000.0;
        let before = e.stats().ewc_task_boundaries;
        if force {
            e.force_learn(now).unwrap();
        } else {
            assert!(e.tick(now).unwrap());
        }
        if e.stats().ewc_task_boundaries > before {
            boundaries.push(cycle);
        }
    }
    (stack_score(&e, &a), stack_score(&e, &b), boundaries)
}

/// Task-boundary detection finds the switch from A to B after A's steep learning curve (whose
/// early drops hid it), and nothing else.
#[test]
fn ewc_detects_the_switch_after_a_steep_learning_curve() {
    for seed in 1..=4 {
        let (_, _, boundaries) = two_tasks(seed, false);
        assert_eq!(boundaries, [15], "seed {seed}");
    }
}

/// A consolidation does not freeze BaseLoRA: after A is consolidated at the switch (or at every
/// cycle), B is still learned, and A (replayed by the bank's patterns) is kept.
#[test]
fn ewc_leaves_a_new_task_learnable() {
    for seed in 1..=4 {
        let (sa, sb, _) = two_tasks(seed, false);
        assert!(sb >= 0.85 && sa >= 0.8, "seed {seed}, consolidated at the switch: A {sa} B {sb}");
        let (sa, sb, _) = two_tasks(seed, true);
        assert!(sb >= 0.75 && sa >= 0.8, "seed {seed}, force_learn every cycle: A {sa} B {sb}");
    }
}

/// recordStep: the node id and the score decide the direction learned.
#[test]
fn record_step_node_and_score_matter() {
    let dim = 64;
    let mut rng = Rng::new(12);
    let q = unit(&mut rng, dim);
    let run = |good: u32, bad: u32| {
        let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, micro_flush_interval: 0, ..SonaConfig::default() }, 1);
        let mut r = Rng::new(6);
        for _ in 0..50 {
            let id = e.start_trajectory(&noisy(&mut r, &q, 0.2)).unwrap();
            e.record_step(id, good, 0.9, 100.0).unwrap();
            e.record_step(id, bad, 0.1, 100.0).unwrap();
            e.end_trajectory(id, 0.9).unwrap();
        }
        e.run_instant_cycle();
        let y = e.apply_lora(&q).unwrap();
        y.iter().zip(&q).map(|(a, b)| a - b).collect::<Vec<f32>>()
    };
    let d1 = run(7, 8);
    let d2 = run(8, 7);
    assert!(cosine(&d1, &d2) < -0.9, "swapping the scores reverses the learned direction");
    let d3 = run(7, 9);
    assert!(cosine(&d1, &d3) < 0.9, "a different node id changes the learned direction");
}

/// `record_step`'s latency lowers the step's reward by 1e-7 per µs: of two nodes that score
/// alike, the faster one is learned toward and the slower one away from; swapping the latencies
/// reverses the learned direction, and equal latencies favour neither.
#[test]
fn record_step_latency_lowers_the_reward() {
    let dim = 64;
    let mut rng = Rng::new(13);
    let q = unit(&mut rng, dim);
    let run = |lat7: f64, lat8: f64| {
        let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, micro_flush_interval: 0, ..SonaConfig::default() }, 1);
        let mut r = Rng::new(6);
        for _ in 0..50 {
            let id = e.start_trajectory(&noisy(&mut r, &q, 0.2)).unwrap();
            e.record_step(id, 7, 0.5, lat7).unwrap();
            e.record_step(id, 8, 0.5, lat8).unwrap();
            e.end_trajectory(id, 0.9).unwrap();
        }
        e.run_instant_cycle();
        let y = e.apply_lora(&q).unwrap();
        y.iter().zip(&q).map(|(a, b)| a - b).collect::<Vec<f32>>()
    };
    let (mut c7, mut c8) = (alloc::vec![0.0; dim], alloc::vec![0.0; dim]);
    crate::rng::node_code(7, &mut c7);
    crate::rng::node_code(8, &mut c8);
    let faster7: Vec<f32> = c7.iter().zip(&c8).map(|(a, b)| a - b).collect();
    // 2 s of latency on node 8: its reward 0.5 − 0.2 = 0.3 against node 7's 0.5.
    let slow8 = run(0.0, 2e6);
    assert!(cosine(&slow8, &faster7) > 0.9, "toward the faster node: cosine {}", cosine(&slow8, &faster7));
    let slow7 = run(2e6, 0.0);
    assert!(cosine(&slow7, &faster7) < -0.9, "swapped latencies reverse it: cosine {}", cosine(&slow7, &faster7));
    // Equal latencies: the two nodes are learned alike (whatever the baseline makes of their
    // common reward), with nothing along their difference.
    let same = run(5e5, 5e5);
    assert!(cosine(&same, &faster7).abs() < 0.1, "equal latencies favour neither: cosine {}", cosine(&same, &faster7));
    assert_ne!(same, run(0.0, 0.0), "a common latency still lowers both rewards");
}

#[test]
fn buffer_overflow_is_counted_and_threshold_filters() {
    let dim = 16;
    let mut rng = Rng::new(1);
    let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, trajectory_capacity: 5, quality_threshold: 0.5, ..SonaConfig::default() }, 1);
    for i in 0..10 {
        let id = e.start_trajectory(&unit(&mut rng, dim)).unwrap();
        e.end_trajectory(id, if i % 2 == 0 { 0.9 } else { 0.1 }).unwrap();
    }
    let s = e.stats();
    assert_eq!((s.counters.trajectories_learned, s.counters.trajectories_filtered), (5, 5));
    for _ in 0..3 {
        let id = e.start_trajectory(&unit(&mut rng, dim)).unwrap();
        e.end_trajectory(id, 0.9).unwrap();
    }
    let s = e.stats();
    assert_eq!((s.trajectories_buffered, s.trajectories_dropped), (5, 3));
}

#[test]
fn feedback_revises_the_last_trajectory() {
    let dim = 16;
    let mut rng = Rng::new(2);
    let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, quality_threshold: 0.5, micro_flush_interval: 0, ..SonaConfig::default() }, 1);
    assert_eq!(e.learn_from_feedback(true, 10.0, 0.9), Err(crate::SonaError::NoFinishedTrajectory));
    let id = e.start_trajectory(&unit(&mut rng, dim)).unwrap();
    e.add_step(id, &unit(&mut rng, dim), &[], 1.0).unwrap();
    e.end_trajectory(id, 0.3).unwrap();
    assert_eq!(e.stats().trajectories_buffered, 0);
    // (0.3 + 1.0) / 2 = 0.65 ≥ 0.5: now buffered and learned from.
    e.learn_from_feedback(true, 0.0, 1.0).unwrap();
    let s = e.stats();
    assert_eq!((s.trajectories_buffered, s.micro_pending, s.counters.feedback_count), (1, 1, 1));
    assert!((e.buffer.iter().next().unwrap().quality_score - 0.65).abs() < 1e-6);
    // failure and latency lower the feedback quality: (0.65 + 1.0·0.5/(1+1)) / 2 = 0.45
    e.learn_from_feedback(false, 10_000.0, 1.0).unwrap();
    assert!((e.buffer.iter().next().unwrap().quality_score - 0.45).abs() < 1e-6);
    // 0.45 < 0.5: no further instant-loop sample.
    let s = e.stats();
    assert_eq!((s.micro_pending, s.counters.feedback_count), (1, 2));
}

/// Feedback revises the trajectory that ended last, not an earlier one (nor the first one ever).
#[test]
fn feedback_applies_to_the_most_recent_trajectory() {
    let dim = 16;
    let mut rng = Rng::new(5);
    let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, quality_threshold: 0.5, micro_flush_interval: 0, ..SonaConfig::default() }, 1);
    let mut ended = Vec::new();
    for q in [0.9, 0.8, 0.3] {
        let id = e.start_trajectory(&unit(&mut rng, dim)).unwrap();
        e.add_step(id, &unit(&mut rng, dim), &[], 1.0).unwrap();
        e.end_trajectory(id, q).unwrap();
        ended.push(id);
    }
    assert_eq!(e.stats().trajectories_buffered, 2);
    e.learn_from_feedback(true, 0.0, 1.0).unwrap(); // last one: (0.3 + 1) / 2 = 0.65, buffered now
    let q: Vec<(u64, f32)> = e.buffer.iter().map(|s| (s.trajectory_id, s.quality_score)).collect();
    assert_eq!(q.len(), 3);
    assert_eq!(q[..2], [(ended[0], 0.9), (ended[1], 0.8)], "earlier trajectories untouched");
    assert_eq!(q[2].0, ended[2]);
    assert!((q[2].1 - 0.65).abs() < 1e-6);
}

/// A trajectory that ends while learning is disabled is the most recent one all the same:
/// feedback given after learning is enabled again must not revise the one before it.
#[test]
fn feedback_after_a_trajectory_ended_while_disabled_changes_nothing() {
    let dim = 16;
    let mut rng = Rng::new(8);
    let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, quality_threshold: 0.5, micro_flush_interval: 0, ..SonaConfig::default() }, 1);
    let t1 = e.start_trajectory(&unit(&mut rng, dim)).unwrap();
    e.add_step(t1, &unit(&mut rng, dim), &[], 1.0).unwrap();
    e.end_trajectory(t1, 0.3).unwrap(); // filtered: below the threshold
    e.set_enabled(false);
    let t2 = e.start_trajectory(&unit(&mut rng, dim)).unwrap();
    e.end_trajectory(t2, 0.9).unwrap(); // skipped
    e.set_enabled(true);
    let before = crate::persist::save(&e);
    e.learn_from_feedback(true, 0.0, 1.0).unwrap();
    let s = e.stats();
    assert_eq!((s.counters.feedback_count, s.trajectories_buffered, s.micro_pending), (0, 0, 0), "t1 was revised in t2's place");
    assert_eq!(crate::persist::save(&e), before, "state unchanged");
    // The next trajectory that ends with learning on takes feedback again.
    let t3 = e.start_trajectory(&unit(&mut rng, dim)).unwrap();
    e.add_step(t3, &unit(&mut rng, dim), &[], 1.0).unwrap();
    e.end_trajectory(t3, 0.3).unwrap();
    e.learn_from_feedback(true, 0.0, 1.0).unwrap();
    let q: Vec<(u64, f32)> = e.buffer.iter().map(|s| (s.trajectory_id, s.quality_score)).collect();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].0, t3);
    assert_eq!(e.stats().counters.feedback_count, 1);
}

#[test]
fn disabled_engine_does_not_learn() {
    let dim = 16;
    let mut rng = Rng::new(3);
    let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, background_interval_ms: 0, ..SonaConfig::default() }, 1);
    e.set_enabled(false);
    assert!(!e.is_enabled());
    let id = e.start_trajectory(&unit(&mut rng, dim)).unwrap();
    e.end_trajectory(id, 0.9).unwrap();
    assert!(!e.tick(0.0).unwrap());
    let s = e.stats();
    assert_eq!((s.counters.trajectories_skipped, s.trajectories_buffered, s.micro_pending), (1, 0, 0));
    e.set_enabled(true);
    assert!(!e.tick(0.0).unwrap());
    assert!(e.tick(0.0).unwrap(), "interval 0: every tick after the first runs a cycle");
}

#[test]
fn auto_flush_every_n_trajectories() {
    let dim = 16;
    let mut rng = Rng::new(4);
    let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, micro_flush_interval: 4, ..SonaConfig::default() }, 1);
    for i in 0..9 {
        let id = e.start_trajectory(&unit(&mut rng, dim)).unwrap();
        e.add_step(id, &unit(&mut rng, dim), &[], i as f32).unwrap();
        e.end_trajectory(id, 0.9).unwrap();
    }
    let s = e.stats();
    assert_eq!((s.counters.instant_cycles, s.counters.micro_samples_applied, s.micro_pending), (2, 8, 1));
    assert!(s.micro_lora_norm > 0.0);
}

/// The node code of `record_step` is a unit vector: one step with reward 1 against a running
/// mean of 0 yields a learned direction equal to the code, independent of scratch-buffer sizes.
#[test]
fn node_code_is_unit_length_and_deterministic() {
    let dim = 24;
    let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, ..SonaConfig::default() }, 1);
    let id = e.start_trajectory(&alloc::vec![1.0; dim]).unwrap();
    e.record_step(id, 3, 1.0, 0.0).unwrap();
    let t = &e.open[0];
    let n: f32 = t.reward_weighted_sum.iter().map(|v| v * v).sum();
    assert!((n - 1.0).abs() < 1e-5, "unit code, |code|² = {n}");
    let expected: Vec<f32> = {
        let mut v = alloc::vec![0.0; dim];
        crate::rng::node_code(3, &mut v);
        v
    };
    assert!(expected.iter().all(|x| x.abs() <= 1.0) && expected.iter().any(|x| *x != 0.0));
    let mut other = alloc::vec![0.0; dim];
    crate::rng::node_code(4, &mut other);
    assert!(cosine(&expected, &other).abs() < 0.7, "different ids, different codes");
    assert_eq!(t.reward_weighted_sum, expected);
}

/// The background loop trains BaseLoRA towards `avg_quality · direction` of each pattern (the
/// module doc): with one pattern of quality 0.5, the stack's summed delta at the pattern's
/// centroid converges to half its unit direction, not to the direction itself.
#[test]
fn base_lora_target_is_quality_times_direction() {
    let dim = 16;
    let mut rng = Rng::new(41);
    let config = SonaConfig { hidden_dim: dim, embedding_dim: dim, base_lora_rank: 4, base_lora_lr: 0.05, ewc_lambda: 0.0, quality_threshold: 0.3, ..SonaConfig::default() };
    let mut e = engine(config, 2);
    let (centroid, direction) = (unit(&mut rng, dim), unit(&mut rng, dim));
    let pattern = crate::types::LearnedPattern {
        id: 1,
        centroid: centroid.clone(),
        direction: direction.clone(),
        cluster_size: 4,
        total_weight: 2.0,
        avg_quality: 0.5,
        created_at: 0,
        last_accessed: 0,
        access_count: 0,
        pattern_type: crate::types::PatternType::General,
    };
    e.bank = crate::reasoning_bank::ReasoningBank::from_parts(dim, 10, alloc::vec![pattern], 2);
    for i in 0..200 {
        e.force_learn(i as f64).unwrap();
    }
    assert_eq!(e.patterns().len(), 1);
    let mut delta = alloc::vec![0.0f32; dim];
    for l in 0..e.base_layers() {
        let y = e.apply_lora_layer(l, &centroid).unwrap();
        for ((d, a), b) in delta.iter_mut().zip(&y).zip(&centroid) {
            *d += a - b;
        }
    }
    let norm = crate::kernels::sqrtf(delta.iter().map(|v| v * v).sum());
    assert!((norm - 0.5).abs() < 0.05, "|delta| {norm}");
    assert!(cosine(&delta, &direction) > 0.99, "cosine {}", cosine(&delta, &direction));
}
