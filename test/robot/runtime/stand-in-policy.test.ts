/**
 * The stand-in policy: it honours the committed prefix exactly (Eq. 23), bounds its own steps by δ
 * exactly in float32, is deterministic for a seed, and waits its latency on the injected clock.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../../src/robot/clock.js';
import { StandInPolicy } from '../../../src/robot/runtime/stand-in-policy.js';
import { largestJump, settle } from './harness.js';

const rows = (flat: Float32Array, D: number) => Array.from({ length: flat.length / D }, (_, i) => flat.slice(i * D, (i + 1) * D));

describe('StandInPolicy', () => {
  test('Eq. 23: rows i < d are the committed prefix, bit for bit, and every step is at most maxStep', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 16 }),
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 1e-4, max: 0.5, noNaN: true }),
        fc.double({ min: 0.1, max: 1000, noNaN: true }),
        fc.nat(),
        fc.nat(),
        async (T, D, maxStep, range, dSeed, seed) => {
          const policy = new StandInPolicy({ chunkLength: T, actionDim: D, trainedMaxDelay: T - 1, maxStep, seed, lower: new Array(D).fill(-range), upper: new Array(D).fill(range) });
          const d = 1 + (dSeed % (T - 1));
          // A prefix moving by about maxStep/2 per row, far from the origin so that float32 rounding matters.
          const prefix = new Float32Array(d * D);
          for (let i = 0; i < d; i++) for (let j = 0; j < D; j++) prefix[i * D + j] = range * 0.9 + i * (j % 2 ? maxStep / 2 : -maxStep / 3);
          const chunk = await policy.sampleActions(undefined, { committedPrefix: prefix, delay: d });
          assert.equal(chunk.length, T * D);
          assert.deepEqual(chunk.subarray(0, d * D), prefix);
          assert.ok(largestJump(rows(chunk, D)) <= maxStep, `step ${largestJump(rows(chunk, D))} > ${maxStep}`);
          assert.ok(policy.observedMaxStep <= maxStep);
          assert.equal(policy.observedMaxStep, largestJump(rows(chunk, D)));
        },
      ),
      { numRuns: 200 },
    );
  });

  test('the same seed gives the same chunks; different calls aim at different targets', async () => {
    const make = () => new StandInPolicy({ chunkLength: 12, actionDim: 3, trainedMaxDelay: 4, maxStep: 0.05, seed: 7 });
    const a = make();
    const b = make();
    const prefix = new Float32Array(6);
    const a1 = await a.sampleActions(undefined, { committedPrefix: prefix, delay: 2 });
    const b1 = await b.sampleActions(undefined, { committedPrefix: prefix, delay: 2 });
    assert.deepEqual(a1, b1);
    const a2 = await a.sampleActions(undefined, { committedPrefix: prefix, delay: 2 });
    assert.notDeepEqual(a2, a1);
  });

  test('with d = 0 the chunk starts from the observed state', async () => {
    const policy = new StandInPolicy({ chunkLength: 4, actionDim: 2, trainedMaxDelay: 2, maxStep: 0.1 });
    const chunk = await policy.sampleActions({ state: [5, -5] }, { committedPrefix: null, delay: 0 });
    assert.ok(Math.abs(chunk[0]! - 5) <= 0.1 + 1e-6 && Math.abs(chunk[1]! + 5) <= 0.1 + 1e-6);
  });

  test('its latency is waited on the injected clock, and an abort rejects the call', async () => {
    const clock = new ManualClock();
    const policy = new StandInPolicy({ chunkLength: 4, actionDim: 1, trainedMaxDelay: 2, maxStep: 0.1, latency: (call) => 0.1 * (call + 1), clock });
    let done = false;
    const p = policy.sampleActions(undefined, { committedPrefix: new Float32Array(1), delay: 1 }).then(() => (done = true));
    clock.advance(0.09);
    await settle();
    assert.equal(done, false);
    clock.advance(0.02);
    await p;
    assert.equal(done, true);
    const ac = new AbortController();
    const q = policy.sampleActions(undefined, { committedPrefix: new Float32Array(1), delay: 1, signal: ac.signal });
    ac.abort();
    await assert.rejects(q, /aborted/);
    assert.equal(clock.pendingTimers, 0);
  });

  test('bad calls throw, naming the function and the values', async () => {
    const policy = new StandInPolicy({ chunkLength: 4, actionDim: 2, trainedMaxDelay: 2, maxStep: 0.1 });
    await assert.rejects(policy.sampleActions(undefined, { committedPrefix: new Float32Array(6), delay: 3 }), /StandInPolicy.sampleActions: delay must be an integer in \[0, 2\] \(trainedMaxDelay\), got 3/);
    await assert.rejects(policy.sampleActions(undefined, { committedPrefix: new Float32Array(3), delay: 2 }), /committedPrefix must be a Float32Array of 2 × 2 entries, got 3/);
    await assert.rejects(policy.sampleActions(undefined, { committedPrefix: new Float32Array(2), delay: 0 }), /null for d = 0/);
    assert.throws(() => new StandInPolicy({ chunkLength: 4, actionDim: 2, trainedMaxDelay: 4, maxStep: 0.1 }), /trainedMaxDelay must be an integer in \[0, 3\], got 4/);
  });
});
