// The whole training path end to end: a tiny policy (the `tiny` preset with 8-step chunks) overfits a
// handful of samples of mixed tasks — the joint loss (Eq. 4-8, with UAC, ESA, MPG, MoF and masked tokens
// all on) falls tenfold within a bounded number of steps. Every step draws fresh noise, times, delays and
// masks; progress is measured on one fixed draw (the same seed before and after training).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noGrad } from '../../../src/tensor/index.js';
import { BeingPolicy } from '../../../src/model/policy/policy.js';
import { PolicyTrainer } from '../../../src/model/policy/trainer.js';
import { policyLoss } from '../../../src/model/policy/objective.js';
import { Samples, so101, tinier } from './policy-fixtures.js';

test('Eq. 4-8: a tiny policy overfits four mixed samples — the loss on a fixed draw falls 10× within 200 steps', () => {
  const cfg = tinier();
  const policy = new BeingPolicy(cfg, { seed: 21 });
  const data = new Samples(cfg, 21);
  const batch = policy.batch([data.action(so101, 'motion-generation', 'pick'), data.action(so101, 'hybrid', 'wave'), data.vqa(), data.action(so101, 'motion-generation', 'push')]);
  const evaluate = (): number => noGrad(() => policyLoss(policy, batch, { seed: 'eval' }).loss.item());
  const first = evaluate();
  const trainer = new PolicyTrainer(policy, { lr: 3e-3, weightDecay: 0, seed: 'overfit' });
  let last = first;
  while (trainer.step < 200 && last > first / 10) {
    trainer.fit(trainer.step + 10, () => batch);
    last = evaluate();
  }
  assert.ok(last <= first / 10, `loss ${first} → ${last} after ${trainer.step} steps`);
  assert.ok(trainer.step <= 200);
});
