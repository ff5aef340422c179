// Argument type checks for the wasm-bindgen classes, shared by every entry. wasm-bindgen converts
// a JS argument the way JS does (`'5'`, `true`, `[0]` and `null` become numbers, anything becomes a
// bool), and a non-string for a string parameter, or a non-Float32Array where the wasm writes into
// the caller's array, fails half-way through the call — a trap, or an object left borrowed for good
// ("recursive use of an object detected"). These wrappers reject such arguments first with an Error
// naming the parameter, before anything reaches the wasm; the values themselves (NaN, ranges,
// lengths, ids) are checked by the Rust core, which names them too.

/** A short description of `v` for error messages. */
function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) {
    const kind = v.constructor.name;
    return `${/^[AEIO]/.test(kind) ? 'an' : 'a'} ${kind}`; // an Int32Array, a Uint8Array
  }
  switch (typeof v) {
    case 'string': return `a string (${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)})`;
    case 'bigint': return `a BigInt (${v}n)`;
    case 'object': return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
    default: return `${typeof v === 'undefined' ? '' : `${typeof v} `}${String(v)}`;
  }
}

const fail = (name, what, v) => {
  throw new Error(`${name} must be ${what}, got ${describe(v)}`);
};
const outOf = (name, v, range) => {
  throw new Error(`${name} is ${v}, expected a finite number ${range}`);
};
const isNumeric = (v) => (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView)
  && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array)));

/** A genuine Float32Array, which a call can write its result into: a look-alike (an object with
 * Float32Array.prototype, or a Proxy of one that answers `length`) passes `instanceof` but is no
 * view, and `TypedArray.prototype.set` on it throws a bare TypeError. */
export const isFloatOutput = (v) => v instanceof Float32Array && ArrayBuffer.isView(v);

/** Bytes for wasm-bindgen's copy: a Uint8Array (or Uint8ClampedArray) as it is; a plain array's or
 * another typed array's elements, each read once, into a Uint8Array of its own, each required to
 * be an integer from 0 to 255 (wasm-bindgen's copy would take `256` as 0, `-1` as 255, `'7'` as 7
 * and `null` as 0). */
function bytesOf(name, v) {
  if (v instanceof Uint8Array || v instanceof Uint8ClampedArray) return v;
  const out = new Uint8Array(v.length);
  for (let i = 0; i < out.length; i++) {
    const x = v[i];
    if (!Number.isInteger(x) || x < 0 || x > 255) fail(`${name}[${i}]`, 'a byte (an integer from 0 to 255)', x);
    out[i] = x;
  }
  return out;
}

/** Checks by kind, each returning the value to pass on: `n` number, `f` number within the f32 range, `q` and `g`
 * the same within [0, 1] and >= 0, `z` number >= 0, `b` boolean, `s` string, `v`
 * vector of numbers, `o` Float32Array the call writes into, `u` bytes, `S` array of strings, `p`
 * probabilities (a number — its range checked by the core — or a vector); a trailing `?` also
 * allows undefined and null. Plain arrays (`v`, `u`, `p`, `S`) and Float32Array look-alikes (`v`,
 * `p`: see floatsOf) are copied in JS first, each element read once and required to be a number
 * (`v`, `p`) or a byte (`u`) — not converted, as wasm-bindgen's copy would convert `'0.5'`, `null`
 * or `true` — and reading them runs user code (getters, proxy traps), which must not run inside
 * the wasm call (a throw there unwinds the wasm
 * frames without their epilogues: the object stays borrowed for good and the frames' stack space
 * is lost) nor free the object half-way through. Config objects, which constructors take, are read
 * by the core through catching imports instead (src/js_read.rs). */
const CHECKS = {
  n: (name, v) => (typeof v === 'number' ? v : fail(name, 'a number', v)),
  // A number the core stores as an f32: a finite one beyond the f32 range would arrive as ±Infinity
  // and be refused as "Infinity" (NaN and ±Infinity themselves go on, for the core to name).
  f: (name, v) => (typeof v !== 'number' ? fail(name, 'a number', v)
    : Number.isFinite(v) && !Number.isFinite(Math.fround(v)) ? fail(name, 'within the 32-bit float range (magnitude at most 3.4028235e38)', v) : v),
  // Ranges checked here, on the number itself, with the core's wording: the core checks the f32
  // the number rounds to, and 1.00000001 (→ 1) or -1e-50 (→ -0) would pass there.
  q: (name, v) => (CHECKS.f(name, v) < 0 || v > 1 ? outOf(name, v, 'within [0, 1]') : v),
  g: (name, v) => (CHECKS.f(name, v) < 0 ? outOf(name, v, '>= 0') : v),
  z: (name, v) => (CHECKS.n(name, v) < 0 ? outOf(name, v, '>= 0') : v),
  b: (name, v) => (typeof v === 'boolean' ? v : fail(name, 'a boolean', v)),
  s: (name, v) => (typeof v === 'string' ? v : fail(name, 'a string', v)),
  v: (name, v) => (isNumeric(v) || v instanceof Float32Array ? floatsOf(v, true, name) : fail(name, 'a Float32Array or an array of numbers', v)),
  o: (name, v) => (isFloatOutput(v) ? v : fail(name, 'a Float32Array', v)),
  u: (name, v) => (isNumeric(v) ? bytesOf(name, v) : fail(name, 'a Uint8Array or an array of bytes', v)),
  S: (name, v) => {
    const copy = Array.isArray(v) ? Array.from(v) : v;
    return Array.isArray(copy) && copy.every((x) => typeof x === 'string') ? copy : fail(name, 'an array of strings', v);
  },
  p: (name, v) => {
    // Primitives go on as they are (a number is valid; the core names anything else). Of objects,
    // only arrays and Float32Arrays (look-alikes included) go on, copied: telling what another
    // object is would run its code (a proxy's getPrototypeOf trap) inside the wasm call.
    if (typeof v === 'number') return CHECKS.f(name, v);
    if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return v;
    if (Array.isArray(v) || v instanceof Float32Array) {
      const copy = floatsOf(v, true, name);
      return Array.isArray(copy) ? new Float32Array(0) : copy; // floatsOf returns an empty array as it is
    }
    return fail(`${name} probabilities`, 'a number, an array or a Float32Array', v);
  },
};

/** The check list of a signature such as `'n:trajectoryId v:activations s?:route'` ('' for none). */
function parse(signature) {
  return signature === '' ? [] : signature.split(' ').map((part) => {
    const [kind, name] = part.split(':');
    const check = CHECKS[kind[0]];
    return kind.endsWith('?') ? (v) => (v === undefined || v === null ? v : check(name, v)) : (v) => check(name, v);
  });
}

/** Throws unless `self` still owns its wasm object (wasm-bindgen sets `__wbg_ptr` to 0 in `free()`). */
function live(self, className) {
  if (self.__wbg_ptr === 0) throw new Error(`this ${className} was freed (free() was called); create a new one`);
}

/**
 * Wraps `target[method]` (a prototype, or a class for static methods) with the signature's checks;
 * for instance methods (`className` given) the first check is that the object was not freed.
 */
function wrap(target, method, signature, className) {
  const original = target[method];
  if (typeof original !== 'function') throw new Error(`guard: ${method} is not a method`);
  const checks = parse(signature);
  const [c0, c1, c2, c3, c4] = checks;
  const alive = className === undefined ? () => {} : (self) => live(self, className);
  let fn;
  switch (checks.length) {
    case 0: fn = function (...args) { alive(this); return original.apply(this, args); }; break;
    // Checked (and arrays copied) in order; alive again after the copies, whose user code may free it.
    case 1: fn = function (a) { alive(this); a = c0(a); alive(this); return original.call(this, a); }; break;
    case 2: fn = function (a, b) { alive(this); a = c0(a); b = c1(b); alive(this); return original.call(this, a, b); }; break;
    case 3: fn = function (a, b, c) { alive(this); a = c0(a); b = c1(b); c = c2(c); alive(this); return original.call(this, a, b, c); }; break;
    case 4: fn = function (a, b, c, d) { alive(this); a = c0(a); b = c1(b); c = c2(c); d = c3(d); alive(this); return original.call(this, a, b, c, d); }; break;
    default: fn = function (a, b, c, d, e) { alive(this); a = c0(a); b = c1(b); c = c2(c); d = c3(d); e = c4(e); alive(this); return original.call(this, a, b, c, d, e); };
  }
  Object.defineProperty(target, method, { value: fn, writable: true, configurable: true, enumerable: false });
}

const guarded = new WeakSet();

/** Installs the checks of `methods` (name → signature; `static ` prefix for static methods) once. */
function guard(Class, methods) {
  if (Class === undefined || guarded.has(Class)) return;
  guarded.add(Class);
  const proto = Class.prototype;
  for (const [key, signature] of Object.entries(methods)) {
    if (key.startsWith('static ')) wrap(Class, key.slice(7), signature);
    else wrap(proto, key, signature, Class.name);
  }
  // Every other method and getter (stats(), saveState(), hiddenDim, …; free() included) only
  // checks that the object is alive: wasm-bindgen's own answer is "null pointer passed to rust".
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name === 'constructor' || name.startsWith('_') || Object.hasOwn(methods, name)) continue;
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (typeof d.value === 'function') {
      wrap(proto, name, '', Class.name);
    } else if (typeof d.get === 'function') {
      const get = d.get;
      Object.defineProperty(proto, name, { ...d, get() { live(this, Class.name); return get.call(this); } });
    }
  }
  if (typeof Symbol.dispose === 'symbol' && Object.hasOwn(proto, Symbol.dispose)) {
    Object.defineProperty(proto, Symbol.dispose, { value: proto.free, writable: true, configurable: true, enumerable: false });
  }
}

/** `WasmSonaEngine` of either glue module (sona-wasm, sona-wasm/federated). */
export function guardSonaEngine(Engine) {
  guard(Engine, {
    'static fromPreset': 's:name n?:seed',
    'static loadState': 'u:bytes',
    startTrajectory: 'v:queryEmbedding',
    recordStep: 'n:trajectoryId n:nodeId f:score z:latencyUs',
    addStep: 'n:trajectoryId v:activations v:attentionWeights f:reward',
    setTrajectoryRoute: 'n:trajectoryId s:route',
    addTrajectoryContext: 'n:trajectoryId s:contextId',
    endTrajectory: 'n:trajectoryId q:quality',
    learnFromFeedback: 'b:success g:latencyMs q:quality',
    applyLora: 'v:input',
    applyLoraInto: 'v:input o:output',
    applyLoraLayer: 'n:layer v:input',
    findPatterns: 'v:query n:k',
    tickAt: 'n:nowMs',
    setEnabled: 'b:enabled',
    exportLora: 's?:prefix',
  });
}

/** The federated classes of sona-wasm/federated. */
export function guardFederated({ WasmEphemeralAgent, WasmFederatedCoordinator }) {
  guard(WasmEphemeralAgent, {
    'static withPatterns': 's:agentId n:hiddenDim u:patternBytes',
    processTrajectory: 'v:embedding v:activations q:quality s?:route S?:contexts',
    findPatterns: 'v:query n:k',
    warmStart: 'u:patternBytes',
  });
  guard(WasmFederatedCoordinator, {
    aggregate: 'u:exportBytes',
    applyLora: 'v:input',
    exportInitialPatterns: 'n:k',
    exportLora: 's?:prefix',
    findPatterns: 'v:query n:k',
    getInitialPatterns: 'n:k',
    setConsolidationInterval: 'n:agents',
    setQualityThreshold: 'q:threshold',
  });
}

/** The router classes of sona-wasm/router (`addSample`'s teacher is checked by the core). */
export function guardRouter({ FastGrnnRouter, RouterTrainer }) {
  guard(FastGrnnRouter, {
    'static fromBytes': 'u:bytes',
    route: 'v:features',
    routeInto: 'v:features o:scores',
    prune: 'f:sparsity',
    setNormalization: 'v:mean v:std',
  });
  guard(RouterTrainer, {
    addSample: 'v:features f:label p?:teacher',
  });
}

/** The JS-owned buffer `floatsOf` converts into (grown on demand), its last view, and whether a
 * conversion into it is running. */
let scratch = new Float32Array(64);
let scratchView = scratch.subarray(0, 0);
let converting = false;

/**
 * The elements of a non-empty plain array — or of anything else that passes for a Float32Array
 * without being one, such as a Proxy — as f32, each read once and required to be a number (throws
 * an Error naming `name[i]` otherwise: a string, `null`, `true` or an object is not converted), for
 * the fast paths (fast.js, router_fast.js) to call on each vector argument before they touch a
 * staging view. Reading such an argument runs user code (getters, proxy traps) that may call the
 * same object again (overwriting or regrowing its staging area) or free it, so it is never copied
 * through a view of wasm memory, only into JS-owned memory. Anything else (a genuine typed array,
 * whose copy runs no user code; an empty array; a wrong type left for the wasm-bindgen method to
 * reject) is returned as it is.
 *
 * Returns a view of one shared buffer (no allocation per call), valid until the next `floatsOf`
 * call: the caller hands it to the wasm before any other user code can run. A conversion started
 * by user code inside another one, or with `own` set (a second array in the same call), gets an
 * array of its own.
 */
export function floatsOf(array, own = false, name = 'vector') {
  // A genuine typed array is read by the wasm copy itself, which runs no user code.
  if (ArrayBuffer.isView(array)) return array;
  if (!Array.isArray(array)) {
    if (!(array instanceof Float32Array)) return array;
    // A look-alike (a Proxy passes `instanceof` but is no view; its reads run its traps): its
    // length is read once, then each element, into an array of its own.
    let length;
    try {
      length = array.length;
    } catch (e) {
      // A Proxy with no get trap: TypedArray.prototype's length getter refuses it as a receiver
      // (a TypeError; what a trap of the caller's throws goes on as thrown).
      if (!(e instanceof TypeError)) throw e;
      throw new TypeError(`${name} must be a Float32Array or an array of numbers (reading its length threw: ${e.message})`, { cause: e });
    }
    return numbersInto(array, new Float32Array(length), name);
  }
  if (array.length === 0) return array;
  const n = array.length;
  if (own || converting) return numbersInto(array, new Float32Array(n), name);
  if (scratch.length < n) scratch = new Float32Array(Math.max(n, 2 * scratch.length));
  if (scratchView.buffer !== scratch.buffer || scratchView.length !== n) scratchView = scratch.subarray(0, n);
  converting = true;
  try {
    return numbersInto(array, scratchView, name);
  } finally {
    converting = false;
  }
}

/** `out` filled with `array[0..out.length]`, each element read once and required to be a number. */
function numbersInto(array, out, name) {
  for (let i = 0; i < out.length; i++) {
    const x = array[i];
    if (typeof x !== 'number') fail(`${name}[${i}]`, 'a number', x);
    out[i] = x;
  }
  return out;
}

/** Fast-path class → the (guarded) wasm-bindgen methods its fast paths replaced. */
const replacedMethods = new WeakMap();

/**
 * Installs `methods` on `Class.prototype` in place of the methods of the same names, once per
 * class, keeping those (already guarded) as the fallbacks the fast paths call; returns them, or
 * undefined when the class already has its fast paths.
 */
export function replaceMethods(Class, methods) {
  if (replacedMethods.has(Class)) return undefined;
  const proto = Class.prototype;
  const originals = Object.fromEntries(Object.keys(methods).map((name) => [name, proto[name]]));
  replacedMethods.set(Class, originals);
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }
  return originals;
}

/** The wasm-bindgen methods `replaceMethods` replaced on `Class` (for benchmarks and tests). */
export function replacedMethodsOf(Class) {
  return replacedMethods.get(Class);
}
