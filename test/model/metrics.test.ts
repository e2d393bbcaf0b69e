/**
 * Table 8's MWDS: the mean over a batch of cos(Δp̂_wrist, Δp_wrist), the displacement taken from the
 * first to the last state. Bounds, the exact values for identical and reversed motion, invariance to
 * positive scaling and to the starting pose, the zero-displacement rule, and slot selection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, randn, tensor, zeros, type Tensor } from '../../src/tensor/index.js';
import { meanWristDisplacementSimilarity, wristDisplacementCosine } from '../../src/model/metrics.js';
import { UNIFIED_LAYOUT } from '../../src/model/action-space.js';

const nums = (t: Tensor): number[] => Array.from(t.dataSync(), Number);
const close = (a: number, b: number, tol = 1e-12): boolean => Math.abs(a - b) <= tol;

const batch = fc.record({
  b: fc.integer({ min: 1, max: 5 }),
  t: fc.integer({ min: 2, max: 6 }),
  f: fc.integer({ min: 1, max: 5 }),
  seed: fc.integer({ min: 0, max: 1e6 }),
});
const trajectories = ({ b, t, f, seed }: { b: number; t: number; f: number; seed: number }): [Tensor, Tensor] => {
  const g = new Generator(seed);
  return [randn([b, t, f], { dtype: 'float64', generator: g }), randn([b, t, f], { dtype: 'float64', generator: g })];
};

/** `p̂_t = 2·p_1 − p_t`: the same start, the opposite displacement. */
const reflect = (x: Tensor): Tensor => x.narrow(1, 0, 1).mul(2).sub(x);

test('Table 8: MWDS lies in [−1, 1] and is the mean of per-sample cosines of first-to-last displacements (against brute force)', () => {
  fc.assert(
    fc.property(batch, (sz) => {
      const [pred, target] = trajectories(sz);
      const mwds = meanWristDisplacementSimilarity(pred, target).item();
      assert.ok(mwds >= -1 && mwds <= 1, `MWDS ${mwds}`);
      const { b, t, f } = sz;
      const p = nums(pred);
      const q = nums(target);
      const at = (x: number[], s: number, step: number, k: number): number => x[(s * t + step) * f + k]!;
      const want = Array.from({ length: b }, (_, s) => {
        const dp = Array.from({ length: f }, (_, k) => at(p, s, t - 1, k) - at(p, s, 0, k));
        const dq = Array.from({ length: f }, (_, k) => at(q, s, t - 1, k) - at(q, s, 0, k));
        const dot = dp.reduce((acc, x, k) => acc + x * dq[k]!, 0);
        return dot / (Math.hypot(...dp) * Math.hypot(...dq));
      });
      nums(wristDisplacementCosine(pred, target)).forEach((c, s) => assert.ok(close(c, want[s]!, 1e-10), `sample ${s}: ${c} vs ${want[s]}`));
      assert.ok(close(mwds, want.reduce((a, x) => a + x, 0) / b, 1e-10));
    }),
  );
});

test('Table 8: MWDS is 1 for identical trajectories and −1 for reversed displacement', () => {
  fc.assert(
    fc.property(batch, (sz) => {
      const [, target] = trajectories(sz);
      assert.ok(close(meanWristDisplacementSimilarity(target, target).item(), 1));
      assert.ok(close(meanWristDisplacementSimilarity(reflect(target), target).item(), -1));
    }),
  );
});

test('Table 8: MWDS is invariant to positive scaling and to the starting pose of the prediction, and flips sign under negation', () => {
  fc.assert(
    fc.property(batch, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (sz, c) => {
      const [pred, target] = trajectories(sz);
      const base = nums(wristDisplacementCosine(pred, target));
      const shift = randn([sz.b, 1, sz.f], { dtype: 'float64', generator: new Generator(sz.seed + 1) });
      const scaled = nums(wristDisplacementCosine(pred.mul(c).add(shift), target));
      const negated = nums(wristDisplacementCosine(pred.mul(-c), target));
      base.forEach((x, i) => {
        assert.ok(close(scaled[i]!, x, 1e-9), `scaled by ${c}: ${scaled[i]} vs ${x}`);
        assert.ok(close(negated[i]!, -x, 1e-9), `negated: ${negated[i]} vs ${-x}`);
      });
    }),
  );
});

test('Table 8: zero displacement: both zero gives 1, exactly one zero gives 0, never NaN', () => {
  const still = tensor([[[1, 2, 3], [4, 4, 4], [1, 2, 3]]], { dtype: 'float64' }); // returns to its start
  const moving = tensor([[[0, 0, 0], [1, 0, 0], [2, 1, 0]]], { dtype: 'float64' });
  assert.equal(meanWristDisplacementSimilarity(still, still).item(), 1);
  assert.equal(meanWristDisplacementSimilarity(zeros([1, 3, 3], { dtype: 'float64' }), still).item(), 1);
  assert.equal(meanWristDisplacementSimilarity(still, moving).item(), 0);
  assert.equal(meanWristDisplacementSimilarity(moving, still).item(), 0);
  // Below eps counts as zero; above it the direction counts.
  const tiny = moving.mul(1e-12);
  assert.equal(meanWristDisplacementSimilarity(tiny, moving).item(), 0);
  assert.ok(close(meanWristDisplacementSimilarity(tiny, moving, { eps: 0 }).item(), 1));
  // Mixed batch: [both still, one still, same direction] → (1 + 0 + 1) / 3.
  const pred = tensor([[[0, 0], [0, 0]], [[0, 0], [1, 1]], [[0, 0], [2, 0]]], { dtype: 'float64' });
  const target = tensor([[[5, 5], [5, 5]], [[0, 0], [0, 0]], [[1, 1], [4, 1]]], { dtype: 'float64' });
  assert.deepEqual(nums(wristDisplacementCosine(pred, target)), [1, 0, 1]);
  assert.ok(close(meanWristDisplacementSimilarity(pred, target).item(), 2 / 3));
});

test('Table 8: wrist-position indices select the slots; other features are ignored', () => {
  fc.assert(
    fc.property(batch, fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 3 }), (sz, idx) => {
      const f = 8;
      const [pred, target] = trajectories({ ...sz, f });
      const pick = (x: Tensor): Tensor => x.indexSelect(2, tensor(Int32Array.from(idx)));
      const viaIndices = meanWristDisplacementSimilarity(pred, target, { indices: idx }).item();
      assert.ok(close(viaIndices, meanWristDisplacementSimilarity(pick(pred), pick(target)).item()));
      // Scramble the other features of the prediction: nothing changes.
      const others = tensor(Array.from({ length: f }, (_, k) => (idx.includes(k) ? 0 : 1)), { dtype: 'float64' });
      const noise = randn(pred.shape, { dtype: 'float64', generator: new Generator(sz.seed + 2) }).mul(others);
      assert.equal(meanWristDisplacementSimilarity(pred.add(noise), target, { indices: idx }).item(), viaIndices);
    }),
  );
});

test('Table 8: a unified-layout slot selects the wrist position, as its indices do', () => {
  const wrist = UNIFIED_LAYOUT.slot('right_eef_pos');
  const g = new Generator(4);
  const pred = randn([3, 4, UNIFIED_LAYOUT.dim], { dtype: 'float64', generator: g });
  const target = randn([3, 4, UNIFIED_LAYOUT.dim], { dtype: 'float64', generator: g });
  const idx = Array.from({ length: wrist.size }, (_, i) => wrist.offset + i);
  assert.equal(
    meanWristDisplacementSimilarity(pred, target, { indices: wrist }).item(),
    meanWristDisplacementSimilarity(pred, target, { indices: idx }).item(),
  );
  assert.throws(() => meanWristDisplacementSimilarity(pred, target, { indices: { offset: -1, size: 3 } }), /wristDisplacementCosine: a slot needs/);
});

test('Table 8: MWDS works in float32', () => {
  const target = randn([4, 5, 3], { generator: new Generator(9) });
  const mwds = meanWristDisplacementSimilarity(target, target);
  assert.equal(mwds.dtype, 'float32');
  assert.ok(Math.abs(mwds.item() - 1) < 1e-6);
});

test('MWDS: bad inputs throw at once, naming the function and shapes', () => {
  const x = randn([2, 4, 3]);
  assert.throws(() => meanWristDisplacementSimilarity(x, randn([2, 4, 2])), /wristDisplacementCosine: pred and target must be \[B, T, F\] of one shape, got \[2,4,3\] and \[2,4,2\]/);
  assert.throws(() => meanWristDisplacementSimilarity(randn([2, 1, 3]), randn([2, 1, 3])), /wristDisplacementCosine: trajectories need T ≥ 2/);
  assert.throws(() => meanWristDisplacementSimilarity(x, x, { indices: [0, 3] }), /wristDisplacementCosine: indices \[3\] are not features of \[B, T, 3\]/);
  assert.throws(() => meanWristDisplacementSimilarity(x, x, { indices: [] }), /indices must not be empty/);
  assert.throws(() => meanWristDisplacementSimilarity(x, x.cast('float64')), /wristDisplacementCosine: pred float32 and target float64 differ in dtype/);
  assert.throws(() => meanWristDisplacementSimilarity(randn([0, 4, 3]), randn([0, 4, 3])), /meanWristDisplacementSimilarity: the batch is empty/);
  assert.throws(() => meanWristDisplacementSimilarity(x.cast('int32'), x.cast('int32')), /must be float32 or float64/);
});
