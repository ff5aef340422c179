// The methods that read the wall clock themselves (tick, forceLearn, findPatterns, and the federated
// agent's and coordinator's processTrajectory, aggregate, consolidate, findPatterns) when a page or
// a test has put its own Date.now in place: one that throws must give its error back to the caller
// and leave the object (and the module) working, one that returns something that is not a clock must
// be refused with an Error naming the clock. A JS exception that unwinds through wasm frames leaves
// the object borrowed (every later call: "recursive use of an object") and leaks shadow stack.
import test from 'node:test';
import assert from 'node:assert/strict';
import { WasmSonaEngine } from 'sona-wasm';
import init, { WasmEphemeralAgent, WasmFederatedCoordinator, WasmSonaEngine as FederatedEngine } from 'sona-wasm/federated';
import { rng, unit } from './helpers.mjs';

await init();

const DIM = 16;
const ROUNDS = 60_000;
const realNow = Date.now;

/** Runs `body` with `Date.now` replaced by `fake`, restoring it whatever happens. */
function withClock(fake, body) {
  Date.now = fake;
  try {
    return body();
  } finally {
    Date.now = realNow;
  }
}

/** An engine (of `Engine`) with trajectories and patterns, so every clock-reading method has work. */
function trainedEngine(Engine) {
  const r = rng(7);
  const e = Engine.withConfig({ hidden_dim: DIM, pattern_clusters: 4, seed: 3 });
  for (let i = 0; i < 40; i++) {
    const id = e.startTrajectory(unit(r, DIM));
    e.addStep(id, unit(r, DIM), new Float32Array(0), 0.8);
    e.endTrajectory(id, 0.9);
  }
  e.forceLearn();
  return e;
}

/** The federated trio: an agent with work, its export, and a coordinator. */
function federation() {
  const r = rng(11);
  const agent = new WasmEphemeralAgent('a', DIM);
  for (let i = 0; i < 20; i++) agent.processTrajectory(unit(r, DIM), unit(r, DIM), 0.9);
  const coordinator = new WasmFederatedCoordinator('c', DIM);
  coordinator.aggregate(agent.exportState());
  coordinator.consolidate();
  return { agent, coordinator, bytes: agent.exportState(), r };
}

/** Every clock-reading call, with a probe of the object's state (equal before and after a refusal). */
function clockCalls() {
  const calls = [];
  for (const [where, Engine] of [['sona-wasm', WasmSonaEngine], ['sona-wasm/federated', FederatedEngine]]) {
    const e = trainedEngine(Engine);
    const q = unit(rng(5), DIM);
    const probe = () => JSON.stringify([e.stats(), Array.from(e.applyLora(q))]);
    calls.push([`${where} tick`, () => e.tick(), probe, () => e.tickAt(1e9)]);
    calls.push([`${where} forceLearn`, () => e.forceLearn(), probe, () => e.forceLearn()]);
    calls.push([`${where} findPatterns`, () => e.findPatterns(q, 2), probe, () => e.findPatterns(q, 2)]);
  }
  const { agent, coordinator, bytes, r } = federation();
  const q = unit(r, DIM);
  const agentProbe = () => JSON.stringify(agent.stats());
  const coordProbe = () => JSON.stringify(coordinator.stats());
  calls.push(['agent processTrajectory', () => agent.processTrajectory(q, q, 0.9), agentProbe, () => agent.processTrajectory(q, q, 0.9)]);
  calls.push(['agent findPatterns', () => agent.findPatterns(q, 1), agentProbe, () => agent.findPatterns(q, 1)]);
  calls.push(['coordinator aggregate', () => coordinator.aggregate(bytes), coordProbe, () => coordinator.aggregate(bytes)]);
  calls.push(['coordinator consolidate', () => coordinator.consolidate(), coordProbe, () => coordinator.consolidate()]);
  calls.push(['coordinator findPatterns', () => coordinator.findPatterns(q, 1), coordProbe, () => coordinator.findPatterns(q, 1)]);
  return calls;
}

test('a Date.now that throws: the caller gets its own error, state unchanged, and the object keeps working', () => {
  const err = new Error('clock unavailable');
  for (const [label, call, probe, useAfter] of clockCalls()) {
    const before = probe();
    assert.throws(() => withClock(() => { throw err; }, call), (thrown) => {
      assert.equal(thrown, err, `${label}: the caller's own error, got ${thrown}`);
      return true;
    }, label);
    assert.equal(probe(), before, `${label}: state changed by a refused call`);
    useAfter(); // throws "recursive use of an object" if the throw left the object borrowed
  }
});

test(`a Date.now that throws, ${ROUNDS.toLocaleString('en')} times in a row, leaves the module working`, () => {
  const err = new Error('clock unavailable');
  for (const [label, call, , useAfter] of clockCalls().filter(([l]) => /tick|agent processTrajectory/.test(l))) {
    withClock(() => { throw err; }, () => {
      for (let i = 0; i < ROUNDS; i++) {
        try {
          call();
          assert.fail(`${label}: no throw`);
        } catch (thrown) {
          if (thrown !== err) throw thrown;
        }
      }
    });
    useAfter();
  }
  // A fresh engine still allocates, learns and answers after all of that.
  const e = trainedEngine(WasmSonaEngine);
  assert.equal(e.findPatterns(unit(rng(9), DIM), 1).length, 1);
});

test('a Date.now that returns no clock (NaN, a negative number, a string, an object with a throwing valueOf) is refused by name', () => {
  const fakes = [
    ['NaN', () => NaN],
    ['-1', () => -1],
    ['a string', () => '1700000000000'],
    ['an object whose valueOf throws', () => ({ valueOf() { throw new Error('valueOf ran'); } })],
  ];
  for (const [how, fake] of fakes) {
    for (const [label, call, probe, useAfter] of clockCalls()) {
      // findPatterns of sona-wasm reads the clock in its JS fast path and passes it on as a number.
      const before = probe();
      assert.throws(() => withClock(fake, call), (thrown) => {
        assert.ok(thrown instanceof Error && !(thrown instanceof WebAssembly.RuntimeError), `${label}, ${how}: ${thrown}`);
        assert.match(thrown.message, /now_ms|clock|nowMs/, `${label}, ${how}: names the clock: ${thrown.message}`);
        return true;
      }, `${label}, ${how}`);
      assert.equal(probe(), before, `${label}, ${how}: state changed by a refused call`);
      useAfter();
    }
  }
});
