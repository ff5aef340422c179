// Entry point of the demo page. The package is imported exactly as an app would import it — bare
// specifiers resolved by the page's import map to the built package under /pkg/ — but dynamically,
// so a module that fails to load is reported on the page and the other sections still work.

import { setupPlayground } from './playground.js';
import { setupRouter } from './router.js';
import { setupNumbers } from './numbers.js';

const status = document.getElementById('load-status');

function sectionError(sectionId, message) {
  const box = document.createElement('p');
  box.className = 'module-error';
  box.setAttribute('role', 'alert');
  box.textContent = message;
  document.getElementById(sectionId).querySelector('h2').after(box);
}

async function load(specifier, initialise) {
  try {
    const mod = await import(specifier);
    await initialise(mod);
    return mod;
  } catch (err) {
    return { error: `could not load '${specifier}': ${err?.message ?? err}. Run \`npm run build\` (or \`npm start\`), then reload.` };
  }
}

const [hnsw, sona] = await Promise.all([
  load('sona-wasm/micro-hnsw', (m) => m.init()),
  load('sona-wasm', (m) => m.default()),
]);

const failures = [];
if (hnsw.error) {
  failures.push(hnsw.error);
  sectionError('playground', hnsw.error);
} else {
  try {
    setupPlayground(hnsw);
  } catch (err) {
    failures.push(`playground: ${err.message}`);
    sectionError('playground', `playground: ${err.message}`);
  }
}
if (sona.error) {
  failures.push(sona.error);
  sectionError('router', sona.error);
} else {
  try {
    setupRouter(sona);
  } catch (err) {
    failures.push(`router: ${err.message}`);
    sectionError('router', `router: ${err.message}`);
  }
}

if (failures.length) {
  status.dataset.state = 'error';
  status.textContent = failures.join('\n');
} else {
  status.dataset.state = 'ok';
  status.textContent = 'micro-HNSW and SONA loaded from /pkg/ — everything runs locally.';
  setupNumbers({ ...hnsw, ...sona }).catch((err) => {
    sectionError('numbers', `numbers: ${err.message}`);
  });
}
