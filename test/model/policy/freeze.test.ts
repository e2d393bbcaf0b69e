// Table 6's freezing presets: the understanding expert, the projector and the ViT are frozen by name,
// alone or together, the action expert always trains; after optimiser steps (AdamW with weight decay) the
// frozen parameters are bit-identical and the trainable ones have moved.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BeingPolicy } from '../../../src/model/policy/policy.js';
import { FREEZE_PRESETS, freezePolicy, partOf, type FreezePreset } from '../../../src/model/policy/freeze.js';
import { PolicyTrainer } from '../../../src/model/policy/trainer.js';
import { Samples, sameBits, snapshot, so101, tinier } from './policy-fixtures.js';

describe('freezePolicy', () => {
  const cfg = tinier({ text: { tieEmbeddings: false } });

  test('Table 6: the parts are named as the paper freezes them', () => {
    const parts = new Map<string, string[]>();
    for (const [n] of new BeingPolicy(cfg).namedParameters()) {
      const p = partOf(n) ?? 'adapters';
      parts.set(p, [...(parts.get(p) ?? []), n]);
    }
    assert.ok(parts.get('vit')!.every((n) => n.startsWith('vision.vit.')));
    assert.ok(parts.get('projector')!.every((n) => n.startsWith('vision.projector.')));
    assert.ok(parts.get('understanding')!.includes('textEmbedding.weight') && parts.get('understanding')!.includes('lmHead.weight'));
    assert.ok(parts.get('understanding')!.some((n) => /^backbone\.layers\.1\.understanding\.attn\.qProj/.test(n)));
    assert.ok(parts.get('action')!.some((n) => /^backbone\.layers\.0\.action\./.test(n)) && parts.get('action')!.includes('backbone.actionNorm.weight'));
    assert.ok(parts.get('adapters')!.every((n) => /\.adapters\.\d+\./.test(n)) && parts.get('adapters')!.length > 0);
    assert.deepEqual(Object.keys(FREEZE_PRESETS), ['und+proj+vit', 'und+vit', 'und', 'proj+vit', 'none', 'adapters-only']);
  });

  const data = new Samples(cfg, 2);
  const samples = [data.action(so101), data.vqa(), data.action(so101, 'hybrid')];
  for (const preset of Object.keys(FREEZE_PRESETS) as FreezePreset[]) {
    test(`Table 6 (${preset}): after AdamW steps with weight decay the frozen parameters are bit-identical and the others trained`, () => {
      const policy = new BeingPolicy(cfg, { seed: 2 });
      const frozen = new Set(freezePolicy(policy, preset));
      const want = FREEZE_PRESETS[preset]!;
      for (const [n] of policy.namedParameters()) assert.equal(frozen.has(n), want.includes(partOf(n)!), n);
      const before = snapshot(policy.namedParameters());
      new PolicyTrainer(policy, { lr: 1e-2, weightDecay: 0.1 }).fit(2, () => policy.batch(samples));
      const moved = new Set<string>();
      for (const [n, p] of policy.namedParameters()) {
        const same = sameBits(p.dataSync(), before.get(n)!);
        if (frozen.has(n)) assert.ok(same, `${n} is frozen`);
        else if (!same) moved.add(n);
      }
      for (const part of ['understanding', 'vit', 'projector', 'action'] as const) {
        if (!want.includes(part)) assert.ok([...moved].some((n) => partOf(n) === part), `${part} trains`);
      }
    });
  }

  test('unknown presets and parts throw', () => {
    const policy = new BeingPolicy(cfg);
    assert.throws(() => freezePolicy(policy, 'llm' as FreezePreset), /unknown preset 'llm'/);
    assert.throws(() => freezePolicy(policy, ['vit', 'head' as 'vit']), /unknown part 'head'/);
  });
});
