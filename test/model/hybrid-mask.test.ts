// Properties of the hybrid mask (Eq. 9) and aligned positions (Eq. 10) of [S_Q; S_A^FM; S_A^MASK],
// on the mask itself and inside a real attention layer (MultiHeadAttention with RoPE): targets see the
// context and never each other, the context never sees the targets, causal text, bidirectional action
// chunks, and both targets starting at p0.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, randn, tensor, type Tensor } from '../../src/tensor/index.js';
import { MultiHeadAttention } from '../../src/nn/index.js';
import {
  HYBRID_GATING,
  alignedPositionIds,
  attentionMask,
  attentionMaskBits,
  hybridGate,
  positionIdTensor,
  type MaskSpan,
  type SequencePart,
} from '../../src/model/hybrid-mask.js';
import { buildHybridSequence, buildSequence, sequenceMask, type HybridSample, type Segment, type UnifiedSequence } from '../../src/model/sequence.js';

const RUNS = { numRuns: 40 };

const segmentArb: fc.Arbitrary<Segment> = fc.oneof(
  fc.record({ modality: fc.constant('text' as const), text: fc.string({ minLength: 1, maxLength: 4, unit: 'binary-ascii' }) }),
  fc.record({ modality: fc.constant('vision' as const), patches: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ modality: fc.constant('state' as const) }),
  fc.record({ modality: fc.constant('action' as const), steps: fc.integer({ min: 1, max: 3 }) }),
);
const hybridArb: fc.Arbitrary<HybridSample> = fc.record({
  query: fc.array(segmentArb, { minLength: 1, maxLength: 4 }),
  flowSteps: fc.integer({ min: 1, max: 4 }),
  motionTokens: fc.integer({ min: 1, max: 4 }),
});

function positionsOf(seq: UnifiedSequence, part: SequencePart): number[] {
  return seq.part.flatMap((p, i) => (p === part ? [i] : []));
}

describe('Eq. 9: hybrid attention mask', () => {
  test('Eq. 9: the gating rule reproduces G for [S_Q; S_A^FM; S_A^MASK]', () => {
    const parts: SequencePart[] = ['query', 'fm', 'mask'];
    parts.forEach((from, r) => parts.forEach((to, c) => assert.equal(hybridGate(from, to) ? 1 : 0, HYBRID_GATING[r]![c], `G[${from}][${to}]`)));
  });

  test('Eq. 9: FM and MASK targets see the whole context and never each other', () => {
    fc.assert(
      fc.property(hybridArb, (sample) => {
        const seq = buildHybridSequence(sample);
        const T = seq.length;
        const bits = attentionMaskBits(seq.segments, T);
        const ctx = positionsOf(seq, 'query');
        const fm = positionsOf(seq, 'fm');
        const mask = positionsOf(seq, 'mask');
        assert.equal(fm.length, sample.flowSteps + 2);
        assert.equal(mask.length, sample.motionTokens + 2);
        for (const [mine, other] of [[fm, mask], [mask, fm]] as const) {
          for (const i of mine) {
            for (const j of ctx) assert.equal(bits[i * T + j], 1, `target ${i} sees context ${j}`);
            for (const j of other) assert.equal(bits[i * T + j], 0, `target ${i} never sees the other target's ${j}`);
          }
        }
      }),
      RUNS,
    );
  });

  test('Eq. 9: the context never attends to either target', () => {
    fc.assert(
      fc.property(hybridArb, (sample) => {
        const seq = buildHybridSequence(sample);
        const T = seq.length;
        const bits = attentionMaskBits(seq.segments, T);
        for (const i of positionsOf(seq, 'query')) {
          for (const j of [...positionsOf(seq, 'fm'), ...positionsOf(seq, 'mask')]) assert.equal(bits[i * T + j], 0);
        }
      }),
      RUNS,
    );
  });

  test('Eq. 9: causal inside text, bidirectional inside images, states and action chunks (targets included), causal across segments', () => {
    fc.assert(
      fc.property(hybridArb, (sample) => {
        const seq = buildHybridSequence(sample);
        const T = seq.length;
        const bits = attentionMaskBits(seq.segments, T);
        for (const span of seq.segments) {
          for (let i = span.start; i < span.end; i++) {
            for (let j = span.start; j < span.end; j++) {
              const want = span.modality === 'text' ? (j <= i ? 1 : 0) : 1;
              assert.equal(bits[i * T + j], want, `${span.modality} span [${span.start}, ${span.end}): ${i} → ${j}`);
            }
          }
        }
        // Across two context segments: earlier keys only.
        const owner = (i: number): number => seq.segments.findIndex((s) => s.start <= i && i < s.end);
        for (const i of positionsOf(seq, 'query')) {
          for (const j of positionsOf(seq, 'query')) if (owner(i) !== owner(j)) assert.equal(bits[i * T + j], j < i ? 1 : 0);
        }
      }),
      RUNS,
    );
  });

  test('the tensor mask is bool [T, T] and equals the bits', () => {
    const seq = buildHybridSequence({ query: [{ modality: 'text', text: 'go' }, { modality: 'vision', patches: 2 }], flowSteps: 2, motionTokens: 3 });
    const m = sequenceMask(seq);
    assert.equal(m.dtype, 'bool');
    assert.deepEqual(m.shape, [seq.length, seq.length]);
    assert.deepEqual([...m.dataSync()], [...attentionMaskBits(seq.segments, seq.length)]);
  });

  test('spans: padding positions attend to nothing and are never attended', () => {
    fc.assert(
      fc.property(hybridArb, fc.integer({ min: 1, max: 3 }), (sample, extra) => {
        const seq = buildHybridSequence(sample);
        const T = seq.length + extra;
        const bits = attentionMaskBits(seq.segments, T);
        for (let i = 0; i < T; i++) {
          for (let j = seq.length; j < T; j++) assert.equal(bits[i * T + j] + bits[j * T + i], 0);
        }
        assert.deepEqual([...alignedPositionIds(seq.segments, T).subarray(seq.length)], new Array(extra).fill(0));
      }),
      { numRuns: 20 },
    );
  });

  test('bad spans throw, naming the function and the span', () => {
    const q: MaskSpan = { start: 0, end: 2, attention: 'causal', part: 'query' };
    assert.throws(() => attentionMask([q, { start: 1, end: 3, attention: 'full', part: 'fm' }], 3), /attentionMaskBits: span 1 \[1, 3\)/);
    assert.throws(() => attentionMask([q], 1), /span 0 \[0, 2\).*\[0, 1\)/);
    assert.throws(() => alignedPositionIds([{ ...q, part: 'fm' }, { start: 2, end: 3, attention: 'causal', part: 'query' }], 3), /alignedPositionIds: the context \(query\) must come first/);
    const split: MaskSpan[] = [q, { start: 2, end: 3, attention: 'full', part: 'fm' }, { start: 3, end: 4, attention: 'full', part: 'mask' }, { start: 4, end: 5, attention: 'full', part: 'fm' }];
    assert.throws(() => attentionMaskBits(split, 5), /part 'fm' is split around span 3/);
    assert.throws(() => attentionMaskBits([{ ...q, attention: 'sideways' as 'full' }], 2), /span 0 has attention 'sideways'/);
    assert.throws(() => attentionMaskBits([q], -1), /length must be a non-negative integer, got -1/);
    assert.throws(() => buildHybridSequence({ query: [], flowSteps: 0, motionTokens: 2 }), /buildHybridSequence: flowSteps must be a positive integer, got 0/);
  });
});

describe('Eq. 10: aligned positions', () => {
  test('Eq. 10: PE(j) = j in the context; both targets start at p0 = max context position + 1 and share their positions', () => {
    fc.assert(
      fc.property(hybridArb, (sample) => {
        const seq = buildHybridSequence(sample);
        const pos = seq.positionIds;
        const ctx = positionsOf(seq, 'query');
        for (const j of ctx) assert.equal(pos[j], j);
        const p0 = Math.max(...ctx.map((j) => pos[j]!)) + 1;
        const fm = positionsOf(seq, 'fm').map((j) => pos[j]);
        const mask = positionsOf(seq, 'mask').map((j) => pos[j]);
        assert.deepEqual(fm, Array.from({ length: fm.length }, (_, r) => p0 + r), 'S_A^FM: p0 + r(j)');
        assert.deepEqual(mask, Array.from({ length: mask.length }, (_, r) => p0 + r), 'S_A^MASK: p0 + r(j)');
        assert.deepEqual([...positionIdTensor(seq.segments, seq.length).dataSync()], [...pos]);
      }),
      RUNS,
    );
  });

  test('Eq. 10: p0 follows the largest context position, not the context length', () => {
    // A context with a padding gap in front: positions 2, 3 → p0 = 4.
    const spans: MaskSpan[] = [
      { start: 2, end: 4, attention: 'causal', part: 'query' },
      { start: 4, end: 6, attention: 'full', part: 'fm' },
      { start: 6, end: 7, attention: 'full', part: 'mask' },
    ];
    assert.deepEqual([...alignedPositionIds(spans, 7)], [0, 0, 2, 3, 4, 5, 4]);
  });
});

// ---- In a real attention layer -------------------------------------------------------------------

const DIM = 8;

function layer(seed: number): MultiHeadAttention {
  return new MultiHeadAttention(DIM, { numHeads: 2, rope: true, dtype: 'float64', generator: new Generator(seed) });
}

function rows(x: Tensor, idx: readonly number[]): number[][] {
  const d = x.dataSync();
  return idx.map((i) => Array.from(d.subarray(i * DIM, (i + 1) * DIM)));
}

/** x [1, T, DIM] with the rows at `idx` replaced by `values` (row-major, DIM each). */
function withRows(x: Tensor, idx: readonly number[], values: Float64Array | number[][]): Tensor {
  const d = Float64Array.from(x.dataSync());
  idx.forEach((i, r) => d.set(Array.isArray(values) ? values[r]! : values.subarray(r * DIM, (r + 1) * DIM), i * DIM));
  return tensor(d, { shape: x.shape });
}

function run(attn: MultiHeadAttention, x: Tensor, seq: UnifiedSequence, positions = positionIdTensor(seq.segments, seq.length)): Tensor {
  return attn.forward(x, { mask: sequenceMask(seq), positionIds: positions });
}

describe('Eq. 9-10 in MultiHeadAttention with RoPE', () => {
  test('Eq. 9: changing one target leaves the other target and the context bit-identical', () => {
    fc.assert(
      fc.property(hybridArb, fc.integer({ min: 0, max: 1e6 }), fc.constantFrom('fm', 'mask') as fc.Arbitrary<'fm' | 'mask'>, (sample, seed, changed) => {
        const seq = buildHybridSequence(sample);
        const attn = layer(seed);
        const x = randn([1, seq.length, DIM], { dtype: 'float64', generator: new Generator(seed + 1) });
        const target = positionsOf(seq, changed);
        const kept = seq.part.flatMap((p, i) => (p !== changed ? [i] : []));
        const noise = randn([target.length * DIM], { dtype: 'float64', generator: new Generator(seed + 2) }).dataSync() as Float64Array;
        const y = run(attn, x, seq);
        const y2 = run(attn, withRows(x, target, noise), seq);
        assert.deepEqual(rows(y2, kept), rows(y, kept), `outputs outside ${changed} are bit-identical`);
        assert.notDeepEqual(rows(y2, target), rows(y, target), `the changed ${changed} target's own outputs move`);
      }),
      { numRuns: 25 },
    );
  });

  test('Eq. 9-10: two identical targets get identical outputs', () => {
    fc.assert(
      fc.property(fc.array(segmentArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1e6 }), (query, n, seed) => {
        const seq = buildHybridSequence({ query, flowSteps: n, motionTokens: n });
        const attn = layer(seed);
        const fm = positionsOf(seq, 'fm');
        const mask = positionsOf(seq, 'mask');
        const x0 = randn([1, seq.length, DIM], { dtype: 'float64', generator: new Generator(seed + 1) });
        const x = withRows(x0, mask, rows(x0, fm)); // the MASK target's inputs copy the FM target's
        const y = run(attn, x, seq);
        assert.deepEqual(rows(y, mask), rows(y, fm));
        // Without Eq. 10 (positions 0…T−1) RoPE tells the two copies apart.
        const sequential = tensor(Int32Array.from({ length: seq.length }, (_, i) => i));
        assert.notDeepEqual(rows(run(attn, x, seq, sequential), mask), rows(run(attn, x, seq, sequential), fm));
      }),
      { numRuns: 25 },
    );
  });

  test('plain [S_Q; S_A]: changing the answer leaves the query outputs bit-identical; text stays causal', () => {
    fc.assert(
      fc.property(
        fc.array(segmentArb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.oneof(segmentArb.filter((s) => s.modality === 'text' || s.modality === 'action')), { minLength: 1, maxLength: 2 }),
        fc.integer({ min: 0, max: 1e6 }),
        (query, answer, seed) => {
          const seq = buildSequence({ query, answer });
          const attn = layer(seed);
          const x = randn([1, seq.length, DIM], { dtype: 'float64', generator: new Generator(seed + 1) });
          const ans = positionsOf(seq, 'answer');
          const ctx = positionsOf(seq, 'query');
          const noise = randn([ans.length * DIM], { dtype: 'float64', generator: new Generator(seed + 2) }).dataSync() as Float64Array;
          const y = run(attn, x, seq);
          assert.deepEqual(rows(run(attn, withRows(x, ans, noise), seq), ctx), rows(y, ctx));
          // Changing the last answer text token changes nothing before it.
          const last = seq.textLossIndices.at(-1);
          if (last !== undefined) {
            const before = Array.from({ length: last }, (_, i) => i);
            assert.deepEqual(rows(run(attn, withRows(x, [last], noise.subarray(0, DIM)), seq), before), rows(y, before));
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
