// The built package in headless Chromium: a page loads both modules through an import map and the
// test reads the computed results from the DOM. Any console error or failed request fails the test.
import test from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../tools/serve.mjs';
import { launchChromium } from '../tools/browser.mjs';
import { checkExtras, checkResults } from '../shared/scenario.js';

test('micro-HNSW and SONA compute for real in headless Chromium', async (t) => {
  const server = await serve({ port: 0, mounts: { '/pkg-tests/': 'pkg-tests' } });
  let browser;
  t.after(async () => {
    await browser?.close();
    await server.close();
  });
  browser = await launchChromium();
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
  page.on('response', (res) => { if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`); });

  await page.goto(`${server.url}pkg-tests/browser/index.html`);
  await page.waitForSelector('#status[data-status="done"], #status[data-status="error"]', { timeout: 30_000 });
  const status = await page.getAttribute('#status', 'data-status');
  const text = await page.textContent('#result');
  assert.equal(status, 'done', text);
  const results = JSON.parse(text);
  assert.deepEqual(checkResults(results), []);
  assert.ok(results.router && results.federated, 'the page ran the router and federated scenarios');
  assert.deepEqual(checkExtras(results), []);
  assert.deepEqual(problems, []);
});
