// Seeded random-sequence fuzzer of sona-wasm/router and sona-wasm/federated through the built
// package: valid calls interleaved with hostile ones. Every call must either succeed or throw an
// `Error` (never a `WebAssembly.RuntimeError`, never a non-Error) with a message, and a rejected
// call must leave the object's state (snapshot: saved/exported bytes, outputs for fixed inputs,
// counters) unchanged. `fuzz(seed, steps)` returns the list of violations (empty = all good).
//
//   node pkg-tests/router/fuzz.mjs [seeds=1..4] [steps=3000]
import { FastGrnnRouter, RouterTrainer } from 'sona-wasm/router';
import { WasmEphemeralAgent, WasmFederatedCoordinator } from 'sona-wasm/federated';
import zlib from 'node:zlib';

/** Frame layouts (sealed bytes): the router's, and the federated exports'. */
const ROUTER_FRAME = { lenAt: 12, lenBytes: 4, crcAt: 16, payloadAt: 20 };
const FEDERATED_FRAME = { lenAt: 12, lenBytes: 8, crcAt: 20, payloadAt: 24 };

/** Mulberry32. */
function rngOf(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (xs) => xs[int(xs.length)];
  return { next, int, pick, chance: (p) => next() < p };
}

const show = (v) => { try { return JSON.stringify(v); } catch { return '<unprintable>'; } };
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const bytesKey = (u8) => Buffer.from(u8).toString('base64');

/** JSON with typed arrays as plain arrays and NaN kept distinguishable. */
function plain(v) {
  if (ArrayBuffer.isView(v)) return Array.from(v, (x) => (Number.isNaN(x) ? 'NaN' : Object.is(x, -0) ? '-0' : x));
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

export function fuzz(seed, steps, { log = () => {} } = {}) {
  const r = rngOf(seed);
  const violations = [];
  // Objects under test: { kind, obj, dim, snapshot() }.
  const pool = [];

  const hostileNumber = () => r.pick([NaN, Infinity, -Infinity, 1e39, -1e39, 1e308, -0, -1, 0.5, 2 ** 32, 2 ** 53, -(2 ** 31),
    '5', true, null, undefined, {}, [], [3], 5n, Symbol('s'), { valueOf() { throw new Error('valueOf boom'); } }]);
  const goodFloat = () => (r.next() * 2 - 1) * r.pick([1, 1, 1, 10, 1e-3]);

  /** A vector argument for an object expecting `n` values. `hostile` decides whether to misbehave. */
  function vector(n, target, hostile) {
    if (!hostile) {
      const xs = Array.from({ length: n }, goodFloat);
      return r.chance(0.5) ? Float32Array.from(xs) : xs;
    }
    const m = r.pick([0, 1, n - 1, n + 1, 2 * n, n, n, 1025, 70000]);
    const base = Array.from({ length: Math.max(0, m) }, goodFloat);
    switch (r.int(14)) {
      case 0: base[r.int(Math.max(1, m))] = NaN; return r.chance(0.5) ? Float32Array.from(base) : base;
      case 1: base[r.int(Math.max(1, m))] = r.pick([Infinity, -Infinity, 1e39]); return base;
      case 2: return base.map((x) => String(x));
      case 3: return Float64Array.from(base);
      case 4: return Int8Array.from(base.map((x) => x * 100));
      case 5: { const o = { length: m }; base.forEach((x, i) => { o[i] = x; }); return o; }
      case 6: if (m > 0) Object.defineProperty(base, r.int(m), { get() { throw new Error('getter boom'); } }); return base;
      case 7: if (m > 0) Object.defineProperty(base, r.int(m), { get() { reenter(target); return 0.25; } }); return base;
      case 8: if (m > 0) base[r.int(m)] = { valueOf() { reenter(target); return 0.5; } }; return base;
      case 9: return hostileNumber();
      case 10: return new Proxy(base, {});
      case 11: return new Float32Array(new SharedArrayBuffer(4 * m));
      case 12: return [,,,];
      default: return base;
    }
  }

  // Set when a re-entrant call from user code changed the state legitimately (no comparison then).
  let mutated = false;

  /** Re-entrant calls from user code (getters, valueOf) into the object under test. */
  function reenter(target) {
    if (!target) return;
    try {
      switch (r.int(target.kind === 'router' ? 5 : 6)) {
        case 4: case 5: if (r.chance(0.3)) target.obj.free(); break;
        case 0: if (target.kind === 'router') target.obj.route(vector(target.dim, null, false)); break;
        case 1: if (target.kind === 'router') target.obj.routeInto(vector(target.dim, null, false), new Float32Array(target.out)); break;
        case 2: if (target.kind === 'router') { target.obj.setNormalization(new Float32Array(target.dim), new Float32Array(target.dim).fill(1)); mutated = true; } break;
        default: if (target.kind === 'agent') { target.obj.processTrajectory(vector(target.dim, null, false), vector(target.dim, null, false), 0.9); mutated = true; }
      }
    } catch (e) { /* the outer call is checked */ }
  }

  /** `valid` with its payload damaged, then sealed again (length and CRC-32 of the payload fixed)
   * so that the damage reaches the payload parser. */
  function resealed(valid, { lenAt, lenBytes, crcAt, payloadAt }) {
    let payload = Uint8Array.from(valid.subarray(payloadAt));
    const n = r.int(4) + 1;
    for (let i = 0; i < n && payload.length; i++) {
      const at = r.int(payload.length);
      switch (r.int(5)) {
        case 0: payload[at] ^= 1 << r.int(8); break;
        case 1: payload[at] = r.pick([0, 0xff, 0x7f, 0x80]); break;
        case 2: if (at + 4 <= payload.length) new DataView(payload.buffer).setUint32(at - (at % 2), r.pick([0xffffffff, 0x7fc00000, 0x7f800000, 0xff800000, 0x10000, 0]), true); break;
        case 3: payload = payload.subarray(0, at); break;
        default: payload = Uint8Array.from([...payload, ...Array.from({ length: r.int(8) + 1 }, () => r.int(256))]);
      }
    }
    const out = new Uint8Array(payloadAt + payload.length);
    out.set(valid.subarray(0, payloadAt));
    out.set(payload, payloadAt);
    const dv = new DataView(out.buffer);
    if (lenBytes === 8) dv.setBigUint64(lenAt, BigInt(payload.length), true); else dv.setUint32(lenAt, payload.length, true);
    dv.setUint32(crcAt, zlib.crc32(payload), true);
    return out;
  }

  function hostileBytes(valid, format) {
    if (valid && format && r.chance(0.5)) return resealed(valid, format);
    const b = valid ? Uint8Array.from(valid) : new Uint8Array(r.int(64));
    switch (r.int(9)) {
      case 0: return b.subarray(0, r.int(b.length + 1));
      case 1: { if (b.length) b[r.int(b.length)] ^= 1 << r.int(8); return b; }
      case 2: { for (let i = 0; i < 4 && b.length; i++) b[r.int(b.length)] = r.int(256); return b; }
      case 3: return Uint8Array.from([...b, ...Array.from({ length: r.int(9) + 1 }, () => r.int(256))]);
      case 4: return Array.from(b, (x) => (r.chance(0.05) ? 300 : x));
      case 5: return hostileNumber();
      case 6: { if (b.length >= 16) { const dv = new DataView(b.buffer, b.byteOffset); dv.setUint32(8 + 4 * r.int((b.length - 12) >> 2), r.pick([0xffffffff, 0x7fffffff, 0x10000, 0]), true); } return b; }
      case 7: return new Uint8Array(0);
      default: { if (b.length) b[r.int(b.length)] ^= 0xff; return b; }
    }
  }

  const routerConfigFields = { input_dim: () => r.pick([1, 2, 3, 5, 8]), hidden_dim: () => r.pick([1, 2, 4, 8]), output_dim: () => r.pick([1, 2, 3]), nu: () => r.pick([0.5, 1, 2]), zeta: () => r.pick([0.5, 1, 2]), rank: () => r.pick([null, 1, 2]) };
  const trainFields = { learning_rate: () => r.pick([0.01, 0.05]), batch_size: () => r.pick([1, 4, 16]), epochs: () => r.pick([1, 2, 5]), validation_split: () => r.pick([0.1, 0.2]), early_stopping_patience: () => r.pick([null, 2]), lr_decay: () => 0.5, lr_decay_step: () => r.pick([1, 3]), grad_clip: () => r.pick([1, 5]), l2_reg: () => r.pick([0, 1e-4]), distillation_alpha: () => r.pick([0, 0.7]), distillation_temperature: () => r.pick([1, 3]), seed: () => r.int(1000) };

  function config(fields, hostile) {
    const c = {};
    for (const [k, gen] of Object.entries(fields)) if (r.chance(0.5)) c[k] = gen();
    if (c.rank != null && c.hidden_dim != null && c.rank > c.hidden_dim) c.rank = c.hidden_dim;
    if (c.rank != null && c.hidden_dim == null && c.rank > 8) c.rank = null;
    if (hostile) {
      const keys = Object.keys(fields);
      switch (r.int(6)) {
        case 0: c[r.pick(keys)] = hostileNumber(); break;
        case 1: c.bogus_field = 1; break;
        case 2: Object.defineProperty(c, r.pick(keys), { get() { throw new Error('config getter boom'); }, enumerable: true }); break;
        case 3: return r.pick([42, 'x', [], true, new Map()]);
        case 4: c[r.pick(keys)] = r.pick([0, 100000, 2 ** 40, -5]); break;
        default: c[r.pick(keys)] = r.pick(['1', [1], { a: 1 }]);
      }
    }
    return c;
  }

  const probes = Array.from({ length: 3 }, () => Array.from({ length: 1024 }, goodFloat));

  function add(entry) { pool.push(entry); if (pool.length > 8) { const old = pool.shift(); try { old.obj.free(); } catch { /* ok */ } } }

  function routerEntry(obj) {
    const dim = obj.config().input_dim;
    const out = obj.config().output_dim;
    return {
      kind: 'router', obj, dim, out,
      snapshot() {
        const o = this.obj;
        return [bytesKey(o.toBytes()), plain(o.config()), plain(o.featureMean), plain(o.featureStd), o.sparsity, o.isQuantized, o.parameterCount,
          ...probes.map((p) => plain(o.route(Float32Array.from(p.slice(0, dim))))),
          ...probes.map((p) => { const s = new Float32Array(out); const k = o.routeInto(p.slice(0, dim), s); return [k, plain(s)]; })];
      },
    };
  }
  function trainerEntry(obj, cfg) {
    return { kind: 'trainer', obj, dim: cfg.input_dim ?? 5, out: cfg.output_dim ?? 1, snapshot() {
      const o = this.obj;
      let model;
      try { const m = o.model(); model = bytesKey(m.toBytes()); m.free(); } catch (e) { model = `err:${e.message}`; }
      return [o.sampleCount, model];
    } };
  }
  function agentEntry(obj, dim) {
    return { kind: 'agent', obj, dim, snapshot() {
      const o = this.obj;
      // Not findPatterns: it counts the accesses (which exportState holds).
      return [bytesKey(o.exportState()), plain(o.stats()), o.hiddenDim];
    } };
  }
  function coordEntry(obj, dim) {
    return { kind: 'coord', obj, dim, snapshot() {
      const o = this.obj;
      // Not findPatterns: it counts the accesses (which getInitialPatterns shows).
      return [plain(o.stats()), bytesKey(o.exportInitialPatterns(8)), plain(o.applyLora(Float32Array.from(probes[1].slice(0, dim)))),
        plain(o.getInitialPatterns(64)), o.hiddenDim];
    } };
  }

  /** Runs `call` (named `what`) against `entry` (or none); checks the error contract. */
  function check(what, entry, call, expectReject = false) {
    let before;
    if (entry) {
      try { before = entry.snapshot(); } catch (e) { violations.push({ seed, what: `snapshot before ${what}`, error: String(e) }); return undefined; }
    }
    let result;
    let error;
    mutated = false;
    try { result = call(); } catch (e) { error = e; }
    if (error !== undefined) {
      if (!(error instanceof Error) || error instanceof WebAssembly.RuntimeError || !error.message || /unreachable|recursive use|null pointer|unwrap|panicked/i.test(error.message)) {
        violations.push({ seed, what, error: `${error?.constructor?.name}: ${error?.message ?? String(error)}` });
        throw Object.assign(new Error('stop'), { stop: true });
      }
      if (entry && entry.obj.__wbg_ptr !== 0 && !mutated) {
        let after;
        try { after = entry.snapshot(); } catch (e) { violations.push({ seed, what: `snapshot after rejected ${what}`, error: String(e) }); throw Object.assign(new Error('stop'), { stop: true }); }
        if (!eq(before, after)) {
          violations.push({ seed, what: `state changed by rejected ${what} (${error.message})` });
          log(JSON.stringify(before).slice(0, 400), '\n', JSON.stringify(after).slice(0, 400));
          throw Object.assign(new Error('stop'), { stop: true });
        }
      }
      return undefined;
    }
    if (expectReject) violations.push({ seed, what: `accepted ${what}` });
    return result;
  }

  const pickOf = (kind) => { const xs = pool.filter((e) => e.kind === kind); return xs.length ? r.pick(xs) : undefined; };

  const ops = [
    // Routers.
    () => { const h = r.chance(0.3); const cfg = config(routerConfigFields, h); const seedArg = h && r.chance(0.5) ? hostileNumber() : r.int(100);
      const o = check(`new FastGrnnRouter(${show(cfg)}, ${String(seedArg)})`, null, () => new FastGrnnRouter(cfg, seedArg)); if (o) add(routerEntry(o)); },
    () => { const e = pickOf('router'); if (!e) return; const h = r.chance(0.4); const x = vector(e.dim, e, h); check(`route(${h ? 'hostile' : 'valid'})`, e, () => e.obj.route(x)); },
    () => { const e = pickOf('router'); if (!e) return; const h = r.chance(0.5); const x = vector(e.dim, e, h && r.chance(0.6));
      const s = h && r.chance(0.5) ? r.pick([new Float32Array(e.out + 1), new Float32Array(0), new Float64Array(e.out), [0], null, new Float32Array(new SharedArrayBuffer(4 * e.out))]) : new Float32Array(e.out);
      check('routeInto', e, () => e.obj.routeInto(x, s)); },
    () => { const e = pickOf('router'); if (!e) return; const h = r.chance(0.6);
      const mean = vector(e.dim, e, h && r.chance(0.5)); const std = h && r.chance(0.5) ? r.pick([new Float32Array(e.dim), new Float32Array(e.dim).fill(-1), Float32Array.from({ length: e.dim }, () => NaN), vector(e.dim, e, true)]) : Float32Array.from({ length: e.dim }, () => 0.5 + r.next());
      check('setNormalization', e, () => e.obj.setNormalization(mean, std)); },
    () => { const e = pickOf('router'); if (!e) return; const s = r.chance(0.5) ? hostileNumber() : r.pick([0, 0.25, 0.5, 0.9, 1, 1.5]); check(`prune(${String(s)})`, e, () => e.obj.prune(s)); },
    () => { const e = pickOf('router'); if (!e || r.chance(0.7)) return; check('quantize', e, () => e.obj.quantize()); },
    () => { const e = pickOf('router'); if (!e) return; const h = r.chance(0.7); const b = h ? hostileBytes(e.obj.toBytes(), ROUTER_FRAME) : e.obj.toBytes();
      const o = check(`FastGrnnRouter.fromBytes(${h ? 'hostile' : 'valid'})`, null, () => FastGrnnRouter.fromBytes(b));
      if (o) { if (!h) { const copy = routerEntry(o); if (!eq(copy.snapshot().slice(1), e.snapshot().slice(1))) violations.push({ seed, what: 'fromBytes(toBytes()) differs' }); } add(routerEntry(o)); } },
    () => { const e = pickOf('router'); if (!e) return; check('parameters/config', e, () => { e.obj.parameters(); e.obj.config(); return e.obj.sizeBytes; }); },
    // Trainers.
    () => { const h = r.chance(0.3); const cfg = config({ ...routerConfigFields, ...trainFields }, h);
      const o = check(`new RouterTrainer(${show(cfg)})`, null, () => new RouterTrainer(cfg)); if (o) add(trainerEntry(o, typeof cfg === 'object' ? cfg : {})); },
    () => { const e = pickOf('trainer'); if (!e) return; const h = r.chance(0.4); const x = vector(e.dim, e, h && r.chance(0.5));
      const label = h && r.chance(0.5) ? r.pick([...[e.out === 1 ? 2 : e.out, -1, 0.5, NaN], hostileNumber()]) : r.int(Math.max(2, e.out));
      const teacher = r.chance(0.3) ? (h ? r.pick([NaN, 'x', vector(e.out, e, true), Infinity]) : (e.out === 1 ? r.next() : vector(e.out, null, false))) : undefined;
      check(`addSample(label ${String(label)})`, e, () => (teacher === undefined ? e.obj.addSample(x, label) : e.obj.addSample(x, label, teacher))); },
    () => { const e = pickOf('trainer'); if (!e || r.chance(0.6)) return; check('train', e, () => e.obj.train()); },
    () => { const e = pickOf('trainer'); if (!e) return; const m = check('model', e, () => e.obj.model()); if (m) add(routerEntry(m)); },
    // Agents.
    () => { const h = r.chance(0.3); const id = h ? r.pick([hostileNumber(), 'x'.repeat(300), '']) : `agent-${r.int(9)}`; const dim = h ? hostileNumber() : r.pick([4, 8, 16]);
      const o = check(`new WasmEphemeralAgent(${String(id).slice(0, 20)}, ${String(dim)})`, null, () => new WasmEphemeralAgent(id, dim)); if (o) add(agentEntry(o, o.hiddenDim)); },
    () => { const e = pickOf('agent'); if (!e) return; const h = r.chance(0.4);
      const args = [vector(e.dim, e, h && r.chance(0.4)), vector(e.dim, e, h && r.chance(0.3)), h && r.chance(0.4) ? hostileNumber() : r.next(),
        h && r.chance(0.3) ? r.pick([5, {}, 'r'.repeat(300)]) : 'gpt', h && r.chance(0.3) ? r.pick([[1], 'x', ['a', 5], Array(300).fill('c')]) : ['ctx']];
      check('processTrajectory', e, () => e.obj.processTrajectory(...args)); },
    () => { const e = pickOf('agent'); if (!e) return; const h = r.chance(0.4); const k = h ? hostileNumber() : r.int(6);
      check(`agent.findPatterns(k=${String(k)})`, e, () => e.obj.findPatterns(vector(e.dim, e, h && r.chance(0.5)), k)); },
    () => { const e = pickOf('agent'); const c = pickOf('coord'); if (!e || !c) return; const h = r.chance(0.5); const b = h ? hostileBytes(e.obj.exportState(), FEDERATED_FRAME) : e.obj.exportState();
      check(`aggregate(${h ? 'hostile' : 'valid'})`, c, () => c.obj.aggregate(b)); },
    () => { const e = pickOf('agent'); const c = pickOf('coord'); if (!e || !c) return; const h = r.chance(0.5); const b = h ? hostileBytes(c.obj.exportInitialPatterns(5), FEDERATED_FRAME) : c.obj.exportInitialPatterns(5);
      if (r.chance(0.5)) check(`warmStart(${h ? 'hostile' : 'valid'})`, e, () => e.obj.warmStart(b));
      else { const o = check(`withPatterns(${h ? 'hostile' : 'valid'})`, null, () => WasmEphemeralAgent.withPatterns('w', r.chance(0.2) ? hostileNumber() : e.dim, b)); if (o) add(agentEntry(o, o.hiddenDim)); } },
    // Coordinators.
    () => { const h = r.chance(0.3); const dim = h ? hostileNumber() : r.pick([4, 8, 16]);
      const o = check(`new WasmFederatedCoordinator(c, ${String(dim)})`, null, () => new WasmFederatedCoordinator(h && r.chance(0.3) ? hostileNumber() : 'c', dim)); if (o) add(coordEntry(o, o.hiddenDim)); },
    () => { const c = pickOf('coord'); if (!c) return; check('consolidate', c, () => c.obj.consolidate()); },
    () => { const c = pickOf('coord'); if (!c) return; const v = r.chance(0.5) ? hostileNumber() : r.pick([0, 1, 3, 50]); check(`setConsolidationInterval(${String(v)})`, c, () => c.obj.setConsolidationInterval(v)); },
    () => { const c = pickOf('coord'); if (!c) return; const v = r.chance(0.5) ? hostileNumber() : r.pick([0, 0.2, 0.4, 1]); check(`setQualityThreshold(${String(v)})`, c, () => c.obj.setQualityThreshold(v)); },
    () => { const c = pickOf('coord'); if (!c) return; const h = r.chance(0.5); const k = h ? hostileNumber() : r.int(10);
      check(`coord k-calls(k=${String(k)})`, c, () => r.pick([() => c.obj.getInitialPatterns(k), () => c.obj.exportInitialPatterns(k), () => c.obj.findPatterns(vector(c.dim, c, h && r.chance(0.5)), k), () => c.obj.applyLora(vector(c.dim, c, h))])()); },
    // Free, and calls after free.
    () => { if (!pool.length || r.chance(0.8)) return; const e = r.pick(pool); e.obj.free(); if (r.chance(0.5)) check('second free()', null, () => e.obj.free()); pool.splice(pool.indexOf(e), 1);
      const name = r.pick(['route', 'toBytes', 'train', 'processTrajectory', 'stats', 'exportState', 'aggregate', 'routeInto', 'addSample', 'sampleCount', 'hiddenDim']);
      const call = () => { const f = e.obj[name]; return typeof f === 'function' ? f.call(e.obj, new Float32Array(e.dim ?? 4), new Float32Array(e.out ?? 1)) : f; };
      if (name in e.obj) { const got = check(`${e.kind}.${name} after free`, null, call); if (got !== undefined) violations.push({ seed, what: `${e.kind}.${name} after free answered` }); } },
  ];

  let step = 0;
  try {
    for (; step < steps; step++) {
      // Objects freed by user code (a getter of a hostile argument) leave the pool.
      for (let i = pool.length - 1; i >= 0; i--) if (pool[i].obj.__wbg_ptr === 0) pool.splice(i, 1);
      r.pick(ops)();
    }
  } catch (e) {
    if (!e.stop) violations.push({ seed, what: `fuzzer step ${step}`, error: e.stack });
  }
  for (const e of pool) { try { e.obj.free(); } catch { /* ok */ } }
  for (const v of violations) v.step = step;
  return violations;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [seedSpec = '1..4', stepsArg = '3000'] = process.argv.slice(2);
  const [lo, hi = lo] = seedSpec.split('..').map(Number);
  let bad = 0;
  for (let s = lo; s <= hi; s++) {
    const v = fuzz(s, Number(stepsArg), { log: console.log });
    bad += v.length;
    console.log(`seed ${s}: ${v.length ? JSON.stringify(v) : 'ok'}`);
  }
  process.exitCode = bad ? 1 : 0;
}
