// Properties of batched unified sequences (Eq. 2-5, 9-10): shapes and padding, Ω_text and Ω_act mapped to
// flat batch indices, and padding that changes no real output of a real attention layer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, randn, tensor } from '../../src/tensor/index.js';
import { MultiHeadAttention } from '../../src/nn/index.js';
import { attentionMaskBits } from '../../src/model/hybrid-mask.js';
import { buildHybridSequence, buildSequence, sequenceMask, type Segment, type UnifiedSequence } from '../../src/model/sequence.js';
import { collateSequences } from '../../src/model/sequence-batch.js';
import { byteVocabulary } from '../../src/model/special-tokens.js';

const segmentArb: fc.Arbitrary<Segment> = fc.oneof(
  fc.record({ modality: fc.constant('text' as const), text: fc.string({ maxLength: 4, unit: 'binary-ascii' }) }),
  fc.record({ modality: fc.constant('vision' as const), patches: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ modality: fc.constant('state' as const) }),
  fc.record({ modality: fc.constant('action' as const), steps: fc.integer({ min: 1, max: 3 }) }),
);
const answerArb: fc.Arbitrary<Segment> = segmentArb.filter((s) => s.modality === 'text' || s.modality === 'action');
const seqArb: fc.Arbitrary<UnifiedSequence> = fc.oneof(
  fc.record({ query: fc.array(segmentArb, { minLength: 1, maxLength: 3 }), answer: fc.array(answerArb, { maxLength: 2 }) }).map((s) => buildSequence(s)),
  fc
    .record({ query: fc.array(segmentArb, { minLength: 1, maxLength: 3 }), flowSteps: fc.integer({ min: 1, max: 3 }), motionTokens: fc.integer({ min: 1, max: 3 }) })
    .map((s) => buildHybridSequence(s)),
);
const PAD = byteVocabulary.specials.pad;

describe('collateSequences', () => {
  test('Eq. 2-5: rows carry each sequence, padded on the right; Ω_text and Ω_act map to flat indices b·T + i', () => {
    fc.assert(
      fc.property(fc.array(seqArb, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), (seqs, extra) => {
        const T = Math.max(...seqs.map((s) => s.length)) + extra;
        const b = collateSequences(seqs, { length: T });
        const B = seqs.length;
        assert.equal(b.length, T);
        assert.deepEqual(b.tokenIds.shape, [B, T]);
        assert.deepEqual(b.attentionMask.shape, [B, 1, T, T]);
        const ids = b.tokenIds.dataSync();
        const pos = b.positionIds.dataSync();
        const real = b.paddingMask.dataSync();
        const act = b.actionExpertMask.dataSync();
        const mask = b.attentionMask.dataSync();
        seqs.forEach((s, r) => {
          for (let i = 0; i < T; i++) {
            const o = r * T + i;
            assert.equal(real[o], i < s.length ? 1 : 0);
            assert.equal(ids[o], i < s.length && s.tokenIds[i]! >= 0 ? s.tokenIds[i] : PAD);
            assert.equal(pos[o], i < s.length ? s.positionIds[i] : 0);
            assert.equal(act[o], i < s.length && s.expert[i] === 'action' ? 1 : 0);
          }
          assert.deepEqual([...mask.subarray(r * T * T, (r + 1) * T * T)], [...attentionMaskBits(s.segments, T)]);
        });
        const flat = (sets: Int32Array[]): number[] => sets.flatMap((set, r) => [...set].map((i) => r * T + i));
        assert.deepEqual([...b.textLossIndices], flat(seqs.map((s) => s.textLossIndices)));
        assert.deepEqual([...b.actionLossIndices], flat(seqs.map((s) => s.actionLossIndices)));
      }),
      { numRuns: 40 },
    );
  });

  test('padding changes no output at real positions of MultiHeadAttention (bit-identical to the unpadded sequence)', () => {
    fc.assert(
      fc.property(fc.array(seqArb, { minLength: 2, maxLength: 3 }), fc.integer({ min: 0, max: 1e6 }), (seqs, seed) => {
        const dim = 8;
        const attn = new MultiHeadAttention(dim, { numHeads: 2, rope: true, dtype: 'float64', generator: new Generator(seed) });
        const batch = collateSequences(seqs);
        const T = batch.length;
        const x = randn([seqs.length, T, dim], { dtype: 'float64', generator: new Generator(seed + 1) });
        const y = attn.forward(x, { mask: batch.attentionMask, positionIds: batch.positionIds }).dataSync();
        const xs = x.dataSync();
        seqs.forEach((s, r) => {
          if (s.length === 0) return; // an all-padding row has nothing to compare
          const xi = tensor(xs.slice(r * T * dim, (r * T + s.length) * dim), { shape: [1, s.length, dim] });
          const yi = attn.forward(xi, { mask: sequenceMask(s), positionIds: tensor(s.positionIds) }).dataSync();
          assert.deepEqual([...y.subarray(r * T * dim, (r * T + s.length) * dim)], [...yi]);
        });
      }),
      { numRuns: 20 },
    );
  });

  test('bad input throws, naming the function and the values', () => {
    const s = buildSequence({ query: [{ modality: 'text', text: 'abc' }], answer: [] });
    assert.throws(() => collateSequences([]), /collateSequences: expected a non-empty array/);
    assert.throws(() => collateSequences([s], { length: 2 }), /collateSequences: length 2 is shorter than the longest sequence \(3\)/);
    assert.throws(() => collateSequences([s], { padId: -1 }), /padId must be a non-negative integer, got -1/);
  });
});
