// Properties of scaled dot-product attention, MultiHeadAttention and the KV cache: weights are
// distributions, masks are exact, attention without positions is permutation-equivariant, causality,
// cached decoding and prefix reuse equal full recomputation, grouped-query heads, and gradients.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, arange, concat, full, noGrad, randn, tensor, type Tensor } from '../../src/tensor/index.js';
import { KVCache } from '../../src/nn/layers/kv-cache.js';
import { MultiHeadAttention, causalMask, scaledDotProductAttention, type MultiHeadAttentionOptions } from '../../src/nn/layers/attention.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { assertTensorsClose as assertClose } from '../helpers/tensor-close.js';

const RUNS = { numRuns: 15 };

function f64(shape: number[], seed: number): Tensor {
  return randn(shape, { dtype: 'float64', generator: new Generator(seed) });
}

function attnOf(dim: number, opts: MultiHeadAttentionOptions, seed = 0): MultiHeadAttention {
  return new MultiHeadAttention(dim, { dtype: 'float64', generator: new Generator(seed), ...opts });
}


/** A bool [Tq, Tk] tensor from a flat list of booleans. */
function boolMask(bits: boolean[], tq: number, tk: number): Tensor {
  return tensor(Float64Array.from(bits, (b) => (b ? 1 : 0)), { shape: [tq, tk], dtype: 'bool' });
}

/** Random attention configurations: batch, tokens, heads, kv heads, head size. */
const configArb = fc.record({
  B: fc.integer({ min: 1, max: 2 }),
  T: fc.integer({ min: 1, max: 5 }),
  Hkv: fc.integer({ min: 1, max: 2 }),
  G: fc.integer({ min: 1, max: 2 }),
  hd: fc.constantFrom(2, 4),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

/** A configuration and a permutation of its T tokens. */
const permutedArb = configArb.chain((c) =>
  fc.tuple(fc.constant(c), fc.shuffledSubarray(Array.from({ length: c.T }, (_, i) => i), { minLength: c.T, maxLength: c.T })),
);

describe('scaledDotProductAttention', () => {
  test('attention weights sum to 1 over the keys of every query row', () => {
    fc.assert(
      fc.property(configArb, fc.integer({ min: 1, max: 6 }), ({ B, T, Hkv, G, hd, seed }, Tk) => {
        const q = f64([B, Hkv * G, T, hd], seed);
        const k = f64([B, Hkv, Tk, hd], seed + 1);
        const v = f64([B, Hkv, Tk, 3], seed + 2);
        const { output, weights } = scaledDotProductAttention(q, k, v);
        assert.deepEqual(output.shape, [B, Hkv * G, T, 3]);
        assert.deepEqual(weights.shape, [B, Hkv * G, T, Tk]);
        for (const s of weights.sum(-1).dataSync()) assert.ok(Math.abs(s - 1) < 1e-12, `row sum ${s}`);
        for (const w of weights.dataSync()) assert.ok(w >= 0);
      }),
      RUNS,
    );
  });

  test('masked keys get exactly zero weight; fully masked rows give zero weights and output, not NaN', () => {
    fc.assert(
      fc.property(configArb, fc.array(fc.boolean(), { minLength: 36, maxLength: 36 }), ({ B, T, Hkv, G, hd, seed }, bits) => {
        const Tk = T + 1;
        const mask = boolMask(bits.slice(0, T * Tk), T, Tk);
        const q = f64([B, Hkv * G, T, hd], seed);
        const k = f64([B, Hkv, Tk, hd], seed + 1);
        const v = f64([B, Hkv, Tk, 2], seed + 2);
        const { output, weights } = scaledDotProductAttention(q, k, v, { mask });
        const w = weights.dataSync();
        const o = output.dataSync();
        const m = mask.dataSync();
        for (let r = 0; r < w.length / Tk; r++) {
          const i = r % T;
          let allowed = 0;
          let sum = 0;
          for (let j = 0; j < Tk; j++) {
            if (!m[i * Tk + j]) assert.equal(w[r * Tk + j], 0, `masked key ${j} of query ${i} has weight ${w[r * Tk + j]}`);
            else allowed++;
            sum += w[r * Tk + j]!;
          }
          if (allowed === 0) {
            assert.equal(sum, 0);
            assert.deepEqual([o[2 * r], o[2 * r + 1]], [0, 0]);
          } else assert.ok(Math.abs(sum - 1) < 1e-12);
        }
        for (const x of o) assert.ok(Number.isFinite(x));
      }),
      RUNS,
    );
  });

  test('an additive bias of −Infinity masks exactly like a false mask entry', () => {
    const q = f64([1, 2, 3, 4], 1);
    const k = f64([1, 2, 4, 4], 2);
    const v = f64([1, 2, 4, 4], 3);
    const mask = boolMask([true, false, true, true, false, false, true, false, true, true, true, false], 3, 4);
    const bias = noGrad(() => full([3, 4], 0, { dtype: 'float64' }).maskedFill(mask.logicalNot(), -Infinity));
    const a = scaledDotProductAttention(q, k, v, { mask });
    const b = scaledDotProductAttention(q, k, v, { bias });
    assert.deepEqual(Array.from(b.weights.dataSync()), Array.from(a.weights.dataSync()));
    assert.deepEqual(Array.from(b.output.dataSync()), Array.from(a.output.dataSync()));
  });

  test('matches a naive loop implementation (scale 1/√d, softmax, bias, grouped heads)', () => {
    const [B, H, Hkv, Tq, Tk, D, Dv] = [2, 4, 2, 3, 5, 4, 3];
    const q = f64([B, H, Tq, D], 11);
    const k = f64([B, Hkv, Tk, D], 12);
    const v = f64([B, Hkv, Tk, Dv], 13);
    const bias = f64([H, 1, Tk], 14);
    const { output } = scaledDotProductAttention(q, k, v, { bias });
    const [qd, kd, vd, bd] = [q, k, v, bias].map((t) => t.dataSync());
    const ref = new Float64Array(B * H * Tq * Dv);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / (H / Hkv));
        for (let i = 0; i < Tq; i++) {
          const s = Array.from({ length: Tk }, (_, j) => {
            let dot = 0;
            for (let d = 0; d < D; d++) dot += qd[((b * H + h) * Tq + i) * D + d]! * kd[((b * Hkv + g) * Tk + j) * D + d]!;
            return dot / Math.sqrt(D) + bd[h * Tk + j]!;
          });
          const mx = Math.max(...s);
          const e = s.map((x) => Math.exp(x - mx));
          const z = e.reduce((p, x) => p + x, 0);
          for (let c = 0; c < Dv; c++) {
            let acc = 0;
            for (let j = 0; j < Tk; j++) acc += (e[j]! / z) * vd[((b * Hkv + g) * Tk + j) * Dv + c]!;
            ref[((b * H + h) * Tq + i) * Dv + c] = acc;
          }
        }
      }
    assertClose(output, tensor(ref, { shape: [B, H, Tq, Dv], dtype: 'float64' }), 1e-12);
  });

  test('the causal mask is aligned to the last key: query i sees keys j ≤ i + Tk − Tq', () => {
    assert.deepEqual(causalMask(2, 4).toArray(), [
      [true, true, true, false],
      [true, true, true, true],
    ]);
    assert.deepEqual(causalMask(3, 3).toArray(), [
      [true, false, false],
      [true, true, false],
      [true, true, true],
    ]);
  });

  test('finite differences: gradients of q, k, v and bias under a mask with a fully masked row', () => {
    const mask = boolMask([true, true, false, true, false, false, false, false, true, false, true, true], 3, 4);
    const f = (q: Tensor, k: Tensor, v: Tensor, bias: Tensor): Tensor => scaledDotProductAttention(q, k, v, { mask, bias }).output;
    gradcheck(f, [f64([1, 4, 3, 2], 1), f64([1, 2, 4, 2], 2), f64([1, 2, 4, 3], 3), f64([1, 1, 3, 4], 4)]);
  });

  test('rejects a non-bool mask, a mask that does not broadcast to the scores, and ungroupable heads', () => {
    const q = f64([1, 3, 2, 4], 0);
    const k = f64([1, 3, 5, 4], 1);
    assert.throws(() => scaledDotProductAttention(q, k, k, { mask: full([2, 5], 1) }), /mask must be bool/);
    assert.throws(() => scaledDotProductAttention(q, k, k, { mask: full([2, 4], true) }), /mask \[2, ?4\] does not broadcast/);
    assert.throws(() => scaledDotProductAttention(q, k, k, { bias: f64([2, 2, 5], 0) }), /bias .* does not broadcast/);
    assert.throws(() => scaledDotProductAttention(q, f64([1, 2, 5, 4], 0), f64([1, 2, 5, 4], 0)), /3 query heads cannot be grouped over 2/);
  });
});

describe('MultiHeadAttention', () => {
  test('maps [B, T, dim] to [B, T, dim] with HF-style parameter names and shapes', () => {
    const attn = attnOf(16, { numHeads: 4, numKvHeads: 2, qkNorm: true, rope: true, bias: false });
    const names = Object.fromEntries(attn.namedParameters().map(([n, p]) => [n, p.shape]));
    assert.deepEqual(names, {
      'qProj.weight': [16, 16],
      'kProj.weight': [8, 16],
      'vProj.weight': [8, 16],
      'oProj.weight': [16, 16],
      'qNorm.weight': [4],
      'kNorm.weight': [4],
    });
    assert.equal(attn.headDim, 4);
    assert.deepEqual(attn.forward(f64([2, 5, 16], 0)).shape, [2, 5, 16]);
    assert.deepEqual(attnOf(8, { numHeads: 2, headDim: 5 }).qProj.weight.shape, [10, 8]);
    assert.equal(Object.keys(attn.stateDict()).length, 6, 'the RoPE table is not part of the state dict');
  });

  test('rejects numKvHeads that do not divide numHeads, and a width not divisible into heads', () => {
    assert.throws(() => attnOf(12, { numHeads: 4, numKvHeads: 3 }), /numKvHeads must be a positive divisor of numHeads = 4, got 3/);
    assert.throws(() => attnOf(10, { numHeads: 4 }), /dim 10 is not divisible by numHeads 4/);
    assert.throws(() => attnOf(8, { numHeads: 2 }).forward(f64([1, 3, 7], 0)), /expected input \[B, T, 8\], got \[1, ?3, ?7\]/);
    assert.throws(() => attnOf(8, { numHeads: 2 }).forward(f64([1, 3, 8], 0), { positionIds: arange(3) }), /no rotary embedding/);
    assert.throws(() => attnOf(8, { numHeads: 2, rope: true }).forward(f64([1, 3, 8], 0), { positionIds: arange(4) }), /positionIds must be int32/);
  });

  test('without positions (no RoPE), permuting the tokens permutes the outputs', () => {
    fc.assert(
      fc.property(permutedArb, ([{ B, T, Hkv, G, hd, seed }, perm]) => {
        const dim = 6;
        const attn = attnOf(dim, { numHeads: Hkv * G, numKvHeads: Hkv, headDim: hd, qkNorm: seed % 2 === 0 }, seed);
        const x = f64([B, T, dim], seed + 1);
        const idx = tensor(Int32Array.from(perm));
        const y = attn.forward(x);
        const yPermuted = attn.forward(x.indexSelect(1, idx));
        assertClose(yPermuted, y.indexSelect(1, idx), 1e-12, 'permuted outputs');
      }),
      RUNS,
    );
  });

  test('with a causal mask, changing a future token leaves every earlier output bit-identical', () => {
    fc.assert(
      fc.property(configArb, fc.nat(), ({ B, T, Hkv, G, hd, seed }, at) => {
        const dim = 4;
        const attn = new MultiHeadAttention(dim, { numHeads: Hkv * G, numKvHeads: Hkv, headDim: hd, rope: true, generator: new Generator(seed) });
        const x = randn([B, T, dim], { generator: new Generator(seed + 1) });
        const t = at % T;
        const changed = concat([x.narrow(1, 0, t), randn([B, T - t, dim], { generator: new Generator(seed + 2) })], 1);
        const y0 = attn.forward(x, { causal: true }).narrow(1, 0, t);
        const y1 = attn.forward(changed, { causal: true }).narrow(1, 0, t);
        assert.deepEqual(Array.from(y1.contiguous().dataSync()), Array.from(y0.contiguous().dataSync()));
      }),
      RUNS,
    );
  });

  test('explicit positionIds equal to arange give the default positions, as [T] and as [B, T]', () => {
    const attn = attnOf(8, { numHeads: 2, rope: true });
    const x = f64([2, 5, 8], 3);
    const y = attn.forward(x, { causal: true });
    assert.deepEqual(Array.from(attn.forward(x, { causal: true, positionIds: arange(5) }).dataSync()), Array.from(y.dataSync()));
    const rows = arange(5).unsqueeze(0).expand([2, 5]);
    assert.deepEqual(Array.from(attn.forward(x, { causal: true, positionIds: rows }).dataSync()), Array.from(y.dataSync()));
    const shifted = attn.forward(x, { causal: true, positionIds: arange(7, 12) });
    assertClose(shifted, y, 1e-9, 'RoPE attention is invariant to a common shift of all positions');
  });

  test('GQA with numKvHeads = 1 and = numHeads equals full multi-head attention with repeated k/v heads', () => {
    for (const Hkv of [1, 2, 4]) {
      const [dim, H, hd] = [8, 4, 2];
      const gqa = attnOf(dim, { numHeads: H, numKvHeads: Hkv, rope: true, qkNorm: true }, 5);
      const mha = attnOf(dim, { numHeads: H, numKvHeads: H, rope: true, qkNorm: true }, 6);
      const sd = gqa.stateDict();
      // Query head h reads kv head ⌊h / G⌋: repeat each kv head's rows G times.
      const repeat = (w: Tensor): Tensor => w.reshape([Hkv, 1, hd, -1]).expand([Hkv, H / Hkv, hd, w.shape[w.ndim - 1]!]).reshape([H * hd, -1]);
      const bias = (b: Tensor): Tensor => repeat(b.unsqueeze(-1)).reshape([-1]);
      mha.loadStateDict({
        ...sd,
        'kProj.weight': repeat(sd['kProj.weight']!),
        'vProj.weight': repeat(sd['vProj.weight']!),
        'kProj.bias': bias(sd['kProj.bias']!),
        'vProj.bias': bias(sd['vProj.bias']!),
      });
      const x = f64([2, 5, dim], 7);
      assertClose(gqa.forward(x, { causal: true }), mha.forward(x, { causal: true }), 1e-12, `numKvHeads = ${Hkv}`);
    }
  });

  test('fully masked query rows give the output bias (zero attention), without NaN in values or gradients', () => {
    const attn = attnOf(4, { numHeads: 2 });
    const x = f64([1, 3, 4], 1).requiresGrad_(true);
    const mask = boolMask([true, true, false, false, false, false, true, false, true], 3, 3);
    const y = attn.forward(x, { mask });
    assertClose(y.narrow(1, 1, 1).reshape([4]), attn.oProj.bias!, 1e-15, 'fully masked row');
    y.sum().backward();
    for (const g of x.grad!.dataSync()) assert.ok(Number.isFinite(g));
    for (const p of attn.parameters()) for (const g of p.grad!.dataSync()) assert.ok(Number.isFinite(g));
  });

  test('finite differences: gradient of the module output w.r.t. its input (RoPE, q/k norm, GQA, mask)', () => {
    const attn = attnOf(8, { numHeads: 2, numKvHeads: 1, qkNorm: true, rope: { base: 100 } }, 9);
    const mask = boolMask([true, false, false, true, true, false, false, true, true], 3, 3);
    gradcheck((x) => attn.forward(x, { mask, positionIds: tensor(Int32Array.from([0, 2, 2])) }), [f64([2, 3, 8], 2)], { rtol: 1e-5, atol: 1e-7 });
  });

  test('attention dropout is off in eval mode and repeats exactly under the same seed in training', () => {
    const make = (): MultiHeadAttention => attnOf(8, { numHeads: 2, attentionDropout: 0.5 }, 3);
    const x = f64([1, 6, 8], 4);
    const a = make();
    const b = make();
    const ya = a.forwardWithWeights(x);
    assert.deepEqual(Array.from(ya.output.dataSync()), Array.from(b.forward(x).dataSync()));
    for (const s of ya.weights.sum(-1).dataSync()) assert.ok(Math.abs(s - 1) < 1e-12, 'weights are reported before dropout');
    const noDrop = attnOf(8, { numHeads: 2 }, 3);
    assert.notDeepEqual(Array.from(ya.output.dataSync()), Array.from(noDrop.forward(x).dataSync()));
    assert.deepEqual(Array.from(a.eval().forward(x).dataSync()), Array.from(noDrop.forward(x).dataSync()));
  });
});

describe('KVCache', () => {
  const dim = 8;
  const opts: MultiHeadAttentionOptions = { numHeads: 4, numKvHeads: 2, rope: true, qkNorm: true };

  test('KV-cached decoding, token by token and in chunks, equals full causal recomputation', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 0, max: 1e6 }),
        (chunks, B, seed) => {
          const attn = attnOf(dim, opts, seed);
          const T = chunks.reduce((p, c) => p + c, 0);
          const x = f64([B, T, dim], seed + 1);
          const full1 = attn.forward(x, { causal: true });
          const cache = new KVCache();
          let at = 0;
          for (const c of chunks) {
            const y = attn.forward(x.narrow(1, at, c), { causal: true, cache: cache.layer(0) });
            assertClose(y, full1.narrow(1, at, c).contiguous(), 1e-12, `chunk at ${at}`);
            at += c;
            assert.equal(cache.length, at);
          }
          assert.deepEqual(cache.layer(0).positions!.toArray(), [Array.from({ length: T }, (_, i) => i)]);
          assert.deepEqual(cache.layer(0).keys!.shape, [B, 2, T, 2]);
        },
      ),
      RUNS,
    );
  });

  test('a frozen prefix is reused across different suffixes, equals full recomputation, and stays unchanged', () => {
    const attn = attnOf(dim, opts, 1);
    const P = 4;
    const S = 3;
    const prefixTokens = f64([1, P, dim], 2);
    // The UAC pattern: the prefix attends to itself; the suffix attends to the prefix and to itself.
    const cache = new KVCache();
    attn.forward(prefixTokens, { cache: cache.layer(0) });
    cache.freeze();
    const keys0 = cache.layer(0).keys!;
    const snapshot = Array.from(keys0.dataSync());
    const suffixMask = full([S, P + S], true);
    const fullMask = concat([concat([full([P, P], true), full([P, S], false)], 1), suffixMask], 0);
    for (const seed of [10, 11, 12]) {
      const suffix = f64([2, S, dim], seed);
      const cached = attn.forward(suffix, { cache: cache.layer(0), mask: suffixMask });
      const whole = attn.forward(concat([prefixTokens.expand([2, P, dim]), suffix], 1), { mask: fullMask });
      assertClose(cached, whole.narrow(1, P, S).contiguous(), 1e-12, `suffix ${seed}`);
      assert.equal(cache.length, P);
      assert.equal(cache.layer(0).keys, keys0);
      assert.deepEqual(Array.from(cache.layer(0).keys!.dataSync()), snapshot);
    }
    assert.throws(() => cache.crop(2), /frozen/);
  });

  test('a fork shares the prefix, appends on its own, and never changes the original', () => {
    const attn = attnOf(dim, opts, 3);
    const x = f64([1, 6, dim], 4);
    const base = new KVCache();
    attn.forward(x.narrow(1, 0, 3), { causal: true, cache: base.layer(0) });
    const keys0 = base.layer(0).keys!;
    const a = base.fork();
    const b = base.fork();
    const ya = attn.forward(x.narrow(1, 3, 3), { causal: true, cache: a.layer(0) });
    attn.forward(f64([1, 2, dim], 5), { causal: true, cache: b.layer(0) });
    assert.equal(base.length, 3);
    assert.equal(base.layer(0).keys, keys0);
    assert.equal(a.length, 6);
    assert.equal(b.length, 5);
    assertClose(ya, attn.forward(x, { causal: true }).narrow(1, 3, 3).contiguous(), 1e-12, 'forked decoding');
    a.crop(3);
    assert.equal(a.length, 3);
    assertClose(attn.forward(x.narrow(1, 3, 3), { causal: true, cache: a.layer(0) }), ya, 0, 'after crop');
    a.crop(0);
    assert.equal(a.length, 0);
    assert.deepEqual(a.layer(0).nextPositions(2).toArray(), [0, 1]);
  });

  test('positions continue from the largest cached position, so aligned (shared) positions resume correctly', () => {
    const attn = attnOf(dim, opts, 6);
    const cache = new KVCache();
    // Eq. 10: context 0..2, then two segments that both start at p0 = 3.
    const pos = tensor(Int32Array.from([0, 1, 2, 3, 4, 3, 4]));
    attn.forward(f64([1, 7, dim], 7), { cache: cache.layer(0), positionIds: pos });
    assert.deepEqual(cache.layer(0).nextPositions(2).toArray(), [[5, 6]]);
    assert.deepEqual(new KVCache().layer(0).nextPositions(3).toArray(), [0, 1, 2]);
  });

  test('two target segments with shared positions and a mutually invisible mask (Eq. 9-10) see the context identically', () => {
    const attn = attnOf(dim, opts, 8);
    const [Q, A] = [3, 2];
    const ctx = f64([1, Q, dim], 9);
    const seg = f64([1, A, dim], 10);
    // Identical tokens in both segments, same positions, each sees the context and itself only.
    const x = concat([ctx, seg, seg], 1);
    const pos = tensor(Int32Array.from([0, 1, 2, 3, 4, 3, 4]));
    const g = [
      [1, 1, 1, 0, 0, 0, 0],
      [1, 1, 1, 0, 0, 0, 0],
      [1, 1, 1, 0, 0, 0, 0],
      [1, 1, 1, 1, 0, 0, 0],
      [1, 1, 1, 1, 1, 0, 0],
      [1, 1, 1, 0, 0, 1, 0],
      [1, 1, 1, 0, 0, 1, 1],
    ];
    const mask = tensor(g.map((r) => r.map((v) => v === 1)));
    const y = attn.forward(x, { mask, positionIds: pos });
    assertClose(y.narrow(1, Q + A, A).contiguous(), y.narrow(1, Q, A).contiguous(), 1e-12, 'FM vs MASK segment outputs');
  });
});
