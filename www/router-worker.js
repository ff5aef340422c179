// Module Web Worker that runs the router simulation, so the page stays responsive during long runs.
//
// Why '/pkg/index.js' and not 'sona-wasm': import maps apply only to the document that declares them;
// module workers (in Chromium and elsewhere) resolve bare specifiers without one, so the worker
// imports the package's browser entry by its path. It is the same file the page's import map points at.
//
// Messages in:  {type: 'run', config, requests, seed} · {type: 'stop'} · {type: 'save'} ·
//               {type: 'export'} · {type: 'load', bytes: Uint8Array}
// Messages out: {type: 'ready'} · {type: 'progress', ...} · {type: 'done', ...} ·
//               {type: 'saved', bytes, stats} · {type: 'exported', bytes} (exportLora()'s SafeTensors) ·
//               {type: 'loaded', stats} · {type: 'error', message}

import { runSimulation, flattenStats } from './router-sim.js';

let WasmSonaEngine = null;
let engine = null; // the learning engine of the last run, or the last loaded one
let stopRequested = false;
let running = false;

const ready = (async () => {
  try {
    const sona = await import('/pkg/index.js');
    await sona.default();
    WasmSonaEngine = sona.WasmSonaEngine;
    postMessage({ type: 'ready' });
  } catch (err) {
    postMessage({ type: 'error', message: `could not load /pkg/index.js in the worker: ${err?.message ?? err}` });
    throw err;
  }
})();

function statsOf(e) {
  return flattenStats(e.stats());
}

async function run({ config, requests, seed }) {
  running = true;
  stopRequested = false;
  const started = performance.now();
  try {
    const result = await runSimulation({
      WasmSonaEngine,
      config,
      requests,
      seed,
      shouldStop: () => stopRequested,
      onWindow: (r) => postMessage({
        type: 'progress',
        done: r.done,
        total: requests,
        curve: r.curve,
        baseline: r.baseline,
        patterns: r.patterns,
        patternQuality: r.patternQuality,
      }),
    });
    engine?.free?.();
    engine = result.engine;
    postMessage({
      type: 'done',
      done: result.done,
      total: requests,
      stopped: stopRequested,
      ms: performance.now() - started,
      curve: result.curve,
      baseline: result.baseline,
      patterns: result.patterns,
      patternQuality: result.patternQuality,
      stats: statsOf(engine),
    });
  } finally {
    running = false;
  }
}

onmessage = async ({ data }) => {
  try {
    await ready;
    switch (data.type) {
      case 'run':
        if (running) throw new Error('a run is already in progress');
        await run(data);
        break;
      case 'stop':
        stopRequested = true;
        break;
      case 'save': {
        if (!engine) throw new Error('nothing to save: run the router or load a state first');
        const bytes = engine.saveState();
        postMessage({ type: 'saved', bytes, stats: statsOf(engine) }, [bytes.buffer]);
        break;
      }
      case 'export': {
        if (!engine) throw new Error('nothing to export: run the router or load a state first');
        const bytes = engine.exportLora();
        postMessage({ type: 'exported', bytes }, [bytes.buffer]);
        break;
      }
      case 'load': {
        const loaded = WasmSonaEngine.loadState(data.bytes);
        engine?.free?.();
        engine = loaded;
        postMessage({ type: 'loaded', stats: statsOf(engine) });
        break;
      }
      default:
        throw new Error(`unknown message ${data.type}`);
    }
  } catch (err) {
    postMessage({ type: 'error', message: err?.message ?? String(err) });
  }
};
