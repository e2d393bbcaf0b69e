/**
 * Finite-difference gradient checks (float64) of the elementwise ops: arithmetic with broadcasting,
 * math functions and activations, `where`, `clamp` and `cast`, on random shapes and memory layouts.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import {
  abs,
  add,
  cast,
  clamp,
  cos,
  div,
  erf,
  exp,
  gelu,
  log,
  log1p,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  relu,
  rsqrt,
  sigmoid,
  sign,
  silu,
  sin,
  softplus,
  sqrt,
  sub,
  tanh,
  tensor,
  where,
  type Tensor,
} from '../../src/tensor/index.js';
import {
  RUNS,
  awayFromZero,
  broadcastShapesArb,
  broadcastSpecsArb,
  build,
  gradcheck,
  layoutArb,
  seedArb,
  separatedArb,
  separatedSpecsArb,
  shapeArb,
  specOf,
  tensorArb,
  uniform,
  valuesArb,
} from '../helpers/gradcheck.js';

type Binary = (a: Tensor, b: Tensor) => Tensor;

const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

const binaries: [string, Binary, fc.Arbitrary<number>, fc.Arbitrary<number>][] = [
  ['add', add, uniform(-2, 2), uniform(-2, 2)],
  ['sub', sub, uniform(-2, 2), uniform(-2, 2)],
  ['mul', mul, uniform(-2, 2), uniform(-2, 2)],
  ['div', div, uniform(-2, 2), awayFromZero(0.5, 2)],
  // Positive base: the exponent's gradient is out·log(base).
  ['pow', pow, uniform(0.3, 2.5), uniform(-2.5, 2.5)],
];

for (const [name, op, va, vb] of binaries) {
  test(`gradcheck: ${name} with broadcasting matches finite differences for both operands`, () => {
    fc.assert(
      fc.property(broadcastSpecsArb(va, vb), seedArb, ([a, b], seed) => {
        gradcheck(op, [build(a!), build(b!)], { seed });
      }),
      RUNS,
    );
  });
}

for (const [name, op] of [['maximum', maximum], ['minimum', minimum]] as [string, Binary][]) {
  test(`gradcheck: ${name} with broadcasting and no ties matches finite differences for both operands`, () => {
    fc.assert(
      fc.property(separatedSpecsArb(broadcastShapesArb(2)), seedArb, ([a, b], seed) => {
        gradcheck(op, [build(a!), build(b!)], { seed });
      }),
      RUNS,
    );
  });
}

test('gradcheck: binary ops with a JS scalar operand match finite differences', () => {
  fc.assert(
    fc.property(tensorArb(uniform(0.3, 2)), uniform(-2, 2), seedArb, (x, c, seed) => {
      gradcheck((t) => add(mul(sub(c, t), 1.5), div(2, t)).sub(t.div(-3)), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: pow with constant exponents matches finite differences, also for negative bases', () => {
  fc.assert(
    fc.property(tensorArb(awayFromZero(0.3, 2)), fc.constantFrom(2, 3, -1, -2), seedArb, (x, k, seed) => {
      gradcheck((t) => pow(t, k), [build(x)], { seed });
    }),
    RUNS,
  );
  fc.assert(
    fc.property(tensorArb(uniform(0.3, 2)), fc.constantFrom(0.5, -0.5, 1.7), seedArb, (x, k, seed) => {
      gradcheck((t) => pow(t, k), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: pow with a constant positive base matches finite differences in the exponent', () => {
  fc.assert(
    fc.property(tensorArb(uniform(-2, 2)), fc.constantFrom(0.5, 2, Math.E), seedArb, (x, b, seed) => {
      gradcheck((t) => pow(b, t), [build(x)], { seed });
    }),
    RUNS,
  );
});

const unaries: [string, (x: Tensor) => Tensor, fc.Arbitrary<number>][] = [
  ['neg', neg, uniform(-3, 3)],
  ['exp', exp, uniform(-3, 3)],
  ['log', log, uniform(0.2, 4)],
  ['log1p', log1p, uniform(-0.7, 4)],
  ['sqrt', sqrt, uniform(0.2, 4)],
  ['rsqrt', rsqrt, uniform(0.2, 4)],
  ['abs', abs, awayFromZero(0.01, 3)],
  ['sign (zero gradient)', sign, awayFromZero(0.01, 3)],
  ['sin', sin, uniform(-4, 4)],
  ['cos', cos, uniform(-4, 4)],
  ['tanh', tanh, uniform(-3, 3)],
  ['sigmoid', sigmoid, uniform(-8, 8)],
  ['relu', relu, awayFromZero(0.01, 3)],
  // Both branches of the double-precision erf: the series below 3 and the continued fraction beyond.
  ['erf', erf, uniform(-4.5, 4.5)],
  ['softplus', softplus, uniform(-8, 8)],
  ['softplus past its linear threshold (x > 20)', softplus, uniform(20.5, 30)],
  ["gelu (approximate 'none')", (x) => gelu(x, 'none'), uniform(-4, 4)],
  ["gelu (approximate 'tanh')", (x) => gelu(x, 'tanh'), uniform(-4, 4)],
  ['silu', silu, uniform(-6, 6)],
  ['Tensor methods chained (abs, sqrt, sin, tanh, exp)', (x) => x.abs().sqrt().mul(x.sin()).add(x.tanh().exp()), awayFromZero(0.05, 3)],
];

for (const [name, op, value] of unaries) {
  test(`gradcheck: ${name} matches finite differences on random shapes and views`, () => {
    fc.assert(
      fc.property(tensorArb(value), seedArb, (x, seed) => {
        gradcheck(op, [build(x)], { seed });
      }),
      RUNS,
    );
  });
}

test('gradcheck: where with a broadcast condition matches finite differences for both branches', () => {
  const arb = broadcastShapesArb(3).chain(([sc, sa, sb]) =>
    fc.tuple(
      fc.array(fc.boolean(), { minLength: sizeOf(sc!), maxLength: sizeOf(sc!) }),
      fc.constant(sc!),
      specOf(sa!, (n) => valuesArb(n, uniform(-2, 2))),
      specOf(sb!, (n) => valuesArb(n, uniform(-2, 2))),
    ),
  );
  fc.assert(
    fc.property(arb, seedArb, ([mask, sc, a, b], seed) => {
      const cond = tensor(mask.map(Number), { shape: sc, dtype: 'bool' });
      gradcheck((x, y) => where(cond, x, y), [build(a), build(b)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: clamp with scalar bounds matches finite differences (values away from the bounds)', () => {
  // Bounds and values come from one pool of well-separated numbers, so no value sits on a bound.
  const arb = shapeArb().chain((shape) => {
    const n = 2 * sizeOf(shape);
    return fc.tuple(separatedArb(n + 2), fc.constantFrom('both', 'min', 'max'), layoutArb).map(([pool, which, layout]) => ({
      spec: { shape, data: pool.slice(2), layout },
      lo: Math.min(pool[0]!, pool[1]!),
      hi: Math.max(pool[0]!, pool[1]!),
      which,
    }));
  });
  fc.assert(
    fc.property(arb, seedArb, ({ spec, lo, hi, which }, seed) => {
      const f = (t: Tensor): Tensor => (which === 'both' ? clamp(t, lo, hi) : which === 'min' ? clamp(t, lo) : clamp(t, undefined, hi));
      gradcheck(f, [build(spec)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: clamp with broadcast tensor bounds matches finite differences in x', () => {
  fc.assert(
    fc.property(separatedSpecsArb(broadcastShapesArb(3)), seedArb, ([x, a, b], seed) => {
      // Bounds are constants here: clamp documents that they get no gradient.
      const ta = build(a!);
      const tb = build(b!);
      const lo = minimum(ta, tb);
      const hi = maximum(ta, tb);
      gradcheck((t) => clamp(t, lo, hi), [build(x!)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: cast from float64 to float64 is the identity for gradients', () => {
  fc.assert(
    fc.property(tensorArb(uniform(-2, 2)), seedArb, (x, seed) => {
      gradcheck((t) => mul(cast(t, 'float64'), t), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: elementwise ops on transposed and sliced views match finite differences', () => {
  const arb = fc
    .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
    .chain(([m, n]) =>
      fc.tuple(specOf([n, m], (k) => valuesArb(k, uniform(-2, 2)), fc.constant('contiguous')), specOf([m, 2 * n], (k) => valuesArb(k, uniform(-2, 2)), fc.constant('contiguous'))),
    );
  fc.assert(
    fc.property(arb, seedArb, ([a, b], seed) => {
      // a.T has shape [m, n]; b[:, ::2] has shape [m, n]; the product broadcasts a row of a.T.
      const f = (x: Tensor, y: Tensor): Tensor => {
        const xt = x.transpose(0, 1);
        const ys = y.slice(null, [null, null, 2]);
        return mul(xt, ys).add(xt.narrow(0, 0, 1).exp()).sub(ys.tanh());
      };
      gradcheck(f, [build(a), build(b)], { seed });
    }),
    RUNS,
  );
});
