//! FastGRNN router tests: gradients against finite differences, learning planted rules, INT8 and
//! pruning accuracy, byte round trips, distillation, the schedule, early stopping and bad input.

use crate::rng::Rng;
use crate::router::{FastGrnn, RouterConfig, RouterError, Trace, ROUTER_HEADER_LEN};
use crate::router_train::{agreement, loss_and_gradient, sample_loss, Adam, RouterTrainer, Target, TrainingConfig};
use alloc::vec;
use alloc::vec::Vec;

fn uniform(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.next_f32() * 2.0 - 1.0).collect()
}

/// A model with every parameter (biases included) random and a non-trivial normalisation.
fn random_model(config: RouterConfig, seed: u64) -> FastGrnn {
    let mut m = FastGrnn::new(config, seed).unwrap();
    let mut rng = Rng::new(seed + 1);
    for p in m.params_mut() {
        *p = rng.normal() * 0.6;
    }
    let d = m.config().input_dim;
    let mean = uniform(&mut rng, d);
    let std: Vec<f32> = (0..d).map(|_| 0.5 + rng.next_f32()).collect();
    m.set_normalization(&mean, &std).unwrap();
    m
}

fn check_gradient(config: RouterConfig, steps: usize, label: f32, teacher: Option<&[f32]>) {
    let mut model = random_model(config, 7);
    let d = model.config().input_dim;
    let mut rng = Rng::new(99);
    let x = uniform(&mut rng, d * steps);
    let target = Target { label, teacher, alpha: 0.6, temperature: 2.5 };
    let mut trace = Trace::default();
    let mut grad = vec![0.0; model.parameter_count()];
    loss_and_gradient(&model, &x, &target, &mut trace, Some(&mut grad));
    let eps = 1e-2f32;
    let mut worst = 0.0f32;
    let mut numerics = vec![0.0f32; model.parameter_count()];
    for j in 0..model.parameter_count() {
        let orig = model.params()[j];
        model.params_mut()[j] = orig + eps;
        let up = loss_and_gradient(&model, &x, &target, &mut trace, None);
        model.params_mut()[j] = orig - eps;
        let down = loss_and_gradient(&model, &x, &target, &mut trace, None);
        model.params_mut()[j] = orig;
        let numeric = (up - down) / (2.0 * eps);
        numerics[j] = numeric;
        let err = (numeric - grad[j]).abs();
        let tol = 2e-3 + 2e-2 * numeric.abs().max(grad[j].abs());
        assert!(err <= tol, "param {j}: analytic {} vs numeric {numeric}", grad[j]);
        worst = worst.max(numeric.abs());
    }
    assert!(worst > 1e-2, "the check must see non-trivial gradients");
    // Per tensor, relative to its own norm: the element-wise tolerance above is dominated by its
    // absolute part for tensors whose gradients are small (W_r, b_r and W only receive gradient
    // through h_{t-1}, i.e. from the second step on), where a gradient 10 % off would pass.
    let l = model.layout().clone();
    let mut tensors = l.weight_tensors();
    tensors.extend([(l.b_r, l.hidden_dim), (l.b_u, l.hidden_dim), (l.b_c, l.hidden_dim), (l.b_out, l.output_dim)]);
    for (start, len) in tensors {
        let norm = |v: &mut dyn Iterator<Item = f32>| v.map(|x| x * x).sum::<f32>().sqrt();
        let n = norm(&mut numerics[start..start + len].iter().copied());
        let e = norm(&mut (start..start + len).map(|j| grad[j] - numerics[j]));
        assert!(e <= 1e-2 * n + 1e-5, "tensor at {start} (len {len}): error {e} vs norm {n}");
        assert!(steps == 1 || n > 1e-3, "tensor at {start} must receive gradient over {steps} steps (norm {n})");
    }
}

#[test]
fn gradients_match_finite_differences() {
    let full = RouterConfig { input_dim: 3, hidden_dim: 4, output_dim: 1, nu: 1.3, zeta: 0.8, rank: None };
    let low = RouterConfig { input_dim: 3, hidden_dim: 5, output_dim: 3, nu: 0.9, zeta: 1.2, rank: Some(2) };
    check_gradient(full.clone(), 1, 1.0, None);
    check_gradient(full.clone(), 4, 0.3, None);
    check_gradient(full, 3, 0.0, Some(&[0.8]));
    check_gradient(low.clone(), 1, 2.0, None);
    check_gradient(low.clone(), 4, 0.0, None);
    check_gradient(low, 3, 1.0, Some(&[0.2, 0.5, 0.3]));
}

/// XOR-like planted rule on 5 features: route 1 iff x0·x1 > 0 (x2..x4 are noise).
fn xor_rows(rng: &mut Rng, n: usize) -> Vec<(Vec<f32>, f32)> {
    (0..n)
        .map(|_| {
            let x = uniform(rng, 5);
            let y = (x[0] * x[1] > 0.0) as u8 as f32;
            (x, y)
        })
        .collect()
}

fn xor_config() -> TrainingConfig {
    TrainingConfig {
        learning_rate: 0.02,
        batch_size: 32,
        epochs: 300,
        validation_split: 0.2,
        early_stopping_patience: Some(30),
        lr_decay: 0.7,
        lr_decay_step: 60,
        l2_reg: 1e-5,
        seed: 5,
        ..TrainingConfig::default()
    }
}

fn accuracy(model: &FastGrnn, rows: &[(Vec<f32>, f32)]) -> f32 {
    let ok = rows.iter().filter(|(x, y)| model.route(x).unwrap().route == *y as usize).count();
    ok as f32 / rows.len() as f32
}

fn trained_xor() -> (FastGrnn, Vec<(Vec<f32>, f32)>, f32) {
    let mut rng = Rng::new(1);
    let mut t = RouterTrainer::new(RouterConfig { hidden_dim: 16, ..RouterConfig::default() }, xor_config()).unwrap();
    for (x, y) in xor_rows(&mut rng, 1500) {
        t.add_sample(&x, y, None).unwrap();
    }
    let m = t.train().unwrap();
    assert!(m.val_accuracy >= 0.95, "val accuracy {} after {} epochs", m.val_accuracy, m.epochs);
    assert!(m.train_loss.last().unwrap() < &m.train_loss[0]);
    (t.model().unwrap().clone(), xor_rows(&mut rng, 2000), m.val_accuracy)
}

#[test]
fn learns_xor_then_quantizes_prunes_and_round_trips() {
    let (model, test, _) = trained_xor();
    let float_acc = accuracy(&model, &test);
    assert!(float_acc >= 0.95, "held-out accuracy {float_acc}");

    // INT8: at least 98 % identical decisions, 4x smaller weights.
    let mut q = model.clone();
    q.quantize();
    assert!(q.is_quantized());
    let rows: Vec<Vec<f32>> = test.iter().map(|(x, _)| x.clone()).collect();
    let agree = agreement(&model, &q, &rows).unwrap();
    assert!(agree >= 0.98, "quantised agreement {agree}");
    assert!(q.size_bytes() * 2 < model.size_bytes(), "{} vs {}", q.size_bytes(), model.size_bytes());

    // Pruning half of every weight tensor keeps held-out accuracy within 5 points.
    let mut p = model.clone();
    p.prune(0.5).unwrap();
    assert!(p.sparsity() >= 0.5 - 1e-6, "sparsity {}", p.sparsity());
    let pruned_acc = accuracy(&p, &test);
    assert!(pruned_acc >= float_acc - 0.05, "pruned {pruned_acc} vs float {float_acc}");

    // Bytes: identical decisions and scores (bit for bit) after a round trip, float and quantised.
    for m in [&model, &q, &p] {
        let bytes = m.to_bytes();
        assert_eq!(bytes.len(), m.size_bytes());
        let back = FastGrnn::from_bytes(&bytes).unwrap();
        assert_eq!(&back, m);
        assert_eq!(back.to_bytes(), bytes);
        for x in rows.iter().take(200) {
            assert_eq!(back.route(x).unwrap(), m.route(x).unwrap());
        }
    }
}

#[test]
fn learns_three_routes_and_sequences() {
    // Softmax head: route = arg-max of the first three features.
    let mut rng = Rng::new(2);
    let cfg = RouterConfig { input_dim: 4, hidden_dim: 12, output_dim: 3, ..RouterConfig::default() };
    let mut t = RouterTrainer::new(cfg, TrainingConfig { learning_rate: 0.02, epochs: 150, seed: 3, ..TrainingConfig::default() }).unwrap();
    for _ in 0..1200 {
        let x = uniform(&mut rng, 4);
        let y = (0..3).fold(0, |b, i| if x[i] > x[b] { i } else { b });
        t.add_sample(&x, y as f32, None).unwrap();
    }
    let m = t.train().unwrap();
    assert!(m.val_accuracy >= 0.9, "3-route accuracy {}", m.val_accuracy);

    // Sequences (BPTT): 4 steps of 2 features, route 1 iff the sum of x0 over the steps is > 0.
    let cfg = RouterConfig { input_dim: 2, hidden_dim: 8, output_dim: 1, rank: Some(3), ..RouterConfig::default() };
    let mut t = RouterTrainer::new(cfg, TrainingConfig { learning_rate: 0.02, epochs: 150, seed: 4, ..TrainingConfig::default() }).unwrap();
    for _ in 0..1200 {
        let x = uniform(&mut rng, 8);
        let y = (x[0] + x[2] + x[4] + x[6] > 0.0) as u8 as f32;
        t.add_sample(&x, y, None).unwrap();
    }
    let m = t.train().unwrap();
    assert!(m.val_accuracy >= 0.9, "sequence accuracy {}", m.val_accuracy);
    // A one-step slice is not this model's sequence length but still a valid input.
    assert!(t.model().unwrap().route(&[0.5, 0.5]).is_ok());
}

#[test]
fn distillation_follows_the_teacher() {
    // Hard labels are coin flips; the teacher knows the rule x0 + x1 > 0 (or, second run, its
    // opposite). With α = 1 the student must follow the teacher.
    for flipped in [false, true] {
        let mut rng = Rng::new(11);
        let cfg = TrainingConfig { learning_rate: 0.02, epochs: 80, distillation_alpha: 1.0, distillation_temperature: 2.0, seed: 8, ..TrainingConfig::default() };
        let mut t = RouterTrainer::new(RouterConfig::default(), cfg).unwrap();
        for _ in 0..800 {
            let x = uniform(&mut rng, 5);
            let rule = x[0] + x[1] > 0.0;
            let q = if rule != flipped { 0.95 } else { 0.05 };
            let coin = (rng.next_f32() < 0.5) as u8 as f32;
            t.add_sample(&x, coin, Some(&[q])).unwrap();
        }
        t.train().unwrap();
        let model = t.model().unwrap();
        let test: Vec<(Vec<f32>, f32)> = (0..1000)
            .map(|_| {
                let x = uniform(&mut rng, 5);
                let y = ((x[0] + x[1] > 0.0) != flipped) as u8 as f32;
                (x, y)
            })
            .collect();
        let acc = accuracy(model, &test);
        assert!(acc >= 0.95, "flipped={flipped}: follows the teacher on {acc}");
    }
}

#[test]
fn schedule_and_early_stopping() {
    // Random labels: validation loss stops improving soon, so patience 3 ends training early.
    let mut rng = Rng::new(21);
    let cfg = TrainingConfig {
        learning_rate: 0.01,
        lr_decay: 0.8,
        lr_decay_step: 10,
        epochs: 500,
        early_stopping_patience: Some(3),
        ..TrainingConfig::default()
    };
    let mut t = RouterTrainer::new(RouterConfig::default(), cfg).unwrap();
    for _ in 0..200 {
        let x = uniform(&mut rng, 5);
        t.add_sample(&x, (rng.next_f32() < 0.5) as u8 as f32, None).unwrap();
    }
    let m = t.train().unwrap();
    assert!(m.stopped_early && m.epochs < 500);
    assert_eq!(m.epochs, m.best_epoch + 1 + 3);
    let min = m.val_loss.iter().cloned().fold(f32::INFINITY, f32::min);
    assert_eq!(m.val_loss[m.best_epoch], min);
    assert_eq!((m.train_samples, m.val_samples), (160, 40));
    // The seed's schedule: 0.01 for epochs 0-9, 0.008 for 10-19, 0.0064 for 20-29.
    let lr = |e: usize| m.learning_rate.get(e).copied();
    assert_eq!(lr(0), Some(0.01));
    if let Some(v) = lr(12) {
        assert!((v - 0.008).abs() < 1e-7);
    }
}

#[test]
fn bad_input_is_rejected_and_changes_nothing() {
    let bad_cfgs = [
        (RouterConfig { input_dim: 0, ..RouterConfig::default() }, "input_dim"),
        (RouterConfig { hidden_dim: 300, ..RouterConfig::default() }, "hidden_dim"),
        (RouterConfig { output_dim: 0, ..RouterConfig::default() }, "output_dim"),
        (RouterConfig { nu: f32::NAN, ..RouterConfig::default() }, "nu"),
        (RouterConfig { zeta: -1.0, ..RouterConfig::default() }, "zeta"),
        (RouterConfig { rank: Some(9), ..RouterConfig::default() }, "rank"),
    ];
    for (c, field) in bad_cfgs {
        match FastGrnn::new(c, 1) {
            Err(RouterError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    for (tc, field) in [
        (TrainingConfig { learning_rate: 0.0, ..TrainingConfig::default() }, "learning_rate"),
        (TrainingConfig { batch_size: 0, ..TrainingConfig::default() }, "batch_size"),
        (TrainingConfig { validation_split: 0.0, ..TrainingConfig::default() }, "validation_split"),
        (TrainingConfig { early_stopping_patience: Some(0), ..TrainingConfig::default() }, "early_stopping_patience"),
        (TrainingConfig { grad_clip: f32::INFINITY, ..TrainingConfig::default() }, "grad_clip"),
        (TrainingConfig { distillation_temperature: 0.5, ..TrainingConfig::default() }, "distillation_temperature"),
    ] {
        match RouterTrainer::new(RouterConfig::default(), tc) {
            Err(RouterError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }

    let mut model = random_model(RouterConfig::default(), 3);
    let before = model.clone();
    assert!(matches!(model.route(&[0.0; 4]), Err(RouterError::BadFeatureLength { input_dim: 5, got: 4 })));
    assert!(matches!(model.route(&[]), Err(RouterError::BadFeatureLength { .. })));
    assert!(matches!(model.route(&[0.0, 0.0, f32::NAN, 0.0, 0.0]), Err(RouterError::NonFinite { index: 2, .. })));
    assert!(matches!(model.prune(1.0), Err(RouterError::InvalidValue { what: "sparsity", .. })));
    assert!(matches!(model.prune(f32::NAN), Err(RouterError::InvalidValue { .. })));
    assert!(model.set_normalization(&[0.0; 5], &[1.0, 1.0, 0.0, 1.0, 1.0]).is_err());
    assert!(model.set_normalization(&[0.0; 4], &[1.0; 4]).is_err());
    assert_eq!(model, before);

    // Bytes: truncated, wrong magic, version, length, checksum, trailing data, bad config.
    let bytes = model.to_bytes();
    assert!(matches!(FastGrnn::from_bytes(&bytes[..10]), Err(RouterError::BadBytes(_))));
    assert!(matches!(FastGrnn::from_bytes(&bytes[..bytes.len() - 1]), Err(RouterError::BadBytes(_))));
    let mut b = bytes.clone();
    b[0] = b'X';
    assert!(matches!(FastGrnn::from_bytes(&b), Err(RouterError::BadBytes("bad magic bytes"))));
    let mut b = bytes.clone();
    b[8] = 2;
    assert!(matches!(FastGrnn::from_bytes(&b), Err(RouterError::UnsupportedVersion { found: 2, supported: 1 })));
    let mut b = bytes.clone();
    b[ROUTER_HEADER_LEN + 30] ^= 0x40;
    assert!(matches!(FastGrnn::from_bytes(&b), Err(RouterError::ChecksumMismatch { .. })));
    // A payload with a valid checksum but an invalid configuration (hidden_dim = 0).
    let mut b = bytes.clone();
    b[ROUTER_HEADER_LEN + 2] = 0;
    b[ROUTER_HEADER_LEN + 3] = 0;
    let crc = crate::persist::crc32(&b[ROUTER_HEADER_LEN..]);
    b[16..20].copy_from_slice(&crc.to_le_bytes());
    assert!(matches!(FastGrnn::from_bytes(&b), Err(RouterError::InvalidConfig { field: "hidden_dim", .. })));
    // A NaN parameter with a valid checksum.
    let mut b = bytes.clone();
    let at = b.len() - 4;
    b[at..].copy_from_slice(&f32::NAN.to_le_bytes());
    let crc = crate::persist::crc32(&b[ROUTER_HEADER_LEN..]);
    b[16..20].copy_from_slice(&crc.to_le_bytes());
    assert!(matches!(FastGrnn::from_bytes(&b), Err(RouterError::BadBytes("non-finite parameter"))));
    // Damage behind a consistent header (length and checksum rewritten), so that the parser's own
    // checks must reject it: a payload cut short or one byte longer, unknown flag bits, and a
    // quantised model whose scale is 0, negative or NaN (scales are finite and > 0 by construction).
    let reseal = |header: &[u8], payload: &[u8]| {
        let mut b = header[..ROUTER_HEADER_LEN].to_vec();
        b[12..16].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        b[16..20].copy_from_slice(&crate::persist::crc32(payload).to_le_bytes());
        b.extend_from_slice(payload);
        b
    };
    let payload = &bytes[ROUTER_HEADER_LEN..];
    for cut in [1, 4, payload.len() / 2, payload.len() - 17] {
        let b = reseal(&bytes, &payload[..payload.len() - cut]);
        assert_eq!(FastGrnn::from_bytes(&b), Err(RouterError::BadBytes("payload ends early")), "cut {cut}");
    }
    let longer: Vec<u8> = payload.iter().copied().chain([0]).collect();
    assert_eq!(FastGrnn::from_bytes(&reseal(&bytes, &longer)), Err(RouterError::BadBytes("trailing bytes after the parameters")));
    let flags_at = 4 * 2 + 2 * 4; // four u16 dimensions, nu and zeta
    for flags in [2u8, 3, 0x80] {
        let mut p = payload.to_vec();
        p[flags_at] = flags;
        assert_eq!(FastGrnn::from_bytes(&reseal(&bytes, &p)), Err(RouterError::BadBytes("unknown flags")), "flags {flags}");
    }
    let mut q = model.clone();
    q.quantize();
    let qbytes = q.to_bytes();
    let scale_at = flags_at + 1 + 2 * 4 * q.config().input_dim; // after flags, mean and std
    for scale in [0.0f32, -0.01, f32::NAN, f32::INFINITY] {
        let mut p = qbytes[ROUTER_HEADER_LEN..].to_vec();
        p[scale_at..scale_at + 4].copy_from_slice(&scale.to_le_bytes());
        assert_eq!(FastGrnn::from_bytes(&reseal(&qbytes, &p)), Err(RouterError::BadBytes("invalid quantisation scale")), "scale {scale}");
    }

    // Trainer samples.
    let mut t = RouterTrainer::new(RouterConfig { output_dim: 3, ..RouterConfig::default() }, TrainingConfig::default()).unwrap();
    assert!(t.add_sample(&[0.0; 5], 3.0, None).is_err());
    assert!(t.add_sample(&[0.0; 5], 0.5, None).is_err());
    assert!(t.add_sample(&[0.0; 6], 1.0, None).is_err());
    assert!(t.add_sample(&[f32::INFINITY; 5], 1.0, None).is_err());
    assert!(matches!(t.add_sample(&[0.0; 5], 1.0, Some(&[0.5, 0.5])), Err(RouterError::DimensionMismatch { .. })));
    assert!(t.add_sample(&[0.0; 5], 1.0, Some(&[0.5, 0.4, 0.4])).is_err());
    assert_eq!(t.sample_count(), 0);
    assert!(matches!(t.train(), Err(RouterError::NotEnoughSamples { needed: 2, got: 0 })));
    let mut t9 = RouterTrainer::new(RouterConfig::default(), TrainingConfig { validation_split: 0.9, ..TrainingConfig::default() }).unwrap();
    for _ in 0..5 {
        t9.add_sample(&[0.0; 5], 1.0, None).unwrap();
    }
    // round(0.9 · 5) = 5 validation samples leave none for training; 6 → 5 + 1.
    assert!(matches!(t9.train(), Err(RouterError::NotEnoughSamples { needed: 6, got: 5 })));
    assert!(t.model().is_none());
    let mut t1 = RouterTrainer::new(RouterConfig::default(), TrainingConfig::default()).unwrap();
    assert!(t1.add_sample(&[0.0; 5], 1.5, None).is_err());
    assert!(t1.add_sample(&[0.0; 5], f32::NAN, None).is_err());
    t1.add_sample(&[0.0; 5], 0.7, None).unwrap();
    assert_eq!(t1.sample_count(), 1);
}

#[test]
fn seed_sized_model_is_small() {
    // The seed's configuration (5 inputs, 8 hidden, rank 4, 1 output) quantised: about 500 bytes.
    let mut m = FastGrnn::new(RouterConfig::default(), 1).unwrap();
    assert_eq!(m.parameter_count(), 3 * 8 * 5 + 2 * 8 * 4 + 8 + 3 * 8 + 1);
    m.quantize();
    assert!(m.size_bytes() <= 512, "{} bytes", m.size_bytes());
}

#[test]
fn numbers_in_messages() {
    use crate::router::Num;
    use alloc::format;
    let cases: [(f64, &str); 10] = [
        (f64::NAN, "NaN"),
        (f64::NEG_INFINITY, "-Infinity"),
        (0.0, "0"),
        (1.5, "1.5"),
        (-0.25, "-0.25"),
        (4294967295.0, "4294967295"),
        (0.001, "0.001"),
        (1.5e-9, "1.5e-9"),
        (2e20, "1e15 or more"),
        (0.1234567, "0.123457"),
    ];
    for (v, text) in cases {
        assert_eq!(format!("{}", Num(v)), text);
    }
}

/// INT8 is per-tensor symmetric (module doc): every weight of a tensor lands on the grid
/// `−127..127 × scale` with `scale = max|w| / 127`, so it moves by at most half a step, the
/// largest weight is kept, and the biases stay f32.
#[test]
fn int8_weights_lie_on_a_127_level_grid_within_half_a_step() {
    let m = random_model(RouterConfig::default(), 5);
    let mut q = m.clone();
    q.quantize();
    for (start, len) in m.layout().weight_tensors() {
        let (w, wq) = (&m.params()[start..start + len], &q.params()[start..start + len]);
        let max = w.iter().fold(0.0f32, |a, &b| a.max(b.abs()));
        let step = max / 127.0;
        for (a, b) in w.iter().zip(wq) {
            assert!((a - b).abs() <= 0.5 * step * 1.001, "{a} → {b}, step {step}");
            let code = b / step;
            assert!((code - libm::roundf(code)).abs() < 1e-3 && code.abs() <= 127.001, "code {code}");
        }
        assert!(wq.iter().any(|v| (v.abs() - max).abs() <= 1e-6 * max), "the largest weight is on the grid");
    }
    let biases = m.layout().weight_count();
    assert_eq!(&q.params()[biases..], &m.params()[biases..], "biases are not quantised");
}

/// The cell equations of the module docs, evaluated in f64 straight from the flat parameters
/// (Layout order) — the recurrent matrix formed explicitly as `W = A·Bᵀ` when low rank — and the
/// head: `[σ(o)]` for one output, the softmax otherwise.
fn reference_scores(m: &FastGrnn, features: &[f32]) -> Vec<f64> {
    let (l, c) = (m.layout(), m.config());
    let (d, h, o, r) = (l.input_dim, l.hidden_dim, l.output_dim, l.rank);
    let p: Vec<f64> = m.params().iter().map(|&v| v as f64).collect();
    let (mean, std) = m.normalization();
    let (nu, zeta) = (c.nu as f64, c.zeta as f64);
    let sig = |a: f64| 1.0 / (1.0 + libm::exp(-a));
    let w = |i: usize, j: usize| if r == 0 { p[l.rec_a + i * h + j] } else { (0..r).map(|k| p[l.rec_a + i * r + k] * p[l.rec_b + j * r + k]).sum() };
    let mut hs = vec![0.0f64; h];
    for step in features.chunks(d) {
        let x: Vec<f64> = step.iter().enumerate().map(|(k, &v)| (v as f64 - mean[k] as f64) / std[k] as f64).collect();
        let affine = |wt: usize, b: usize, i: usize| p[b + i] + (0..d).map(|k| p[wt + i * d + k] * x[k]).sum::<f64>();
        let rg: Vec<f64> = (0..h).map(|i| sig(nu * affine(l.w_r, l.b_r, i))).collect();
        let ug: Vec<f64> = (0..h).map(|i| sig(nu * affine(l.w_u, l.b_u, i))).collect();
        hs = (0..h)
            .map(|i| {
                let rec: f64 = (0..h).map(|j| w(i, j) * rg[j] * hs[j]).sum();
                let cand = libm::tanh(zeta * (affine(l.w_c, l.b_c, i) + rec));
                ug[i] * hs[i] + (1.0 - ug[i]) * cand
            })
            .collect();
    }
    let z: Vec<f64> = (0..o).map(|j| p[l.b_out + j] + (0..h).map(|i| p[l.w_out + j * h + i] * hs[i]).sum::<f64>()).collect();
    if o == 1 {
        return vec![sig(z[0])];
    }
    let top = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| libm::exp(v - top)).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| v / sum).collect()
}

/// route() against the equations with ν, ζ ≠ 1 (the package's reference test runs ν = ζ = 1, where
/// swapping or dropping them is invisible), full and low rank, one and several steps, and the
/// decision rule: p ≥ 0.5 → route 1 with confidence max(p, 1 − p); else the arg-max.
#[test]
fn forward_pass_follows_the_cell_equations() {
    let configs = [
        RouterConfig { input_dim: 3, hidden_dim: 5, output_dim: 1, nu: 1.7, zeta: 0.6, rank: None },
        RouterConfig { input_dim: 4, hidden_dim: 6, output_dim: 4, nu: 0.5, zeta: 2.2, rank: Some(2) },
    ];
    let mut rng = Rng::new(31);
    for (ci, config) in configs.into_iter().enumerate() {
        let model = random_model(config, 40 + ci as u64);
        let d = model.config().input_dim;
        for steps in [1, 2, 5] {
            for _ in 0..10 {
                let x: Vec<f32> = uniform(&mut rng, d * steps).iter().map(|v| 2.0 * v).collect();
                let got = model.route(&x).unwrap();
                let want = reference_scores(&model, &x);
                for (g, w) in got.scores.iter().zip(&want) {
                    assert!((*g as f64 - w).abs() < 1e-5, "config {ci}, {steps} steps: {g} vs {w}");
                }
                if want.len() == 1 {
                    assert_eq!(got.route, (want[0] >= 0.5) as usize);
                    assert!((got.confidence as f64 - want[0].max(1.0 - want[0])).abs() < 1e-5);
                } else {
                    let best = (0..want.len()).fold(0, |b, i| if want[i] > want[b] { i } else { b });
                    assert_eq!(got.route, best);
                    assert_eq!(got.confidence, got.scores[best]);
                }
            }
        }
    }
    // Decision rule at the boundaries: p = 0.5 routes to 1; tied maxima pick the lowest index.
    assert_eq!(crate::router::decide(&[0.5]), (1, 0.5));
    assert_eq!(crate::router::decide(&[0.25]), (0, 0.75));
    assert_eq!(crate::router::decide(&[0.1, 0.45, 0.45]), (1, 0.45));
}

#[test]
fn adam_step_follows_the_documented_update() {
    // Reference in f64 from the formula in `Adam::step`'s doc (and the module doc): L2 on the
    // weights only, element-wise clip after it, β1/β2 moments, bias correction by 1 − β^t.
    let cfg = TrainingConfig { l2_reg: 0.1, grad_clip: 1.0, adam_beta1: 0.8, adam_beta2: 0.95, adam_epsilon: 1e-3, ..TrainingConfig::default() };
    let (lr, scale, weights) = (0.1f64, 0.5f64, 2usize);
    let grads = [[4.0f32, 0.2, -3.0], [-1.0, 0.5, 3.0], [0.1, -0.1, 0.2], [0.6, 1.4, -0.4]];
    let mut params = [0.5f32, -2.0, 1.0];
    let mut expect = [0.5f64, -2.0, 1.0];
    let (mut m, mut v) = ([0.0f64; 3], [0.0f64; 3]);
    let mut adam = Adam::new(3);
    for (t, g) in grads.iter().enumerate() {
        let t = t as i32 + 1;
        for j in 0..3 {
            let mut gj = g[j] as f64 * scale;
            if j < weights {
                gj += cfg.l2_reg as f64 * expect[j];
            }
            let gj = gj.clamp(-cfg.grad_clip as f64, cfg.grad_clip as f64);
            m[j] = 0.8 * m[j] + 0.2 * gj;
            v[j] = 0.95 * v[j] + 0.05 * gj * gj;
            let (mh, vh) = (m[j] / (1.0 - 0.8f64.powi(t)), v[j] / (1.0 - 0.95f64.powi(t)));
            expect[j] -= lr * mh / (vh.sqrt() + 1e-3);
        }
        adam.step(&mut params, g, scale as f32, weights, lr as f32, &cfg);
        for j in 0..3 {
            assert!((params[j] as f64 - expect[j]).abs() < 1e-5, "step {t}, param {j}: {} vs {}", params[j], expect[j]);
        }
    }
}

#[test]
fn sample_loss_is_the_documented_distillation_loss() {
    let sig = |a: f64| 1.0 / (1.0 + (-a).exp());
    let bce = |p: f64, q: f64| -(q * p.ln() + (1.0 - q) * (1.0 - p).ln());
    let (alpha, t) = (0.7f64, 3.0f64);
    // One output: α·BCE(σ(z/T), σ(logit(q)/T)) + (1 − α)·BCE(σ(z), y).
    for (z, y, q) in [(1.3f64, 1.0f64, 0.9f64), (-0.4, 0.0, 0.25), (2.2, 0.3, 0.6)] {
        let target = Target { label: y as f32, teacher: Some(&[q as f32]), alpha: alpha as f32, temperature: t as f32 };
        let mut dz = [0.0f32];
        let got = sample_loss(&[z as f32], &target, &mut dz) as f64;
        let soft = sig((q / (1.0 - q)).ln() / t);
        let want = alpha * bce(sig(z / t), soft) + (1.0 - alpha) * bce(sig(z), y);
        assert!((got - want).abs() < 1e-5, "z={z}: {got} vs {want}");
        let hard = Target { teacher: None, ..target };
        let got = sample_loss(&[z as f32], &hard, &mut dz) as f64;
        assert!((got - bce(sig(z), y)).abs() < 1e-5, "without teacher: {got} vs {}", bce(sig(z), y));
    }
    // N outputs: α·CE(softmax(z/T), softmax(ln q / T)) + (1 − α)·CE(softmax(z), one-hot(y)).
    let softmax = |v: &[f64]| {
        let e: Vec<f64> = v.iter().map(|x| x.exp()).collect();
        let s: f64 = e.iter().sum();
        e.into_iter().map(|x| x / s).collect::<Vec<f64>>()
    };
    let z = [0.5f64, -1.0, 2.0];
    let q = [0.2f64, 0.1, 0.7];
    let target = Target { label: 1.0, teacher: Some(&[0.2, 0.1, 0.7]), alpha: alpha as f32, temperature: t as f32 };
    let mut dz = [0.0f32; 3];
    let got = sample_loss(&[0.5, -1.0, 2.0], &target, &mut dz) as f64;
    let p_t = softmax(&z.map(|x| x / t));
    let q_t = softmax(&q.map(|x| x.ln() / t));
    let soft: f64 = (0..3).map(|i| -q_t[i] * p_t[i].ln()).sum();
    let hard = -softmax(&z)[1].ln();
    let want = alpha * soft + (1.0 - alpha) * hard;
    assert!((got - want).abs() < 1e-5, "softmax head: {got} vs {want}");
}

fn random_label_trainer(cfg: TrainingConfig, n: usize) -> RouterTrainer {
    let mut rng = Rng::new(21);
    let mut t = RouterTrainer::new(RouterConfig::default(), cfg).unwrap();
    for _ in 0..n {
        let x = uniform(&mut rng, 5);
        t.add_sample(&x, (rng.next_f32() < 0.5) as u8 as f32, None).unwrap();
    }
    t
}

#[test]
fn step_decay_follows_the_seed_schedule() {
    // lr · lr_decay^⌊epoch / lr_decay_step⌋ for every epoch (no early stopping).
    let cfg = TrainingConfig { learning_rate: 0.01, lr_decay: 0.5, lr_decay_step: 20, epochs: 45, early_stopping_patience: None, ..TrainingConfig::default() };
    let m = random_label_trainer(cfg, 20).train().unwrap();
    assert_eq!(m.epochs, 45);
    assert!(!m.stopped_early);
    for (e, &lr) in m.learning_rate.iter().enumerate() {
        let want = 0.01 * 0.5f32.powi((e / 20) as i32);
        assert!((lr - want).abs() <= 1e-9, "epoch {e}: {lr} vs {want}");
    }
}

#[test]
fn early_stopping_keeps_the_best_epochs_weights() {
    // Training is deterministic for a seed, so a run stopped early must return exactly the model
    // that a run of best_epoch + 1 epochs (no early stopping) ends with.
    let cfg = TrainingConfig { learning_rate: 0.01, epochs: 500, early_stopping_patience: Some(3), ..TrainingConfig::default() };
    let mut stopped = random_label_trainer(cfg.clone(), 200);
    let m = stopped.train().unwrap();
    assert!(m.stopped_early && m.epochs == m.best_epoch + 1 + 3, "{} epochs, best {}", m.epochs, m.best_epoch);
    assert_eq!(m.val_accuracy, m.val_accuracy_history[m.best_epoch]);
    let mut short = random_label_trainer(TrainingConfig { epochs: m.best_epoch + 1, early_stopping_patience: None, ..cfg }, 200);
    let s = short.train().unwrap();
    assert_eq!(s.best_epoch, m.best_epoch);
    assert_eq!(stopped.model().unwrap(), short.model().unwrap());
    // The last epoch's weights were different (a different validation loss), so keeping them
    // instead of the best would fail the comparison above.
    assert_ne!(m.val_loss[m.epochs - 1], m.val_loss[m.best_epoch]);
}

#[test]
fn validation_split_is_a_seeded_shuffle() {
    // Feature i for sample i (one feature): the stored mean is that of the training split, so
    // 8 · mean = 45 − (sum of the 2 held-out indices). A seeded shuffle picks different pairs for
    // different seeds and the same pair for the same seed; taking the first (or last) two never would.
    let mean_for = |seed: u64| {
        let cfg = TrainingConfig { epochs: 1, seed, ..TrainingConfig::default() };
        let mut t = RouterTrainer::new(RouterConfig { input_dim: 1, ..RouterConfig::default() }, cfg).unwrap();
        for i in 0..10 {
            t.add_sample(&[i as f32], (i % 2) as f32, None).unwrap();
        }
        let m = t.train().unwrap();
        assert_eq!((m.train_samples, m.val_samples), (8, 2));
        let held_out = 45.0 - 8.0 * t.model().unwrap().normalization().0[0] as f64;
        assert!((held_out - held_out.round()).abs() < 1e-4 && (1.0..=17.0).contains(&held_out.round()), "held-out sum {held_out}");
        held_out.round() as i32
    };
    let sums: Vec<i32> = (1..=8).map(mean_for).collect();
    assert_eq!(mean_for(3), sums[2]);
    let distinct = sums.iter().filter(|&&s| s != sums[0]).count();
    assert!(distinct > 0 && sums.iter().any(|&s| s != 1 && s != 17), "held-out sums {sums:?}");
}

/// Quantising tensors whose largest weight is near f32::MAX or subnormal gives bytes that load:
/// 127 · scale rounded past f32::MAX (a non-finite weight) and a subnormal max / 127 gave a zero
/// scale (NaN weights), both rejected by from_bytes.
#[test]
fn quantize_at_the_f32_extremes_gives_loadable_bytes() {
    let config = RouterConfig { input_dim: 3, hidden_dim: 4, output_dim: 2, ..RouterConfig::default() };
    for (big, tiny) in [(f32::MAX, 1e-44f32), (3.3e38, f32::from_bits(1)), (1.0, 0.0)] {
        let mut m = random_model(config.clone(), 5);
        let params = m.params_mut();
        params[0] = big;
        params[1] = -big;
        // A second tensor (the recurrent weights start after the input ones) all but zero.
        let second = 3 * 4;
        params[second..second + 16].iter_mut().enumerate().for_each(|(i, p)| *p = if i == 0 { tiny } else { 0.0 });
        m.quantize();
        assert!(m.params_mut().iter().all(|p| p.is_finite()), "{big} {tiny}");
        let back = FastGrnn::from_bytes(&m.to_bytes()).unwrap_or_else(|e| panic!("{big} {tiny}: {e}"));
        assert_eq!(back.to_bytes(), m.to_bytes());
    }
}

/// Finite features that overflow once normalised (a std near 0) are refused by name, nothing
/// written, instead of routing to NaN scores.
#[test]
fn features_that_overflow_once_normalised_are_refused() {
    let config = RouterConfig { input_dim: 2, hidden_dim: 4, output_dim: 3, ..RouterConfig::default() };
    let mut m = random_model(config, 8);
    // Positive weights: +∞ and −∞ inputs then meet in one sum (∞ − ∞ = NaN).
    m.params_mut().fill(0.25);
    let mut scores = [7.0f32; 3];
    m.set_normalization(&[0.0, 0.0], &[1e-45, 1e-45]).unwrap();
    let err = m.route_into(&[1.0, -1.0], &mut Trace::default(), &mut scores).unwrap_err();
    assert!(matches!(err, RouterError::NonFinite { .. }), "{err}");
    assert_eq!(scores, [7.0; 3], "nothing written");
    assert!(m.route(&[0.0, 0.0]).unwrap().scores.iter().all(|s| s.is_finite()), "in-range features still route");
}

/// A validation sample far outside the training split's range overflows once normalised: the
/// loss is refused by name (it came back as NaN metrics from an Ok), and the trainer keeps the
/// model it had; every other run reports finite metrics.
#[test]
fn a_non_finite_loss_is_refused_and_the_trainer_keeps_its_model() {
    let (mut refused, mut fine) = (0, 0);
    for seed in 1..=24u64 {
        let config = RouterConfig { input_dim: 2, hidden_dim: 4, output_dim: 2, ..RouterConfig::default() };
        let mut t = RouterTrainer::new(config, TrainingConfig { epochs: 3, seed, ..TrainingConfig::default() }).unwrap();
        let mut rng = Rng::new(seed);
        for i in 0..9 {
            t.add_sample(&[rng.next_f32(), rng.next_f32()], (i % 2) as f32, None).unwrap();
        }
        t.train().unwrap();
        let before = t.model().unwrap().to_bytes();
        t.add_sample(&[3e38, -3e38], 1.0, None).unwrap();
        match t.train() {
            Ok(m) => {
                assert!(m.train_loss.iter().chain(&m.val_loss).all(|v| v.is_finite()), "seed {seed}");
                fine += 1;
            }
            Err(e) => {
                assert!(matches!(e, RouterError::InvalidValue { what: "training or validation loss", .. }), "seed {seed}: {e}");
                assert_eq!(t.model().unwrap().to_bytes(), before, "seed {seed}: the model is kept");
                refused += 1;
            }
        }
    }
    assert!(refused > 0 && fine > 0, "refused {refused}, fine {fine}");
}
