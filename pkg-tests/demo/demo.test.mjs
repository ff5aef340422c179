// The demo page (www/) in headless Chromium, against the built package in pkg/.
// Any console error, page error, failed request or HTTP error fails the test that caused it.
// Expected values are computed here, independently of the page: neighbours by brute force in JS,
// CSP hash with node:crypto.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serve, repoRoot } from '../tools/serve.mjs';
import { launchChromium } from '../tools/browser.mjs';

const INDEX_HTML = join(repoRoot, 'www', 'index.html');
const ARTIFACTS = join(repoRoot, 'pkg-tests', 'artifacts');
// The built package served at /pkg/: pkg/ (from `npm run build`), or DEMO_PKG_DIR to try a package
// built elsewhere (an absolute path or one relative to the repository).
const PKG_DIR = resolve(repoRoot, process.env.DEMO_PKG_DIR ?? 'pkg');

// ── static checks of index.html ────────────────────────────────────────────────────────────────
describe('demo page markup', () => {
  const html = readFileSync(INDEX_HTML, 'utf8').replace(/<!--[\s\S]*?-->/g, '');

  test('the CSP lists the sha256 of the inline import map and nothing else inline', () => {
    const csp = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/);
    assert.ok(csp, 'index.html declares a CSP meta tag');
    const directives = Object.fromEntries(csp[1].split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    const inline = scripts.filter(([, attrs]) => !/\bsrc=/.test(attrs));
    assert.equal(inline.length, 1, 'exactly one inline script (the import map)');
    assert.match(inline[0][1], /type="importmap"/);
    const hash = createHash('sha256').update(inline[0][2]).digest('base64');
    assert.deepEqual(
      directives['script-src'].sort(),
      ["'self'", "'wasm-unsafe-eval'", `'sha256-${hash}'`].sort(),
      `script-src allows only this origin, wasm compilation and the import map by its current hash 'sha256-${hash}'`,
    );
    assert.deepEqual(directives['default-src'], ["'self'"]);
    const map = JSON.parse(inline[0][2]);
    assert.deepEqual(map.imports, { 'sona-wasm': '/pkg/index.js', 'sona-wasm/micro-hnsw': '/pkg/micro_hnsw.js' });
  });

  test('no inline event handlers or style attributes', () => {
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i);
    assert.doesNotMatch(html, /\sstyle\s*=/i);
  });
});

// ── the page in Chromium ───────────────────────────────────────────────────────────────────────
/** Same definitions as the micro-HNSW docs: smaller = closer. */
function distance(metric, a, b) {
  let dot = 0, na = 0, nb = 0, l2 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    l2 += (a[i] - b[i]) ** 2;
  }
  if (metric === 'l2') return l2;
  if (metric === 'cosine') return 1 - dot / Math.sqrt(na * nb);
  return -dot;
}

describe('demo page in headless Chromium', () => {
  let server;
  let browser;
  let page;
  const problems = [];

  before(async () => {
    server = await serve({ port: 0, mounts: { '/pkg/': PKG_DIR } });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
    page.on('response', (res) => { if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`); });
    page.on('worker', (worker) => worker.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`worker console: ${msg.text()}`);
    }));
    await page.goto(server.url);
    await page.waitForSelector('#load-status[data-state="ok"], #load-status[data-state="error"]', { timeout: 20_000 });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const noProblems = () => assert.deepEqual(problems.splice(0), []);

  test('loads both modules under its CSP, with sizes and ops/s measured', async () => {
    const state = await page.getAttribute('#load-status', 'data-state');
    assert.equal(state, 'ok', await page.textContent('#load-status'));
    await page.waitForFunction(() => document.querySelectorAll('#ops-body tr').length === 4
      && document.querySelectorAll('#sizes-body tr').length === 2, null, { timeout: 20_000 });
    const sizes = await page.$$eval('#sizes-body tr', (rows) => rows.map((r) => ({ ...r.dataset })));
    const onDisk = (name) => readFileSync(join(PKG_DIR, name)).length;
    // Measured by the browser (CompressionStream, default level), not zlib level 9 as in the README:
    // the column says which, so the two figures are not read as the same measurement.
    assert.equal(await page.textContent('#gzip-method'), 'gzip (browser, default level)');
    for (const s of sizes) {
      assert.equal(Number(s.raw), onDisk(s.module), `${s.module} raw size as served`);
      assert.ok(Number(s.gzip) > 0 && Number(s.gzip) < Number(s.raw), `${s.module} gzip size ${s.gzip}`);
    }
    const ops = await page.$$eval('#ops-body tr', (rows) => rows.map((r) => [r.dataset.op, Number(r.dataset.opsPerSecond)]));
    assert.deepEqual(ops.map(([op]) => op), ['search', 'snn_tick', 'applyLoraInto', 'findPatterns']);
    for (const [op, n] of ops) assert.ok(Number.isFinite(n) && n > 0, `${op}: ${n} ops/s`);
    noProblems();
  });

  test('canvas clicks add points and query; the highlighted neighbours are the brute-force ones', async () => {
    const canvas = await page.$('#points-canvas');
    let box = await canvas.boundingBox();
    const clicks = [
      [0.12, 0.2], [0.3, 0.75], [0.55, 0.4], [0.81, 0.15], [0.9, 0.88], [0.2, 0.55], [0.67, 0.62],
      [0.41, 0.12], [0.05, 0.93], [0.74, 0.33], [0.36, 0.47], [0.6, 0.9],
    ];
    for (const [fx, fy] of clicks) await page.mouse.click(box.x + fx * box.width, box.y + fy * box.height);
    // From the keyboard: the cross-hair starts at the centre, 5 × ArrowRight moves it by 0.1 of the width.
    await page.focus('#points-canvas');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    clicks.push([0.6, 0.5]);
    const points = await page.$$eval('#point-list li', (lis) => lis.map((li) => [Number(li.dataset.x), Number(li.dataset.y)]));
    assert.equal(points.length, clicks.length);
    // Each stored vector is where the test clicked (canvas → [2fx − 1, 1 − 2fy]), within 1.5 px.
    clicks.forEach(([fx, fy], i) => {
      assert.ok(Math.abs(points[i][0] - (2 * fx - 1)) * box.width / 2 < 1.5, `point ${i} x`);
      assert.ok(Math.abs(points[i][1] - (1 - 2 * fy)) * box.height / 2 < 1.5, `point ${i} y`);
    });

    // Without a query nothing would stimulate the network: Run says so and runs nothing.
    await page.click('#snn-run');
    assert.match(await page.textContent('#snn-status'), /set a query first/);
    assert.equal(await page.textContent('#snn-steps'), '0');
    await canvas.scrollIntoViewIfNeeded(); // clicking Run may have scrolled the page
    box = await canvas.boundingBox();

    await page.check('#mode-query');
    await page.fill('#knn-k', '4');
    await page.dispatchEvent('#knn-k', 'change');
    for (const [metric, value, q] of [['l2', '0', [0.47, 0.52]], ['cosine', '1', [0.85, 0.3]], ['dot', '2', [0.25, 0.8]]]) {
      await page.selectOption('#metric', value);
      await page.mouse.click(box.x + q[0] * box.width, box.y + q[1] * box.height);
      const shown = await page.$eval('#knn-results', (ol) => ({
        metric: ol.dataset.metric,
        query: JSON.parse(ol.dataset.query),
        results: [...ol.children].map((li) => ({ id: Number(li.dataset.id), distance: Number(li.dataset.distance) })),
      }));
      assert.equal(shown.metric, metric);
      assert.ok(Math.abs(shown.query[0] - (2 * q[0] - 1)) < 0.02 && Math.abs(shown.query[1] - (1 - 2 * q[1])) < 0.02);
      const expected = points
        .map((p, id) => ({ id, distance: distance(metric, p, shown.query) }))
        .sort((a, b) => a.distance - b.distance)
        .slice(0, 4);
      assert.deepEqual(shown.results.map((r) => r.id), expected.map((e) => e.id), `${metric} neighbours`);
      shown.results.forEach((r, i) => assert.ok(Math.abs(r.distance - expected[i].distance) < 1e-4,
        `${metric} distance ${r.distance} vs brute force ${expected[i].distance}`));
      const mismatches = await page.$$eval('#knn-body tr.mismatch', (rows) => rows.length);
      assert.equal(mismatches, 0, 'the page shows no mismatch against its own brute force');
    }
    await page.selectOption('#metric', '0');
    await page.mouse.click(box.x + 0.47 * box.width, box.y + 0.52 * box.height);
    noProblems();
  });

  test('the k field shows the k the search uses: rounded, clamped to 1..16, empty keeps the last', async () => {
    const count = await page.$$eval('#point-list li', (lis) => lis.length);
    assert.ok(count >= 13 && count < 16, `${count} points from the previous test`);
    for (const [typed, shown] of [['99', '16'], ['0', '1'], ['-3', '1'], ['3.6', '4'], ['', '4'], ['7', '7'], ['', '7']]) {
      await page.fill('#knn-k', typed);
      await page.dispatchEvent('#knn-k', 'change');
      assert.equal(await page.inputValue('#knn-k'), shown, `typed '${typed}'`);
      const results = await page.$$eval('#knn-results li', (lis) => lis.length);
      assert.equal(results, Math.min(Number(shown), count), `typed '${typed}': the search used k = ${shown}`);
    }
    await page.fill('#knn-k', '4');
    await page.dispatchEvent('#knn-k', 'change');
    noProblems();
  });

  test('the spiking network runs: raster pixels change and spike counters grow', async () => {
    const raster = () => page.$eval('#raster-canvas', (c) => {
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      let hash = 0;
      for (let i = 3; i < data.length; i += 4) {
        if (data[i] > 0) painted++;
        hash = (Math.imul(hash, 31) + data[i] + data[i - 1]) | 0;
      }
      return { painted, hash };
    });
    const counter = async (id) => Number(await page.textContent(id));
    const before = await raster();
    const spikesBefore = await counter('#spike-total');
    const stepsBefore = await counter('#snn-steps');
    await page.fill('#snn-iterations', '310');
    await page.click('#snn-run');
    await page.waitForFunction((n) => document.querySelector('#snn-status').dataset.state === 'idle'
      && Number(document.querySelector('#snn-steps').textContent) === n, stepsBefore + 310, { timeout: 20_000 });
    const afterRun = await raster();
    assert.notEqual(afterRun.hash, before.hash, 'the raster canvas changed');
    assert.ok(afterRun.painted > before.painted, `raster has more painted pixels (${before.painted} → ${afterRun.painted})`);
    const spikesAfter = await counter('#spike-total');
    assert.ok(spikesAfter > spikesBefore, `spike counter increased (${spikesBefore} → ${spikesAfter})`);
    assert.ok(Number(await page.textContent('#snn-time')) > 0, 'simulated time advanced');
    // STDP (on by default) moved the real synaptic weights away from the initial 128 and the map shows them.
    assert.equal(await page.getAttribute('#weight-range', 'data-changed'), 'true',
      `weight range after learning: ${await page.textContent('#weight-range')}`);
    const painted = (sel) => page.$eval(sel, (c) => {
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let i = 0; i < data.length; i += 4) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      return seen.size;
    });
    assert.ok(await painted('#weights-canvas') > 2, 'the weight map shows several shades');
    noProblems();
  });

  test('Clear empties the membrane legend; added points show their new synapses at once', async () => {
    assert.match(await page.textContent('#trace-neurons'), /^#\d+(, #\d+)*$/, 'the last run traced some neurons');
    await page.click('#clear-points');
    assert.equal(await page.textContent('#point-count'), '0');
    assert.equal(await page.textContent('#trace-neurons'), '—', 'no neuron is traced after Clear');
    assert.equal(await page.textContent('#weight-range'), '—', 'no synapse after Clear');
    const shades = () => page.$eval('#weights-canvas', (c) => {
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let i = 0; i < data.length; i += 4) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      return seen.size;
    });
    const emptyMap = await shades();

    // Two clicked points are linked: the map and the range show the new links (all at 128) without a Run.
    await page.check('#mode-add');
    const canvas = await page.$('#points-canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    await page.mouse.click(box.x + 0.3 * box.width, box.y + 0.3 * box.height);
    await page.mouse.click(box.x + 0.7 * box.width, box.y + 0.6 * box.height);
    assert.equal(await page.textContent('#point-count'), '2');
    assert.equal(await page.textContent('#weight-range'), 'all 128', 'the two points\' links, before any Run');
    assert.ok(await shades() > emptyMap, 'the weight map shows the new links');

    await page.click('#random-32');
    assert.equal(await page.textContent('#point-count'), '32');
    assert.equal(await page.textContent('#weight-range'), 'all 128', 'the 32 points\' links, before any Run');
    assert.equal(await page.getAttribute('#weight-range', 'data-changed'), 'false');
    // A full core: Random 32 says so instead of doing nothing silently.
    await page.click('#random-32');
    assert.match(await page.textContent('#knn-verdict'), /this core is full \(32 vectors\)/);

    // A query and a short run, so the screenshots below show a live network.
    await page.check('#mode-query');
    await page.mouse.click(box.x + 0.45 * box.width, box.y + 0.55 * box.height);
    const steps = Number(await page.textContent('#snn-steps'));
    await page.fill('#snn-iterations', '200');
    await page.click('#snn-run');
    await page.waitForFunction((n) => document.querySelector('#snn-status').dataset.state === 'idle'
      && Number(document.querySelector('#snn-steps').textContent) === n, steps + 200, { timeout: 20_000 });
    assert.match(await page.textContent('#trace-neurons'), /^#\d+(, #\d+)*$/);
    noProblems();
  });

  test('the router\'s run settings are locked during a run; the stats name the preset the run used', async () => {
    await page.fill('#requests', '1000');
    const presets = await page.$$eval('#preset option', (os) => os.map((o) => o.value));
    assert.ok(presets.length >= 2, presets.join());
    const [used, other] = presets.filter((p) => p !== 'default');
    await page.selectOption('#preset', used);
    // Click Run and, in the same task (before any message from the worker), read the inputs and try
    // to switch the preset as a user could before.
    const during = await page.evaluate((to) => {
      document.querySelector('#router-run').click();
      const locked = ['#preset', '#requests', '#sim-seed'].map((sel) => [sel, document.querySelector(sel).disabled]);
      const select = document.querySelector('#preset');
      select.value = to;
      select.dispatchEvent(new Event('change', { bubbles: true }));
      return locked;
    }, other);
    assert.deepEqual(during, [['#preset', true], ['#requests', true], ['#sim-seed', true]]);
    await page.waitForSelector('#router-status[data-state="done"], #router-status[data-state="error"]', { timeout: 45_000 });
    assert.equal(await page.getAttribute('#router-status', 'data-state'), 'done', await page.textContent('#router-status'));
    assert.equal(await page.textContent('#stats-source'), `after the run (preset ${used})`);
    for (const sel of ['#preset', '#requests', '#sim-seed']) assert.equal(await page.isDisabled(sel), false, `${sel} after the run`);
    await page.selectOption('#preset', 'default');
    noProblems();
  });

  test('2,000 learning requests end above the no-learning baseline', async () => {
    await page.fill('#requests', '2000');
    await page.click('#router-run');
    await page.waitForSelector('#router-status[data-state="done"], #router-status[data-state="error"]', { timeout: 45_000 });
    assert.equal(await page.getAttribute('#router-status', 'data-state'), 'done', await page.textContent('#router-status'));
    const { curve, baseline } = await page.$eval('#curve-canvas', (c) => ({
      curve: JSON.parse(c.dataset.curve),
      baseline: JSON.parse(c.dataset.baseline),
    }));
    assert.equal(curve.length, 40, '2,000 requests = 40 windows of 50');
    assert.equal(baseline.length, 40);
    const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
    const lastLearn = mean(curve.slice(-5));
    const lastBase = mean(baseline.slice(-5));
    assert.ok(curve.at(-1) > baseline.at(-1), `last window: learning ${curve.at(-1)} vs baseline ${baseline.at(-1)}`);
    assert.ok(lastLearn > lastBase + 0.15, `last 250 requests: learning ${lastLearn.toFixed(3)} vs baseline ${lastBase.toFixed(3)}`);
    assert.ok(lastLearn > mean(curve.slice(0, 2)) + 0.15, 'the learning curve rises');
    assert.equal(await page.textContent('#stats-source'), 'after the run (preset default)');
    // The pattern count is an integer axis: whole-number ticks; the quality axis keeps its decimals.
    const ticks = JSON.parse(await page.getAttribute('#patterns-canvas', 'data-ticks'));
    for (const t of ticks.left) assert.match(t, /^\d+$/, `pattern-count ticks ${ticks.left.join(', ')}`);
    assert.deepEqual(ticks.right, ['1.00', '0.75', '0.50', '0.25', '0.00']);
    noProblems();
  });

  test('full-page screenshots, light and dark', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForFunction((s) => matchMedia(`(prefers-color-scheme: ${s})`).matches, scheme);
      // Two animation frames: the canvases redraw in the new colours on the media-query change.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const path = join(ARTIFACTS, `demo-${scheme}.png`);
      const png = await page.screenshot({ path, fullPage: true });
      assert.ok(png.length > 10_000, `${path} written`);
    }
    // Phone-sized viewports: one column, nothing wider than the screen, every measured value on one
    // line (a table too wide for its column scrolls inside it), the weight map within the screen.
    await page.emulateMedia({ colorScheme: 'light' });
    for (const width of [375, 320]) {
      await page.setViewportSize({ width, height: 800 });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than a ${width}px viewport`);
      const wrapped = await page.$$eval('#sizes-body td.num, #ops-body td.num, #knn-body td.num', (tds) => tds
        .filter((td) => {
          const range = document.createRange();
          range.selectNodeContents(td);
          return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1;
        })
        .map((td) => td.textContent));
      assert.deepEqual(wrapped, [], `values wrapped over several lines at ${width}px`);
      const map = await page.$eval('#weights-canvas', (c) => c.getBoundingClientRect().toJSON());
      assert.ok(map.right <= width && map.width > 100 && Math.abs(map.width - map.height) < 1,
        `weight map at ${width}px: ${JSON.stringify(map)}`);
      if (width === 375) await page.screenshot({ path: join(ARTIFACTS, 'demo-narrow.png'), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ colorScheme: null });
    noProblems();
  });

  test('save → reload → load gives the same engine stats', async () => {
    await page.click('#state-save');
    await page.waitForSelector('#router-status[data-state="saved"], #router-status[data-state="error"]', { timeout: 10_000 });
    assert.equal(await page.getAttribute('#router-status', 'data-state'), 'saved', await page.textContent('#router-status'));
    const saved = JSON.parse(await page.getAttribute('#sona-stats', 'data-stats'));
    assert.ok(Object.keys(saved).length > 0);
    await page.reload();
    await page.waitForSelector('#load-status[data-state="ok"]', { timeout: 20_000 });
    assert.equal(await page.getAttribute('#sona-stats', 'data-stats'), null, 'fresh page shows no stats yet');
    await page.click('#state-load');
    await page.waitForSelector('#router-status[data-state="loaded"], #router-status[data-state="error"]', { timeout: 10_000 });
    assert.equal(await page.getAttribute('#router-status', 'data-state'), 'loaded', await page.textContent('#router-status'));
    const loaded = JSON.parse(await page.getAttribute('#sona-stats', 'data-stats'));
    assert.deepEqual(loaded, saved);
    noProblems();
  });

  test('Export adapters downloads the loaded engine\'s LoRA adapters as SafeTensors', async () => {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.click('#lora-export')]);
    assert.equal(download.suggestedFilename(), 'sona-lora.safetensors');
    const bytes = readFileSync(await download.path());
    await page.waitForSelector('#router-status[data-state="exported"], #router-status[data-state="error"]', { timeout: 10_000 });
    assert.equal(await page.getAttribute('#router-status', 'data-state'), 'exported', await page.textContent('#router-status'));
    // SafeTensors: u64 LE header length, JSON header, then exactly the tensors' bytes.
    const n = Number(bytes.readBigUInt64LE(0));
    const { __metadata__: meta, ...tensors } = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    const stats = JSON.parse(await page.getAttribute('#sona-stats', 'data-stats'));
    assert.equal(meta.lora_alpha, '1');
    const dim = Number(meta.hidden_dim);
    const rank = Number(meta.micro_lora_rank);
    assert.ok(dim > 0 && rank >= 1 && rank <= 2, JSON.stringify(meta));
    assert.deepEqual(tensors['base_model.model.micro_lora.lora_A.weight'].shape, [rank, dim]);
    assert.deepEqual(tensors['base_model.model.micro_lora.lora_B.weight'].shape, [dim, rank]);
    assert.equal(Object.keys(tensors).length, 2 + 2 * Number(meta.base_lora_layers));
    const end = Math.max(...Object.values(tensors).map((t) => t.data_offsets[1]));
    assert.equal(8 + n + end, bytes.length);
    // The MicroLoRA learned during the run: its B matrix is not all zeros.
    const [b0, b1] = tensors['base_model.model.micro_lora.lora_B.weight'].data_offsets;
    const b = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + n + b0, bytes.byteOffset + 8 + n + b1));
    assert.ok(b.some((x) => x !== 0), `micro_lora_norm ${stats.micro_lora_norm}, but B is all zeros`);
    noProblems();
  });
});

describe('demo page without a built package', () => {
  test('says which module failed and how to build it', async (t) => {
    const empty = mkdtempSync(join(tmpdir(), 'sona-demo-empty-'));
    const server = await serve({ port: 0, mounts: { '/pkg/': empty } });
    let browser;
    t.after(async () => {
      await browser?.close();
      await server.close();
    });
    browser = await launchChromium();
    const page = await browser.newPage();
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(server.url);
    await page.waitForSelector('#load-status[data-state="ok"], #load-status[data-state="error"]', { timeout: 20_000 });
    assert.equal(await page.getAttribute('#load-status', 'data-state'), 'error');
    const message = await page.textContent('#load-status');
    assert.match(message, /sona-wasm\/micro-hnsw/);
    assert.match(message, /'sona-wasm'/);
    assert.match(message, /npm run build/);
    assert.equal(await page.locator('.module-error').count(), 2, 'each affected section shows the error');
    assert.deepEqual(pageErrors, [], 'no uncaught exceptions');
  });
});
