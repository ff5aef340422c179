// 'sona-wasm/router' in Deno through the installed tarball ("deno" export condition → router.node.js):
// train on a planted linear rule (generated here in plain JS), route, save/load, and a bad input.
import init, { FastGrnnRouter, RouterTrainer } from 'sona-wasm/router';

function rand(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return ((s + 0.5) / 4294967296) * 2 - 1; };
}

Deno.test('the router trains, routes and round-trips in Deno', async () => {
  const exports = await init();
  if (!(exports.memory instanceof WebAssembly.Memory)) throw new Error('init() did not return the wasm exports');
  const r = rand(4);
  const t = new RouterTrainer({ learning_rate: 0.02, epochs: 60, seed: 2 });
  for (let i = 0; i < 600; i++) {
    const x = Float32Array.from({ length: 5 }, r);
    t.addSample(x, x[0] + x[1] > 0 ? 1 : 0);
  }
  const m = t.train();
  if (!(m.val_accuracy >= 0.9)) throw new Error(`val accuracy ${m.val_accuracy}`);
  const model = t.model();
  const back = FastGrnnRouter.fromBytes(model.toBytes());
  let right = 0;
  for (let i = 0; i < 200; i++) {
    const x = Float32Array.from({ length: 5 }, r);
    const a = model.route(x);
    if (back.route(x).scores[0] !== a.scores[0]) throw new Error('round trip changed a score');
    if (a.route === (x[0] + x[1] > 0 ? 1 : 0)) right++;
  }
  if (right < 180) throw new Error(`held-out accuracy ${right}/200`);
  let message = '';
  try { model.route(new Float32Array(3)); } catch (e) { message = e.message; }
  if (!/expected a positive multiple of input_dim 5/.test(message)) throw new Error(`unexpected error: ${message}`);
});
