//! Bad input gets a clear error and leaves the state unchanged (byte-identical saved state).

use super::*;
use crate::persist::save;
use crate::SonaError;

#[test]
fn bad_input_is_rejected_and_changes_nothing() {
    let dim = 16;
    let mut rng = Rng::new(4);
    let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, ..SonaConfig::default() }, 3);
    let topics = Topics::new(&mut rng, 2, dim);
    for i in 0..20 {
        topics.run(&mut e, &mut rng, i % 2);
    }
    e.force_learn(10.0).unwrap();
    let open = e.start_trajectory(&unit(&mut rng, dim)).unwrap();
    let ended = topics.run(&mut e, &mut rng, 0);
    let good = unit(&mut rng, dim);
    let mut nan = good.clone();
    nan[3] = f32::NAN;
    let mut inf = good.clone();
    inf[dim - 1] = f32::INFINITY;
    let short = &good[..dim - 1];
    let long: Vec<f32> = good.iter().chain(&good[..1]).cloned().collect();

    let before = save(&e);
    let stats = e.stats();
    let out_before = e.apply_lora(&good).unwrap();
    let mut outbuf = alloc::vec![0.0; dim + 1];

    let cases: Vec<(&str, SonaError)> = alloc::vec![
        ("start short", e.start_trajectory(short).unwrap_err()),
        ("start long", e.start_trajectory(&long).unwrap_err()),
        ("start nan", e.start_trajectory(&nan).unwrap_err()),
        ("start inf", e.start_trajectory(&inf).unwrap_err()),
        ("step nan", e.add_step(open, &nan, &[], 0.5).unwrap_err()),
        ("step attention length", e.add_step(open, &good, &long, 0.5).unwrap_err()),
        ("step attention inf", e.add_step(open, &good, &inf, 0.5).unwrap_err()),
        ("step reward nan", e.add_step(open, &good, &[], f32::NAN).unwrap_err()),
        ("step reward inf", e.add_step(open, &good, &[], f32::INFINITY).unwrap_err()),
        ("step unknown id", e.add_step(999, &good, &[], 0.5).unwrap_err()),
        ("step ended id", e.add_step(ended, &good, &[], 0.5).unwrap_err()),
        ("record score nan", e.record_step(open, 1, f32::NAN, 1.0).unwrap_err()),
        ("record latency negative", e.record_step(open, 1, 0.5, -1.0).unwrap_err()),
        ("record latency nan", e.record_step(open, 1, 0.5, f64::NAN).unwrap_err()),
        ("record ended", e.record_step(ended, 1, 0.5, 1.0).unwrap_err()),
        ("end quality > 1", e.end_trajectory(open, 1.5).unwrap_err()),
        ("end quality < 0", e.end_trajectory(open, -0.1).unwrap_err()),
        ("end quality nan", e.end_trajectory(open, f32::NAN).unwrap_err()),
        ("end twice", e.end_trajectory(ended, 0.5).unwrap_err()),
        ("end unknown", e.end_trajectory(12345, 0.5).unwrap_err()),
        ("route ended", e.set_trajectory_route(ended, "x").unwrap_err()),
        ("route too long", e.set_trajectory_route(open, &"r".repeat(300)).unwrap_err()),
        ("context unknown", e.add_trajectory_context(0, "x").unwrap_err()),
        ("feedback quality", e.learn_from_feedback(true, 1.0, 2.0).unwrap_err()),
        ("feedback latency", e.learn_from_feedback(true, f32::NAN, 0.5).unwrap_err()),
        ("apply short", e.apply_lora(short).unwrap_err()),
        ("apply nan", e.apply_lora(&nan).unwrap_err()),
        ("apply into bad output", e.apply_lora_into(&good, &mut outbuf).unwrap_err()),
        ("layer out of range", e.apply_lora_layer(2, &good).unwrap_err()),
        ("layer input nan", e.apply_lora_layer(0, &nan).unwrap_err()),
        ("find k = 0", e.find_patterns(&good, 0, 1.0).unwrap_err()),
        ("find nan", e.find_patterns(&nan, 1, 1.0).unwrap_err()),
        ("find short", e.find_patterns(short, 1, 1.0).unwrap_err()),
        ("tick nan", e.tick(f64::NAN).unwrap_err()),
        ("tick negative", e.tick(-5.0).unwrap_err()),
        ("force_learn inf", e.force_learn(f64::INFINITY).unwrap_err()),
    ];
    for (what, err) in &cases {
        let m = alloc::format!("{err}");
        assert!(!m.is_empty(), "{what}");
    }
    assert_eq!(save(&e), before, "state unchanged after every rejected call");
    assert_eq!(e.stats(), stats);
    assert_eq!(e.apply_lora(&good).unwrap(), out_before);
    // Messages name the problem.
    let msg = |i: usize| alloc::format!("{}", cases[i].1);
    assert!(msg(0).contains("query embedding") && msg(0).contains("expected 16"));
    assert!(msg(2).contains("index 3") && msg(2).contains("non-finite"));
    assert!(msg(7).contains("reward"));
    assert!(msg(9).contains("unknown trajectory id 999"));
    assert!(msg(10).contains("already ended"));
    assert!(msg(15).contains("quality"));
    assert!(msg(28).contains("layer 2") && msg(28).contains("2 base LoRA layers"));
    assert!(msg(30).contains("k must be at least 1"));
}

#[test]
fn magnitudes_beyond_1e15_are_rejected_and_the_extremes_in_range_never_poison_learning() {
    let dim = 16;
    let mut rng = Rng::new(8);
    let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, micro_flush_interval: 4, ..SonaConfig::default() }, 5);
    let good = unit(&mut rng, dim);
    let open = e.start_trajectory(&good).unwrap();
    let mut big = good.clone();
    big[5] = -2e15;
    let before = save(&e);
    let errors = [
        e.start_trajectory(&big).unwrap_err(),
        e.add_step(open, &big, &[], 0.5).unwrap_err(),
        e.add_step(open, &good, &[3e15], 0.5).unwrap_err(),
        e.add_step(open, &big_gated(dim), &[1e3], 0.5).unwrap_err(),
        e.add_step(open, &good, &[], 1e16).unwrap_err(),
        e.record_step(open, 1, -1e16, 1.0).unwrap_err(),
        e.apply_lora(&big).unwrap_err(),
        e.apply_lora_layer(0, &big).unwrap_err(),
        e.find_patterns(&big, 1, 1.0).unwrap_err(),
    ];
    assert_eq!(save(&e), before, "nothing changed");
    for err in &errors[..4] {
        let m = alloc::format!("{err}");
        assert!(m.contains("outside [-1e15, 1e15]"), "{m}");
    }
    let m0 = alloc::format!("{}", errors[0]);
    assert!(m0.contains("query embedding has -1999999973982208 at index 5"), "{m0}");
    assert!(alloc::format!("{}", errors[3]).contains("gated activations (activation × attention weight) has"));
    assert!(alloc::format!("{}", errors[4]).contains("reward is 10000000272564224, expected a finite number within [-1e15, 1e15]"));
    assert!(alloc::format!("{}", errors[6]).contains("input has"));

    // The largest accepted values, over many steps, with rewards of both signs and equal rewards:
    // every learned number stays finite and the state round-trips.
    let huge: Vec<f32> = (0..dim).map(|i| if i % 2 == 0 { 1e15 } else { -1e15 }).collect();
    e.end_trajectory(open, 0.9).unwrap();
    for t in 0..12 {
        let id = e.start_trajectory(&huge).unwrap();
        for s in 0..50 {
            let reward = if t % 3 == 0 || s % 2 == 0 { 1e15 } else { -1e15 };
            e.add_step(id, &huge, &[1.0], reward).unwrap();
            e.add_step(id, &good, &[1e15], reward).unwrap();
        }
        e.record_step(id, 7, 1e15, 1.0).unwrap();
        e.end_trajectory(id, 0.9).unwrap();
        e.learn_from_feedback(true, 1.0, 0.9).unwrap();
    }
    e.run_instant_cycle();
    e.force_learn(100.0).unwrap();
    assert!(e.last.gradient.iter().all(|x| x.is_finite()));
    let out = e.apply_lora(&huge).unwrap();
    assert!(out.iter().all(|x| x.is_finite()), "MicroLoRA output finite");
    assert!(e.apply_lora_layer(0, &huge).unwrap().iter().all(|x| x.is_finite()));
    let stats = e.stats();
    assert!(stats.micro_lora_norm.is_finite() && stats.base_lora_norm.is_finite());
    let back = crate::persist::load(&save(&e)).expect("the state loads");
    assert_eq!(save(&back), save(&e));
    // And the learned direction is real: not all zero.
    assert!(e.last.gradient.iter().any(|&x| x != 0.0), "a huge trajectory still learns its direction");
}

/// Activations within range whose gating by 1e3 is not (1e13 × 1e3 = 1e16 at index 2).
fn big_gated(dim: usize) -> Vec<f32> {
    let mut v = alloc::vec![0.5f32; dim];
    v[2] = 1e13;
    v
}

/// `find_patterns` with any `k` (JS passes up to 2^32 − 1): it allocated room for k + 1 hits
/// first, which trapped the wasm for k = 2^28 ("capacity overflow") and overflowed at usize::MAX.
#[test]
fn find_patterns_takes_any_k() {
    let dim = 16;
    let mut rng = Rng::new(9);
    let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, pattern_clusters: 4, ..SonaConfig::default() }, 2);
    let topics = Topics::new(&mut rng, 4, dim);
    for i in 0..40 {
        let t = &topics.query[i % 4];
        let id = e.start_trajectory(t).unwrap();
        e.add_step(id, t, &[], 0.8).unwrap();
        e.end_trajectory(id, 0.9).unwrap();
    }
    e.force_learn(0.0).unwrap();
    let n = e.patterns().len();
    assert!(n > 0);
    for k in [n, n + 1, 1 << 28, u32::MAX as usize, usize::MAX] {
        assert_eq!(e.find_patterns(&topics.query[0], k, 1.0).unwrap().len(), n, "k = {k}");
    }
}

/// A learning rate far past the flush cap (1e35: accepted, "finite and >= 0") learns like the cap,
/// EWC++'s proximal step included: it used the raw rate, 2·lr·λ was infinite and the BaseLoRA
/// weights NaN, so the engine's own state no longer loaded.
#[test]
fn huge_learning_rates_keep_ewc_finite_and_the_state_loadable() {
    let dim = 8;
    for lr in [1e35f32, 3e38] {
        let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, base_lora_lr: lr, micro_lora_lr: lr, ..SonaConfig::default() }, 1);
        for (round, sign) in [1.0f32, -1.0].into_iter().enumerate() {
            for i in 0..4 {
                let mut q = [0.1f32; 8];
                q[i] = sign;
                let id = e.start_trajectory(&q).unwrap();
                e.add_step(id, &q, &[], 1.0).unwrap();
                e.add_step(id, &[0.2; 8], &[], 0.0).unwrap();
                e.end_trajectory(id, 0.9).unwrap();
            }
            let report = e.force_learn(round as f64).unwrap();
            assert!(report.base_loss_after.is_finite(), "lr {lr}, round {round}");
        }
        assert!(e.stats().ewc_tasks > 0, "the proximal step ran");
        assert!(e.apply_lora(&[0.3; 8]).unwrap().iter().all(|v| v.is_finite()));
        assert!(crate::persist::load(&save(&e)).is_ok(), "lr {lr}");
    }
}

/// `base_loss` (a tool for native callers) refuses inputs and targets of unequal or partial length
/// instead of slicing past the end (a panic).
#[test]
fn base_loss_checks_its_lengths() {
    let e = engine(SonaConfig { hidden_dim: 8, embedding_dim: 8, ..SonaConfig::default() }, 1);
    assert_eq!(e.base_loss(&[0.5; 8], &[]), Err(SonaError::DimensionMismatch { what: "targets", expected: 8, got: 0 }));
    assert!(matches!(e.base_loss(&[0.5; 12], &[0.5; 12]), Err(SonaError::InvalidValue { what: "inputs length", .. })));
    let loss = e.base_loss(&[0.5; 16], &[0.25; 16]).unwrap();
    assert!((loss - 0.5 * 8.0 * 0.0625).abs() < 1e-6, "an untrained stack's delta is 0: loss ½‖t‖² = {loss}");
}
