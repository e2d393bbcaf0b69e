// Analytic parameter counts: for the tiny and small presets each component's count equals
// numParameters() of the module built from the same config (perception, backbone, masked-motion channel,
// MPG); paper2b is counted without being built, and lands on the published Qwen3 sizes (1.7B-class
// understanding expert, 0.6B-class action expert) and on InternViT-300M for the ViT.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator } from '../../../src/tensor/index.js';
import { countParameters } from '../../../src/model/policy/parameter-count.js';
import { backboneOptions } from '../../../src/model/policy/backbone-options.js';
import { MoTBackbone } from '../../../src/model/policy/backbone.js';
import { policyConfig, type PolicyConfig } from '../../../src/model/policy/config.js';
import { PRESETS } from '../../../src/model/policy/presets.js';
import { VisionEncoder } from '../../../src/model/policy/vision.js';
import { StateEncoder } from '../../../src/model/policy/state-encoder.js';
import { ActionDecoder, ActionEncoder } from '../../../src/model/policy/action-encoder.js';
import { MaskedMotionHead } from '../../../src/model/masked-motion.js';
import { ManifoldPreservingGate } from '../../../src/model/mpg.js';

/** Perception modules of a config, as the policy builds them. */
function perception(cfg: PolicyConfig): Record<'vit' | 'projector' | 'stateEncoder' | 'actionEncoder' | 'actionDecoder', number> {
  const generator = new Generator(0);
  const vision = new VisionEncoder(cfg.vision, cfg.understanding.hidden, { generator });
  return {
    vit: vision.vit.numParameters(),
    projector: vision.projector.numParameters(),
    stateEncoder: new StateEncoder(cfg.unifiedDim, cfg.state.mlpHidden, cfg.action.hidden, { generator }).numParameters(),
    actionEncoder: new ActionEncoder(cfg.unifiedDim, cfg.action.hidden, { generator, ...cfg.timeEmbedding }).numParameters(),
    actionDecoder: new ActionDecoder(cfg.action.hidden, cfg.unifiedDim, { generator }).numParameters(),
  };
}

describe('countParameters', () => {
  for (const name of ['tiny', 'small'] as const) {
    test(`${name}: perception counts equal numParameters() of the built modules`, () => {
      const cfg = PRESETS[name];
      const n = countParameters(cfg);
      for (const [k, v] of Object.entries(perception(cfg))) assert.equal(n[k as keyof typeof n], v, k);
    });

    test(`${name}: backbone counts equal numParameters() of the built MoTBackbone (MoF on and off)`, () => {
      for (const cfg of [PRESETS[name], policyConfig(PRESETS[name], { mof: { enabled: false } })]) {
        const n = countParameters(cfg);
        const backbone = new MoTBackbone(backboneOptions(cfg, { generator: new Generator(1) }));
        assert.equal(n.understanding + n.action, backbone.numParameters());
        assert.equal(n.understanding, backbone.layers.at(0).understanding.numParameters() * cfg.backbone.layers + backbone.understandingNorm.numParameters());
        assert.equal(n.understanding + n.actionActive, backbone.activeParameters());
      }
    });

    test(`${name}: the masked-motion channel and MPG count as their modules, and 0 when switched off`, () => {
      const cfg = PRESETS[name];
      const n = countParameters(cfg);
      assert.equal(n.maskedMotion, new MaskedMotionHead(cfg.maskedMotion.numCodes, cfg.action.hidden).numParameters());
      assert.equal(n.mpg, new ManifoldPreservingGate(cfg.action.hidden, { embedDim: cfg.mpg.embedDim }).numParameters());
      const off = countParameters(policyConfig(cfg, { maskedMotion: { enabled: false }, mpg: { enabled: false } }));
      assert.deepEqual([off.maskedMotion, off.mpg], [0, 0]);
      assert.equal(off.total, n.total - n.maskedMotion - n.mpg);
    });
  }

  test('tiny is small and small has a few million parameters', (t) => {
    const tiny = countParameters(PRESETS.tiny).total;
    const small = countParameters(PRESETS.small).total;
    t.diagnostic(`tiny ${tiny}, small ${small}`);
    assert.ok(tiny < 500_000);
    assert.ok(small > 1e6 && small < 10e6);
  });

  test('paper2b is counted without being built: Qwen3-1.7B-class understanding, Qwen3-0.6B-class action expert, InternViT-300M-class ViT', (t) => {
    const n = countParameters(PRESETS.paper2b);
    const dense = countParameters(policyConfig(PRESETS.paper2b, { mof: { enabled: false } }));
    const m = (x: number): string => `${(x / 1e6).toFixed(1)}M`;
    t.diagnostic(
      `understanding ${m(n.understanding)} + text embedding ${m(n.textEmbedding)} = ${m(n.understanding + n.textEmbedding)}; ` +
        `action ${m(n.action)} (active ${m(n.actionActive)}, dense ${m(dense.action)}); vit ${m(n.vit)}, projector ${m(n.projector)}; ` +
        `state ${m(n.stateEncoder)}, action encoder ${m(n.actionEncoder)}, decoder ${m(n.actionDecoder)}, masked motion ${m(n.maskedMotion)}, mpg ${m(n.mpg)}; ` +
        `total ${m(n.total)}, active ${m(n.active)}`,
    );
    // Published Qwen3 model cards: 1.7B parameters, 1.4B non-embedding; 0.6B parameters, 0.44B non-embedding.
    const near = (x: number, target: number, tol: number): boolean => Math.abs(x - target) <= tol;
    assert.ok(near(n.understanding, 1.4e9, 0.05e9), `understanding (non-embedding) ${n.understanding}`);
    assert.ok(near(n.understanding + n.textEmbedding, 1.7e9, 0.05e9), `understanding with embedding ${n.understanding + n.textEmbedding}`);
    assert.ok(near(dense.action, 0.44e9, 0.01e9), `dense action expert ${dense.action}`);
    assert.ok(near(dense.action + 151_936 * PRESETS.paper2b.action.hidden, 0.6e9, 0.05e9), 'action expert with a Qwen3 embedding');
    // MoF adds capacity but, with K·expertHidden = mlpHidden, costs a routing unit what a dense layer does (plus the router).
    assert.ok(n.action > dense.action && n.action < 0.7e9, `MoF action expert ${n.action}`);
    assert.ok(n.actionActive - dense.action > 0 && n.actionActive - dense.action < 0.001 * dense.action, 'active ≈ dense');
    assert.ok(near(n.vit, 0.3e9, 0.02e9), `ViT ${n.vit}`);
    assert.ok(n.total > 2e9 && n.total < 3e9, `total ${n.total}`);
  });

  test('validates the config first', () => {
    assert.throws(() => countParameters({ ...PRESETS.tiny, unifiedDim: 0 }), /validateConfig\(tiny\): unifiedDim must be an integer ≥ 1, got 0/);
  });
});
