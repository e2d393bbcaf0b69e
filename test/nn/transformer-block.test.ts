// Properties of the pre-norm transformer block: it is the composition x + attn(norm1(x)), then
// + mlp(norm2(x)); options pick the norm and the feed-forward block; masks, biases, positions and the
// KV cache pass through, so a cached stack of blocks decodes exactly like the full sequence.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, arange, concat, full, noGrad, randn, type Tensor } from '../../src/tensor/index.js';
import { ModuleList } from '../../src/nn/module.js';
import { KVCache } from '../../src/nn/layers/kv-cache.js';
import { LayerNorm, RMSNorm } from '../../src/nn/layers/norm.js';
import { MLP, SwiGLU } from '../../src/nn/layers/mlp.js';
import { TransformerBlock, type TransformerBlockOptions } from '../../src/nn/layers/transformer-block.js';
import type { AttentionCallOptions } from '../../src/nn/layers/attention.js';
import { assertTensorsClose as assertClose } from '../helpers/tensor-close.js';

function f64(shape: number[], seed: number): Tensor {
  return randn(shape, { dtype: 'float64', generator: new Generator(seed) });
}

function blockOf(dim: number, opts: TransformerBlockOptions, seed = 0): TransformerBlock {
  return new TransformerBlock(dim, { dtype: 'float64', generator: new Generator(seed), ...opts });
}


const qwen: TransformerBlockOptions = { numHeads: 4, numKvHeads: 2, norm: 'rms', mlp: 'swiglu', bias: false, rope: true, qkNorm: true };

describe('TransformerBlock', () => {
  test('defaults are LayerNorm + GELU MLP; options choose RMSNorm + SwiGLU; parameter names are dotted paths', () => {
    const plain = blockOf(8, { numHeads: 2 });
    assert.ok(plain.norm1 instanceof LayerNorm && plain.norm2 instanceof LayerNorm && plain.mlp instanceof MLP);
    assert.deepEqual(plain.mlp.fc1.weight.shape, [32, 8]);
    const q = blockOf(8, { ...qwen, mlpHidden: 12 });
    assert.ok(q.norm1 instanceof RMSNorm && q.norm2 instanceof RMSNorm && q.mlp instanceof SwiGLU);
    assert.deepEqual(
      q.namedParameters().map(([n]) => n),
      [
        'norm1.weight',
        'attn.qProj.weight',
        'attn.kProj.weight',
        'attn.vProj.weight',
        'attn.oProj.weight',
        'attn.qNorm.weight',
        'attn.kNorm.weight',
        'norm2.weight',
        'mlp.gateProj.weight',
        'mlp.upProj.weight',
        'mlp.downProj.weight',
      ],
    );
    const stack = new ModuleList([blockOf(8, { numHeads: 2 }), blockOf(8, { numHeads: 2 })]);
    assert.ok(stack.namedParameters().some(([n]) => n === '1.attn.qProj.weight'));
    assert.deepEqual(q.forward(f64([2, 3, 8], 1)).shape, [2, 3, 8]);
    assert.throws(() => q.forward(f64([2, 3, 6], 1)), /TransformerBlock: expected input \[B, T, 8\]/);
  });

  test('the block is x + attn(norm1(x)) followed by h + mlp(norm2(h)) (pre-norm residuals)', () => {
    for (const opts of [{ numHeads: 2 }, qwen]) {
      const block = blockOf(8, opts, 3);
      const x = f64([2, 4, 8], 4);
      const call: AttentionCallOptions = { causal: true };
      const h = x.add(block.attn.forward(block.norm1.forward(x), call));
      const want = h.add(block.mlp.forward(block.norm2.forward(h)));
      assertClose(block.forward(x, call), want, 0, `${JSON.stringify(opts)}`);
    }
  });

  test('mask, bias and positionIds pass through to the attention', () => {
    const block = blockOf(8, qwen, 5);
    const x = f64([1, 4, 8], 6);
    const mask = noGrad(() => full([4, 4], true).tril());
    const bias = noGrad(() => full([4, 4], 0, { dtype: 'float64' }).maskedFill(mask.logicalNot(), -Infinity));
    const y = block.forward(x, { causal: true });
    assertClose(block.forward(x, { mask }), y, 0, 'mask');
    assertClose(block.forward(x, { bias }), y, 0, 'bias');
    assertClose(block.forward(x, { causal: true, positionIds: arange(4) }), y, 0, 'positionIds = arange');
    const w = block.forwardWithWeights(x, { mask }).weights;
    assert.deepEqual(w.shape, [1, 4, 4, 4]);
  });

  test('a causal stack of blocks makes earlier outputs independent of future tokens', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.nat(), fc.nat(), (T, at, seed) => {
        const blocks = [blockOf(8, qwen, seed), blockOf(8, { numHeads: 2, rope: true }, seed + 1)];
        const run = (x: Tensor): Tensor => blocks.reduce((h, b) => b.forward(h, { causal: true }), x);
        const x = f64([1, T, 8], seed + 2);
        const t = at % T;
        const changed = concat([x.narrow(1, 0, t), f64([1, T - t, 8], seed + 3)], 1);
        assert.deepEqual(Array.from(run(changed).narrow(1, 0, t).contiguous().dataSync()), Array.from(run(x).narrow(1, 0, t).contiguous().dataSync()));
      }),
      { numRuns: 10 },
    );
  });

  test('a cached stack of blocks decodes in chunks exactly like full recomputation', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), fc.nat(), (chunks, seed) => {
        const blocks = [blockOf(8, qwen, seed), blockOf(8, qwen, seed + 1)];
        const T = chunks.reduce((p, c) => p + c, 0);
        const x = f64([2, T, 8], seed + 2);
        const full1 = blocks.reduce((h, b) => b.forward(h, { causal: true }), x);
        const cache = new KVCache();
        let at = 0;
        for (const c of chunks) {
          const y = blocks.reduce((h, b, i) => b.forward(h, { causal: true, cache: cache.layer(i) }), x.narrow(1, at, c));
          assertClose(y, full1.narrow(1, at, c).contiguous(), 1e-12, `chunk at ${at}`);
          at += c;
        }
        assert.equal(cache.numLayers, 2);
        assert.equal(cache.layer(1).length, T);
      }),
      { numRuns: 10 },
    );
  });

  test('residual dropout is the identity in eval mode and changes the output in training mode', () => {
    const block = blockOf(8, { numHeads: 2, residualDropout: 0.5, attentionDropout: 0.2 }, 7);
    const ref = blockOf(8, { numHeads: 2 }, 7);
    const x = f64([1, 3, 8], 8);
    assert.notDeepEqual(Array.from(block.forward(x).dataSync()), Array.from(ref.forward(x).dataSync()));
    assert.deepEqual(Array.from(block.eval().forward(x).dataSync()), Array.from(ref.forward(x).dataSync()));
    assert.equal(block.attn.training, false);
  });
});
