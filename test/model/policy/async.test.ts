// The asynchronous entry points that asynchronous backends (webgpu) need, on the CPU: `trainStepAsync`,
// `fitAsync` and `sampleActionsAsync` record the same computation as their synchronous twins and read it
// once at the end, so they give the same numbers bit for bit (Eq. 4-8 in training, Eq. 20-21 in
// sampling); and a layout built from host arrays equals the one read from tensors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, tensor } from '../../../src/tensor/index.js';
import { BeingPolicy } from '../../../src/model/policy/policy.js';
import { MoTLayout } from '../../../src/model/policy/mot-layout.js';
import { sampleActions, sampleActionsAsync } from '../../../src/model/policy/sample.js';
import { PolicyTrainer, type TrainStepResult } from '../../../src/model/policy/trainer.js';
import { Samples, mano, sameBits, so101, tinier, values } from './policy-fixtures.js';

function setup(seed: number): { policy: BeingPolicy; trainer: PolicyTrainer; data: Samples } {
  const cfg = tinier();
  const policy = new BeingPolicy(cfg, { seed });
  return { policy, trainer: new PolicyTrainer(policy, { lr: 1e-3, seed: `async-${seed}` }), data: new Samples(cfg, seed) };
}

describe('asynchronous training and sampling', () => {
  test('Eq. 4-8: trainStepAsync and fitAsync give trainStep and fit, number for number and parameter for parameter', async () => {
    const [a, b] = [setup(4), setup(4)];
    const mixed = (s: Samples) => s.mixed();
    const [batchA, batchB] = [a.policy.batch(mixed(a.data)), b.policy.batch(mixed(b.data))];
    const sync: TrainStepResult[] = [a.trainer.trainStep([batchA, batchA]), ...a.trainer.fit(3, () => batchA)];
    const async: TrainStepResult[] = [await b.trainer.trainStepAsync([batchB, batchB]), ...(await b.trainer.fitAsync(3, () => batchB))];
    assert.equal(async.length, 3);
    assert.deepEqual(async, sync);
    assert.ok(sync.every((r) => Number.isFinite(r.loss) && r.gradNorm > 0 && r.terms.flowMatching !== null && r.terms.text !== null));
    const pb = new Map(b.policy.namedParameters());
    for (const [name, p] of a.policy.namedParameters()) assert.ok(sameBits(p.dataSync(), pb.get(name)!.dataSync()), `parameter ${name}`);
  });

  test('Eq. 20-21: sampleActionsAsync gives sampleActions bit for bit (chunk, rounds, gates, delay)', async () => {
    const { policy, data } = setup(6);
    const obs = data.observation(mano, 'wave', true);
    const opts = { refine: 2, committedPrefix: data.chunk(mano, 2), generator: new Generator(8) };
    const sync = sampleActions(policy, obs, { ...opts, generator: new Generator(8) });
    const async = await policy.sampleActionsAsync(obs, opts);
    assert.ok(sameBits(values(async.raw), values(sync.raw)), 'raw chunk');
    assert.equal(async.rounds.length, 3);
    async.rounds.forEach((r, n) => assert.ok(sameBits(values(r), values(sync.rounds[n]!)), `round ${n}`));
    assert.deepEqual(async.gates, sync.gates);
    assert.deepEqual(async.gates.map((g) => g.length), [policy.config.flow.steps, policy.config.flow.steps]);
    assert.equal(async.delay, 2);
    await assert.rejects(sampleActionsAsync(policy, obs, { steps: 0 }), /sampleActions: steps must be an integer ≥ 1, got 0/);
  });
});

describe('MoTLayout from host arrays', () => {
  test('§5.1: a layout from host masks and indices equals the one read from tensors, and gives its positions back', () => {
    const { policy, data } = setup(2);
    const batch = policy.batch([data.action(so101), data.vqa(), data.action(mano, 'hybrid')]);
    const seq = batch.sequences;
    const fromTensors = MoTLayout.fromExpertMask(seq.actionExpertMask, seq.paddingMask);
    const host = (t: typeof seq.paddingMask) => ({ data: t.dataSync(), shape: t.shape });
    const fromHost = MoTLayout.fromExpertMask(host(seq.actionExpertMask), host(seq.paddingMask));
    for (const k of ['understandingIndex', 'actionIndex', 'order'] as const) {
      assert.deepEqual(fromHost[k].shape, fromTensors[k].shape, k);
      assert.deepEqual(values(fromHost[k]), values(fromTensors[k]), k);
    }
    assert.equal(fromHost.contiguous, fromTensors.contiguous);
    assert.deepEqual(Array.from(fromHost.positions('action')), values(fromTensors.actionIndex));
    assert.deepEqual(Array.from(fromHost.positions('understanding')), values(fromTensors.understandingIndex));
    const direct = new MoTLayout({ data: [0, 2], shape: [2] }, { data: [1], shape: [1] }, 3);
    assert.deepEqual(values(direct.order), values(new MoTLayout(tensor([0, 2], { dtype: 'int32' }), tensor([1], { dtype: 'int32' }), 3).order));
    assert.throws(() => new MoTLayout({ data: [0, 2], shape: [3] }, { data: [1], shape: [1] }, 3), /MoTLayout: understandingIndex holds 2 values for shape \[3\]/);
  });
});
