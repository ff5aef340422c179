// A TypeScript consumer of both entry points, type-checked with `tsc --noEmit` against the packed
// package's .d.ts files. It must compile without errors (and `@ts-expect-error` lines must be errors).
import init, { initSync, WasmSonaEngine } from 'sona-wasm';
import { init as initHnsw, MicroHnsw, MicroHnswCluster } from 'sona-wasm/micro-hnsw';

export async function main(): Promise<number> {
  await init();
  await initHnsw();
  const engine: WasmSonaEngine = WasmSonaEngine.withConfig({ hidden_dim: 16, micro_lora_rank: 2 });
  const id: number = engine.startTrajectory(new Float32Array(16));
  engine.addStep(id, new Float32Array(16), new Float32Array(4), 0.5);
  engine.endTrajectory(id, 0.8);
  engine.runInstantCycle();
  const out: Float32Array = engine.applyLora(new Float32Array(16));
  engine.applyLoraInto(new Float32Array(16), out);
  const bytes: Uint8Array = engine.saveState();
  const restored: WasmSonaEngine = WasmSonaEngine.loadState(bytes);
  restored.free();
  // @ts-expect-error: startTrajectory takes a Float32Array embedding, not a string
  engine.startTrajectory('not an embedding');

  const index = new MicroHnsw({ dims: 8, metric: 'l2' });
  const vid: number = index.insert(new Float32Array(8));
  const hits: { id: number; distance: number }[] = index.search(new Float32Array(8), 1);
  const cluster = new MicroHnswCluster({ dims: 8, metric: 'cosine', cores: 4 });
  cluster.insert(new Float32Array(8));
  void initSync;
  return vid + hits.length + out.length;
}
