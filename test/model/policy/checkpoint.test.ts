// Checkpoints in safetensors: a policy round-trips (weights bit-identical, the same actions); a trainer
// resumed from a checkpoint at step k — into a freshly built policy of another initial seed — ends bit for
// bit where an uninterrupted run ends (weights, AdamW moments, learning rate); foreign files and config
// mismatches are refused; the Node helpers write and read files atomically.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator } from '../../../src/tensor/index.js';
import { serialize } from '../../../src/nn/index.js';
import { BeingPolicy } from '../../../src/model/policy/policy.js';
import { PolicyTrainer } from '../../../src/model/policy/trainer.js';
import { policyFromCheckpoint, readPolicyCheckpoint, restorePolicyCheckpoint, serializePolicyCheckpoint } from '../../../src/model/policy/checkpoint.js';
import { loadPolicyCheckpoint, savePolicyCheckpoint } from '../../../src/node/policy-checkpoint.js';
import { Samples, mano, sameBits, snapshot, so101, tinier, values } from './policy-fixtures.js';

describe('policy checkpoints', () => {
  const cfg = tinier({ mpg: { refineRounds: 1 } });
  const data = new Samples(cfg, 3);
  const batches = [[data.action(so101), data.vqa()], [data.action(mano, 'hybrid'), data.description(so101)]];

  test('a policy round-trips: the same weights bit for bit and the same actions', () => {
    const policy = new BeingPolicy(cfg, { seed: 3 });
    const copy = policyFromCheckpoint(serializePolicyCheckpoint(policy));
    const [a, b] = [snapshot(policy.namedParameters()), snapshot(copy.namedParameters())];
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const [n, v] of a) assert.ok(sameBits(v, b.get(n)!), n);
    const obs = data.observation(so101);
    const act = (p: BeingPolicy): number[] => values(p.sampleActions(obs, { generator: new Generator(2) }).unified);
    assert.ok(sameBits(act(copy), act(policy)));
    assert.equal(readPolicyCheckpoint(serializePolicyCheckpoint(policy)).trainer, null);
  });

  test('resume is bit-exact on the CPU: 2 steps, checkpoint, restore into a fresh policy, 2 more steps = 4 steps without stopping', () => {
    const opts = { lr: 5e-3, warmupSteps: 1, totalSteps: 4, seed: 'run' };
    const make = (seed: number): PolicyTrainer => new PolicyTrainer(new BeingPolicy(cfg, { seed }), opts);
    const feed = (t: PolicyTrainer) => (step: number) => t.policy.batch(batches[step % 2]!);
    const straight = make(3);
    straight.fit(4, feed(straight));

    const first = make(3);
    first.fit(2, feed(first));
    const bytes = serializePolicyCheckpoint(first);
    const resumed = new PolicyTrainer(new BeingPolicy(cfg, { seed: 99 }), { ...opts, seed: 'other' });
    restorePolicyCheckpoint(resumed, bytes);
    assert.deepEqual([resumed.step, resumed.seed], [2, 'run']);
    resumed.fit(4, feed(resumed));

    const [a, b] = [snapshot(straight.policy.namedParameters()), snapshot(resumed.policy.namedParameters())];
    for (const [n, v] of a) assert.ok(sameBits(v, b.get(n)!), `${n} after 4 steps`);
    const [sa, sb] = [straight.optimizer.stateDict(), resumed.optimizer.stateDict()];
    assert.deepEqual(sb.meta, sa.meta);
    for (const [k, t] of Object.entries(sa.tensors)) assert.ok(sameBits(t.dataSync(), sb.tensors[k]!.dataSync()), k);
    assert.deepEqual(resumed.scheduler.getLastLr(), straight.scheduler.getLastLr());
    assert.ok(!sameBits(a.get('actionDecoder.adapters.6.weight')!, snapshot(new BeingPolicy(cfg, { seed: 3 }).namedParameters()).get('actionDecoder.adapters.6.weight')!), 'training moved the weights');
  });

  test('foreign files, policy-only checkpoints for a trainer and config mismatches are refused', () => {
    const policy = new BeingPolicy(cfg, { seed: 4 });
    assert.throws(() => policyFromCheckpoint(serialize(policy.stateDict())), /not a being-policy\/1 checkpoint/);
    assert.throws(() => restorePolicyCheckpoint(new PolicyTrainer(policy), serializePolicyCheckpoint(policy)), /holds no trainer state/);
    const other = new BeingPolicy(tinier({ mpg: { enabled: false } }));
    assert.throws(() => restorePolicyCheckpoint(other, serializePolicyCheckpoint(policy)), /config differs/);
  });

  test('Node: savePolicyCheckpoint writes atomically and loadPolicyCheckpoint resumes a trainer or builds a policy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'being-policy-'));
    try {
      const trainer = new PolicyTrainer(new BeingPolicy(cfg, { seed: 5 }), { lr: 1e-3, seed: 's' });
      trainer.fit(1, () => trainer.policy.batch(batches[0]!));
      const path = join(dir, 'run.safetensors');
      await savePolicyCheckpoint(path, trainer);
      assert.deepEqual(await readdir(dir), ['run.safetensors'], 'no temporary file is left behind');
      const policy = await loadPolicyCheckpoint(path);
      const back = new PolicyTrainer(new BeingPolicy(cfg, { seed: 6 }));
      await loadPolicyCheckpoint(path, back);
      const want = snapshot(trainer.policy.namedParameters());
      for (const p of [policy, back.policy]) for (const [n, v] of snapshot(p.namedParameters())) assert.ok(sameBits(v, want.get(n)!), n);
      assert.equal(back.step, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
