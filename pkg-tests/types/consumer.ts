// A TypeScript consumer of every entry point, type-checked with `tsc --noEmit` against the packed
// package's .d.ts files. It must compile without errors (and `@ts-expect-error` lines must be errors).
import init, { initSync, WasmSonaEngine, type SonaStoredPattern } from 'sona-wasm';
import { init as initHnsw, MicroHnsw, MicroHnswCluster } from 'sona-wasm/micro-hnsw';
import initFederated, { WasmEphemeralAgent, WasmFederatedCoordinator, type SonaAggregationResult } from 'sona-wasm/federated';
import initRouter, { FastGrnnRouter, RouterTrainer, type RouteResult, type RouterTrainingMetrics } from 'sona-wasm/router';

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
  const stored: SonaStoredPattern[] = restored.getPatterns();
  // @ts-expect-error: stored patterns carry no similarity (there is no query)
  stored.map((p) => p.similarity);
  const adapters: Uint8Array = restored.exportLora('model.').length > 0 ? restored.exportLora() : bytes;
  // @ts-expect-error: the tensor-name prefix is a string
  restored.exportLora(3);
  restored.free();
  // @ts-expect-error: startTrajectory takes a Float32Array embedding, not a string
  engine.startTrajectory('not an embedding');

  const index = new MicroHnsw({ dims: 8, metric: 'l2' });
  const vid: number = index.insert(new Float32Array(8));
  const hits: { id: number; distance: number }[] = index.search(new Float32Array(8), 1);
  const hitCount: number = index.searchInto(new Float32Array(8), 2, new Uint8Array(2), new Float32Array(2));
  // @ts-expect-error: distances go to a float array
  index.searchInto(new Float32Array(8), 2, new Uint8Array(2), new Int32Array(2));
  const cluster = new MicroHnswCluster({ dims: 8, metric: 'cosine', cores: 4 });
  cluster.insert(new Float32Array(8));
  cluster.searchInto([0, 0, 0, 0, 0, 0, 0, 1], 1, new Uint16Array(1), new Float64Array(1));
  const restoredIndex: MicroHnsw = MicroHnsw.fromBytes(index.toBytes());
  const restoredCluster: MicroHnswCluster = MicroHnswCluster.fromBytes(cluster.toBytes().buffer);
  // @ts-expect-error: fromBytes takes bytes, not a string
  MicroHnsw.fromBytes('saved');
  const trainer = new RouterTrainer({ input_dim: 5, hidden_dim: 8, rank: null, epochs: 2, early_stopping_patience: null });
  trainer.addSample(new Float32Array(5), 1);
  trainer.addSample([0, 0, 0, 0, 1], 0, 0.2);
  const metrics: RouterTrainingMetrics = trainer.train();
  const router: FastGrnnRouter = FastGrnnRouter.fromBytes(trainer.model().toBytes());
  const decision: RouteResult = router.route(new Float32Array(5));
  const p: number | undefined = decision.probability;
  router.quantize();
  router.prune(0.5);
  const size: number = router.sizeBytes + router.parameterCount;
  // @ts-expect-error: route takes features, not a config object
  router.route({ input_dim: 5 });
  const agent = new WasmEphemeralAgent('agent-1', 16);
  agent.processTrajectory(new Float32Array(16), new Float32Array(16), 0.9, 'gpt-4', ['code']);
  const coordinator = new WasmFederatedCoordinator('main', 16);
  const agg: SonaAggregationResult = coordinator.aggregate(agent.exportState());
  // @ts-expect-error: aggregate takes the exported bytes, not the agent
  coordinator.aggregate(agent);
  void initFederated;
  void initSync;
  void initRouter;
  return agg.trajectories_accepted + vid + hits.length + hitCount + out.length + metrics.epochs + decision.route + (p ?? 0) + size + adapters.length + stored.length + restoredIndex.size + restoredCluster.size;
}
