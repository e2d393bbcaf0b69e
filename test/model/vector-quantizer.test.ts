/**
 * The motion tokenizer's quantiser (§5.2.3; its ids are the targets of Eq. 8): nearest code against brute
 * force, the straight-through gradient, the codebook + commitment loss, EMA updates and dead-code reset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, noGrad, tensor, vjp, randn, type Tensor } from '../../src/tensor/index.js';
import { VectorQuantizer } from '../../src/model/vector-quantizer.js';

const f64 = (t: Tensor): number[] => Array.from(t.dataSync(), Number);
const rows = (t: Tensor): number[][] => {
  const d = t.shape[t.ndim - 1]!;
  const v = f64(t);
  return Array.from({ length: v.length / d }, (_, i) => v.slice(i * d, (i + 1) * d));
};
const sqDist = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0);

/** A float64 quantiser whose codebook is `codes`. */
function quantizerWith(codes: number[][], opts: ConstructorParameters<typeof VectorQuantizer>[2] = {}): VectorQuantizer {
  const vq = new VectorQuantizer(codes.length, codes[0]!.length, { dtype: 'float64', generator: new Generator(0), ...opts });
  noGrad(() => {
    vq.codebook.copy_(tensor(codes, { dtype: 'float64' }));
    vq.embedSum?.copy_(tensor(codes, { dtype: 'float64' }));
  });
  return vq;
}

const matrix = (n: number, d: number): fc.Arbitrary<number[][]> =>
  fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: d, maxLength: d }), { minLength: n, maxLength: n });
const problem = fc
  .record({ k: fc.integer({ min: 1, max: 8 }), d: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 1, max: 6 }) })
  .chain(({ k, d, n }) => fc.record({ codes: matrix(k, d), z: matrix(n, d) }));

test('Eq. 8 tokens: quantisation returns the nearest code by squared distance (against brute force)', () => {
  fc.assert(
    fc.property(problem, ({ codes, z }) => {
      const vq = quantizerWith(codes);
      const { ids, quantized } = vq.quantize(tensor(z, { dtype: 'float64' }));
      const got = f64(ids);
      const q = rows(quantized);
      z.forEach((zi, i) => {
        const dists = codes.map((c) => sqDist(zi, c));
        const best = Math.min(...dists);
        const id = got[i]!;
        // The expanded form ‖e‖² − 2z·e rounds differently from Σ(z − e)²: allow a rounding-sized slack.
        assert.ok(dists[id]! <= best + 1e-9 * (1 + best), `z ${i}: code ${id} at ${dists[id]}, nearest at ${best}`);
        // z + (q − z) is q up to one rounding of each sum.
        q[i]!.forEach((x, j) => assert.ok(Math.abs(x - codes[id]![j]!) <= 1e-15 * (Math.abs(z[i]![j]!) + Math.abs(x) + 1), `z ${i}: z_q ≠ code ${id}`));
      });
    }),
  );
});

test('Eq. 8 tokens: quantize accepts any leading shape and returns ids of that shape', () => {
  const vq = new VectorQuantizer(5, 3, { generator: new Generator(1) });
  const z = randn([2, 4, 3], { generator: new Generator(2) });
  const { ids, quantized } = vq.quantize(z);
  assert.deepEqual(ids.shape, [2, 4]);
  assert.equal(ids.dtype, 'int32');
  assert.deepEqual(quantized.shape, [2, 4, 3]);
  assert.deepEqual(f64(ids), f64(vq.quantize(z.reshape([8, 3])).ids));
});

test('Eq. 8 tokens: the straight-through gradient w.r.t. z is the identity', () => {
  fc.assert(
    fc.property(problem, fc.integer({ min: 0, max: 1000 }), ({ codes, z }, seed) => {
      for (const mode of ['ema', 'gradient'] as const) {
        const vq = quantizerWith(codes, { codebookUpdate: mode });
        const zt = tensor(z, { dtype: 'float64' });
        const [out, back] = vjp((x) => vq.quantize(x).quantized, zt);
        const v = randn(out.shape, { dtype: 'float64', generator: new Generator(seed) });
        assert.deepEqual(f64(back(v)[0]!), f64(v), `${mode}: dz_q/dz must be I`);
      }
    }),
  );
});

test('Eq. 8 tokens: codebook + commitment loss, with gradients split by the stop-gradients', () => {
  const codes = rows(randn([6, 3], { dtype: 'float64', generator: new Generator(3) }));
  const z = randn([5, 3], { dtype: 'float64', generator: new Generator(4) });
  const beta = 0.25;
  const vq = quantizerWith(codes, { codebookUpdate: 'gradient', beta });
  const zl = z.detach().requiresGrad_(true);
  const out = vq.quantize(zl);
  const q = rows(out.quantized);
  const zs = rows(z);
  const n = z.size;
  const sq = zs.reduce((s, zi, i) => s + sqDist(zi, q[i]!), 0) / n;
  assert.ok(Math.abs(out.commitmentLoss.item() - sq) < 1e-12);
  assert.ok(Math.abs(out.codebookLoss.item() - sq) < 1e-12);
  assert.ok(Math.abs(out.loss.item() - (1 + beta) * sq) < 1e-12);
  out.loss.backward();
  // z gets only the commitment term: β·2(z − q)/n. The codebook gets only the codebook term: 2(q − z)/n per use.
  const gz = rows(zl.grad!);
  zs.forEach((zi, i) => zi.forEach((x, j) => assert.ok(Math.abs(gz[i]![j]! - (beta * 2 * (x - q[i]![j]!)) / n) < 1e-12)));
  const ids = f64(out.ids);
  const want = codes.map((c) => c.map(() => 0));
  zs.forEach((zi, i) => zi.forEach((x, j) => (want[ids[i]!]![j]! += (2 * (q[i]![j]! - x)) / n)));
  rows(vq.codebook.grad!).forEach((r, k) => r.forEach((g, j) => assert.ok(Math.abs(g - want[k]![j]!) < 1e-12)));
});

test('Eq. 8 tokens: under EMA the loss is β·commitment alone and the codebook is a buffer', () => {
  const vq = new VectorQuantizer(4, 2, { dtype: 'float64', beta: 0.5, generator: new Generator(5) });
  const out = vq.quantize(randn([7, 2], { dtype: 'float64', generator: new Generator(6) }));
  assert.equal(out.codebookLoss.item(), 0);
  assert.ok(Math.abs(out.loss.item() - 0.5 * out.commitmentLoss.item()) < 1e-15);
  assert.equal(vq.parameters().length, 0);
  assert.ok(vq.namedBuffers().some(([name]) => name === 'codebook'));
});

test('Eq. 8 tokens: an EMA update moves every used code toward the mean of its assigned latents', () => {
  fc.assert(
    fc.property(problem, fc.double({ min: 0.5, max: 0.99, noNaN: true }), ({ codes, z }, decay) => {
      const vq = quantizerWith(codes, { decay });
      const zt = tensor(z, { dtype: 'float64' });
      const ids = f64(vq.nearest(zt));
      vq.update(zt, vq.nearest(zt));
      const after = rows(vq.codebook);
      codes.forEach((c, k) => {
        const mine = z.filter((_, i) => ids[i] === k);
        if (mine.length === 0) {
          // Unused: only the Laplace smoothing's renormalisation touches it.
          c.forEach((x, j) => assert.ok(Math.abs(after[k]![j]! - x) <= 1e-3 * (1 + Math.abs(x))));
          return;
        }
        const mean = c.map((_, j) => mine.reduce((s, r) => s + r[j]!, 0) / mine.length);
        const before = sqDist(c, mean);
        const now = sqDist(after[k]!, mean);
        if (before > 1e-6) assert.ok(now < before, `code ${k}: ${now} ≥ ${before}`);
        else assert.ok(now < 1e-6);
      });
    }),
  );
});

test('Eq. 8 tokens: with decay 0 an EMA update puts each used code at its assigned mean', () => {
  const codes = rows(randn([4, 3], { dtype: 'float64', generator: new Generator(7) }));
  const z = randn([20, 3], { dtype: 'float64', generator: new Generator(8) });
  const vq = quantizerWith(codes, { decay: 0, epsilon: 1e-12 });
  const ids = vq.nearest(z);
  vq.update(z, ids);
  const id = f64(ids);
  const zs = rows(z);
  rows(vq.codebook).forEach((e, k) => {
    const mine = zs.filter((_, i) => id[i] === k);
    if (mine.length === 0) return;
    e.forEach((x, j) => assert.ok(Math.abs(x - mine.reduce((s, r) => s + r[j]!, 0) / mine.length) < 1e-9));
  });
});

test('Eq. 8 tokens: a dead code is reset onto a batch latent, reproducibly from the seed', () => {
  const run = (seed: number): number[][] => {
    // Code 2 is far from every latent, so it is never used; its usage 1 decays to 0.5 < 0.6.
    const vq = quantizerWith([[0, 0], [1, 1], [100, 100]], { decay: 0.5, deadCodeThreshold: 0.6, generator: new Generator(seed) });
    const z = tensor([[0.1, 0], [0.9, 1], [1.1, 1.2], [-0.2, 0.1]], { dtype: 'float64' });
    vq.forward(z);
    const after = rows(vq.codebook);
    const zs = rows(z);
    assert.ok(zs.some((r) => sqDist(r, after[2]!) === 0), `code 2 ${after[2]} is not a latent of the batch`);
    assert.equal(f64(vq.clusterSize)[2], 0.6);
    assert.deepEqual(rows(vq.embedSum!)[2], after[2]!.map((x) => x * 0.6));
    return after;
  };
  assert.deepEqual(run(11), run(11));
});

test('Eq. 8 tokens: forward updates the statistics in training mode only; quantize never does', () => {
  const vq = new VectorQuantizer(4, 2, { dtype: 'float64', generator: new Generator(9) });
  const z = randn([8, 2], { dtype: 'float64', generator: new Generator(10) });
  const snapshot = (): number[][] => [f64(vq.codebook), f64(vq.clusterSize)];
  const start = snapshot();
  vq.quantize(z);
  assert.deepEqual(snapshot(), start);
  vq.eval().forward(z);
  assert.deepEqual(snapshot(), start);
  vq.train().forward(z);
  assert.notDeepEqual(snapshot(), start);
});

test('Eq. 8 tokens: perplexity is 1 for one code and |C| for even use', () => {
  const vq = quantizerWith([[0, 0], [5, 0], [0, 5], [5, 5]]);
  assert.ok(Math.abs(vq.quantize(tensor([[0, 0], [0.1, 0]], { dtype: 'float64' })).perplexity.item() - 1) < 1e-12);
  assert.ok(Math.abs(vq.quantize(tensor([[0, 0], [5, 0], [0, 5], [5, 5]], { dtype: 'float64' })).perplexity.item() - 4) < 1e-12);
});

test('VectorQuantizer: bad sizes, options and inputs throw at once, naming the function', () => {
  assert.throws(() => new VectorQuantizer(0, 3), /VectorQuantizer: numCodes/);
  assert.throws(() => new VectorQuantizer(4, 3, { decay: 1 }), /VectorQuantizer: decay/);
  assert.throws(() => new VectorQuantizer(4, 3, { epsilon: 0 }), /VectorQuantizer: epsilon/);
  const vq = new VectorQuantizer(4, 3, { generator: new Generator(0) });
  assert.throws(() => vq.quantize(randn([2, 4])), /VectorQuantizer.quantize: z must be \[\.\.\., 3\], got \[2,4\]/);
  assert.throws(() => vq.quantize(randn([2, 3], { dtype: 'float64' })), /VectorQuantizer.quantize: z must be float32/);
  assert.throws(() => vq.update(randn([2, 3]), tensor([0, 1, 2], { dtype: 'int32' })), /VectorQuantizer.update: ids/);
  assert.throws(() => vq.lookup(tensor([0.5])), /VectorQuantizer.lookup: ids must be int32/);
});
