/**
 * Closed-loop rollouts under inference latency (UAC's deployment setting, Eq. 22-24, in steps): the
 * expert wrapped as a chunk policy returning delta actions (§5.1.1) succeeds; the committed prefix has
 * length d, comes as deltas from the request's state, and is exactly what runs while the inference is in
 * flight (Eq. 23); the new chunk is used from its row d, anchored on the true state at the request; the
 * action-jump metric (Fig. 13) is the mean and max step-to-step L2 change, also over positions alone.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator } from '../../../src/tensor/index.js';
import { fromDeltaActions, toDeltaActions } from '../../../src/model/index.js';
import { SIM_EMBODIMENTS, TabletopWorld, actionJumps, expertAction, rolloutPolicy, type ChunkPolicy, type ChunkPolicyContext } from '../../../src/robot/index.js';

/**
 * The expert as a chunk policy in delta form: on a clone of the world, run the committed prefix (made
 * absolute against the observed state, which is the true one without noise), then the expert; return the
 * rows as deltas from that state.
 */
function expertChunks(world: TabletopWorld, T: number): ChunkPolicy {
  const phi = world.robot.embodiment;
  return (obs, ctx) => {
    const sim = world.clone();
    const rows: Float64Array[] = [];
    for (const p of fromDeltaActions(ctx.committedPrefix, obs.state)) {
      rows.push(p);
      sim.step(phi.fromUnified(p));
    }
    while (rows.length < T) {
      const a = sim.clampAction(expertAction(sim));
      rows.push(phi.toUnified(a));
      sim.step(a);
    }
    return toDeltaActions(rows, obs.state);
  };
}

describe('rolloutPolicy', () => {
  test('the expert wrapped as a chunk policy succeeds for every embodiment, with and without latency', () => {
    for (const e of SIM_EMBODIMENTS) {
      for (const [E, d] of [[4, 0], [4, 2], [3, 3]] as const) {
        const w = new TabletopWorld({ embodiment: e, seed: 30, task: 'pick-place' });
        const r = rolloutPolicy(w, expertChunks(w, 12), { executeSteps: E, latencySteps: d });
        assert.equal(r.success, true, `${e} E=${E} d=${d}`);
        assert.equal(r.steps, w.stepCount);
        assert.equal(r.actions.length, r.steps);
        assert.equal(r.trace.length, r.steps + 1);
        assert.equal(r.unifiedActions.length, r.steps);
        assert.deepEqual(r.trace.at(-1), w.snapshot());
      }
    }
  });

  test('Eq. 23 + §5.1.1: the committed prefix has length d, comes as deltas from the request’s state and is what runs while the inference is in flight; the new chunk, anchored on that state, starts at row d', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 1000 }), (E, dRaw, seed) => {
        const d = Math.min(dRaw, E);
        const w = new TabletopWorld({ embodiment: 'hand', seed, task: 'push' });
        const phi = w.robot.embodiment;
        const calls: { ctx: ChunkPolicyContext; step: number; reference: Float64Array; chunk: Float64Array[] }[] = [];
        // A policy whose rows are tagged by (call, row) in absolute terms, so that every executed action
        // can be traced back; it answers in delta form against the state it observes (no noise here).
        const policy: ChunkPolicy = (obs, ctx) => {
          const k = calls.length;
          const reference = w.unifiedState();
          assert.deepEqual(Array.from(obs.state), Array.from(reference), 'without noise the policy observes the reference state');
          const absolute = Array.from({ length: E + d + 2 }, (_, i) => {
            const raw = Float64Array.from(w.state());
            raw[0] = 0.1 + 0.001 * k;
            raw[1] = 0.1 + 0.001 * i;
            raw[2] = 0.5 - 0.01 * i;
            return phi.toUnified(raw);
          });
          const chunk = toDeltaActions(absolute, reference);
          calls.push({ ctx, step: w.stepCount, reference, chunk });
          return chunk;
        };
        const r = rolloutPolicy(w, policy, { executeSteps: E, latencySteps: d });
        assert.equal(calls[0]!.ctx.delay, 0);
        assert.equal(calls[0]!.ctx.committedPrefix.length, 0);
        // What the rollout executes from a chunk: its rows made absolute against the request's state.
        const absoluteRow = (c: (typeof calls)[number], i: number) => fromDeltaActions([c.chunk[Math.min(i, c.chunk.length - 1)]!], c.reference)[0]!;
        calls.forEach((c, k) => {
          assert.equal(c.step, k === 0 ? 0 : k * E, 'requests every E steps');
          if (k === 0) return;
          assert.equal(c.ctx.delay, d);
          assert.equal(c.ctx.committedPrefix.length, d);
          c.ctx.committedPrefix.forEach((p, j) => {
            const old = absoluteRow(calls[k - 1]!, E + j);
            assert.deepEqual(Array.from(p), Array.from(toDeltaActions([old], c.reference)[0]!), 'the prefix continues the old chunk, as deltas from the new state');
            if (c.step + j < r.steps) {
              assert.deepEqual(Array.from(r.unifiedActions[c.step + j]!), Array.from(old), 'the prefix is what then ran');
              const back = fromDeltaActions([p], c.reference)[0]!;
              back.forEach((v, u) => assert.ok(Math.abs(v - old[u]!) <= 1e-12, `prefix ${j} unified ${u}: ${v} vs ${old[u]}`));
            }
          });
          if (c.step + d < r.steps) assert.deepEqual(Array.from(r.unifiedActions[c.step + d]!), Array.from(absoluteRow(c, d)), 'the new chunk is used from row d');
        });
      }),
      { numRuns: 25 },
    );
  });

  test('§5.1.1: deltas are anchored on the true state, not the noisy observation; a short chunk holds its last row; noise perturbs only the active dims', () => {
    const w = new TabletopWorld({ embodiment: 'arm2', seed: 3, task: 'reach', maxSteps: 9 });
    const phi = w.robot.embodiment;
    const states: Float64Array[] = [];
    const target = phi.toUnified([0.3, 0.3, 0.1]);
    const r = rolloutPolicy(
      w,
      (obs) => {
        states.push(obs.state);
        // A policy that knows where it wants to go: the target as a delta from the world's true state.
        return toDeltaActions([target], w.unifiedState());
      },
      { executeSteps: 4, observationNoise: 0.05, rng: new Generator(1) },
    );
    assert.equal(r.steps, 9);
    assert.equal(r.requests, 3);
    for (const a of r.actions) Array.from(a).forEach((v, i) => assert.ok(Math.abs(v - [0.3, 0.3, 0.1][i]!) <= 1e-15, `executed ${Array.from(a)}`));
    assert.ok(r.jumps.max <= 1e-15 && r.positionJumps.max <= 1e-15);
    for (const s of states) for (let i = 0; i < 200; i++) if (!phi.activeMask[i]) assert.equal(s[i], 0);
    const clean = new TabletopWorld({ embodiment: 'arm2', seed: 3, task: 'reach' }).unifiedState();
    assert.ok(phi.activeIndices.some((i) => states[0]![i] !== clean[i]), 'noise was added');
    // The same delta chunk, repeated: relative to a moving state it commands a moving target.
    const moved = new TabletopWorld({ embodiment: 'arm2', seed: 3, task: 'reach', maxSteps: 9 });
    const fixed = toDeltaActions([target], moved.unifiedState());
    const r2 = rolloutPolicy(moved, () => fixed, { executeSteps: 4 });
    assert.notDeepEqual(Array.from(r2.actions[4]!), Array.from(r2.actions[0]!), 'a delta is relative to the state at each request');
  });

  test('Fig. 13 metric: actionJumps on a hand-made sequence, over all entries or some; positionJumps are the EEF x, y jumps in metres', () => {
    const j = actionJumps([[0, 0], [3, 4], [3, 4], [3, 5]]);
    assert.equal(j.max, 5);
    assert.ok(Math.abs(j.mean - 2) < 1e-15);
    assert.deepEqual(actionJumps([[0, 9, 0], [3, -9, 4]], [0, 2]), { mean: 5, max: 5 });
    assert.deepEqual(actionJumps([[1, 2]]), { mean: 0, max: 0 });
    assert.deepEqual(actionJumps([]), { mean: 0, max: 0 });
    assert.throws(() => actionJumps([[1], [1, 2]]), /actionJumps: actions 0 and 1 differ in length \(1 vs 2\)/);
    assert.throws(() => actionJumps([[1, 2], [1, 2]], [2]), /actionJumps: indices \[2\] are outside actions of length 2/);
    for (const e of ['arm3', 'hand'] as const) {
      const w = new TabletopWorld({ embodiment: e, seed: 1, task: 'pick-place' });
      const r = rolloutPolicy(w, expertChunks(w, 8), { executeSteps: 4 });
      assert.deepEqual(r.jumps, actionJumps(r.actions));
      assert.deepEqual(r.positionJumps, actionJumps(r.actions.map((a) => [a[0]!, a[1]!])));
      assert.ok(r.positionJumps.max > 0 && r.positionJumps.max < r.jumps.max, `${e}: the grasp's gripper or finger jump is not in the position jumps`);
    }
  });

  test('bad inputs throw naming the function and the values', () => {
    const w = new TabletopWorld({ embodiment: 'hand', seed: 1 });
    const ok: ChunkPolicy = () => [w.unifiedState()];
    assert.throws(() => rolloutPolicy(w, ok, { executeSteps: 0 }), /rolloutPolicy: executeSteps must be an integer ≥ 1, got 0/);
    assert.throws(() => rolloutPolicy(w, ok, { executeSteps: 2, latencySteps: 3 }), /rolloutPolicy: latencySteps must be an integer in \[0, executeSteps = 2\], got 3/);
    assert.throws(() => rolloutPolicy(w, ok, { executeSteps: 2, observationNoise: -1 }), /observationNoise must be a finite number ≥ 0, got -1/);
    assert.throws(() => rolloutPolicy(w, () => [], { executeSteps: 2 }), /rolloutPolicy: the policy must return a non-empty array of unified rows, got an empty array/);
    assert.throws(() => rolloutPolicy(w, () => [[1, 2, 3]], { executeSteps: 2 }), /rolloutPolicy: chunk row 0 must have 200 unified values, got 3/);
    const bad = w.unifiedState();
    bad[0] = Number.NaN;
    assert.throws(() => rolloutPolicy(w, () => [bad], { executeSteps: 2 }), /rolloutPolicy: chunk row 0 has a non-finite value NaN at unified index 0/);
  });
});
