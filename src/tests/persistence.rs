//! Persistence: round trips and every kind of rejected bytes.

use super::*;
use crate::persist::{crc32, load, save, save_version, HEADER_LEN};
use crate::{PersistError, SonaError};

fn busy_engine() -> SonaEngine {
    let dim = 32;
    let mut rng = Rng::new(9);
    let topics = Topics::new(&mut rng, 3, dim);
    let mut e = engine(SonaConfig { hidden_dim: dim, embedding_dim: dim, pattern_clusters: 12, ..SonaConfig::default() }, 21);
    for i in 0..60 {
        topics.run(&mut e, &mut rng, i % 3);
    }
    e.force_learn(500.0).unwrap();
    for i in 0..7 {
        let id = topics.run(&mut e, &mut rng, i % 3);
        if i == 3 {
            let _ = id;
        }
    }
    e.learn_from_feedback(true, 120.0, 0.7).unwrap();
    let open = e.start_trajectory(&unit(&mut rng, dim)).unwrap();
    e.record_step(open, 5, 0.4, 30.0).unwrap();
    e.set_trajectory_route(open, "gpt-code").unwrap();
    e.add_trajectory_context(open, "ctx-1").unwrap();
    e.tick(600.0).unwrap();
    e
}

#[test]
fn round_trip_is_exact() {
    let mut a = busy_engine();
    let bytes = save(&a);
    let mut b = load(&bytes).unwrap();
    assert!(a == b, "every persisted field survives");
    assert_eq!(save(&b), bytes);
    let mut rng = Rng::new(1);
    let x = unit(&mut rng, 32);
    assert_eq!(a.apply_lora(&x).unwrap(), b.apply_lora(&x).unwrap());
    assert_eq!(a.apply_lora_layer(1, &x).unwrap(), b.apply_lora_layer(1, &x).unwrap());
    assert_eq!(a.stats(), b.stats());
    assert_eq!(a.find_patterns(&x, 3, 900.0).unwrap(), b.find_patterns(&x, 3, 900.0).unwrap());
    // Both continue identically (the generator state is part of the state).
    let open = a.open[0].id;
    a.end_trajectory(open, 0.9).unwrap();
    b.end_trajectory(open, 0.9).unwrap();
    assert_eq!(a.force_learn(1000.0).unwrap(), b.force_learn(1000.0).unwrap());
    assert_eq!(save(&a), save(&b));
}

/// The EWC++ state that one deep cycle leaves trivial (λ as configured, no loss variance, no
/// boundary) survives too: adapted λ, loss statistics, boundary count, Fisher and every task.
#[test]
fn adapted_ewc_state_round_trips() {
    let mut a = busy_engine();
    let params = a.base_params();
    a.ewc.observe_update(&vec![0.5; params.len()]);
    a.ewc.consolidate(&vec![1.0; params.len()]); // drifted: λ adapts away from the configured 2000
    assert_eq!(a.ewc.task_count(), 2);
    assert!(a.ewc.lambda() != a.config().ewc_lambda);
    (a.ewc.loss_mean, a.ewc.loss_var, a.ewc.loss_count, a.ewc.boundaries) = (0.75, 0.0625, 9, 3);
    let b = load(&save(&a)).unwrap();
    assert_eq!(b.ewc, a.ewc);
    assert_eq!((b.stats().ewc_lambda, b.stats().ewc_task_boundaries), (a.ewc.lambda(), 3));
    assert!(a == b);
}

#[test]
fn step_less_open_trajectory_round_trips_and_continues_identically() {
    // Its running sums reuse recycled buffers and are only written by the first step: whatever
    // they hold before must neither reach the bytes nor change what happens next.
    let mut a = busy_engine();
    let mut rng = Rng::new(4);
    let q = unit(&mut rng, 32);
    let open = a.start_trajectory(&q).unwrap();
    assert_eq!(a.open.iter().find(|t| t.id == open).unwrap().step_count, 0);
    let bytes = save(&a);
    let mut b = load(&bytes).unwrap();
    assert_eq!(save(&b), bytes);
    let t = b.open.iter().find(|t| t.id == open).unwrap();
    assert!(t.reward_weighted_sum.iter().chain(&t.activation_sum).all(|&x| x == 0.0), "stored as zeros");
    let (s1, s2) = (unit(&mut rng, 32), unit(&mut rng, 32));
    for e in [&mut a, &mut b] {
        e.add_step(open, &s1, &[], 0.9).unwrap();
        e.add_step(open, &s2, &[], 0.1).unwrap();
        e.end_trajectory(open, 0.8).unwrap();
    }
    assert!(a == b);
    assert_eq!(save(&a), save(&b));
    // A step-less trajectory ended at once learns a zero gradient in both.
    let empty_a = a.start_trajectory(&q).unwrap();
    let empty_b = b.start_trajectory(&q).unwrap();
    a.end_trajectory(empty_a, 0.9).unwrap();
    b.end_trajectory(empty_b, 0.9).unwrap();
    assert!(a.last.gradient.iter().all(|&x| x == 0.0));
    assert_eq!(save(&a), save(&b));
}

fn persist_err(bytes: &[u8]) -> PersistError {
    match load(bytes) {
        Err(SonaError::Persist(p)) => p,
        Err(other) => panic!("expected a persistence error, got {other:?}"),
        Ok(_) => panic!("bytes were accepted"),
    }
}

#[test]
fn truncated_bytes_are_rejected() {
    let bytes = save(&busy_engine());
    for cut in [0, 4, 8, 20, HEADER_LEN - 1, HEADER_LEN, HEADER_LEN + 10, bytes.len() / 2, bytes.len() - 1] {
        let e = persist_err(&bytes[..cut]);
        assert!(
            matches!(e, PersistError::Truncated { .. } | PersistError::LengthMismatch { .. }),
            "cut at {cut}: {e:?}"
        );
    }
}

#[test]
fn flipped_bits_are_rejected() {
    let bytes = save(&busy_engine());
    let step = (bytes.len() / 97).max(1);
    for pos in (HEADER_LEN..bytes.len()).step_by(step) {
        let mut b = bytes.clone();
        b[pos] ^= 0x10;
        assert!(matches!(persist_err(&b), PersistError::ChecksumMismatch { .. }), "flip at {pos}");
    }
    let mut b = bytes.clone();
    b[20] ^= 1; // the stored checksum itself
    assert!(matches!(persist_err(&b), PersistError::ChecksumMismatch { .. }));
    let mut b = bytes.clone();
    b[13] ^= 1; // the length field
    assert!(matches!(persist_err(&b), PersistError::LengthMismatch { .. }));
    let mut b = bytes.clone();
    b[2] ^= 1; // the magic
    assert_eq!(persist_err(&b), PersistError::BadMagic);
}

#[test]
fn wrong_version_and_foreign_bytes_are_rejected() {
    let bytes = save(&busy_engine());
    let mut b = bytes.clone();
    for version in [0u32, 4, 7] {
        b[8..12].copy_from_slice(&version.to_le_bytes());
        assert_eq!(persist_err(&b), PersistError::UnsupportedVersion { found: version, oldest: 1, supported: 3 });
    }
    assert_eq!(persist_err(b"\0asm\x01\0\0\0 some other module bytes"), PersistError::BadMagic);
    assert_eq!(persist_err(br#"{"hidden_dim":256}"#), PersistError::BadMagic);
    let msg = alloc::format!("{}", SonaError::from(persist_err(&b)));
    assert!(msg.contains("unsupported state version 7 (this build reads versions 1 to 3)"), "{msg}");
}

/// Version 1 (the MicroLoRA pending update as whole rows, then a loss sum nothing read) still
/// loads, into the same learning state: the same pending update, and the same engine after it is
/// applied.
#[test]
fn version_1_state_loads_into_the_same_state() {
    let mut a = busy_engine();
    let g = &a.micro_grad;
    assert!(g.samples > 0 && g.up_mix.iter().chain(&g.down_mix).any(|m| *m != 0.0), "a pending update with row mixes");
    let v1 = save_version(&a, 1);
    assert_eq!(v1[8..12], 1u32.to_le_bytes());
    assert_eq!(v1.len(), save(&a).len() - 4 * 8 + 4 - 4, "8 mixes fewer, a loss sum more, no EWC++ previous loss");
    // Version 2: all but the EWC++ previous starting loss (taken as the running mean, which it
    // equals after this engine's single background cycle).
    let v2 = save_version(&a, 2);
    assert_eq!(v2.len(), save(&a).len() - 4);
    assert_eq!(a.ewc.loss_count, 1);
    assert_eq!(save(&load(&v2).unwrap()), save(&a));
    let mut b = load(&v1).unwrap();
    assert_eq!(b.micro_grad, a.micro_grad.materialized(a.kernels, &a.micro));
    assert!(a.run_instant_cycle() > 0);
    b.run_instant_cycle();
    assert_eq!(save(&a), save(&b));
}

/// A payload with a valid checksum but inconsistent contents is still rejected.
#[test]
fn consistent_checksum_but_malformed_payload_is_rejected() {
    let bytes = save(&busy_engine());
    let reseal = |mut payload: alloc::vec::Vec<u8>| {
        let mut out = bytes[..HEADER_LEN].to_vec();
        out[12..20].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        out[20..24].copy_from_slice(&crc32(&payload).to_le_bytes());
        out.append(&mut payload);
        out
    };
    // hidden_dim (first payload field) changed: the vectors no longer fit.
    let mut p = bytes[HEADER_LEN..].to_vec();
    p[0..8].copy_from_slice(&33u64.to_le_bytes());
    p[8..16].copy_from_slice(&33u64.to_le_bytes());
    assert!(matches!(persist_err(&reseal(p)), PersistError::Malformed(_)));
    // micro_lora_rank 3: invalid config.
    let mut p = bytes[HEADER_LEN..].to_vec();
    p[16..24].copy_from_slice(&3u64.to_le_bytes());
    assert!(matches!(persist_err(&reseal(p)), PersistError::Malformed(_)));
    // Trailing garbage.
    let mut p = bytes[HEADER_LEN..].to_vec();
    p.push(0);
    assert!(matches!(persist_err(&reseal(p)), PersistError::Malformed(_)));
    // Cut payload, resealed.
    let p = bytes[HEADER_LEN..bytes.len() - 3].to_vec();
    assert!(matches!(persist_err(&reseal(p)), PersistError::Malformed(_)));
}

/// Two open trajectories with the same id (a crafted payload with a valid checksum) are rejected:
/// every open id must name exactly one trajectory.
#[test]
fn duplicate_open_trajectory_ids_are_rejected() {
    let mut e = busy_engine();
    e.next_id = 0x0123_4567_89ab; // distinctive ids, easy to find in the bytes
    let mut rng = Rng::new(5);
    let first = e.start_trajectory(&unit(&mut rng, 32)).unwrap();
    let second = e.start_trajectory(&unit(&mut rng, 32)).unwrap();
    let bytes = save(&e);
    assert!(load(&bytes).is_ok());
    let mut p = bytes[HEADER_LEN..].to_vec();
    let find = |p: &[u8], id: u64| p.windows(8).position(|w| w == id.to_le_bytes()).unwrap();
    let at = find(&p, second);
    p[at..at + 8].copy_from_slice(&first.to_le_bytes());
    let mut out = bytes[..HEADER_LEN].to_vec();
    out[20..24].copy_from_slice(&crc32(&p).to_le_bytes());
    out.extend_from_slice(&p);
    assert_eq!(persist_err(&out), PersistError::Malformed("duplicate open trajectory id"));
}

/// Counts and ids above 2^53 − 1 (exact as JS numbers) are refused on load: a checksum-valid
/// payload with the next trajectory id at u64::MAX loaded, and the next start overflowed it (a
/// panic in debug builds; in release the ids wrapped and the engine's own save was unloadable).
#[test]
fn counts_beyond_two_to_the_53_are_rejected() {
    let mut e = busy_engine();
    e.next_id = 0x0123_4567_89ab; // distinctive, easy to find in the bytes
    let bytes = save(&e);
    let mut p = bytes[HEADER_LEN..].to_vec();
    let at = p.windows(8).position(|w| w == e.next_id.to_le_bytes()).unwrap();
    let sealed = |p: &[u8]| {
        let mut out = bytes[..HEADER_LEN].to_vec();
        out[20..24].copy_from_slice(&crc32(p).to_le_bytes());
        out.extend_from_slice(p);
        out
    };
    for bad in [crate::persist::MAX_COUNT + 1, u64::MAX] {
        p[at..at + 8].copy_from_slice(&bad.to_le_bytes());
        assert_eq!(persist_err(&sealed(&p)), PersistError::Malformed("next trajectory id"), "{bad}");
    }
    // The last id below the bound is issued; then the ids are used up (a named error, nothing
    // changes), and every state on the way saves and loads.
    let mut rng = Rng::new(3);
    p[at..at + 8].copy_from_slice(&(crate::persist::MAX_COUNT - 1).to_le_bytes());
    let mut last = load(&sealed(&p)).expect("2^53 - 2 is a valid next id");
    assert_eq!(last.start_trajectory(&unit(&mut rng, 32)), Ok(crate::persist::MAX_COUNT - 1));
    let before = save(&last);
    assert!(matches!(last.start_trajectory(&unit(&mut rng, 32)), Err(SonaError::InvalidValue { what: "next trajectory id", .. })));
    assert_eq!(save(&last), before, "unchanged");
    assert!(load(&before).is_ok());
}

/// Counters saturate instead of overflowing: a checksum-valid state with a counter at u64::MAX
/// loads, counts on (a panic in debug builds before, a wrap to 0 in release) and saves.
#[test]
fn counters_saturate_at_their_maximum() {
    let mut e = busy_engine();
    e.counters.trajectories_started = u64::MAX - 1;
    e.counters.steps_recorded = u64::MAX;
    let mut e = load(&save(&e)).unwrap();
    let mut rng = Rng::new(4);
    for _ in 0..2 {
        let id = e.start_trajectory(&unit(&mut rng, 32)).unwrap();
        e.add_step(id, &unit(&mut rng, 32), &[], 0.5).unwrap();
        e.end_trajectory(id, 0.9).unwrap();
    }
    assert_eq!((e.counters.trajectories_started, e.counters.steps_recorded), (u64::MAX, u64::MAX));
    assert!(load(&save(&e)).is_ok());
}
