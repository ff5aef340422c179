//! The engine's LoRA adapters as a SafeTensors file with PEFT's tensor names, so that what an
//! engine learned in a browser or a worker can be read by Python (`safetensors.numpy.load_file`,
//! PyTorch, PEFT) or any other SafeTensors reader.
//!
//! ```text
//! offset  size  field
//! 0       8     N: length of the JSON header (u64 LE)
//! 8       N     JSON header, padded with spaces so that the data starts at a multiple of 8
//! 8 + N   …     the tensors' bytes, f32 little-endian, row-major, in the order the header lists them
//! ```
//! Tensors, for each adapter (`output = x + (lora_alpha / r) · B (A x)`, `lora_alpha` = 1):
//! - `{prefix}micro_lora.lora_A.weight`: `F32 [micro_lora_rank, hidden_dim]` (the down rows),
//! - `{prefix}micro_lora.lora_B.weight`: `F32 [hidden_dim, micro_lora_rank]` (the up rows, transposed),
//! - `{prefix}base_lora.{i}.lora_A.weight` and `.lora_B.weight` for each BaseLoRA layer `i`
//!   (`F32 [base_lora_rank, hidden_dim]` and `[hidden_dim, base_lora_rank]`).
//!
//! `micro_lora` is the adapter of `apply_lora`, `base_lora.{i}` the one of `apply_lora_layer(i)`.
//! `__metadata__` holds strings: `format` "pt", `lora_alpha` "1", `hidden_dim`, `micro_lora_rank`,
//! `base_lora_rank`, `base_lora_layers`. The default prefix, [`DEFAULT_PREFIX`], gives PEFT's
//! `base_model.model.<module>.lora_A.weight` shape of names.

use crate::engine::{SonaEngine, MAX_STRING_LEN};
use crate::error::{Result, SonaError};
use crate::lora::LoraAdapter;
use alloc::vec::Vec;

/// Prefix of every tensor name unless the caller gives another.
pub const DEFAULT_PREFIX: &str = "base_model.model.";

/// The SafeTensors bytes of `engine`'s MicroLoRA and BaseLoRA adapters (see the module docs),
/// tensor names prefixed by `prefix` ([`DEFAULT_PREFIX`] when `None`). Fails only for a prefix
/// longer than [`MAX_STRING_LEN`] bytes; any characters are allowed (the header escapes them as
/// JSON requires).
pub fn export_lora(engine: &SonaEngine, prefix: Option<&str>) -> Result<Vec<u8>> {
    let prefix = prefix.unwrap_or(DEFAULT_PREFIX);
    if prefix.len() > MAX_STRING_LEN {
        return Err(SonaError::StringTooLong { what: "prefix", len: prefix.len(), limit: MAX_STRING_LEN });
    }
    // Written with a few out-of-line byte appends rather than `String`/`core::fmt` (wasm size).
    let config = engine.config();
    let mut h = Vec::new();
    // lora_alpha is crate::lora::LORA_ALPHA (1): the tests rebuild apply_lora from this metadata.
    put(&mut h, b"{\"__metadata__\":{\"format\":\"pt\",\"lora_alpha\":\"1\"");
    put_field(&mut h, b"hidden_dim", config.hidden_dim);
    put_field(&mut h, b"micro_lora_rank", config.micro_lora_rank);
    put_field(&mut h, b"base_lora_rank", config.base_lora_rank);
    put_field(&mut h, b"base_lora_layers", engine.base.len());
    put(&mut h, b"}");
    let name = json_escaped(prefix);
    let mut offset = put_adapter(&mut h, &name, 0, &engine.micro, 0);
    for (i, adapter) in engine.base.iter().enumerate() {
        offset = put_adapter(&mut h, &name, i + 1, adapter, offset);
    }
    put(&mut h, b"}");
    h.resize(h.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + h.len() + offset);
    put(&mut out, &(h.len() as u64).to_le_bytes());
    put(&mut out, &h);
    put_values(&mut out, &engine.micro);
    engine.base.iter().for_each(|adapter| put_values(&mut out, adapter));
    Ok(out)
}

/// The header entries of one adapter (`layer` 0: MicroLoRA, i + 1: BaseLoRA layer i), its bytes
/// starting at `offset`; returns where the next adapter's start.
fn put_adapter(h: &mut Vec<u8>, prefix: &[u8], layer: usize, adapter: &LoraAdapter, offset: usize) -> usize {
    let offset = put_tensor(h, prefix, layer, b"lora_A", adapter.rank(), adapter.dim(), offset);
    put_tensor(h, prefix, layer, b"lora_B", adapter.dim(), adapter.rank(), offset)
}

/// One adapter's tensor bytes: A = the down rows as they are; `B[i][r] = up[r][i]` (the up rows
/// transposed).
#[inline(never)]
fn put_values(out: &mut Vec<u8>, adapter: &LoraAdapter) {
    let (rank, dim) = (adapter.rank(), adapter.dim());
    let (down, up) = adapter.params();
    down.iter().for_each(|v| put(out, &v.to_le_bytes()));
    (0..dim).for_each(|i| (0..rank).for_each(|r| put(out, &up[r * dim + i].to_le_bytes())));
}

/// `,"key":"value"` of the metadata.
#[inline(never)]
fn put_field(h: &mut Vec<u8>, key: &[u8], value: usize) {
    put(h, b",\"");
    put(h, key);
    put(h, b"\":\"");
    put_decimal(h, value);
    put(h, b"\"");
}

/// The header entry of one `rows × cols` F32 tensor whose bytes start at `offset`; returns where
/// the next tensor's start.
#[inline(never)]
fn put_tensor(h: &mut Vec<u8>, prefix: &[u8], layer: usize, matrix: &[u8], rows: usize, cols: usize, offset: usize) -> usize {
    put(h, b",\"");
    put(h, prefix);
    if layer == 0 {
        put(h, b"micro_lora.");
    } else {
        put(h, b"base_lora.");
        put_decimal(h, layer - 1);
        put(h, b".");
    }
    put(h, matrix);
    put(h, b".weight\":{\"dtype\":\"F32\",\"shape\":[");
    put_decimal(h, rows);
    put(h, b",");
    put_decimal(h, cols);
    put(h, b"],\"data_offsets\":[");
    put_decimal(h, offset);
    put(h, b",");
    let end = offset + 4 * rows * cols;
    put_decimal(h, end);
    put(h, b"]}");
    end
}

#[inline(never)]
fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(bytes);
}

/// `n` in decimal (no `core::fmt`: this module must not pull formatting machinery into the wasm).
#[inline(never)]
fn put_decimal(out: &mut Vec<u8>, n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    put(out, &digits[i..]);
}

/// `text` as the inside of a JSON string: `"` and `\` escaped, control characters as `\u00XX`.
fn json_escaped(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for &b in text.as_bytes() {
        match b {
            b'"' | b'\\' => put(&mut out, &[b'\\', b]),
            0..=0x1f => put(&mut out, &[b'\\', b'u', b'0', b'0', b"0123456789abcdef"[(b >> 4) as usize], b"0123456789abcdef"[(b & 15) as usize]]),
            // Other bytes as they are: UTF-8 sequences stay valid (their bytes are all ≥ 0x80).
            _ => out.push(b),
        }
    }
    out
}

// Native only: the reference reader is a native dev-dependency.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::config::SonaConfig;

    fn trained_engine() -> SonaEngine {
        let config = SonaConfig { hidden_dim: 24, embedding_dim: 24, micro_lora_rank: 2, base_lora_rank: 4, base_lora_layers: 3, ..SonaConfig::default() };
        let mut engine = SonaEngine::new(config, 11).unwrap();
        let mut rng = crate::rng::Rng::new(5);
        for t in 0..40 {
            let q: Vec<f32> = (0..24).map(|_| rng.next_f32() * 2.0 - 1.0).collect();
            let id = engine.start_trajectory(&q).unwrap();
            let a: Vec<f32> = (0..24).map(|_| rng.next_f32() * 2.0 - 1.0).collect();
            engine.add_step(id, &a, &[], (t % 5) as f32 / 4.0).unwrap();
            engine.end_trajectory(id, 0.3 + 0.6 * ((t % 3) as f32 / 2.0)).unwrap();
        }
        engine.run_instant_cycle();
        engine.force_learn(1000.0).unwrap();
        engine
    }

    /// `output = x + (alpha / r) · B (A x)` from the parsed tensors.
    fn apply(a: &[f32], b: &[f32], rank: usize, dim: usize, alpha: f32, x: &[f32]) -> Vec<f32> {
        let h: Vec<f32> = (0..rank).map(|r| (0..dim).map(|i| a[r * dim + i] * x[i]).sum()).collect();
        (0..dim).map(|i| x[i] + alpha / rank as f32 * (0..rank).map(|r| b[i * rank + r] * h[r]).sum::<f32>()).collect()
    }

    #[test]
    fn the_reference_safetensors_reader_reads_every_adapter_as_the_engine_applies_it() {
        let engine = trained_engine();
        let bytes = export_lora(&engine, None).unwrap();
        let (n, meta) = ::safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!((8 + n) % 8, 0, "data starts 8-byte aligned");
        let m = meta.metadata().as_ref().unwrap();
        let field = |k: &str| m.get(k).unwrap().as_str();
        assert_eq!(
            [field("format"), field("lora_alpha"), field("hidden_dim"), field("micro_lora_rank"), field("base_lora_rank"), field("base_lora_layers")],
            ["pt", "1", "24", "2", "4", "3"]
        );
        let st = ::safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.len(), 2 * (1 + 3));
        let alpha: f32 = field("lora_alpha").parse().unwrap();
        let mut rng = crate::rng::Rng::new(77);
        let x: Vec<f32> = (0..24).map(|_| rng.next_f32() * 2.0 - 1.0).collect();
        let tensor = |name: &str, shape: [usize; 2]| {
            let t = st.tensor(name).unwrap();
            assert_eq!(t.dtype(), ::safetensors::Dtype::F32, "{name}");
            assert_eq!(t.shape(), shape, "{name}");
            t.data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect::<Vec<f32>>()
        };
        let close = |got: &[f32], want: &[f32]| got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 1e-5 * (1.0 + w.abs()));
        let a = tensor("base_model.model.micro_lora.lora_A.weight", [2, 24]);
        let b = tensor("base_model.model.micro_lora.lora_B.weight", [24, 2]);
        let want = engine.apply_lora(&x).unwrap();
        assert!(want.iter().zip(&x).any(|(w, x)| w != x), "the micro adapter learned a non-zero delta");
        assert!(close(&apply(&a, &b, 2, 24, alpha, &x), &want));
        for layer in 0..3 {
            let a = tensor(&alloc::format!("base_model.model.base_lora.{layer}.lora_A.weight"), [4, 24]);
            let b = tensor(&alloc::format!("base_model.model.base_lora.{layer}.lora_B.weight"), [24, 4]);
            assert!(close(&apply(&a, &b, 4, 24, alpha, &x), &engine.apply_lora_layer(layer, &x).unwrap()), "layer {layer}");
        }
    }

    #[test]
    fn names_carry_the_prefix_json_escaped() {
        let engine = SonaEngine::new(SonaConfig { hidden_dim: 8, embedding_dim: 8, base_lora_layers: 1, ..SonaConfig::default() }, 1).unwrap();
        let prefix = "my \"model\"\\\u{1}.é.";
        let bytes = export_lora(&engine, Some(prefix)).unwrap();
        let st = ::safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut names: Vec<String> = st.names().into_iter().cloned().collect();
        names.sort();
        let want = ["base_lora.0.lora_A.weight", "base_lora.0.lora_B.weight", "micro_lora.lora_A.weight", "micro_lora.lora_B.weight"];
        assert_eq!(names, want.map(|n| alloc::format!("{prefix}{n}")));
        let plain = export_lora(&engine, Some("")).unwrap();
        let st = ::safetensors::SafeTensors::deserialize(&plain).unwrap();
        assert!(st.tensor("micro_lora.lora_A.weight").is_ok());
    }

    #[test]
    fn an_overlong_prefix_is_refused_by_name() {
        let engine = SonaEngine::new(SonaConfig { hidden_dim: 8, embedding_dim: 8, ..SonaConfig::default() }, 1).unwrap();
        let long = "p".repeat(MAX_STRING_LEN + 1);
        let err = export_lora(&engine, Some(&long)).unwrap_err();
        assert_eq!(err, SonaError::StringTooLong { what: "prefix", len: MAX_STRING_LEN + 1, limit: MAX_STRING_LEN });
        assert!(export_lora(&engine, Some(&long[1..])).is_ok());
    }

    #[test]
    fn decimal_digits() {
        for n in [0usize, 7, 10, 99, 1000, 123_456_789, usize::MAX] {
            let mut s = Vec::new();
            put_decimal(&mut s, n);
            assert_eq!(s, alloc::format!("{n}").into_bytes());
        }
    }
}
