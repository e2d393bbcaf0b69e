// The assembled policy (§5): its parameters are the analytic count; each switch (ESA, MPG, MoF, masked
// tokens, UAC) adds or replaces exactly its own modules and leaves the shared ones bit-identical at
// initialisation; ESA (Eq. 12) keeps another embodiment's predictions bit-identical under an adapter-only
// step; MPG (Eq. 13) leaves H untouched when off and without an anchor; MoF (§5.1.2) routes each part of a
// sample as one unit in the upper layers only.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator } from '../../../src/tensor/index.js';
import { BeingPolicy } from '../../../src/model/policy/policy.js';
import { countParameters } from '../../../src/model/policy/parameter-count.js';
import { freezePolicy } from '../../../src/model/policy/freeze.js';
import { policyLoss } from '../../../src/model/policy/objective.js';
import { sampleActions } from '../../../src/model/policy/sample.js';
import { PolicyTrainer } from '../../../src/model/policy/trainer.js';
import type { PolicyConfigOverrides } from '../../../src/model/policy/config.js';
import { Samples, mano, sameBits, snapshot, so101, tinier, values } from './policy-fixtures.js';

const names = (p: BeingPolicy): Set<string> => new Set(p.namedParameters().map(([n]) => n));

describe('BeingPolicy', () => {
  test('§5: with ESA off and no routing context, the parameters number exactly countParameters(config).total', () => {
    for (const cfg of [tinier({ esa: { enabled: false } }), tinier({ esa: { enabled: false }, mof: { enabled: false }, mpg: { enabled: false }, maskedMotion: { enabled: false } })]) {
      assert.equal(new BeingPolicy(cfg).numParameters(), countParameters(cfg).total);
    }
  });

  const switches: [string, PolicyConfigOverrides, RegExp][] = [
    ['MPG', { mpg: { enabled: false } }, /^mpg\./],
    ['masked motion tokens', { maskedMotion: { enabled: false } }, /^motionHead\./],
    ['ESA', { esa: { enabled: false } }, /^(stateEncoder\.fc1|actionEncoder\.inProj|actionDecoder)\./],
    ['UAC', { uac: { enabled: false } }, /^$/],
    ['MoF', { mof: { enabled: false } }, /^backbone\.layers\.1\.action\.(mlp|moe)\./],
  ];
  for (const [name, off, own] of switches) {
    test(`switches: ${name} adds or replaces only its own parameters, and the others start bit-identical`, () => {
      const a = new BeingPolicy(tinier(), { seed: 7 });
      const b = new BeingPolicy(tinier(off), { seed: 7 });
      const [na, nb] = [names(a), names(b)];
      const differ = [...na].filter((n) => !nb.has(n)).concat([...nb].filter((n) => !na.has(n)));
      for (const n of differ) assert.match(n, own, `${n} differs between ${name} on and off`);
      if (name !== 'UAC') assert.ok(differ.length > 0);
      const sa = snapshot(a.namedParameters());
      const sb = snapshot(b.namedParameters());
      for (const [n, v] of sa) {
        // Toggling MoF rebuilds the backbone, and ESA the IO modules, whose layers share one generator each.
        if (!sb.has(n) || (name === 'MoF' && n.startsWith('backbone.')) || (name === 'ESA' && /^(state|action)(En|De)coder\./.test(n))) continue;
        assert.ok(sameBits(v, sb.get(n)!), `${n} starts the same`);
      }
    });
  }

  test('Eq. 12 (ESA): the predicted velocity is exactly zero outside the embodiment’s active slots', () => {
    const cfg = tinier();
    const policy = new BeingPolicy(cfg, { seed: 2 });
    const data = new Samples(cfg, 2);
    const batch = policy.batch([data.action(so101), data.action(mano)]);
    const out = policyLoss(policy, batch, { seed: 1 });
    const v = values(out.flow!.velocity);
    const [T, D] = [cfg.flow.chunkLength, cfg.unifiedDim];
    [so101, mano].forEach((e, j) => {
      const inSlot = new Array<boolean>(D).fill(false);
      for (const k of e.activeSlots) for (let i = 0; i < e.layout.slots[k]!.size; i++) inSlot[e.layout.slots[k]!.offset + i] = true;
      for (let i = 0; i < T * D; i++) if (!inSlot[i % D]) assert.equal(v[j * T * D + i], 0, `${e.name} dim ${i % D}`);
    });
    assert.ok(v.some((x) => x !== 0));
  });

  test('Eq. 12 (ESA): adapter-only steps on SO-101 under AdamW with weight decay leave MANO’s predictions and adapters bit-identical; a step of the shared action expert does not', () => {
    const cfg = tinier({ mpg: { refineRounds: 1 } });
    const data = new Samples(cfg, 3);
    const manoObs = data.observation(mano);
    const soObs = data.observation(so101);
    const soSamples = [data.action(so101), data.action(so101, 'hybrid'), data.action(so101, 'motion-continuation')];
    const predict = (p: BeingPolicy, o: typeof manoObs): number[] => values(sampleActions(p, o, { generator: new Generator(1) }).unified);

    const policy = new BeingPolicy(cfg, { seed: 3 });
    freezePolicy(policy, 'adapters-only');
    const before = snapshot(policy.namedParameters());
    const [manoBefore, soBefore] = [predict(policy, manoObs), predict(policy, soObs)];
    const trainer = new PolicyTrainer(policy, { lr: 1e-2, weightDecay: 0.1 });
    trainer.fit(2, () => policy.batch(soSamples));
    assert.ok(sameBits(predict(policy, manoObs), manoBefore), 'MANO predicts exactly as before');
    assert.ok(!sameBits(predict(policy, soObs), soBefore), 'SO-101 learned');
    const soSlots = new Set(so101.activeSlots);
    let changed = 0;
    for (const [n, p] of policy.namedParameters()) {
      const m = /\.adapters\.(\d+)\./.exec(n);
      const same = sameBits(p.dataSync(), before.get(n)!);
      if (m !== null && soSlots.has(Number(m[1]))) changed += same ? 0 : 1;
      else assert.ok(same, `${n} is unchanged`);
    }
    assert.ok(changed > 0, 'SO-101’s adapters moved');

    const shared = new BeingPolicy(cfg, { seed: 3 });
    freezePolicy(shared, 'und+proj+vit');
    const sharedBefore = predict(shared, manoObs);
    new PolicyTrainer(shared, { lr: 1e-2 }).fit(1, () => shared.batch(soSamples));
    assert.ok(!sameBits(predict(shared, manoObs), sharedBefore), 'training the shared action expert moves every embodiment');
  });

  test('Eq. 13 (MPG): off, or without an anchor, H̃ = H exactly; with an anchor H̃ ≠ H, and only the action samples’ features change', () => {
    const data = new Samples(tinier(), 4);
    const samples = [data.action(so101), data.vqa()];
    const on = new BeingPolicy(tinier(), { seed: 4 });
    const off = new BeingPolicy(tinier({ mpg: { enabled: false } }), { seed: 4 });
    const batch = on.batch(samples);
    const inputs = { xt: batch.targets!, t: 0.5, anchor: on.encodeActions(batch.targets!, 1, [so101]) };
    const offH = off.suffixFeatures(batch, inputs);
    assert.equal(offH.enhanced, offH.raw);
    assert.equal(offH.gate, null);
    const plain = on.suffixFeatures(batch, { xt: inputs.xt, t: 0.5 });
    assert.equal(plain.enhanced, plain.raw);
    const gated = on.suffixFeatures(batch, inputs);
    assert.ok(!sameBits(values(gated.enhanced), values(gated.raw)));
    assert.ok(sameBits(values(gated.raw), values(offH.raw)), 'the same H');
    const g = values(gated.gate!);
    assert.ok(g.every((x) => x > 0 && x <= 1));
    const [lo, lf] = [on, off].map((p) => p.textLogits(batch, p.forward(batch, inputs)));
    assert.ok(sameBits(values(lo!), values(lf!)), 'the VQA sample’s text logits do not depend on MPG');
  });

  test('§5.1.2 (MoF): only the upper action layers route; every part of a sample is one routing unit with the same K experts; off: no routing', () => {
    const cfg = tinier({ mof: { numExperts: 3, topK: 2 } });
    const policy = new BeingPolicy(cfg, { seed: 5 });
    const data = new Samples(cfg, 5);
    const batch = policy.batch(data.mixed());
    const out = policy.forward(batch, { xt: batch.targets!, t: 0.3 });
    assert.deepEqual(Array.from(policy.backbone.layers, (l) => l.isMixtureOfFlow), [false, true]);
    assert.equal(out.routing.length, 1);
    const r = out.routing[0]!;
    const K = cfg.mof.topK;
    const idx = values(r.indices);
    const groups = values(batch.groups!);
    const Ta = out.action.shape[1]!;
    const L = batch.length;
    const byUnit = new Map<number, string>();
    for (let b = 0; b < batch.size; b++) {
      for (let p = 0; p < L; p++) {
        const row = out.rowOf[b * L + p]!;
        if (batch.sequences.actionExpertMask.dataSync()[b * L + p] !== 1 || row < 0) continue;
        const k = row - b * Ta;
        const experts = idx.slice((b * Ta + k) * K, (b * Ta + k + 1) * K).sort().join(',');
        assert.equal(new Set(experts.split(',')).size, K, 'K distinct experts');
        const unit = groups[b * L + p]!;
        if (byUnit.has(unit)) assert.equal(experts, byUnit.get(unit), `unit ${unit} routes as one`);
        byUnit.set(unit, experts);
      }
    }
    assert.ok(byUnit.size > batch.size, 'parts of a sample are separate units');
    const off = new BeingPolicy(tinier({ mof: { enabled: false } }), { seed: 5 });
    const offBatch = off.batch(data.mixed());
    assert.equal(offBatch.groups, null);
    const o = off.forward(offBatch, { xt: offBatch.targets!, t: 0.3 });
    assert.deepEqual([o.routing.length, o.auxLoss.item()], [0, 0]);
  });

  test('bad configs and inputs throw at once', () => {
    const policy = new BeingPolicy(tinier(), { seed: 1 });
    const data = new Samples(tinier());
    const batch = policy.batch([data.action(so101)]);
    assert.throws(() => policy.forward(batch), /give inputs\.xt and inputs\.t/);
    assert.throws(() => policy.forward(batch, { xt: batch.targets!.narrow(1, 0, 2), t: 0.5 }), /inputs\.xt must be \[1,8,200\], got \[1,2,200\]/);
    assert.throws(() => policy.forward(batch, { xt: batch.targets!, t: 0.5 }, { start: 3 }), /start 3 must equal the cached length 0/);
    assert.throws(() => policy.batch([{ ...data.action(so101), actions: data.chunk(so101, 5) }]), /sample 0 \(motion-generation\): actions must be \[8, 200\], got \[5,200\]/);
    assert.throws(() => policy.batch([{ ...data.action(so101, 'hybrid'), motionTokens: undefined }]), /needs motionTokens or a motionTokenizer/);
  });
});
