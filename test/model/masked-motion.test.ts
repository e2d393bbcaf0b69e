/**
 * Masked motion-token prediction (Eq. 8: L_MASK = −Σ_{i ∈ Ω_MASK} log p_θ(z_i | c)): the masking (count,
 * [MASK] placement, seeding), the loss against brute force, and that unmasked positions count for nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, grad, randint, randn, tensor, type Tensor } from '../../src/tensor/index.js';
import { MaskedMotionHead, maskedMotionLoss, maskMotionTokens } from '../../src/model/masked-motion.js';
import { gradcheck } from '../helpers/gradcheck.js';

const nums = (t: Tensor): number[] => Array.from(t.dataSync(), Number);

const sizes = fc.record({
  b: fc.integer({ min: 1, max: 4 }),
  tz: fc.integer({ min: 1, max: 9 }),
  k: fc.integer({ min: 1, max: 7 }),
  ratio: fc.double({ min: 0, max: 1, noNaN: true }),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

test('Eq. 8: each sample gets exactly max(1, round(ρ·T_z)) masked positions (none at ρ = 0), holding [MASK]; the rest are kept', () => {
  fc.assert(
    fc.property(sizes, ({ b, tz, k, ratio, seed }) => {
      const ids = randint(0, k, [b, tz], { generator: new Generator(seed) });
      const { input, mask } = maskMotionTokens(ids, { ratio, maskId: k, generator: new Generator(seed + 1) });
      assert.equal(input.dtype, 'int32');
      assert.equal(mask.dtype, 'bool');
      const m = nums(mask);
      const inp = nums(input);
      const orig = nums(ids);
      const want = ratio === 0 ? 0 : Math.max(1, Math.round(ratio * tz));
      for (let r = 0; r < b; r++) assert.equal(m.slice(r * tz, (r + 1) * tz).reduce((s, x) => s + x, 0), want, `row ${r}`);
      m.forEach((on, i) => assert.equal(inp[i], on ? k : orig[i]));
    }),
  );
});

test('Eq. 8: masking is reproducible from the seed, and every position gets masked under some draw', () => {
  const ids = randint(0, 5, [3, 6], { generator: new Generator(1) });
  const draw = (g: Generator): number[] => nums(maskMotionTokens(ids, { ratio: 0.25, maskId: 5, generator: g }).mask);
  assert.deepEqual(draw(new Generator(42)), draw(new Generator(42)));
  const g = new Generator(3);
  const hits = new Array<number>(18).fill(0);
  for (let i = 0; i < 60; i++) draw(g).forEach((x, j) => (hits[j]! += x));
  assert.ok(hits.every((h) => h > 0), `per-position mask counts ${hits}`);
});

/** −Σ log softmax(logits)[target] over the masked positions, in plain JS. */
function bruteForce(logits: number[], targets: number[], mask: number[], k: number): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  mask.forEach((on, i) => {
    if (!on) return;
    const row = logits.slice(i * k, (i + 1) * k);
    const top = Math.max(...row);
    const lse = top + Math.log(row.reduce((s, x) => s + Math.exp(x - top), 0));
    sum += lse - row[targets[i]!]!;
    count++;
  });
  return { sum, count };
}

test('Eq. 8: the loss is −Σ_{Ω_MASK} log p(z_i) (sum), divided by |Ω_MASK| for the mean (against brute force)', () => {
  fc.assert(
    fc.property(sizes, ({ b, tz, k, ratio, seed }) => {
      const g = new Generator(seed);
      const logits = randn([b, tz, k], { dtype: 'float64', generator: g }).mul(3);
      const ids = randint(0, k, [b, tz], { generator: g });
      const { mask } = maskMotionTokens(ids, { ratio, maskId: k, generator: g });
      const { sum, count } = bruteForce(nums(logits), nums(ids), nums(mask), k);
      const s = maskedMotionLoss(logits, ids, mask, { reduction: 'sum' }).item();
      const m = maskedMotionLoss(logits, ids, mask).item();
      assert.ok(Math.abs(s - sum) <= 1e-10 * (1 + Math.abs(sum)), `sum ${s} vs ${sum}`);
      const mean = count === 0 ? 0 : sum / count;
      assert.ok(Math.abs(m - mean) <= 1e-10 * (1 + Math.abs(mean)), `mean ${m} vs ${mean}`);
    }),
  );
});

test('Eq. 8: unmasked positions contribute nothing: changing their logits leaves the loss unchanged and their gradient exactly zero', () => {
  fc.assert(
    fc.property(sizes, fc.constantFrom('mean' as const, 'sum' as const), ({ b, tz, k, ratio, seed }, reduction) => {
      const g = new Generator(seed);
      const logits = randn([b, tz, k], { dtype: 'float64', generator: g });
      const ids = randint(0, k, [b, tz], { generator: g });
      const { mask } = maskMotionTokens(ids, { ratio, maskId: k, generator: g });
      const loss = (l: Tensor): Tensor => maskedMotionLoss(l, ids, mask, { reduction });
      // Replace every unmasked row by other values, some huge.
      const noise = randn([b, tz, k], { dtype: 'float64', generator: g }).mul(1e3);
      const changed = logits.add(noise.mul(mask.logicalNot().unsqueeze(-1).cast('float64')));
      assert.equal(loss(changed).item(), loss(logits).item());
      const gl = nums(grad(loss)(logits) as Tensor);
      const m = nums(mask);
      gl.forEach((x, i) => {
        if (!m[Math.floor(i / k)]) assert.ok(Object.is(x, 0) || Object.is(x, -0), `gradient ${x} at unmasked element ${i}`);
      });
    }),
  );
});

test('Eq. 8: gradients w.r.t. the logits match finite differences', () => {
  const g = new Generator(5);
  const logits = randn([2, 5, 4], { dtype: 'float64', generator: g });
  const ids = randint(0, 4, [2, 5], { generator: g });
  const { mask } = maskMotionTokens(ids, { ratio: 0.4, maskId: 4, generator: g });
  gradcheck((l) => maskedMotionLoss(l, ids, mask), [logits]);
  gradcheck((l) => maskedMotionLoss(l, ids, mask, { reduction: 'sum' }), [logits]);
});

test('Eq. 8: the motion-token head embeds |C| codes plus [MASK] (id |C|) and predicts |C| logits', () => {
  const head = new MaskedMotionHead(6, 8, { dtype: 'float64', generator: new Generator(2) });
  assert.equal(head.maskId, 6);
  assert.deepEqual(head.embedding.weight.shape, [7, 8]);
  const ids = randint(0, 6, [3, 4], { generator: new Generator(3) });
  const { input, mask } = maskMotionTokens(ids, { ratio: 0.5, maskId: head.maskId, generator: new Generator(4) });
  const hidden = head.embed(input);
  assert.deepEqual(hidden.shape, [3, 4, 8]);
  // Masked positions all carry the [MASK] row.
  const h = nums(hidden);
  const maskRow = nums(head.embedding.weight).slice(6 * 8);
  nums(mask).forEach((on, i) => {
    if (on) assert.deepEqual(h.slice(i * 8, (i + 1) * 8), maskRow);
  });
  assert.deepEqual(head.forward(hidden).shape, [3, 4, 6]);
  const loss = head.loss(hidden, ids, mask);
  loss.backward();
  assert.ok(Number.isFinite(loss.item()) && loss.item() > 0);
  assert.ok(nums(head.head.weight.grad!).some((x) => x !== 0));
});

test('Eq. 8: bad inputs throw at once, naming the function and shapes', () => {
  const ids = tensor([[0, 1, 2]], { dtype: 'int32' });
  assert.throws(() => maskMotionTokens(ids, { ratio: 1.5, maskId: 3 }), /maskMotionTokens: ratio must be in \[0, 1\], got 1.5/);
  assert.throws(() => maskMotionTokens(ids, { ratio: 0.5, maskId: 3.5 }), /maskMotionTokens: maskId/);
  assert.throws(() => maskMotionTokens(tensor([0, 1], { dtype: 'int32' }), { ratio: 0.5, maskId: 3 }), /maskMotionTokens: ids must be int32 \[B, T_z\], got int32 \[2\]/);
  const logits = randn([1, 3, 4]);
  const mask = tensor([[true, false, true]]);
  assert.throws(() => maskedMotionLoss(randn([3, 4]), ids, mask), /maskedMotionLoss: logits must be \[B, T_z, \|C\|\]/);
  assert.throws(() => maskedMotionLoss(logits, tensor([[0, 1]], { dtype: 'int32' }), mask), /maskedMotionLoss: targets must be int32 \[1,3\]/);
  assert.throws(() => maskedMotionLoss(logits, ids, tensor([[1, 0, 1]])), /maskedMotionLoss: mask must be bool \[1,3\]/);
  assert.throws(() => new MaskedMotionHead(0, 4), /MaskedMotionHead: numCodes/);
});
