// The joint objective (Eq. 4-8) with UAC (Eq. 17-19) and masked motion tokens (Eq. 8) as switches: the
// loss combines the per-sample terms linearly with the λ weights; text answers are scored causally on
// Ω_text alone; UAC feeds the prefix clean at t = 1 and gives it zero loss, and with d_max = 1 it is the
// plain loss bit for bit; masked tokens off leaves no motion head and trains a hybrid sample as motion
// generation, and on, only hybrid samples reach the motion head.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BeingPolicy } from '../../../src/model/policy/policy.js';
import { policyLoss } from '../../../src/model/policy/objective.js';
import type { PolicySample } from '../../../src/model/policy/samples.js';
import { Samples, mano, sameBits, so101, tinier, values } from './policy-fixtures.js';

describe('policyLoss', () => {
  test('Eq. 4, 6: the loss is the per-sample mean of λ_text·L_text + λ_act·(λ₁·L_FM + λ₂·L_MASK), plus the weighted router losses', () => {
    const data = new Samples(tinier(), 1);
    const samples = data.mixed();
    for (const loss of [{ text: 1, action: 1, flowMatching: 1, maskedMotion: 1 }, { text: 0.3, action: 2, flowMatching: 0.7, maskedMotion: 1.9 }, { text: 0, action: 1, flowMatching: 0, maskedMotion: 2 }]) {
      const cfg = tinier({ loss, mof: { auxLossWeight: 0.05, zLossWeight: 0.002 } });
      const policy = new BeingPolicy(cfg, { seed: 1 });
      const batch = policy.batch(samples);
      const out = policyLoss(policy, batch, { seed: 'w' });
      const t = out.terms;
      assert.deepEqual(out.counts, { text: 2, flowMatching: 3, maskedMotion: 1 });
      const want =
        (loss.text * t.text!.item() * 2 + loss.action * (loss.flowMatching * t.flowMatching!.item() * 3 + loss.maskedMotion * t.maskedMotion!.item())) / batch.size +
        0.05 * t.aux.item() + 0.002 * t.z.item();
      assert.ok(Math.abs(out.loss.item() - want) <= 1e-5 * (1 + Math.abs(want)), `${out.loss.item()} vs ${want}`);
    }
  });

  test('Eq. 5: Ω_text is the answer text alone, and each answer token is predicted from the tokens before it only', () => {
    const cfg = tinier();
    const policy = new BeingPolicy(cfg, { seed: 2 });
    const data = new Samples(cfg, 2);
    const a = data.vqa('colour?', 'red cup');
    const b: PolicySample = { ...a, answer: 'red cap' } as PolicySample;
    const [ba, bb] = [policy.batch([a]), policy.batch([b])];
    assert.equal(ba.textTargets.length, 'red cup'.length);
    assert.deepEqual(Array.from(ba.textTargets), Array.from(new TextEncoder().encode('red cup')));
    const [la, lb] = [ba, bb].map((x) => values(policy.textLogits(x, policy.forward(x))));
    const V = cfg.text.vocabSize;
    const upTo = 'red c'.length + 1; // logits at the predecessors of 'r','e','d',' ','c','u|a' see the same tokens
    assert.ok(sameBits(la!.slice(0, upTo * V), lb!.slice(0, upTo * V)), 'a later answer token never reaches an earlier prediction');
    assert.ok(!sameBits(la!.slice(upTo * V), lb!.slice(upTo * V)), 'the prediction after the changed token sees it');
  });

  test('Eq. 17-19 (UAC): d < d_max(e); the prefix is fed the clean actions at t = 1 and gets exactly zero loss; d_max from the timing', () => {
    const cfg = tinier({ uac: { maxDelay: 5, delayWeighting: 'uniform' } });
    const policy = new BeingPolicy(cfg, { seed: 3 });
    const data = new Samples(cfg, 3);
    const samples = [data.action(so101), data.action(mano, 'hybrid'), { ...data.action(so101), timing: { controlPeriod: 0.1, latencyBudget: 0.2 } }];
    const batch = policy.batch(samples);
    const T = cfg.flow.chunkLength;
    const D = cfg.unifiedDim;
    const seen = new Set<number>();
    for (let s = 0; s < 12; s++) {
      const { flow } = policyLoss(policy, batch, { seed: s });
      const f = flow!;
      const [t, xt, a, per] = [values(f.t), values(f.xt), values(batch.targets!), values(f.perToken)];
      f.delays.forEach((d, j) => {
        assert.ok(d >= 0 && d < (j === 2 ? 2 : 5), `d = ${d} for target ${j}`);
        if (j < 2) seen.add(d);
        for (let i = 0; i < T; i++) {
          if (i < d) {
            assert.equal(t[j * T + i], 1);
            assert.equal(per[j * T + i], 0, 'no loss on the prefix');
            assert.ok(sameBits(xt.slice((j * T + i) * D, (j * T + i + 1) * D), a.slice((j * T + i) * D, (j * T + i + 1) * D)));
          } else {
            assert.ok(t[j * T + i]! < 1 && per[j * T + i]! > 0);
          }
        }
      });
    }
    assert.ok(seen.size >= 3, `delays vary: ${[...seen]}`);
  });

  test('Eq. 17-19 (UAC): with d_max = 1 every delay is 0 and the loss equals UAC off bit for bit', () => {
    const data = new Samples(tinier(), 4);
    const samples = [data.action(so101), data.action(mano, 'hybrid'), data.vqa()];
    const [on, off] = [tinier({ uac: { maxDelay: 1 } }), tinier({ uac: { enabled: false } })].map((c) => new BeingPolicy(c, { seed: 4 }));
    const [lo, lf] = [on!, off!].map((p) => policyLoss(p, p.batch(samples), { seed: 'u' }));
    assert.deepEqual(lo!.flow!.delays, [0, 0]);
    assert.equal(lo!.loss.item(), lf!.loss.item());
    const other = policyLoss(on!, on!.batch(samples), { seed: 'v' });
    assert.notEqual(other.loss.item(), lo!.loss.item(), 'the seed matters');
  });

  test('Eq. 8 (masked tokens): off ⇒ no motion head and a hybrid sample trains exactly as motion generation; on ⇒ ρ·T_z masked tokens per chunk, and only hybrid samples give the head a gradient', () => {
    const data = new Samples(tinier(), 5);
    const hybrid = data.action(so101, 'hybrid');
    const plain = { ...hybrid, task: 'motion-generation' as const };
    const off = new BeingPolicy(tinier({ maskedMotion: { enabled: false } }), { seed: 5 });
    assert.equal(off.motionHead, null);
    assert.ok(off.namedParameters().every(([n]) => !n.startsWith('motionHead')));
    const [h, p] = [hybrid, plain].map((s) => policyLoss(off, off.batch([s]), { seed: 1 }));
    assert.equal(h!.terms.maskedMotion, null);
    assert.equal(h!.loss.item(), p!.loss.item());

    const cfg = tinier({ maskedMotion: { maskRatio: 0.5 } });
    const on = new BeingPolicy(cfg, { seed: 5 });
    const head = on.motionHead!.parameters();
    policyLoss(on, on.batch([plain, data.vqa()]), { seed: 1 }).loss.backward();
    assert.ok(head.every((q) => q.grad === null), 'no hybrid sample, no gradient to the motion head');
    on.zeroGrad();
    const out = policyLoss(on, on.batch([hybrid, plain]), { seed: 1 });
    out.loss.backward();
    assert.ok(head.some((q) => q.grad !== null && values(q.grad).some((v) => v !== 0)));
    assert.ok(out.terms.maskedMotion!.item() > 0);
    const Tz = cfg.maskedMotion.numTokens;
    const [mask, input, ids] = [values(out.motion!.mask), values(out.motion!.input), hybrid.motionTokens as number[]];
    assert.equal(mask.filter((m) => m === 1).length, Math.round(0.5 * Tz), 'ρ·T_z tokens masked');
    for (let i = 0; i < Tz; i++) assert.equal(input[i], mask[i] === 1 ? on.motionHead!.maskId : ids[i]);
  });
});
