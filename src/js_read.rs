//! Reading caller-supplied JS objects (config objects) and the clock (`Date.now`, which a page may
//! replace) from Rust without letting their code throw through wasm.
//!
//! A JS exception that propagates through wasm frames skips their epilogues: the shadow stack
//! pointer they lowered is never restored, so every such throw leaks their stack space (some tens
//! of thousands of throws exhaust the stack, and from then on every call of the module traps), and
//! an object borrowed by the frames stays borrowed. Whatever JS call can run the caller's code —
//! a getter, a proxy trap, a replaced `Date.now` — therefore goes through a `catch` import here: the exception comes back
//! as an `Err` holding the caller's own value, Rust returns normally, and the exported function
//! rethrows that value.
use js_sys::Array;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `Object.entries(o)`: runs `o`'s getters and, for a Proxy, its `ownKeys`,
    /// `getOwnPropertyDescriptor` and `get` traps.
    #[wasm_bindgen(catch, js_namespace = Object, js_name = entries)]
    fn object_entries(o: &JsValue) -> Result<Array, JsValue>;
    /// `Array.isArray(v)`: throws for a revoked Proxy.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn array_is_array(v: &JsValue) -> Result<bool, JsValue>;
    /// `Date.now()`: the host's, or whatever a page or a test put in its place, which may throw
    /// or return anything. Taken as a `JsValue`: an `f64` return would be converted by `ToNumber`
    /// at the wasm boundary, outside the `catch`, running a returned object's `valueOf`.
    #[cfg(not(feature = "router"))]
    #[wasm_bindgen(catch, js_namespace = Date, js_name = now)]
    fn date_now() -> Result<JsValue, JsValue>;
}

/// The wall clock in milliseconds for the methods that read it themselves (`tick`, `forceLearn`,
/// `findPatterns`, the federated calls): `Date.now()` read through a `catch` import, so a replaced
/// `Date.now` that throws gives its error back to the caller instead of unwinding through wasm.
/// Anything but a number reads as NaN, which the engine refuses as a clock with a named error.
#[cfg(not(feature = "router"))] // the router module reads no clock
pub(crate) fn now_ms() -> Result<f64, JsValue> {
    Ok(date_now()?.as_f64().unwrap_or(f64::NAN))
}

/// A config object's number field `key` as the `f32` the config stores: a finite number beyond
/// the f32 range, which `as f32` would turn into ±Infinity (and the config's own check then call
/// "Infinity"), is refused by name; NaN and ±Infinity go on, for that check to name.
pub(crate) fn config_f32(key: &str, v: f64) -> Result<f32, JsError> {
    if v.is_finite() && (v as f32).is_infinite() {
        return Err(JsError::new(&alloc::format!("config field {key} must be within the 32-bit float range (magnitude at most 3.4028235e38)")));
    }
    Ok(v as f32)
}

/// The `[key, value]` pairs of a config object's own enumerable string-keyed properties, each
/// read once, as `Object.entries` gives them (a genuine array of genuine pairs: reading it runs no
/// caller code; see [`fields`]); none for undefined or null (all defaults). `what` names the call
/// for the error when `obj` is not a plain object; what the object's own code throws is returned
/// as it is.
pub(crate) fn config_entries(obj: &JsValue, what: &str) -> Result<Array, JsValue> {
    if obj.is_undefined() || obj.is_null() {
        return Ok(Array::new());
    }
    if !obj.is_object() || array_is_array(obj)? {
        return Err(JsError::new(&alloc::format!("{what} expects a plain object of config fields")).into());
    }
    object_entries(obj)
}

/// The fields of [`config_entries`] as (key, value), skipping `undefined` values (absent fields).
pub(crate) fn fields(entries: &Array) -> impl Iterator<Item = (alloc::string::String, JsValue)> + '_ {
    entries.iter().filter_map(|entry| {
        let pair: Array = entry.unchecked_into();
        let value = pair.get(1);
        (!value.is_undefined()).then(|| (pair.get(0).as_string().unwrap_or_default(), value))
    })
}
