// The policy config: the presets validate; each invalid field is reported by its path and value (several
// at once); overrides merge field by field, reject unknown fields and leave the presets untouched.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { configProblems, policyConfig, validateConfig, type PolicyConfig } from '../../../src/model/policy/config.js';
import { PRESETS, type PresetName } from '../../../src/model/policy/presets.js';
import { BYTE_TOKENIZER_VOCAB_SIZE } from '../../../src/model/policy/tokenizer.js';
import { UNIFIED_LAYOUT } from '../../../src/model/action-space.js';

type Mutable = { -readonly [K in string]: unknown };

/** A deep copy of `base` with the dotted field set to `value` (no validation). */
function withField(base: PolicyConfig, path: string, value: unknown): PolicyConfig {
  const copy = structuredClone(base) as unknown as Mutable;
  const keys = path.split('.');
  let at = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Mutable;
  at[keys.at(-1)!] = value;
  return copy as unknown as PolicyConfig;
}

describe('policy presets', () => {
  for (const name of ['tiny', 'small', 'paper2b'] as PresetName[]) {
    test(`preset ${name} validates, is frozen, and uses the 200-dim unified space, chunk 16, K = 4`, () => {
      const cfg = PRESETS[name];
      assert.deepEqual(configProblems(cfg), []);
      assert.equal(validateConfig(cfg), cfg);
      assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.backbone) && Object.isFrozen(cfg.vision.pixelMean));
      assert.equal(cfg.unifiedDim, UNIFIED_LAYOUT.dim);
      assert.equal(cfg.flow.chunkLength, 16);
      assert.equal(cfg.flow.steps, 4);
      assert.ok(cfg.text.vocabSize >= BYTE_TOKENIZER_VOCAB_SIZE);
    });
  }

  test('paper2b has the issue\'s action expert (hidden 1024, 28 layers, 16/8 heads of 128) beside a Qwen3-1.7B-shaped understanding expert', () => {
    const { backbone, understanding, action } = PRESETS.paper2b;
    assert.deepEqual(
      [backbone.layers, backbone.numHeads, backbone.numKvHeads, backbone.headDim, action.hidden, action.mlpHidden],
      [28, 16, 8, 128, 1024, 3072],
    );
    assert.deepEqual([understanding.hidden, understanding.mlpHidden, PRESETS.paper2b.text.vocabSize], [2048, 6144, 151_936]);
  });

  test('MPG defaults follow DESIGN.md: λ = 0.1, τ = 1, 32 directions', () => {
    for (const cfg of Object.values(PRESETS)) assert.deepEqual([cfg.mpg.lambda, cfg.mpg.tau, cfg.mpg.numDirections], [0.1, 1, 32]);
  });
});

describe('validateConfig', () => {
  const cases: [path: string, value: unknown, expected: RegExp][] = [
    ['backbone.numKvHeads', 3, /backbone\.numKvHeads must divide backbone\.numHeads = 4, got 3/],
    ['backbone.headDim', 15, /backbone\.headDim must be even .*got 15/],
    ['backbone.layers', 0, /backbone\.layers must be an integer ≥ 1, got 0/],
    ['backbone.ropeBase', -1, /backbone\.ropeBase must be a finite number > 0, got -1/],
    ['understanding.hidden', 2.5, /understanding\.hidden must be an integer ≥ 1, got 2\.5/],
    ['action.hidden', 33, /action\.hidden must be even .*got 33/],
    ['mof.topK', 3, /mof\.topK must be at most mof\.numExperts = 2, got 3/],
    ['mof.specializedLayers', 3, /mof\.specializedLayers must be at most backbone\.layers = 2, got 3/],
    ['mof.routingUnit', 'batch', /mof\.routingUnit must be 'sample', 'token' or an integer ≥ 1, got "batch"/],
    ['vision.patchSize', 5, /vision\.patchSize must divide vision\.imageSize = 32, got 5/],
    ['vision.numHeads', 3, /vision\.numHeads must divide vision\.width = 32, got 3/],
    ['vision.tokenMerge', 3, /vision\.tokenMerge must divide the patch grid .* = 4, got 3/],
    ['vision.pixelMean', [0.5, 0.5], /vision\.pixelMean must hold vision\.channels = 3 finite numbers, got \[0\.5, 0\.5\]/],
    ['vision.pixelStd', [1, 0, 1], /vision\.pixelStd must hold vision\.channels = 3 finite numbers > 0, got \[1, 0, 1\]/],
    ['vision.pixelStd', null, /vision\.pixelMean and vision\.pixelStd must both be null or both be arrays/],
    ['text.vocabSize', 100, new RegExp(`text\\.vocabSize must be an integer ≥ ${BYTE_TOKENIZER_VOCAB_SIZE}, got 100`)],
    ['timeEmbedding.maxPeriod', 1e-3, /timeEmbedding\.maxPeriod must exceed timeEmbedding\.minPeriod = 0\.004, got 0\.001/],
    ['flow.timeSampling', { kind: 'gamma' }, /flow\.timeSampling\.kind must be 'uniform' or 'beta', got "gamma"/],
    ['flow.timeSampling', { kind: 'beta', s: 1.5 }, /flow\.timeSampling\.s must lie in \(0, 1\], got 1\.5/],
    ['uac.maxDelay', 17, /uac\.maxDelay must be at most flow\.chunkLength = 16, got 17/],
    ['uac.delayWeighting', [1, 1], /uac\.delayWeighting must be .* uac\.maxDelay = 4 non-negative weights/],
    ['mpg.tau', 0, /mpg\.tau must be a finite number > 0, got 0/],
    ['maskedMotion.maskRatio', 0, /maskedMotion\.maskRatio must lie in \(0, 1\], got 0/],
    ['loss.flowMatching', Number.NaN, /loss\.flowMatching must be a finite number ≥ 0, got NaN/],
    ['esa.enabled', 'yes', /esa\.enabled must be true or false, got "yes"/],
  ];
  for (const [path, value, expected] of cases) {
    test(`names ${path} and its value when it is invalid`, () => {
      const cfg = withField(PRESETS.tiny, path, value);
      assert.throws(() => validateConfig(cfg), (e: unknown) => e instanceof RangeError && /^validateConfig\(tiny\): /.test(e.message) && expected.test(e.message));
    });
  }

  test('reports every problem at once', () => {
    const cfg = withField(withField(PRESETS.tiny, 'vision.patchSize', 5), 'backbone.numKvHeads', 3);
    const problems = configProblems(cfg);
    assert.equal(problems.length, 2);
    assert.ok(problems.some((p) => p.startsWith('vision.patchSize')) && problems.some((p) => p.startsWith('backbone.numKvHeads')));
  });

  test('settings of a switched-off technique are not checked', () => {
    const cfg = withField(withField(PRESETS.tiny, 'mpg.enabled', false), 'mpg.tau', -1);
    assert.deepEqual(configProblems(cfg), []);
  });

  test('a missing section is reported by name', () => {
    const cfg = withField(PRESETS.tiny, 'vision', undefined);
    assert.throws(() => validateConfig(cfg), /vision must be an object, got undefined/);
  });
});

describe('policyConfig', () => {
  test('merges overrides field by field and leaves the preset unchanged', () => {
    const cfg = policyConfig(PRESETS.tiny, { mpg: { enabled: false }, flow: { steps: 8 }, name: 'tiny-no-mpg' });
    assert.equal(cfg.mpg.enabled, false);
    assert.equal(cfg.mpg.lambda, PRESETS.tiny.mpg.lambda);
    assert.equal(cfg.flow.steps, 8);
    assert.equal(cfg.flow.chunkLength, PRESETS.tiny.flow.chunkLength);
    assert.equal(cfg.name, 'tiny-no-mpg');
    assert.equal(PRESETS.tiny.mpg.enabled, true);
    assert.equal(PRESETS.tiny.flow.steps, 4);
    assert.ok(Object.isFrozen(cfg.flow));
  });

  test('replaces the time sampling whole (no stale Beta parameters under a uniform law)', () => {
    const cfg = policyConfig(PRESETS.tiny, { flow: { timeSampling: { kind: 'uniform' } } });
    assert.deepEqual(cfg.flow.timeSampling, { kind: 'uniform' });
  });

  test('rejects unknown fields by their path', () => {
    assert.throws(() => policyConfig(PRESETS.tiny, { mpg: { lamda: 0.2 } as never }), /policyConfig: unknown field mpg\.lamda/);
  });

  test('validates the result', () => {
    assert.throws(() => policyConfig(PRESETS.tiny, { vision: { patchSize: 3 } }), /vision\.patchSize must divide vision\.imageSize = 32, got 3/);
  });
});
