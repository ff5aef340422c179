// Section 2: the self-learning router. The runs happen in router-worker.js; this file draws the
// curves, shows the engine's stats, and moves saved states between the worker and IndexedDB.

import { WINDOW } from './router-sim.js';
import { lineChart, onThemeOrResize, themeColor } from './lib/plot.js';
import { loadRecord, saveRecord } from './lib/state-store.js';

const STATE_KEY = 'router-engine';
const $ = (id) => document.getElementById(id);

export function setupRouter({ WasmSonaEngine }) {
  const presets = WasmSonaEngine.presets(); // the seed's preset names
  const select = $('preset');
  for (const name of presets) select.add(new Option(name, name));
  select.value = presets.includes('default') ? 'default' : presets[0];

  const status = $('router-status');
  const progress = $('router-progress');
  const runButton = $('router-run');
  const stopButton = $('router-stop');
  const saveButton = $('state-save');
  const loadButton = $('state-load');
  const exportButton = $('lora-export');
  // The inputs a run is configured by: locked while the worker is busy, so what they show is what
  // the running (or last) run used.
  const configInputs = [select, $('requests'), $('sim-seed')];
  let runPreset = select.value; // the preset of the current or last run, for the stats' label
  let last = { curve: [], baseline: [], patterns: [], patternQuality: [] };

  const setStatus = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
  };

  const draw = () => {
    lineChart($('curve-canvas'), {
      xStep: WINDOW,
      xLabel: 'requests',
      left: { min: 0, max: 1, label: 'quality' },
      series: [
        { points: last.baseline, color: themeColor('--muted'), dash: [5, 4] },
        { points: last.curve, color: themeColor('--accent') },
      ],
    });
    // A count: a multiple of 20, so the 4 tick steps are round whole numbers (5, 10, … or 25, 50, …).
    const maxPatterns = Math.max(20, ...last.patterns);
    lineChart($('patterns-canvas'), {
      xStep: WINDOW,
      xLabel: 'requests',
      left: { min: 0, max: Math.ceil(maxPatterns / 20) * 20, label: 'patterns', integer: true },
      right: { min: 0, max: 1, label: 'avg quality' },
      series: [
        { points: last.patterns, color: themeColor('--accent') },
        { points: last.patternQuality, color: themeColor('--accent-2'), axis: 'right' },
      ],
    });
    const curveCanvas = $('curve-canvas');
    curveCanvas.dataset.curve = JSON.stringify(last.curve);
    curveCanvas.dataset.baseline = JSON.stringify(last.baseline);
    const tail = (a) => (a.length ? a[a.length - 1].toFixed(3) : '—');
    $('final-learn').textContent = tail(last.curve);
    $('final-base').textContent = tail(last.baseline);
  };
  draw();
  onThemeOrResize(draw);

  const showStats = (stats, source) => {
    const dl = $('sona-stats');
    dl.replaceChildren();
    for (const [key, value] of Object.entries(stats)) {
      const div = document.createElement('div');
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = key;
      dd.textContent = typeof value === 'number' && !Number.isInteger(value) ? value.toPrecision(6) : String(value);
      div.append(dt, dd);
      dl.append(div);
    }
    dl.dataset.stats = JSON.stringify(stats);
    $('stats-source').textContent = source;
  };

  const worker = new Worker(new URL('./router-worker.js', import.meta.url), { type: 'module' });
  let busy = false;
  const setBusy = (b) => {
    busy = b;
    runButton.disabled = b;
    stopButton.disabled = !b;
    loadButton.disabled = b;
    for (const input of configInputs) input.disabled = b;
    if (b) exportButton.disabled = true;
  };
  /** An engine exists in the worker (after a run or a load): it can be saved and exported. */
  let engineReady = false;
  const haveEngine = () => {
    engineReady = true;
    saveButton.disabled = false;
    exportButton.disabled = false;
  };

  worker.onerror = (e) => setStatus('error', `worker failed: ${e.message ?? 'unknown error'}`);
  worker.onmessage = async ({ data }) => {
    switch (data.type) {
      case 'ready':
        break;
      case 'progress':
        last = data;
        progress.value = data.done / data.total;
        setStatus('running', `${data.done.toLocaleString('en-US')} / ${data.total.toLocaleString('en-US')} requests`);
        draw();
        break;
      case 'done':
        last = data;
        progress.value = data.done / data.total;
        draw();
        setBusy(false);
        haveEngine();
        setStatus('done', `${data.stopped ? 'stopped after' : 'done:'} ${data.done.toLocaleString('en-US')} requests `
          + `(×2 engines) in ${(data.ms / 1000).toFixed(1)} s`);
        showStats(data.stats, `after the run (preset ${runPreset})`);
        break;
      case 'saved':
        try {
          await saveRecord(STATE_KEY, { bytes: data.bytes, savedAt: Date.now(), stats: data.stats });
          setStatus('saved', `saved ${data.bytes.length.toLocaleString('en-US')} bytes to IndexedDB`);
          showStats(data.stats, 'saved state');
        } catch (err) {
          setStatus('error', `save failed: ${err.message}`);
        }
        setBusy(false);
        haveEngine();
        break;
      case 'exported': {
        // exportLora()'s SafeTensors bytes, offered as a download.
        const url = URL.createObjectURL(new Blob([data.bytes], { type: 'application/octet-stream' }));
        const link = document.createElement('a');
        link.href = url;
        link.download = 'sona-lora.safetensors';
        link.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        setBusy(false);
        haveEngine();
        setStatus('exported', `exported the LoRA adapters: ${data.bytes.length.toLocaleString('en-US')} bytes of SafeTensors`);
        break;
      }
      case 'loaded':
        setBusy(false);
        haveEngine();
        setStatus('loaded', 'state loaded from IndexedDB');
        showStats(data.stats, 'loaded state (loadState)');
        break;
      case 'error':
        setBusy(false);
        if (engineReady) haveEngine();
        setStatus('error', data.message);
        break;
      default:
        break;
    }
  };

  runButton.addEventListener('click', () => {
    const requests = Math.max(100, Math.min(50000, Math.round(Number($('requests').value) || 2000)));
    const seed = (Math.round(Number($('sim-seed').value)) >>> 0) || 1;
    runPreset = select.value;
    const config = { preset: runPreset, seed };
    last = { curve: [], baseline: [], patterns: [], patternQuality: [] };
    progress.value = 0;
    draw();
    setBusy(true);
    setStatus('running', 'starting…');
    worker.postMessage({ type: 'run', config, requests, seed });
  });
  stopButton.addEventListener('click', () => worker.postMessage({ type: 'stop' }));
  saveButton.addEventListener('click', () => {
    if (busy) return;
    setBusy(true);
    worker.postMessage({ type: 'save' });
  });
  exportButton.addEventListener('click', () => {
    if (busy) return;
    setBusy(true);
    worker.postMessage({ type: 'export' });
  });
  loadButton.addEventListener('click', async () => {
    try {
      const record = await loadRecord(STATE_KEY);
      if (!record) {
        setStatus('error', 'no saved state in IndexedDB yet');
        return;
      }
      setBusy(true);
      worker.postMessage({ type: 'load', bytes: record.bytes });
    } catch (err) {
      setStatus('error', `load failed: ${err.message}`);
    }
  });
}
