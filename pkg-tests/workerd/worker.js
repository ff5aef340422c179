// A Cloudflare-style module worker using the package. It is loaded by workerd with a module map that
// mirrors the package's "workerd" export condition (see workerd.test.mjs): the .wasm files arrive as
// compiled WebAssembly.Modules, as wrangler's default rules provide them.
import { WasmSonaEngine } from 'sona-wasm';
import { MicroHnsw } from 'sona-wasm/micro-hnsw';
import * as router from 'sona-wasm/router';
import * as federated from 'sona-wasm/federated';
import { federatedScenario, microHnswScenario, routerScenario, sonaScenario } from './scenario.js';

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname !== '/scenario') return new Response('not found', { status: 404 });
    try {
      const body = {
        hnsw: microHnswScenario({ MicroHnsw }),
        sona: sonaScenario({ WasmSonaEngine }),
        router: routerScenario(router),
        federated: federatedScenario(federated),
      };
      return Response.json(body);
    } catch (err) {
      return Response.json({ error: String(err && err.stack || err) }, { status: 500 });
    }
  },
};
