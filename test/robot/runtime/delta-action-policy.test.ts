/**
 * DeltaActionPolicy (§5.1.1 delta end-effector actions at the runtime's edge): the committed prefix
 * (absolute raw rows) reaches the inner policy as deltas from the observation's state, the chunk comes
 * back as absolute raw rows, and rows i < d are the committed prefix bit for bit (Eq. 23) — with a
 * recording inner policy and with the real BeingPolicyRunner.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BeingPolicy } from '../../../src/model/index.js';
import { Generator, tensor, type Tensor } from '../../../src/tensor/index.js';
import { BeingPolicyRunner, DeltaActionPolicy, simRobot, type PolicyLike, type SampleActionsOptions } from '../../../src/robot/index.js';
import { Samples, tinier } from '../../model/policy/policy-fixtures.js';

const arm3 = simRobot('arm3').embodiment; // raw [x, y, yaw, gripper]
const wrap = (a: number): number => Math.atan2(Math.sin(a), Math.cos(a));

/** An inner policy that records what it got and answers `rows` (T × 4), its first d rows the prefix it got. */
class Recorder implements PolicyLike<{ state: Float64Array }> {
  readonly chunkLength = 6;
  readonly actionDim = 4;
  readonly trainedMaxDelay = 3;
  readonly seen: SampleActionsOptions[] = [];
  constructor(readonly rows: Float32Array) {}
  async sampleActions(_o: { state: Float64Array }, options: SampleActionsOptions): Promise<Float32Array> {
    this.seen.push(options);
    const out = this.rows.slice();
    if (options.delay > 0) out.set(options.committedPrefix!.subarray(0, options.delay * 4));
    return out;
  }
}

const coord = fc.double({ min: 0.05, max: 0.95, noNaN: true });
const yaw = fc.double({ min: -Math.PI, max: Math.PI, noNaN: true });
const grip = fc.double({ min: 0, max: 0.1, noNaN: true });
const rawRow = fc.tuple(coord, coord, yaw, grip);

describe('DeltaActionPolicy', () => {
  test('Eq. 23 + §5.1.1: the inner policy gets the prefix as x, y, wrapped-yaw deltas (gripper absolute); the output is absolute, rows < d the prefix bit for bit', async () => {
    await fc.assert(
      fc.asyncProperty(rawRow, fc.array(rawRow, { minLength: 6, maxLength: 6 }), fc.array(rawRow, { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 3 }), async (s, chunk, committed, d) => {
        const state = arm3.toUnified(s);
        // The inner chunk holds deltas: small displacements and yaw changes.
        const inner = new Recorder(Float32Array.from(chunk.flatMap(([x, y, a, g]) => [x - 0.5, y - 0.5, a / 2, g])));
        const policy = new DeltaActionPolicy(inner, arm3);
        const prefix = d > 0 ? Float32Array.from(committed.slice(0, d).flat()) : null;
        const out = await policy.sampleActions({ state }, { committedPrefix: prefix, delay: d });
        assert.equal(out.length, 6 * 4);
        const got = inner.seen[0]!;
        assert.equal(got.delay, d);
        if (d === 0) assert.equal(got.committedPrefix, null);
        for (let i = 0; i < d; i++) {
          const p = prefix!.subarray(i * 4, (i + 1) * 4);
          const want = [p[0]! - s[0], p[1]! - s[1], wrap(p[2]! - s[2]), p[3]!];
          want.forEach((v, j) => assert.ok(Math.abs(got.committedPrefix![i * 4 + j]! - v) <= 1e-6, `prefix ${i}.${j}: ${got.committedPrefix![i * 4 + j]} vs ${v}`));
          assert.deepEqual(Array.from(out.subarray(i * 4, (i + 1) * 4)), Array.from(p), 'rows < d are the committed prefix');
        }
        for (let i = d; i < 6; i++) {
          const r = inner.rows.subarray(i * 4, (i + 1) * 4);
          const want = [r[0]! + s[0], r[1]! + s[1], wrap(r[2]! + s[2]), r[3]!];
          want.forEach((v, j) => {
            const o = out[i * 4 + j]!;
            // ±π name the same heading.
            const diff = j === 2 ? Math.abs(wrap(o - v)) : Math.abs(o - v);
            assert.ok(diff <= 1e-6, `row ${i}.${j}: ${o} vs ${v}`);
          });
        }
      }),
      { numRuns: 60 },
    );
  });

  test('Eq. 23 with the real BeingPolicyRunner: the committed prefix passes through unchanged and the rest is the runner’s chunk made absolute', async () => {
    const config = tinier();
    const policy = new BeingPolicy(config, { seed: 3 });
    const { embodiment: _e, ...observation } = new Samples(config, 5).observation(arm3);
    const state = Float64Array.from((observation.state as Tensor).dataSync());
    const d = config.uac.maxDelay - 1;
    const prefix = Float32Array.from([0.4, 0.6, 1.2, 0.1, 0.42, 0.58, 1.1, 0.08].slice(0, d * 4));
    const wrapped = new DeltaActionPolicy(new BeingPolicyRunner(policy, { embodiment: arm3, generator: new Generator(4) }), arm3);
    assert.equal(wrapped.chunkLength, config.flow.chunkLength);
    assert.equal(wrapped.trainedMaxDelay, d);
    const out = await wrapped.sampleActions(observation, { committedPrefix: prefix, delay: d });
    assert.deepEqual(Array.from(out.subarray(0, d * 4)), Array.from(prefix));
    // The same runner, given the deltas directly: its rows made absolute are the wrapped output.
    const s = arm3.fromUnified(state);
    const deltas = Float32Array.from(Array.from({ length: d }, (_, i) => [prefix[4 * i]! - s[0]!, prefix[4 * i + 1]! - s[1]!, wrap(prefix[4 * i + 2]! - s[2]!), prefix[4 * i + 3]!]).flat());
    const direct = await new BeingPolicyRunner(policy, { embodiment: arm3, generator: new Generator(4) }).sampleActions(observation, { committedPrefix: deltas, delay: d });
    for (let i = d; i < config.flow.chunkLength; i++) {
      const r = direct.subarray(i * 4, (i + 1) * 4);
      const want = [r[0]! + s[0]!, r[1]! + s[1]!, wrap(r[2]! + s[2]!), r[3]!];
      want.forEach((v, j) => {
        const diff = j === 2 ? Math.abs(wrap(out[i * 4 + j]! - v)) : Math.abs(out[i * 4 + j]! - v);
        assert.ok(diff <= 1e-4, `row ${i}.${j}: ${out[i * 4 + j]} vs ${v}`);
      });
    }
  });

  test('a tensor state works like a plain one; bad inputs throw naming the function and the sizes', async () => {
    const s = arm3.toUnified([0.3, 0.4, 0.5, 0.1]);
    const rows = Float32Array.from({ length: 24 }, (_, i) => 0.01 * i);
    const plain = await new DeltaActionPolicy(new Recorder(rows), arm3).sampleActions({ state: s }, { committedPrefix: null, delay: 0 });
    const fromTensor = await new DeltaActionPolicy(new Recorder(rows), arm3).sampleActions({ state: tensor(s, { shape: [200], dtype: 'float64' }) as never }, { committedPrefix: null, delay: 0 });
    assert.deepEqual(Array.from(fromTensor), Array.from(plain));
    const wrapped = new DeltaActionPolicy(new Recorder(rows), arm3);
    await assert.rejects(wrapped.sampleActions({ state: new Float64Array(3) }, { committedPrefix: null, delay: 0 }), /DeltaActionPolicy\.sampleActions: the observation's state must hold 200 unified values, got 3/);
    await assert.rejects(wrapped.sampleActions({ state: s }, { committedPrefix: new Float32Array(4), delay: 2 }), /DeltaActionPolicy\.sampleActions: delay 2 needs 2×4 committed values, got 4/);
    assert.throws(() => new DeltaActionPolicy(new Recorder(rows), simRobot('hand').embodiment), /DeltaActionPolicy: the inner policy's rows have 4 entries, embodiment "sim-hand" has 8 raw dims/);
  });
});
