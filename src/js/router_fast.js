// Fast paths for FastGrnnRouter's hot calls, route() and routeInto(). The wasm-bindgen methods
// copy the features into a fresh wasm allocation (and routeInto the scores in and out again), the
// call answers with a two-value Result (a new JS array in V8), and route()'s result object is
// built from Rust with one JS call per field — for the seed's 5-feature model that costs more than
// the forward pass. Here the features (a plain array first converted into JS-owned memory by
// guard.js's floatsOf, as its elements may run user code) are written into a per-router staging
// area (grown on demand; a length wasm memory cannot hold is a named Error), the staged
// export answers with the route (or -1 for bad input), and the scores and confidence are read
// from a fixed view; the object is built in JS, with the same fields in the same order. Anything
// the fast path does not handle, and every bad input, goes to the wasm-bindgen method (behind
// guard.js's type checks), which throws the named Error.

import { floatsOf, guardRouter, isFloatOutput, replaceMethods, replacedMethodsOf } from './guard.js';

const STAGE = Symbol('sona-wasm router staging view');
const OUT = Symbol('sona-wasm router answer view');
const SCORES = Symbol('sona-wasm router scores view');

/** The wasm-bindgen `route`/`routeInto` that `installRouterFastPaths` replaced (for benchmarks). */
export const routerBindgenMethodsOf = replacedMethodsOf;

/** Routes `features` (a Float32Array: copying one runs no user code) through the staging area:
 * the route (≥ 0), or -1 when the fast path does not apply or the input is bad (nothing written). */
function routeStaged(router, features) {
  if (router.__wbg_ptr === 0 || !(features instanceof Float32Array)) return -1;
  const n = features.length;
  let view = router[STAGE];
  // Grown on demand; a view detaches (length 0) when wasm memory grows.
  if (view === undefined || view.length === 0 || view.length < n) {
    view = router[STAGE] = router._stage(n);
    // Not grown: wasm memory cannot hold the features (wasm-bindgen's copy would trap too).
    if (view.length < n) throw new Error(`features have length ${n}: more than wasm memory can hold`);
  }
  view.set(features);
  return router._routeStaged(n);
}

/** The answer view (confidence, then the scores), fresh if memory grew. */
function answer(router) {
  let out = router[OUT];
  if (out === undefined || out.length === 0) {
    out = router[OUT] = router._routeOut();
    router[SCORES] = out.subarray(1);
  }
  return out;
}

/** Installs the checks of guard.js and the fast paths on the router classes of one glue module, once. */
export function installRouterFastPaths({ FastGrnnRouter, RouterTrainer }) {
  guardRouter({ FastGrnnRouter, RouterTrainer });
  // The guarded wasm-bindgen methods, the fallbacks (set below, before any call).
  let bindgen;
  const methods = {
    route(features) {
      // Arrays are converted before any view is touched (see floatsOf): once, also for the fallback.
      features = floatsOf(features, false, 'features');
      const route = routeStaged(this, features);
      if (route < 0) return bindgen.route.call(this, features);
      const out = answer(this);
      const scores = this[SCORES].slice();
      const result = { scores };
      if (scores.length === 1) result.probability = scores[0];
      result.route = route;
      result.confidence = out[0];
      return result;
    },
    routeInto(features, scores) {
      if (!isFloatOutput(scores)) return bindgen.routeInto.call(this, features, scores);
      features = floatsOf(features, false, 'features');
      const route = routeStaged(this, features);
      if (route < 0) return bindgen.routeInto.call(this, features, scores);
      answer(this);
      // A wrong length: the wasm-bindgen method throws the named error (routing changed nothing).
      if (scores.length !== this[SCORES].length) return bindgen.routeInto.call(this, features, scores);
      scores.set(this[SCORES]);
      return route;
    },
  };
  bindgen = replaceMethods(FastGrnnRouter, methods);
}
