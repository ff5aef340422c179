//! Errors of the SONA core. Every variant names the problem so the binding layer can turn it into a
//! JavaScript `Error` whose message says what was wrong.

use core::fmt;

/// Why persisted state bytes were rejected by [`crate::persist::load`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersistError {
    /// Fewer bytes than the fixed header.
    Truncated { needed: usize, got: usize },
    /// The first bytes are not the SONA magic: these are not SONA state bytes.
    BadMagic,
    /// A format version this build cannot read.
    UnsupportedVersion { found: u32, oldest: u32, supported: u32 },
    /// The header's payload length disagrees with the number of bytes given.
    LengthMismatch { declared: u64, actual: u64 },
    /// The payload's CRC-32 does not match the header (corrupted bytes).
    ChecksumMismatch { stored: u32, computed: u32 },
    /// The payload passed the checksum but its contents are inconsistent.
    Malformed(&'static str),
}

/// Every failure the core reports. Operations that return an error leave the engine unchanged.
#[derive(Clone, Debug, PartialEq)]
pub enum SonaError {
    /// A configuration field is out of its documented range.
    InvalidConfig { field: &'static str, reason: &'static str },
    /// A vector has the wrong length.
    DimensionMismatch { what: &'static str, expected: usize, got: usize },
    /// A vector contains NaN or an infinity at `index`.
    NonFiniteVector { what: &'static str, index: usize },
    /// A vector component's magnitude exceeds [`MAX_MAGNITUDE`] (at `index`).
    ValueTooLarge { what: &'static str, index: usize, value: f64 },
    /// A scalar argument is NaN, infinite or outside its documented range.
    InvalidValue { what: &'static str, value: f64, expected: &'static str },
    /// No trajectory with this id was ever started.
    UnknownTrajectory { id: u64 },
    /// The trajectory was already ended with `end_trajectory`.
    TrajectoryEnded { id: u64 },
    /// Too many trajectories are open at once (each holds memory until it is ended).
    TooManyOpenTrajectories { limit: usize },
    /// `apply_lora_layer` with a layer index that does not exist.
    LayerOutOfRange { layer: usize, layers: usize },
    /// `find_patterns` with k = 0.
    ZeroK,
    /// `learn_from_feedback` before any trajectory was ended.
    NoFinishedTrajectory,
    /// A string argument (route, context id) is longer than the limit.
    StringTooLong { what: &'static str, len: usize, limit: usize },
    /// More context ids for one trajectory than the limit.
    TooManyContextIds { count: usize, limit: usize },
    /// Persisted state was rejected.
    Persist(PersistError),
    /// Other framed bytes (a federated agent export, a coordinator state) were rejected.
    Format { kind: &'static str, error: PersistError },
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::Truncated { needed, got } => {
                write!(f, "state is truncated: need at least {needed} bytes, got {got}")
            }
            PersistError::BadMagic => write!(f, "not a SONA state: bad magic bytes"),
            PersistError::UnsupportedVersion { found, oldest, supported } if oldest == supported => {
                write!(f, "unsupported state version {found} (this build reads version {supported})")
            }
            PersistError::UnsupportedVersion { found, oldest, supported } => {
                write!(f, "unsupported state version {found} (this build reads versions {oldest} to {supported})")
            }
            PersistError::LengthMismatch { declared, actual } => write!(
                f,
                "state length mismatch: header declares a {declared}-byte payload, {actual} bytes present (truncated or padded)"
            ),
            PersistError::ChecksumMismatch { stored, computed } => write!(
                f,
                "state checksum mismatch: stored {stored:#010x}, computed {computed:#010x} (corrupted bytes)"
            ),
            PersistError::Malformed(what) => write!(f, "malformed state: {what}"),
        }
    }
}

impl fmt::Display for SonaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SonaError::InvalidConfig { field, reason } => write!(f, "invalid config: {field} {reason}"),
            SonaError::DimensionMismatch { what, expected, got } => {
                write!(f, "{what} has length {got}, expected {expected}")
            }
            SonaError::NonFiniteVector { what, index } => {
                write!(f, "{what} contains a non-finite value (NaN or Infinity) at index {index}")
            }
            SonaError::InvalidValue { what, value, expected } => {
                write!(f, "{what} is {}, expected {expected}", FloatText(*value))
            }
            SonaError::ValueTooLarge { what, index, value } => write!(
                f,
                "{what} has {} at index {index}, outside [-1e15, 1e15] (larger magnitudes would overflow the learning sums)",
                FloatText(*value)
            ),
            SonaError::UnknownTrajectory { id } => write!(f, "unknown trajectory id {id}"),
            SonaError::TrajectoryEnded { id } => write!(f, "trajectory {id} has already ended"),
            SonaError::TooManyOpenTrajectories { limit } => {
                write!(f, "too many open trajectories (limit {limit}); end some before starting more")
            }
            SonaError::LayerOutOfRange { layer, layers } => {
                write!(f, "layer {layer} is out of range (the engine has {layers} base LoRA layers)")
            }
            SonaError::ZeroK => write!(f, "k must be at least 1"),
            SonaError::NoFinishedTrajectory => {
                write!(f, "no finished trajectory to attach feedback to (end a trajectory first)")
            }
            SonaError::StringTooLong { what, len, limit } => {
                write!(f, "{what} is {len} bytes long, the limit is {limit}")
            }
            SonaError::TooManyContextIds { count, limit } => {
                write!(f, "{count} context ids for one trajectory, the limit is {limit}")
            }
            SonaError::Persist(e) => write!(f, "{e}"),
            SonaError::Format { kind, error } => write!(f, "{kind} rejected: {error}"),
        }
    }
}

impl From<PersistError> for SonaError {
    fn from(e: PersistError) -> Self {
        SonaError::Persist(e)
    }
}

/// Displays an `f64` the way JavaScript would for the common cases (integers, six decimals,
/// `NaN`, `Infinity`) without pulling the large float-formatting machinery into the wasm.
#[derive(Clone, Copy, Debug)]
pub struct FloatText(pub f64);

impl fmt::Display for FloatText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v.is_nan() {
            return f.write_str("NaN");
        }
        if v.is_infinite() {
            return f.write_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
        }
        let sign = if v < 0.0 { "-" } else { "" };
        let a = if v < 0.0 { -v } else { v };
        if a >= 1.0e12 {
            // Large magnitudes: the integer part is enough to name the problem.
            return if a < 1.8e19 { write!(f, "{sign}{}", a as u64) } else { write!(f, "{sign}1.8e19 or more") };
        }
        let scaled = (a * 1e6 + 0.5) as u64;
        let (int, frac) = (scaled / 1_000_000, scaled % 1_000_000);
        if frac == 0 {
            return write!(f, "{sign}{int}");
        }
        let mut digits = [b'0'; 6];
        let mut x = frac;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (x % 10) as u8;
            x /= 10;
        }
        let mut end = 6;
        while end > 0 && digits[end - 1] == b'0' {
            end -= 1;
        }
        write!(f, "{sign}{int}.")?;
        f.write_str(core::str::from_utf8(&digits[..end]).unwrap_or(""))
    }
}

/// Result type of the core.
pub type Result<T> = core::result::Result<T, SonaError>;

/// Largest magnitude accepted in any vector component, reward or score: squares of such values,
/// summed over thousands of dimensions or steps, stay finite in f32 (3.4e38), so no learning sum
/// can overflow.
pub const MAX_MAGNITUDE: f32 = 1e15;

/// Checks that `v` has length `expected` and only finite values within ±[`MAX_MAGNITUDE`].
pub(crate) fn check_vector(what: &'static str, v: &[f32], expected: usize) -> Result<()> {
    if v.len() != expected {
        return Err(SonaError::DimensionMismatch { what, expected, got: v.len() });
    }
    check_finite(what, v)
}

/// Checks that every value of `v` is finite and within ±[`MAX_MAGNITUDE`].
#[inline(never)]
pub(crate) fn check_finite(what: &'static str, v: &[f32]) -> Result<()> {
    // Fast path: one kernel pass tells whether every value is in range.
    if crate::kernels::Kernels::new(true).range_probe(v) == 0.0 {
        return Ok(());
    }
    if let Some(index) = v.iter().position(|x| !x.is_finite()) {
        return Err(SonaError::NonFiniteVector { what, index });
    }
    match v.iter().position(|x| x.abs() > MAX_MAGNITUDE) {
        Some(index) => Err(SonaError::ValueTooLarge { what, index, value: v[index] as f64 }),
        None => Ok(()),
    }
}

/// Checks that `value` is finite and within `[lo, hi]`.
pub(crate) fn check_range(what: &'static str, value: f32, lo: f32, hi: f32, expected: &'static str) -> Result<()> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(())
    } else {
        Err(SonaError::InvalidValue { what, value: value as f64, expected })
    }
}

#[cfg(test)]
mod tests {
    use super::FloatText;
    use alloc::format;

    #[test]
    fn float_text_formats_like_javascript() {
        assert_eq!(format!("{}", FloatText(f64::NAN)), "NaN");
        assert_eq!(format!("{}", FloatText(f64::INFINITY)), "Infinity");
        assert_eq!(format!("{}", FloatText(f64::NEG_INFINITY)), "-Infinity");
        assert_eq!(format!("{}", FloatText(1.5)), "1.5");
        assert_eq!(format!("{}", FloatText(-0.25)), "-0.25");
        assert_eq!(format!("{}", FloatText(256.0)), "256");
        assert_eq!(format!("{}", FloatText(4294967295.0)), "4294967295");
        assert_eq!(format!("{}", FloatText(1e20)), "1.8e19 or more");
        assert_eq!(format!("{}", FloatText(-2.5e13)), "-25000000000000");
    }
}
