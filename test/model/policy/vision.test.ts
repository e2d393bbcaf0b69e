// The vision encoder: patchify places every pixel where the (channel, row, column) formula says and
// unpatchify inverts it exactly; token merging gathers s × s neighbours; the ViT and projector give the
// right shapes at 224 × 224 and 32 × 32; pixel normalisation is per channel; a patch's features depend
// on the image only through the patches (no leakage between images of a batch); bad shapes are named.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, noGrad, rand, tensor, type Tensor } from '../../../src/tensor/index.js';
import { mergeTokens, patchify, unpatchify } from '../../../src/model/policy/patches.js';
import { VisionEncoder, VisionProjector, VisionTransformer } from '../../../src/model/policy/vision.js';
import { PRESETS } from '../../../src/model/policy/presets.js';
import type { VisionConfig } from '../../../src/model/policy/config.js';

const RUNS = { numRuns: 40 } as const;
const values = (t: Tensor): number[] => Array.from(t.dataSync(), Number);
const seq = (shape: number[]): Tensor => {
  const n = shape.reduce((p, d) => p * d, 1);
  return tensor(Float64Array.from({ length: n }, (_, i) => i), { shape, dtype: 'float64' });
};

const geometryArb = fc.record({
  B: fc.integer({ min: 1, max: 2 }),
  C: fc.integer({ min: 1, max: 3 }),
  p: fc.integer({ min: 1, max: 4 }),
  gh: fc.integer({ min: 1, max: 3 }),
  gw: fc.integer({ min: 1, max: 3 }),
});

describe('patchify', () => {
  test('patch (i, j) holds pixel (c, i·p + r, j·p + s) at index c·p² + r·p + s', () => {
    fc.assert(
      fc.property(geometryArb, ({ B, C, p, gh, gw }) => {
        const H = gh * p;
        const W = gw * p;
        const x = seq([B, C, H, W]);
        const got = values(patchify(x, p));
        const xs = values(x);
        assert.equal(got.length, xs.length);
        for (let b = 0; b < B; b++)
          for (let i = 0; i < gh; i++)
            for (let j = 0; j < gw; j++)
              for (let c = 0; c < C; c++)
                for (let r = 0; r < p; r++)
                  for (let s = 0; s < p; s++) {
                    const at = ((b * gh * gw + i * gw + j) * C + c) * p * p + r * p + s;
                    assert.equal(got[at], xs[((b * C + c) * H + i * p + r) * W + j * p + s]);
                  }
      }),
      RUNS,
    );
  });

  test('unpatchify(patchify(x)) = x exactly, and patchify(unpatchify(P)) = P', () => {
    fc.assert(
      fc.property(geometryArb, fc.integer({ min: 0, max: 1000 }), ({ B, C, p, gh, gw }, seed) => {
        const geometry = { channels: C, height: gh * p, width: gw * p };
        const x = rand([B, C, gh * p, gw * p], { dtype: 'float64', generator: new Generator(seed) });
        assert.deepEqual(values(unpatchify(patchify(x, p), p, geometry)), values(x));
        const P = rand([B, gh * gw, C * p * p], { dtype: 'float64', generator: new Generator(seed + 1) });
        assert.deepEqual(values(patchify(unpatchify(P, p, geometry), p)), values(P));
      }),
      RUNS,
    );
  });

  test('bad shapes are named', () => {
    assert.throws(() => patchify(seq([1, 3, 10, 8]), 4), /patchify: height 10 of \[1, ?3, ?10, ?8\] is not divisible by 4/);
    assert.throws(() => patchify(seq([3, 8, 8]), 4), /patchify: expected images \[B, C, H, W\]/);
    assert.throws(() => unpatchify(seq([1, 4, 5]), 2, { channels: 1, height: 4, width: 4 }), /unpatchify: expected patches \[B, 4, 4\]/);
  });
});

describe('mergeTokens', () => {
  test('merged token (I, J) concatenates tokens (I·s + r, J·s + c) row by row', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), (s, mh, mw, D) => {
        const gh = mh * s;
        const gw = mw * s;
        const x = seq([2, gh * gw, D]);
        const got = values(mergeTokens(x, gh, gw, s));
        const xs = values(x);
        for (let b = 0; b < 2; b++)
          for (let I = 0; I < mh; I++)
            for (let J = 0; J < mw; J++)
              for (let r = 0; r < s; r++)
                for (let c = 0; c < s; c++)
                  for (let d = 0; d < D; d++) {
                    const at = ((b * mh * mw + I * mw + J) * s * s + r * s + c) * D + d;
                    assert.equal(got[at], xs[(b * gh * gw + (I * s + r) * gw + J * s + c) * D + d]);
                  }
      }),
      RUNS,
    );
  });
});

const small = (over: Partial<VisionConfig>): VisionConfig => ({ ...PRESETS.tiny.vision, width: 16, depth: 1, numHeads: 2, mlpHidden: 32, ...over });

describe('VisionEncoder', () => {
  test('224 × 224 images in 14 × 14 patches: 256 ViT features, 64 tokens after a 2 × 2 merge (the paper2b geometry)', () => {
    const vision = small({ imageSize: 224, patchSize: 14, tokenMerge: 2 });
    const enc = new VisionEncoder(vision, 24, { generator: new Generator(0) });
    const images = rand([1, 3, 224, 224], { generator: new Generator(1) });
    const features = noGrad(() => enc.vit.forward(images));
    assert.deepEqual(features.shape, [1, 256, 16]);
    assert.equal(enc.numTokens, 64);
    assert.deepEqual(noGrad(() => enc.forward(images)).shape, [1, 64, 24]);
  });

  test('32 × 32 images in 8 × 8 patches (the tiny preset): 16 tokens of the understanding width', () => {
    const cfg = PRESETS.tiny;
    const enc = new VisionEncoder(cfg.vision, cfg.understanding.hidden, { generator: new Generator(0) });
    const out = noGrad(() => enc.forward(rand([3, 3, 32, 32], { generator: new Generator(2) })));
    assert.deepEqual(out.shape, [3, 16, cfg.understanding.hidden]);
    assert.ok(values(out).every(Number.isFinite));
  });

  test('each image of a batch is encoded on its own', () => {
    const enc = new VisionEncoder(PRESETS.tiny.vision, 8, { generator: new Generator(3), dtype: 'float64' });
    const a = rand([1, 3, 32, 32], { dtype: 'float64', generator: new Generator(4) });
    const b = rand([1, 3, 32, 32], { dtype: 'float64', generator: new Generator(5) });
    const both = noGrad(() => enc.forward(tensor([...values(a), ...values(b)], { shape: [2, 3, 32, 32], dtype: 'float64' })));
    assert.deepEqual(values(both).slice(0, 16 * 8), values(noGrad(() => enc.forward(a))));
  });

  test('pixels are normalised per channel as (x − mean)/std, or taken as they are when pixelMean is null', () => {
    const withStats = new VisionTransformer(small({ pixelMean: [0.1, 0.2, 0.3], pixelStd: [0.5, 0.25, 2] }), { generator: new Generator(6), dtype: 'float64' });
    const raw = new VisionTransformer(small({ pixelMean: null, pixelStd: null }), { generator: new Generator(6), dtype: 'float64' });
    const x = rand([1, 3, 32, 32], { dtype: 'float64', generator: new Generator(7) });
    const xs = values(x);
    const normalised = tensor(xs.map((v, i) => {
      const c = Math.floor(i / 1024);
      return (v - [0.1, 0.2, 0.3][c]!) / [0.5, 0.25, 2][c]!;
    }), { shape: [1, 3, 32, 32], dtype: 'float64' });
    const got = values(noGrad(() => withStats.forward(x)));
    const want = values(noGrad(() => raw.forward(normalised)));
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-9, `feature ${i}: ${g} vs ${want[i]}`));
  });

  test('the ViT and the projector are separate submodules (Table 6 freezes them apart)', () => {
    const enc = new VisionEncoder(PRESETS.tiny.vision, 8, { generator: new Generator(0) });
    const names = enc.namedParameters().map(([n]) => n);
    assert.ok(names.every((n) => n.startsWith('vit.') || n.startsWith('projector.')));
    enc.freeze('vit');
    assert.equal(enc.numParameters(true), enc.projector.numParameters());
  });

  test('wrong image shapes and geometry are named', () => {
    const vit = new VisionTransformer(PRESETS.tiny.vision);
    assert.throws(() => vit.forward(rand([1, 3, 64, 64])), /VisionTransformer: expected images \[B, 3, 32, 32\], got \[1, ?3, ?64, ?64\]/);
    assert.throws(() => new VisionTransformer(small({ patchSize: 5 })), /vision\.patchSize must divide vision\.imageSize = 32, got 5/);
    assert.throws(() => new VisionProjector(16, 4, 3, 8), /merge 3 must divide gridSize 4/);
  });
});
