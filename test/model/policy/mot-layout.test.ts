// Properties of the Mixture-of-Transformers layout (§5.1): the two packed streams are a permutation of
// the unified sequence — select and merge are inverse, differentiable gathers — and a collated batch's
// action-expert positions (state, action steps, motion tokens) go to the action stream, padding filling
// the shorter stream of each row.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tensor, vjp } from '../../../src/tensor/index.js';
import { MoTLayout, routingGroupsByPart } from '../../../src/model/policy/mot-layout.js';
import { buildHybridSequence, buildSequence } from '../../../src/model/sequence.js';
import { collateSequences } from '../../../src/model/sequence-batch.js';
import { gauss, values } from './mot-fixtures.js';

const RUNS = { numRuns: 30, includeErrorInReport: true } as const;

/** Random expert assignments: B rows of T positions, each row with the same number of action positions. */
const assignmentArb = fc
  .record({ B: fc.integer({ min: 1, max: 3 }), T: fc.integer({ min: 1, max: 7 }), seed: fc.integer({ min: 0, max: 1e6 }) })
  .chain(({ B, T, seed }) =>
    fc.integer({ min: 0, max: T }).chain((ta) =>
      fc
        .array(fc.shuffledSubarray(Array.from({ length: T }, (_, i) => i), { minLength: ta, maxLength: ta }), { minLength: B, maxLength: B })
        .map((rows) => ({ B, T, ta, seed, rows: rows.map((r) => new Set(r)) })),
    ),
  );

function maskOf(B: number, T: number, rows: Set<number>[]) {
  return tensor(Array.from({ length: B * T }, (_, k) => rows[Math.floor(k / T)]!.has(k % T)), { shape: [B, T], dtype: 'bool' });
}

describe('MoTLayout', () => {
  test('§5.1: the streams partition every row, each in sequence order, with the action expert owning exactly the masked positions', () => {
    fc.assert(
      fc.property(assignmentArb, ({ B, T, ta, rows }) => {
        const layout = MoTLayout.fromExpertMask(maskOf(B, T, rows));
        assert.equal(layout.actionLength, ta);
        assert.equal(layout.understandingLength, T - ta);
        const u = values(layout.understandingIndex);
        const a = values(layout.actionIndex);
        for (let b = 0; b < B; b++) {
          const ub = u.slice(b * (T - ta), (b + 1) * (T - ta));
          const ab = a.slice(b * ta, (b + 1) * ta);
          assert.deepEqual(ab, [...rows[b]!].sort((x, y) => x - y));
          assert.deepEqual([...ub, ...ab].sort((x, y) => x - y), Array.from({ length: T }, (_, i) => i));
          assert.ok(ub.every((p, i) => i === 0 || p > ub[i - 1]!));
        }
      }),
      RUNS,
    );
  });

  test('§5.1: merge(select(x, understanding), select(x, action)) is x exactly, and the gradient of the round trip is the identity', () => {
    fc.assert(
      fc.property(assignmentArb, fc.integer({ min: 1, max: 3 }), ({ B, T, rows, seed }, d) => {
        const layout = MoTLayout.fromExpertMask(maskOf(B, T, rows));
        const x = gauss([B, T, d], seed);
        const [y, back] = vjp((t) => layout.merge(layout.select(t, 'understanding'), layout.select(t, 'action')), x);
        assert.deepEqual(values(y), values(x));
        const g = gauss([B, T, d], seed + 1);
        assert.deepEqual(values(back(g)[0]!), values(g));
      }),
      RUNS,
    );
  });

  test('§5.1: selecting picks the rows of the positions each stream lists, for trailing axes of any rank and int32 data', () => {
    fc.assert(
      fc.property(assignmentArb, ({ B, T, rows }) => {
        const layout = MoTLayout.fromExpertMask(maskOf(B, T, rows));
        const ids = tensor(Int32Array.from({ length: B * T * 2 }, (_, k) => 1000 * Math.floor(k / (2 * T)) + Math.floor((k % (2 * T)) / 2)), {
          shape: [B, T, 2],
          dtype: 'int32',
        });
        for (const expert of ['understanding', 'action'] as const) {
          const index = values(expert === 'understanding' ? layout.understandingIndex : layout.actionIndex);
          const n = layout.lengthOf(expert);
          const picked = values(layout.select(ids, expert));
          const want = Array.from({ length: B * n * 2 }, (_, k) => {
            const b = Math.floor(k / (2 * n));
            return 1000 * b + index[b * n + Math.floor((k % (2 * n)) / 2)]!;
          });
          assert.deepEqual(picked, want);
        }
      }),
      RUNS,
    );
  });

  test('§5.1: a layout of one row serves a whole batch; a [U…; A…] layout takes the concatenation fast path with the same result', () => {
    const T = 5;
    const shared = MoTLayout.fromExpertMask(tensor([false, true, false, false, true], { dtype: 'bool' }));
    assert.equal(shared.rows, 1);
    const x = gauss([3, T, 2], 1);
    const perRow = MoTLayout.fromExpertMask(tensor(Array.from({ length: 3 * T }, (_, k) => [1, 4].includes(k % T)), { shape: [3, T], dtype: 'bool' }));
    for (const e of ['understanding', 'action'] as const) assert.deepEqual(values(shared.select(x, e)), values(perRow.select(x, e)));
    const blocks = MoTLayout.fromExpertMask(tensor([false, false, false, true, true], { dtype: 'bool' }));
    assert.ok(blocks.contiguous && !shared.contiguous);
    const explicit = new MoTLayout(tensor(Int32Array.from([0, 1, 2]), { shape: [1, 3], dtype: 'int32' }), tensor(Int32Array.from([3, 4]), { shape: [1, 2], dtype: 'int32' }), T);
    assert.deepEqual(values(blocks.select(x, 'action')), values(x.narrow(1, 3, 2)));
    assert.deepEqual(values(explicit.order), [0, 1, 2, 3, 4]);
  });

  test('Eq. 2-3, 9: in a collated batch the action stream holds the state, action and motion-token slots; padding fills the shorter stream', () => {
    // One row heavy in understanding positions, the other in action positions.
    const plain = buildSequence({ query: [{ modality: 'vision', patches: 3 }, { modality: 'text', text: 'pick up the cup' }, { modality: 'state' }], answer: [{ modality: 'action', steps: 1 }] });
    const hybrid = buildHybridSequence({ query: [{ modality: 'text', text: 'go' }, { modality: 'state', vectors: 2 }], flowSteps: 6, motionTokens: 5 });
    const seqs = [plain, hybrid];
    const counts = seqs.map((s) => [s.expert.filter((e) => e === 'understanding').length, s.expert.filter((e) => e === 'action').length] as const);
    const need = Math.max(...counts.map((c) => c[0])) + Math.max(...counts.map((c) => c[1]));
    assert.ok(need > Math.max(plain.length, hybrid.length), 'the rows cannot share T = the longest length');
    assert.throws(() => MoTLayout.fromBatch(collateSequences(seqs)), new RegExp(`pad the sequences to length ≥ ${need}`));
    const batch = collateSequences(seqs, { length: need });
    const layout = MoTLayout.fromBatch(batch);
    assert.equal(layout.actionLength, Math.max(...counts.map((c) => c[1])));
    const a = values(layout.actionIndex);
    seqs.forEach((s, b) => {
      const row = a.slice(b * layout.actionLength, (b + 1) * layout.actionLength);
      const real = row.filter((p) => p < s.length);
      assert.deepEqual(real, s.expert.flatMap((e, i) => (e === 'action' ? [i] : [])));
      assert.ok(real.every((p) => ['state', 'action', 'motion'].includes(s.slots[p]!.kind)));
      assert.equal(row.length - real.length, layout.actionLength - counts[b]![1], 'the padding that fills the row');
    });
  });

  test('Eq. 9, §5.1.2: routing groups by part — equal ids exactly within one part of one sample, padding its own unit', () => {
    const seqs = [
      buildHybridSequence({ query: [{ modality: 'text', text: 'go' }, { modality: 'state' }], flowSteps: 2, motionTokens: 2 }),
      buildSequence({ query: [{ modality: 'state' }], answer: [{ modality: 'action', steps: 2 }] }),
    ];
    const batch = collateSequences(seqs);
    const T = batch.length;
    const ids = values(routingGroupsByPart(batch));
    const label = (b: number, p: number) => `${b}:${p < seqs[b]!.length ? seqs[b]!.part[p] : 'pad'}`;
    for (let i = 0; i < ids.length; i++) {
      for (let j = 0; j < ids.length; j++) {
        const same = label(Math.floor(i / T), i % T) === label(Math.floor(j / T), j % T);
        assert.equal(ids[i] === ids[j], same, `${label(Math.floor(i / T), i % T)} vs ${label(Math.floor(j / T), j % T)}`);
      }
    }
  });

  test('§5.1: bad layouts throw, naming the layout and the values', () => {
    const i32 = (xs: number[]) => tensor(Int32Array.from(xs), { shape: [1, xs.length], dtype: 'int32' });
    assert.throws(() => new MoTLayout(i32([0, 1]), i32([1]), 3), /position 1 to both experts/);
    assert.throws(() => new MoTLayout(i32([1, 0]), i32([2]), 3), /must increase/);
    assert.throws(() => new MoTLayout(i32([0]), i32([1]), 3), /Tu \+ Ta = T = 3/);
    assert.throws(() => MoTLayout.fromExpertMask(tensor([[true, false], [true, true]], { dtype: 'bool' })), /different numbers of action positions \(1, 2\)/);
    assert.throws(() => MoTLayout.fromExpertMask(tensor([1, 0], { dtype: 'int32' })), /actionMask must be bool/);
    const layout = MoTLayout.fromExpertMask(tensor([[true, false], [false, true]], { dtype: 'bool' }));
    assert.throws(() => layout.select(gauss([2, 3, 1], 0), 'action'), /MoTLayout.select: expected \[B, 2, \.\.\.\]/);
    assert.throws(() => layout.select(gauss([3, 2, 1], 0), 'action'), /2 rows but the input \[3,2,1\]|2 rows but the input/);
    assert.throws(() => layout.merge(gauss([2, 1, 2], 0), gauss([2, 1, 3], 0)), /same trailing axes/);
  });
});
