import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BeingPolicy, sampleActions } from '../../../src/model/index.js';
import { BeingPolicyRunner } from '../../../src/robot/index.js';
import { Generator, randn } from '../../../src/tensor/index.js';
import { Samples, so101, tinier } from '../../model/policy/policy-fixtures.js';

const config = tinier();
const policy = new BeingPolicy(config, { seed: 3 });
const samples = new Samples(config, 5);
const { embodiment: _e, ...observation } = samples.observation(so101);

test('BeingPolicyRunner: raw chunks of chunkLength × rawDim, trained delay range from uac.maxDelay (Eq. 17)', async () => {
  const runner = new BeingPolicyRunner(policy, { embodiment: so101 });
  assert.equal(runner.chunkLength, config.flow.chunkLength);
  assert.equal(runner.actionDim, so101.rawDim);
  assert.equal(runner.trainedMaxDelay, config.uac.maxDelay - 1);
  const chunk = await runner.sampleActions(observation, { committedPrefix: null, delay: 0 });
  assert.equal(chunk.length, config.flow.chunkLength * so101.rawDim);
  assert.ok(chunk.every(Number.isFinite));
});

test('BeingPolicyRunner: Eq. 23 — the first d rows are the committed prefix, bit for bit, and the rest is sampleActions', async () => {
  const d = config.uac.maxDelay - 1;
  const prefix = Float32Array.from(randn([d, so101.rawDim], { generator: new Generator(9) }).dataSync());
  const runner = new BeingPolicyRunner(policy, { embodiment: so101, generator: new Generator(4) });
  const chunk = await runner.sampleActions(observation, { committedPrefix: prefix, delay: d });
  assert.deepEqual(Array.from(chunk.subarray(0, prefix.length)), Array.from(prefix));
  const direct = sampleActions(policy, { ...observation, embodiment: so101 }, {
    committedPrefix: randn([d, so101.rawDim], { generator: new Generator(9) }),
    delay: d,
    generator: new Generator(4),
  });
  assert.deepEqual(Array.from(chunk), Array.from(direct.raw.dataSync()));
});

test('BeingPolicyRunner: a delay beyond what the checkpoint was trained for, or a short prefix, is refused', async () => {
  const runner = new BeingPolicyRunner(policy, { embodiment: so101 });
  await assert.rejects(runner.sampleActions(observation, { committedPrefix: new Float32Array(100), delay: runner.trainedMaxDelay + 1 }), /outside \[0, /);
  await assert.rejects(runner.sampleActions(observation, { committedPrefix: new Float32Array(1), delay: 1 }), /needs 1×6 committed values/);
});
