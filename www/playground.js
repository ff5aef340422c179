// Section 1: the micro-HNSW playground — points on a canvas become 2-D vectors in one core; queries
// are answered by the index and, beside it, by a brute-force scan in JS; the core's spiking network
// is driven step by step and drawn as a raster, membrane traces against each neuron's adapted
// threshold, the gamma phase and a map of the STDP-learned synaptic weights.
//
// Canvas → vector mapping (the browser test relies on it): a point at CSS pixel (px, py) of the
// canvas box of size (w, h) is the vector [2·px/w − 1, 1 − 2·py/h] (x right, y up, both in [−1, 1]).

import { fitCanvas, onThemeOrResize, themeColor } from './lib/plot.js';
import { createRng } from './lib/rng.js';

const $ = (id) => document.getElementById(id);
const CAPACITY = 32;
const HISTORY = 240; // raster / trace columns kept
const METRICS = ['l2', 'cosine', 'dot'];
const TRACE_COLORS = ['--trace-1', '--trace-2', '--trace-3', '--trace-4'];
const THRESHOLD_AT_RESET = 1.0; // snnReset() sets every threshold to 1.0; homeostasis adapts it
const INITIAL_WEIGHT = 128; // weight (/256) of a new graph link = synapse

/**
 * Distance as micro-HNSW defines it (smaller = closer): squared Euclidean for L2, 1 − cosine for
 * cosine, −dot for dot. Used for the page's brute-force column.
 */
export function distance(metric, a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let l2 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    l2 += (a[i] - b[i]) ** 2;
  }
  if (metric === 'l2') return l2;
  if (metric === 'cosine') return na > 0 && nb > 0 ? 1 - dot / Math.sqrt(na * nb) : 1;
  return -dot;
}

/** The k nearest of `points` to `q` by brute force: [{id, distance}], closest first (ties: lower id). */
export function bruteForce(points, q, k, metric) {
  return points
    .map((p, id) => ({ id, distance: distance(metric, p, q) }))
    .sort((a, b) => a.distance - b.distance || a.id - b.id)
    .slice(0, k);
}

const popcount = (x) => {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
};

export function setupPlayground({ MicroHnsw }) {
  const canvas = $('points-canvas');
  const state = {
    metric: 'l2',
    points: [], // Float32Array(2) each; id = index
    query: null,
    results: [],
    brute: [],
    cursor: { x: 0.5, y: 0.5 }, // keyboard cross-hair, fractions of the canvas box
    showCursor: false,
  };
  let index = new MicroHnsw({ dims: 2, metric: state.metric, coreId: 0 });

  const snn = {
    steps: 0,
    spikeTotal: 0,
    spikeCount: new Uint32Array(CAPACITY),
    raster: new Uint32Array(HISTORY), // spike bitmap per step, ring buffer
    phaseAt: new Float32Array(HISTORY), // oscillator phase after each step
    membrane: [], // per traced neuron: Float32Array(HISTORY)
    threshold: [], // per traced neuron: Float32Array(HISTORY), the threshold after each step
    traced: [],
    head: 0, // next column to write
    filled: 0,
    winner: null,
    running: false,
  };

  // k as used by every search; the field is rewritten to it on each change (see normalizeK).
  let kUsed = 5;
  const k = () => kUsed;
  const num = (id, fallback, lo, hi) => {
    const v = Number($(id).value);
    return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback;
  };
  const toVector = (fx, fy) => Float32Array.of(2 * fx - 1, 1 - 2 * fy);
  const toCanvas = (v, width, height) => [((v[0] + 1) / 2) * width, ((1 - v[1]) / 2) * height];

  // ── index operations ──────────────────────────────────────────────────────────────────────────
  const sayFull = () => {
    $('knn-verdict').textContent = `this core is full (${CAPACITY} vectors); clear it or query`;
  };

  function addPoint(v) {
    if (state.points.length >= CAPACITY) {
      sayFull();
      return;
    }
    const id = index.insert(v);
    if (id !== state.points.length) throw new Error(`micro-HNSW returned id ${id}, expected ${state.points.length}`);
    state.points.push(v);
    if (state.query) runQuery(state.query);
  }

  function rebuild() {
    index = new MicroHnsw({ dims: 2, metric: state.metric, coreId: 0 });
    const points = state.points;
    state.points = [];
    for (const p of points) addPoint(p);
    resetNetwork();
  }

  function runQuery(q) {
    state.query = q;
    state.results = state.points.length ? index.search(q, Math.min(k(), state.points.length)) : [];
    state.brute = bruteForce(state.points, q, Math.min(k(), state.points.length), state.metric);
    renderResults();
  }

  function renderResults() {
    const body = $('knn-body');
    body.replaceChildren();
    const list = $('knn-results');
    list.replaceChildren();
    const rows = Math.max(state.results.length, state.brute.length);
    if (!state.query || rows === 0) {
      const tr = body.insertRow();
      const td = tr.insertCell();
      td.colSpan = 5;
      td.className = 'muted';
      td.textContent = state.query ? 'no points yet' : 'no query yet';
    }
    let matches = 0;
    for (let i = 0; i < rows; i++) {
      const r = state.results[i];
      const b = state.brute[i];
      const tr = body.insertRow();
      const same = r && b && r.id === b.id;
      if (same) matches++;
      else tr.className = 'mismatch';
      const cells = [String(i + 1), r ? `#${r.id}` : '—', r ? r.distance.toFixed(5) : '',
        b ? `#${b.id}` : '—', b ? b.distance.toFixed(5) : ''];
      cells.forEach((text, c) => {
        const td = tr.insertCell();
        td.textContent = text;
        if (c === 2 || c === 4) td.className = 'num';
      });
      if (r) {
        const li = document.createElement('li');
        li.dataset.id = String(r.id);
        li.dataset.distance = String(r.distance);
        li.textContent = `#${r.id} ${r.distance}`;
        list.append(li);
      }
    }
    list.dataset.query = state.query ? JSON.stringify(Array.from(state.query)) : '';
    list.dataset.metric = state.metric;
    $('knn-verdict').textContent = state.query && rows
      ? `${matches} of ${rows} identical to brute force (k = ${rows}, metric ${state.metric})`
      : '';
    renderPointList();
    drawPoints();
  }

  function renderPointList() {
    const ul = $('point-list');
    ul.replaceChildren();
    state.points.forEach((p, id) => {
      const li = document.createElement('li');
      li.dataset.id = String(id);
      li.dataset.x = String(p[0]);
      li.dataset.y = String(p[1]);
      li.textContent = `#${id} (${p[0].toFixed(3)}, ${p[1].toFixed(3)})`;
      ul.append(li);
    });
    $('point-count').textContent = String(state.points.length);
  }

  function drawPoints() {
    const { ctx, width, height } = fitCanvas(canvas);
    ctx.clearRect(0, 0, width, height);
    ctx.strokeStyle = themeColor('--grid');
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(width / 2, 0);
    ctx.lineTo(width / 2, height);
    ctx.moveTo(0, height / 2);
    ctx.lineTo(width, height / 2);
    ctx.stroke();

    const found = new Map(state.results.map((r, rank) => [r.id, rank]));
    const bruteIds = new Set(state.brute.map((b) => b.id));
    if (state.query) {
      const [qx, qy] = toCanvas(state.query, width, height);
      ctx.strokeStyle = themeColor('--accent');
      ctx.globalAlpha = 0.5;
      for (const r of state.results) {
        const [x, y] = toCanvas(state.points[r.id], width, height);
        ctx.beginPath();
        ctx.moveTo(qx, qy);
        ctx.lineTo(x, y);
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
    }
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'bottom';
    state.points.forEach((p, id) => {
      const [x, y] = toCanvas(p, width, height);
      const spikes = snn.spikeCount[id];
      ctx.fillStyle = found.has(id) ? themeColor('--accent') : themeColor('--point');
      ctx.beginPath();
      ctx.arc(x, y, found.has(id) ? 5 : 3.5, 0, 2 * Math.PI);
      ctx.fill();
      if (bruteIds.has(id)) {
        // Brute-force answer: a ring around the point (coincides with the fill when both agree).
        ctx.strokeStyle = themeColor('--good');
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.arc(x, y, 8, 0, 2 * Math.PI);
        ctx.stroke();
      }
      ctx.fillStyle = themeColor('--muted');
      const label = found.has(id)
        ? `${id} · #${found.get(id) + 1} · d ${state.results[found.get(id)].distance.toFixed(3)}`
        : String(id);
      ctx.fillText(label, x + 6, y - 3);
      if (spikes) {
        ctx.fillStyle = themeColor('--accent-2');
        ctx.globalAlpha = Math.min(0.6, 0.1 + spikes / (snn.steps + 1));
        ctx.beginPath();
        ctx.arc(x, y, 11, 0, 2 * Math.PI);
        ctx.fill();
        ctx.globalAlpha = 1;
      }
    });
    if (state.query) {
      const [qx, qy] = toCanvas(state.query, width, height);
      ctx.strokeStyle = themeColor('--query');
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(qx - 7, qy - 7);
      ctx.lineTo(qx + 7, qy + 7);
      ctx.moveTo(qx + 7, qy - 7);
      ctx.lineTo(qx - 7, qy + 7);
      ctx.stroke();
    }
    if (state.showCursor) {
      const cx = state.cursor.x * width;
      const cy = state.cursor.y * height;
      ctx.strokeStyle = themeColor('--fg');
      ctx.lineWidth = 1;
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(cx, 0);
      ctx.lineTo(cx, height);
      ctx.moveTo(0, cy);
      ctx.lineTo(width, cy);
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  function clickAt(fx, fy) {
    const v = toVector(fx, fy);
    if (document.querySelector('input[name="click-mode"]:checked').value === 'add') {
      addPoint(v);
      drawNetwork(); // the new point's links are new synapses: the weight map shows them
    } else {
      runQuery(v);
    }
    renderPointList();
    drawPoints();
  }

  canvas.addEventListener('click', (e) => {
    const rect = canvas.getBoundingClientRect();
    state.showCursor = false;
    clickAt((e.clientX - rect.left) / rect.width, (e.clientY - rect.top) / rect.height);
  });
  canvas.addEventListener('keydown', (e) => {
    const stepSize = e.shiftKey ? 0.1 : 0.02;
    const moves = { ArrowLeft: [-stepSize, 0], ArrowRight: [stepSize, 0], ArrowUp: [0, -stepSize], ArrowDown: [0, stepSize] };
    if (moves[e.key]) {
      state.cursor.x = Math.min(1, Math.max(0, state.cursor.x + moves[e.key][0]));
      state.cursor.y = Math.min(1, Math.max(0, state.cursor.y + moves[e.key][1]));
    } else if (e.key === 'Enter' || e.key === ' ') {
      clickAt(state.cursor.x, state.cursor.y);
    } else {
      return;
    }
    e.preventDefault();
    state.showCursor = true;
    drawPoints();
  });
  canvas.addEventListener('blur', () => {
    state.showCursor = false;
    drawPoints();
  });

  let randomSeed = 1;
  $('random-32').addEventListener('click', () => {
    if (state.points.length >= CAPACITY) {
      sayFull();
      return;
    }
    const rng = createRng(randomSeed++);
    while (state.points.length < CAPACITY) addPoint(Float32Array.of(1.8 * rng.next() - 0.9, 1.8 * rng.next() - 0.9));
    renderPointList();
    drawPoints();
    drawNetwork();
  });
  $('clear-points').addEventListener('click', () => {
    state.points = [];
    state.query = null;
    state.results = [];
    state.brute = [];
    rebuild();
    renderResults();
  });
  $('metric').addEventListener('change', () => {
    state.metric = METRICS[Number($('metric').value)] ?? 'l2';
    rebuild();
    if (state.query) runQuery(state.query);
    else renderResults();
  });
  /** Take a new k from the field: rounded and clamped to 1..16 (an empty or non-numeric field keeps
   * the previous k), and written back, so the field always shows the k the searches use. */
  function normalizeK() {
    const field = $('knn-k');
    const v = Number(field.value);
    if (field.value.trim() !== '' && Number.isFinite(v)) kUsed = Math.max(1, Math.min(16, Math.round(v)));
    field.value = String(kUsed);
  }
  $('knn-k').addEventListener('change', () => {
    normalizeK();
    if (state.query) runQuery(state.query);
  });

  // ── spiking network ───────────────────────────────────────────────────────────────────────────
  function resetNetwork() {
    index.snnReset();
    snn.steps = 0;
    snn.spikeTotal = 0;
    snn.spikeCount.fill(0);
    snn.raster.fill(0);
    snn.head = 0;
    snn.filled = 0;
    snn.winner = null;
    snn.traced = [];
    snn.membrane = [];
    snn.threshold = [];
    renderTraceLegend();
    drawNetwork();
  }

  /** Neurons whose membranes are traced: the query's nearest (up to 4), else the first 4 points. */
  function chooseTraced() {
    const ids = (state.results.length ? state.results.map((r) => r.id) : state.points.map((_, i) => i)).slice(0, 4);
    if (ids.join() !== snn.traced.join()) {
      snn.traced = ids;
      snn.membrane = ids.map(() => new Float32Array(HISTORY).fill(NaN));
      snn.threshold = ids.map(() => new Float32Array(HISTORY).fill(NaN));
    }
    renderTraceLegend();
  }

  /** The membrane plot's legend: the traced neurons, or '—' when none is (after a reset or Clear). */
  function renderTraceLegend() {
    const legend = $('trace-neurons');
    legend.replaceChildren();
    snn.traced.forEach((id, i) => {
      const key = document.createElement('span');
      key.className = `key trace-key-${i + 1}`;
      key.textContent = `#${id}`;
      legend.append(i ? ', ' : '', key);
    });
    if (!snn.traced.length) legend.textContent = '—';
  }

  /** One timestep: stimulus from the query's neighbours, the core's tick (LIF, propagation, STDP),
   * then homeostasis and the gamma oscillator, each once per step. */
  function stepNetwork(dt, gain, learn, wta) {
    if (state.query) index.hnswToSnn(state.query, Math.min(k(), state.points.length), gain);
    index.tick(dt, gain, learn);
    index.homeostaticUpdate(dt);
    index.oscillatorStep(dt);
    if (wta) snn.winner = index.wtaCompete();
    const spikes = index.spikes() >>> 0;
    snn.raster[snn.head] = spikes;
    snn.phaseAt[snn.head] = index.phase;
    for (let n = 0; n < CAPACITY; n++) if (spikes & (1 << n)) snn.spikeCount[n]++;
    snn.spikeTotal += popcount(spikes);
    snn.traced.forEach((id, i) => {
      snn.membrane[i][snn.head] = index.membrane(id);
      snn.threshold[i][snn.head] = index.threshold(id);
    });
    snn.head = (snn.head + 1) % HISTORY;
    snn.filled = Math.min(HISTORY, snn.filled + 1);
    snn.steps++;
  }

  function runNetwork() {
    if (snn.running || state.points.length === 0 || !state.query) {
      // Without a query nothing injects current, and the run would show an empty raster.
      if (state.points.length === 0) $('snn-status').textContent = 'add points first';
      else if (!state.query) $('snn-status').textContent = 'set a query first';
      return;
    }
    const iterations = Math.round(num('snn-iterations', 200, 1, 5000));
    const dt = num('snn-dt', 1, 0.05, 5);
    const gain = num('snn-gain', 0.8, 0, 10);
    const learn = $('snn-learn').checked;
    const wta = $('snn-wta').checked;
    if (!wta) snn.winner = null;
    const perFrame = Math.max(1, Math.ceil(iterations / 60)); // about one second of animation
    let left = iterations;
    snn.running = true;
    $('snn-run').disabled = true;
    $('snn-status').dataset.state = 'running';
    $('snn-status').textContent = 'running';
    chooseTraced();
    const frame = () => {
      try {
        const n = Math.min(perFrame, left);
        for (let i = 0; i < n; i++) stepNetwork(dt, gain, learn, wta);
        left -= n;
        drawNetwork();
        drawPoints();
      } catch (err) {
        left = 0;
        $('snn-status').textContent = `error: ${err.message}`;
        console.error(err);
      }
      if (left > 0) {
        requestAnimationFrame(frame);
      } else {
        snn.running = false;
        $('snn-run').disabled = false;
        $('snn-status').dataset.state = 'idle';
        if (!$('snn-status').textContent.startsWith('error')) $('snn-status').textContent = 'idle';
      }
    };
    requestAnimationFrame(frame);
  }

  function drawNetwork() {
    drawRaster();
    drawMembranes();
    drawPhase();
    drawWeights();
    $('snn-steps').textContent = String(snn.steps);
    $('spike-total').textContent = String(snn.spikeTotal);
    $('snn-time').textContent = index.time.toFixed(1);
    $('wta-winner').textContent = snn.winner === null ? '—' : `#${snn.winner}`;
    $('snn-activity').textContent = `${index.networkActivity.toFixed(3)} spikes/ms`;
  }

  function drawRaster() {
    const { ctx, width, height } = fitCanvas($('raster-canvas'));
    ctx.clearRect(0, 0, width, height);
    const rowH = height / CAPACITY;
    const colW = width / HISTORY;
    if (snn.winner !== null) {
      ctx.fillStyle = themeColor('--grid');
      ctx.fillRect(0, snn.winner * rowH, width, rowH);
    }
    ctx.fillStyle = themeColor('--spike');
    for (let c = 0; c < snn.filled; c++) {
      // Oldest column on the left.
      const slot = (snn.head - snn.filled + c + HISTORY) % HISTORY;
      const bits = snn.raster[slot];
      if (!bits) continue;
      const x = (HISTORY - snn.filled + c) * colW;
      for (let n = 0; n < CAPACITY; n++) {
        if (bits & (1 << n)) ctx.fillRect(x, n * rowH + 0.5, Math.max(1, colW), Math.max(1, rowH - 1));
      }
    }
  }

  function drawMembranes() {
    const { ctx, width, height } = fitCanvas($('membrane-canvas'));
    ctx.clearRect(0, 0, width, height);
    let top = THRESHOLD_AT_RESET * 1.25;
    let bottom = -0.25;
    for (const series of [...snn.membrane, ...snn.threshold]) {
      for (const v of series) {
        if (v > top) top = v * 1.05;
        if (v < bottom) bottom = v * 1.05;
      }
    }
    const yOf = (v) => height - ((v - bottom) / (top - bottom)) * height;
    const colW = width / HISTORY;
    ctx.strokeStyle = themeColor('--grid');
    ctx.beginPath();
    ctx.moveTo(0, yOf(0));
    ctx.lineTo(width, yOf(0));
    ctx.stroke();
    // Before any step is traced: the threshold every neuron has after a reset.
    if (!snn.filled) {
      ctx.strokeStyle = themeColor('--muted');
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(0, yOf(THRESHOLD_AT_RESET));
      ctx.lineTo(width, yOf(THRESHOLD_AT_RESET));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    const line = (series) => {
      ctx.beginPath();
      let started = false;
      for (let c = 0; c < snn.filled; c++) {
        const slot = (snn.head - snn.filled + c + HISTORY) % HISTORY;
        const v = series[slot];
        if (Number.isNaN(v)) continue;
        const x = (HISTORY - snn.filled + c) * colW;
        if (started) ctx.lineTo(x, yOf(v));
        else ctx.moveTo(x, yOf(v));
        started = true;
      }
      ctx.stroke();
    };
    snn.traced.forEach((id, i) => {
      ctx.strokeStyle = themeColor(TRACE_COLORS[i]);
      ctx.lineWidth = 1;
      ctx.setLineDash([5, 4]);
      line(snn.threshold[i]); // the neuron's real threshold, as homeostasis adapts it
      ctx.setLineDash([]);
      ctx.lineWidth = 1.5;
      line(snn.membrane[i]);
    });
  }

  function drawPhase() {
    const phase = index.phase;
    const { ctx, width, height } = fitCanvas($('phase-canvas'));
    ctx.clearRect(0, 0, width, height);
    const cx = width / 2;
    const cy = height / 2;
    const r = Math.min(width, height) / 2 - 12;
    $('phase-value').textContent = phase.toFixed(2);
    // A canvas not laid out yet (or squeezed by a narrow layout) has no room for the ring; a
    // negative arc radius would throw.
    if (r < 1) return;
    ctx.strokeStyle = themeColor('--grid');
    ctx.lineWidth = 6;
    ctx.beginPath();
    ctx.arc(cx, cy, r, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.strokeStyle = themeColor('--accent');
    ctx.beginPath();
    ctx.arc(cx, cy, r, -Math.PI / 2, -Math.PI / 2 + phase);
    ctx.stroke();
    // Where in the gamma cycle the recent spikes fell: one dot per spiking step, inside the ring.
    ctx.fillStyle = themeColor('--accent-2');
    for (let c = 0; c < snn.filled; c++) {
      const slot = (snn.head - snn.filled + c + HISTORY) % HISTORY;
      const count = popcount(snn.raster[slot]);
      if (!count) continue;
      const a = snn.phaseAt[slot] - Math.PI / 2;
      const rr = r - 10 - Math.min(count, 8) * 2;
      ctx.globalAlpha = 0.35;
      ctx.beginPath();
      ctx.arc(cx + rr * Math.cos(a), cy + rr * Math.sin(a), 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(cx, cy);
    ctx.lineTo(cx + r * Math.cos(phase - Math.PI / 2), cy + r * Math.sin(phase - Math.PI / 2));
    ctx.stroke();
  }

  /**
   * Heat map of the synaptic weights: cell (i, j) = weight of the synapse i → j (a graph link) as
   * STDP has learned it, read with `synapses(i)`; colour from the weight a new link starts with
   * (128/256, pale) towards 255 (strong); weakened synapses fade below that. Cells without a link
   * stay empty. The caption shows the range of all weights.
   */
  function drawWeights() {
    const { ctx, width, height } = fitCanvas($('weights-canvas'));
    ctx.clearRect(0, 0, width, height);
    const cell = Math.min(width, height) / CAPACITY;
    ctx.fillStyle = themeColor('--heat-lo');
    ctx.fillRect(0, 0, cell * CAPACITY, cell * CAPACITY);
    let lo = Infinity;
    let hi = -Infinity;
    ctx.fillStyle = themeColor('--heat-hi');
    for (let i = 0; i < state.points.length; i++) {
      for (const { target, weight } of index.synapses(i)) {
        lo = Math.min(lo, weight);
        hi = Math.max(hi, weight);
        ctx.globalAlpha = 0.08 + 0.92 * (weight / 255) ** 2;
        ctx.fillRect(target * cell, i * cell, cell - 0.5, cell - 0.5);
      }
    }
    ctx.globalAlpha = 1;
    $('weight-range').textContent = lo <= hi ? (lo === hi ? `all ${lo}` : `${lo}–${hi}`) : '—';
    // Whether STDP has moved any weight away from the value every new link starts with.
    $('weight-range').dataset.changed = String(lo <= hi && (lo !== INITIAL_WEIGHT || hi !== INITIAL_WEIGHT));
  }

  const redraw = () => {
    drawPoints();
    drawNetwork();
  };
  onThemeOrResize(redraw);
  $('snn-run').addEventListener('click', runNetwork);
  $('snn-reset').addEventListener('click', resetNetwork);
  normalizeK(); // a value the browser restored into the field on reload
  renderResults();
  resetNetwork();
}
