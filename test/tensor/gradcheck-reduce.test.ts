/**
 * Finite-difference gradient checks (float64) of the reductions, the statistics built on them,
 * softmax / log-softmax, cumulative sums, and matmul (a contraction), on random shapes, axes and layouts.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import {
  cumsum,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  mean,
  min,
  norm,
  prod,
  softmax,
  std,
  sum,
  variance,
  type Axes,
  type Tensor,
} from '../../src/tensor/index.js';
import {
  RUNS,
  awayFromZero,
  axesArb,
  axisArb,
  broadcastShapesArb,
  build,
  gradcheck,
  seedArb,
  separatedArb,
  shapeArb,
  specOf,
  uniform,
  valuesArb,
  type TensorSpec,
} from '../helpers/gradcheck.js';

interface Reduction {
  x: TensorSpec;
  axes: number | number[] | undefined;
  keepdim: boolean;
}

/** A tensor spec with values from `data`, axes to reduce over, and keepdim. */
function reductionArb(data: (n: number) => fc.Arbitrary<number[]>, minRank = 0): fc.Arbitrary<Reduction> {
  return shapeArb({ minRank }).chain((shape) => fc.record({ x: specOf(shape, data), axes: axesArb(shape.length), keepdim: fc.boolean() }));
}

const smooth = (n: number): fc.Arbitrary<number[]> => valuesArb(n, uniform(-2, 2));

/** How many elements `axes` reduce together. */
function reducedCount(shape: readonly number[], axes: Axes): number {
  if (axes === undefined) return shape.reduce((p, d) => p * d, 1);
  const list = (typeof axes === 'number' ? [axes] : axes).map((a) => (a < 0 ? a + shape.length : a));
  return list.reduce((p, a) => p * (shape[a] ?? 1), 1);
}

const reductions: [string, (x: Tensor, axes: Axes, keepdim: boolean) => Tensor, (n: number) => fc.Arbitrary<number[]>][] = [
  ['sum', sum, smooth],
  ['mean', mean, smooth],
  // prod's gradient is out / x: keep x away from 0.
  ['prod', prod, (n) => valuesArb(n, awayFromZero(0.3, 1.5))],
  // Distinct, well-separated values: no ties, so the arg-extremum is stable under perturbation.
  ['max (no ties)', max, separatedArb],
  ['min (no ties)', min, separatedArb],
  ['logsumexp', logsumexp, (n) => valuesArb(n, uniform(-3, 3))],
  ['logsumexp of large inputs (stable form)', logsumexp, (n) => valuesArb(n, uniform(300, 305))],
];

for (const [name, op, data] of reductions) {
  test(`gradcheck: ${name} over random axes (keepdim or not) matches finite differences`, () => {
    fc.assert(
      fc.property(reductionArb(data), seedArb, ({ x, axes, keepdim }, seed) => {
        gradcheck((t) => op(t, axes, keepdim), [build(x)], { seed });
      }),
      RUNS,
    );
  });
}

for (const correction of [0, 1]) {
  test(`gradcheck: variance with correction ${correction} over random axes matches finite differences`, () => {
    fc.assert(
      fc.property(reductionArb(smooth), seedArb, ({ x, axes, keepdim }, seed) => {
        fc.pre(reducedCount(x.shape, axes) > correction);
        gradcheck((t) => variance(t, axes, { correction, keepdim }), [build(x)], { seed });
      }),
      RUNS,
    );
  });

  test(`gradcheck: std with correction ${correction} over random axes matches finite differences`, () => {
    // Distinct values keep every reduced slice's variance away from 0, where √ has a kink.
    fc.assert(
      fc.property(reductionArb(separatedArb), seedArb, ({ x, axes, keepdim }, seed) => {
        fc.pre(reducedCount(x.shape, axes) > Math.max(1, correction));
        gradcheck((t) => std(t, axes, { correction, keepdim }), [build(x)], { seed });
      }),
      RUNS,
    );
  });
}

for (const p of [1, 2, 3]) {
  test(`gradcheck: norm with p = ${p} over random axes matches finite differences`, () => {
    // Entries away from 0: |x| has a kink there (p = 1), and a zero slice has a kinked norm for any p.
    fc.assert(
      fc.property(reductionArb((n) => valuesArb(n, awayFromZero(0.1, 2))), seedArb, ({ x, axes, keepdim }, seed) => {
        gradcheck((t) => norm(t, p, axes, keepdim), [build(x)], { seed });
      }),
      RUNS,
    );
  });
}

test('gradcheck: norm with p = ∞ (the largest |x|, no ties) over random axes matches finite differences', () => {
  // Separated values also have distinct magnitudes (at least 0.002 apart), so the maximum is unique.
  fc.assert(
    fc.property(reductionArb(separatedArb), seedArb, ({ x, axes, keepdim }, seed) => {
      gradcheck((t) => norm(t, Infinity, axes, keepdim), [build(x)], { seed });
    }),
    RUNS,
  );
});

const alongAxis: [string, (x: Tensor, axis: number) => Tensor, fc.Arbitrary<number>][] = [
  ['softmax', softmax, uniform(-3, 3)],
  ['logSoftmax', logSoftmax, uniform(-3, 3)],
  ['softmax of large inputs', softmax, uniform(200, 206)],
  ['logSoftmax of large inputs', logSoftmax, uniform(200, 206)],
  ['cumsum', cumsum, uniform(-2, 2)],
];

for (const [name, op, value] of alongAxis) {
  test(`gradcheck: ${name} along a random axis matches finite differences`, () => {
    const arb = shapeArb({ minRank: 1 }).chain((shape) => fc.tuple(specOf(shape, (n) => valuesArb(n, value)), axisArb(shape.length)));
    fc.assert(
      fc.property(arb, seedArb, ([x, axis], seed) => {
        gradcheck((t) => op(t, axis), [build(x)], { seed });
      }),
      RUNS,
    );
  });
}

test('gradcheck: softmax and logSoftmax of a 0-d tensor match finite differences', () => {
  fc.assert(
    fc.property(uniform(-3, 3), seedArb, (v, seed) => {
      const spec: TensorSpec = { shape: [], data: [v, v], layout: 'contiguous' };
      gradcheck((t) => softmax(t, 0).add(logSoftmax(t, -1)).add(cumsum(t, 0)), [build(spec)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: matmul (1-D cases and broadcast batch axes) matches finite differences for both operands', () => {
  const dim = fc.integer({ min: 1, max: 4 });
  const arb = fc
    .record({
      m: dim,
      k: dim,
      n: dim,
      batches: broadcastShapesArb(2, shapeArb({ maxRank: 2, maxDim: 3 })),
      aVector: fc.boolean(),
      bVector: fc.boolean(),
    })
    .chain(({ m, k, n, batches, aVector, bVector }) => {
      const sa = aVector ? [k] : [...batches[0]!, m, k];
      const sb = bVector ? [k] : [...batches[1]!, k, n];
      return fc.tuple(specOf(sa, smooth), specOf(sb, smooth));
    });
  fc.assert(
    fc.property(arb, seedArb, ([a, b], seed) => {
      gradcheck(matmul, [build(a), build(b)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: matmul of a transposed view with itself matches finite differences', () => {
  const arb = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).chain(([m, k]) => specOf([m, k], smooth));
  fc.assert(
    fc.property(arb, seedArb, (a, seed) => {
      gradcheck((x) => x.transpose().matmul(x).add(x.matmul(x.transpose()).sum()), [build(a)], { seed });
    }),
    RUNS,
  );
});
