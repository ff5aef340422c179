// Loads the package as a browser app would (bare specifiers through the import map, .wasm fetched by
// URL by init()), runs the shared scenario and publishes the results in the DOM for the test to read.
import init, * as sona from 'sona-wasm';
import * as hnsw from 'sona-wasm/micro-hnsw';
import * as router from 'sona-wasm/router';
import * as federated from 'sona-wasm/federated';
import { federatedScenario, microHnswScenario, routerScenario, sonaScenario } from '/pkg-tests/shared/scenario.js';

const status = document.getElementById('status');
try {
  await init();
  await hnsw.init();
  await router.default();
  await federated.default();
  const results = {
    hnsw: microHnswScenario(hnsw),
    sona: sonaScenario(sona),
    router: routerScenario(router),
    federated: federatedScenario(federated),
  };
  document.getElementById('result').textContent = JSON.stringify(results);
  status.textContent = 'done';
  status.dataset.status = 'done';
} catch (err) {
  document.getElementById('result').textContent = String(err && err.stack || err);
  status.textContent = 'error';
  status.dataset.status = 'error';
}
