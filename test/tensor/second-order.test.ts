/**
 * Second-order differentiation: `grad(grad(f))` against closed forms, Hessian-vector products against
 * closed forms and against finite differences of the gradient, and `backward({ createGraph: true })`
 * leaving a `.grad` that can itself be differentiated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  concat,
  cumsum,
  div,
  erf,
  gather,
  gelu,
  grad,
  log1p,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  norm,
  pow,
  prod,
  rsqrt,
  sigmoid,
  silu,
  softmax,
  softplus,
  sort,
  sqrt,
  std,
  tensor,
  variance,
  type Tensor,
} from '../../src/tensor/index.js';
import {
  RUNS,
  assertClose,
  awayFromZero,
  build,
  hvpcheck,
  seedArb,
  separatedArb,
  shapeArb,
  specOf,
  tensorArb,
  uniform,
  valuesArb,
  type TensorSpec,
} from '../helpers/gradcheck.js';

const one = (f: (x: Tensor) => Tensor) => (x: Tensor): Tensor => grad(f)(x) as Tensor;

/** Σᵢ ∂²f/∂x∂xᵢ: for f = Σ φ(xᵢ) this is φ''(x) elementwise. */
const secondDerivative = (f: (x: Tensor) => Tensor) => one((x) => one(f)(x).sum());

const closedForms: [string, (x: Tensor) => Tensor, (x: number) => number, fc.Arbitrary<number>][] = [
  ['x³ → 6x', (x) => x.pow(3).sum(), (x) => 6 * x, uniform(-2, 2)],
  ['sin x → −sin x', (x) => x.sin().sum(), (x) => -Math.sin(x), uniform(-4, 4)],
  ['exp(2x) → 4·exp(2x)', (x) => x.mul(2).exp().sum(), (x) => 4 * Math.exp(2 * x), uniform(-2, 2)],
  [
    'x·tanh x → 2·sech²x·(1 − x·tanh x)',
    (x) => x.mul(x.tanh()).sum(),
    (x) => {
      const t = Math.tanh(x);
      return 2 * (1 - t * t) * (1 - x * t);
    },
    uniform(-3, 3),
  ],
  ['1/x → 2/x³', (x) => div(1, x).sum(), (x) => 2 / x ** 3, awayFromZero(0.3, 2)],
  ['sigmoid x → σ(1 − σ)(1 − 2σ)', (x) => sigmoid(x).sum(), (x) => {
    const s = 1 / (1 + Math.exp(-x));
    return s * (1 - s) * (1 - 2 * s);
  }, uniform(-5, 5)],
];

for (const [name, f, d2, value] of closedForms) {
  test(`second order: grad(grad(f)) matches the closed form ${name}`, () => {
    fc.assert(
      fc.property(tensorArb(value), (x) => {
        const t = build(x);
        assertClose(name, secondDerivative(f)(t), Array.from(t.dataSync(), d2));
      }),
      RUNS,
    );
  });
}

test('second order: grad(grad(x³)) of a 0-d tensor at 2 is 12', () => {
  const d2 = one(one((x) => x.pow(3)));
  assert.equal(d2(tensor(2, { dtype: 'float64' })).item(), 12);
});

test('second order: the third derivative of x⁴ is 24x (grad nests three deep)', () => {
  const d3 = one((x) => secondDerivative((y) => y.pow(4).sum())(x).sum());
  fc.assert(
    fc.property(tensorArb(uniform(-2, 2)), (x) => {
      const t = build(x);
      assertClose('x⁴‴', d3(t), Array.from(t.dataSync(), (v) => 24 * v));
    }),
    RUNS,
  );
});

test('second order: the mixed partial ∂²/∂y∂x of Σ x²·y is 2x (grad with argnums)', () => {
  fc.assert(
    fc.property(tensorArb(uniform(-2, 2)), (spec) => {
      const x = build(spec);
      const y = build({ ...spec, data: spec.data.map((v) => v / 2 + 1) });
      const dfdx = (a: Tensor, b: Tensor): Tensor => grad((p, q) => p.pow(2).mul(q).sum(), { argnums: 0 })(a, b) as Tensor;
      const mixed = grad((a, b) => dfdx(a, b).sum(), { argnums: 1 })(x, y) as Tensor;
      assertClose('∂²/∂y∂x', mixed, Array.from(x.dataSync(), (v) => 2 * v));
    }),
    RUNS,
  );
});

/** Rows of the last axis of a tensor, as plain arrays. */
function rows(t: Tensor): number[][] {
  const n = t.ndim === 0 ? 1 : t.shape[t.ndim - 1]!;
  const flat = Array.from(t.dataSync());
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += n) out.push(flat.slice(i, i + n));
  return out;
}

function softmaxRow(x: number[]): number[] {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / s);
}

const dotRow = (a: number[], b: number[]): number => a.reduce((p, v, i) => p + v * b[i]!, 0);

/** A tensor of rank 1–3 with a same-shaped direction `v` and weights `w`. */
const hvpArb = shapeArb({ minRank: 1 }).chain((shape) =>
  fc.tuple(specOf(shape, (n) => valuesArb(n, uniform(-3, 3))), specOf(shape, (n) => valuesArb(n, uniform(-1, 1))), specOf(shape, (n) => valuesArb(n, uniform(-1, 1)))),
);

/** H·v by double backward: the gradient of ⟨∇f(x), v⟩. */
const hvp = (f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor => one((t) => one(f)(t).mul(v).sum())(x);

test('second order: the Hessian-vector product of logsumexp is p⊙v − p·(p·v), p = softmax(x)', () => {
  fc.assert(
    fc.property(hvpArb, ([xs, vs]) => {
      const [x, v] = [build(xs), build(vs)];
      const expected = rows(x).flatMap((xr, i) => {
        const vr = rows(v)[i]!;
        const p = softmaxRow(xr);
        const pv = dotRow(p, vr);
        return p.map((pi, j) => pi * vr[j]! - pi * pv);
      });
      assertClose('H·v of logsumexp', hvp((t) => logsumexp(t, -1).sum(), x, v), expected);
    }),
    RUNS,
  );
});

test('second order: the Hessian-vector product of Σ w⊙softmax(x) matches its closed form', () => {
  fc.assert(
    fc.property(hvpArb, ([xs, vs, ws]) => {
      const [x, v, w] = [build(xs), build(vs), build(ws)];
      // g = p⊙(w − a) with a = p·w; differentiating along v (dp = p⊙(v − p·v)):
      // H·v = dp⊙(w − a) − p·((p⊙w)·v − a·(p·v)).
      const expected = rows(x).flatMap((xr, i) => {
        const [vr, wr] = [rows(v)[i]!, rows(w)[i]!];
        const p = softmaxRow(xr);
        const a = dotRow(p, wr);
        const pv = dotRow(p, vr);
        const da = dotRow(p.map((pi, j) => pi * wr[j]!), vr) - a * pv;
        return p.map((pi, j) => pi * (vr[j]! - pv) * (wr[j]! - a) - pi * da);
      });
      assertClose('H·v of w⊙softmax', hvp((t) => softmax(t, -1).mul(w).sum(), x, v), expected);
    }),
    RUNS,
  );
});

test('second order: the Hessian-vector product of Σ w⊙logSoftmax(x) is −(Σw)(p⊙v − p·(p·v))', () => {
  fc.assert(
    fc.property(hvpArb, ([xs, vs, ws]) => {
      const [x, v, w] = [build(xs), build(vs), build(ws)];
      const expected = rows(x).flatMap((xr, i) => {
        const [vr, wr] = [rows(v)[i]!, rows(w)[i]!];
        const p = softmaxRow(xr);
        const sw = wr.reduce((q, u) => q + u, 0);
        const pv = dotRow(p, vr);
        return p.map((pi, j) => -sw * (pi * vr[j]! - pi * pv));
      });
      assertClose('H·v of w⊙logSoftmax', hvp((t) => logSoftmax(t, -1).mul(w).sum(), x, v), expected);
    }),
    RUNS,
  );
});

test('second order: backward({ createGraph: true }) leaves a .grad that can be differentiated again', () => {
  fc.assert(
    fc.property(shapeArb().chain((shape) => fc.tuple(specOf(shape, (n) => valuesArb(n, uniform(-2, 2))), specOf(shape, (n) => valuesArb(n, uniform(-1, 1))))), ([xs, vs]) => {
      const x = build(xs).detach().requiresGrad_(true);
      x.pow(3).sum().backward(undefined, { createGraph: true });
      const g = x.grad!;
      assert.ok(g.requiresGrad, 'the first gradient is part of a graph');
      assertClose('first gradient', g, Array.from(x.dataSync(), (v) => 3 * v * v));
      x.grad = null;
      const v = build(vs);
      g.mul(v).sum().backward();
      const vv = Array.from(v.dataSync());
      assertClose('second gradient', x.grad!, Array.from(x.dataSync(), (a, i) => 6 * a * vv[i]!));
    }),
    RUNS,
  );
});

test('second order: a createGraph gradient feeds a further computation (gradient penalty) and its backward', () => {
  // With g = ∇ₓ Σ x²·y = 2x⊙y, the penalty Σ g² = 4 Σ x²y² has ∂/∂x = 8x⊙y² and ∂/∂y = 8x²⊙y.
  const arb = shapeArb().chain((shape) => fc.tuple(specOf(shape, (n) => valuesArb(n, uniform(-2, 2))), specOf(shape, (n) => valuesArb(n, uniform(-2, 2)))));
  fc.assert(
    fc.property(arb, ([xs, ys]) => {
      const x = build(xs).detach().requiresGrad_(true);
      const y = build(ys).detach().requiresGrad_(true);
      x.pow(2).mul(y).sum().backward(undefined, { createGraph: true });
      const g = x.grad!;
      x.grad = null;
      y.grad = null;
      g.pow(2).sum().backward();
      const [xv, yv] = [Array.from(x.dataSync()), Array.from(y.dataSync())];
      assertClose('∂ penalty/∂x', x.grad!, xv.map((a, i) => 8 * a * yv[i]! ** 2));
      assertClose('∂ penalty/∂y', y.grad!, yv.map((b, i) => 8 * xv[i]! ** 2 * b));
    }),
    RUNS,
  );
});

test(
  'second order: an inner grad records its backward when the function closes over a tensor of an outer grad',
  () => {
    // d/dy Σ ∂/∂x Σ x⊙y = d/dy Σ y = 1 for every entry of y.
    const x = tensor([1, 2], { dtype: 'float64' });
    const y = tensor([3, 4], { dtype: 'float64' });
    const outer = grad((yy) => (grad((xx) => xx.mul(yy).sum())(x) as Tensor).sum());
    assert.deepEqual((outer(y) as Tensor).toArray(), [1, 1]);
  },
);

test('second order: without createGraph the gradient is detached from the graph', () => {
  const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
  x.pow(3).sum().backward();
  assert.equal(x.grad!.requiresGrad, false);
  assert.equal(x.grad!.gradFn, null);
});

// Double backward through each op, checked against finite differences of its gradient (random shapes).
const hvpOps: [string, (x: Tensor) => Tensor, fc.Arbitrary<TensorSpec>][] = [
  ['logsumexp', (x) => logsumexp(x), tensorArb(uniform(-3, 3))],
  ['softmax', (x) => softmax(x.reshape([-1])).mul(x.reshape([-1]).sin()).sum(), tensorArb(uniform(-3, 3))],
  ['logSoftmax', (x) => logSoftmax(x.reshape([-1])).pow(2).sum(), tensorArb(uniform(-3, 3))],
  ['norm (p = 2)', (x) => norm(x, 2), tensorArb(awayFromZero(0.1, 2))],
  ['norm (p = 3)', (x) => norm(x, 3), tensorArb(awayFromZero(0.1, 2))],
  ['variance', (x) => variance(x, undefined, { correction: 0 }).mul(x.sum()), tensorArb(uniform(-2, 2))],
  ['std', (x) => std(concat([x.reshape([-1]), x.reshape([-1]).add(0.5)]), undefined, { correction: 0 }), tensorArb(uniform(-2, 2))],
  ['prod', (x) => prod(x), tensorArb(awayFromZero(0.5, 1.5))],
  ['max (no ties)', (x) => max(x).mul(x.pow(2).sum()), shapeArb().chain((s) => specOf(s, separatedArb))],
  ['cumsum', (x) => cumsum(x.reshape([-1]), 0).pow(2).sum(), tensorArb(uniform(-2, 2))],
  ['pow (both arguments)', (x) => pow(x, x.cos().add(0.5)).sum(), tensorArb(uniform(0.3, 2))],
  ['div', (x) => div(x.sin(), x.pow(2).add(1)).sum(), tensorArb(uniform(-2, 2))],
  ['sqrt and rsqrt', (x) => sqrt(x).mul(rsqrt(x.add(1))).sum(), tensorArb(uniform(0.3, 3))],
  ['log1p', (x) => log1p(x).pow(2).sum(), tensorArb(uniform(-0.5, 3))],
  ['erf', (x) => erf(x).mul(x).sum(), tensorArb(uniform(-3, 3))],
  ['softplus', (x) => softplus(x).pow(2).sum(), tensorArb(uniform(-5, 5))],
  ["gelu ('none')", (x) => gelu(x).pow(2).sum(), tensorArb(uniform(-3, 3))],
  ["gelu ('tanh')", (x) => gelu(x, 'tanh').pow(2).sum(), tensorArb(uniform(-3, 3))],
  ['silu', (x) => silu(x).pow(2).sum(), tensorArb(uniform(-4, 4))],
  ['matmul', (x) => matmul(x.reshape([-1, 1]), x.reshape([1, -1])).sin().sum(), tensorArb(uniform(-2, 2))],
  ['gather', (x) => gather(x.reshape([-1]), 0, tensor(Int32Array.from([0, 0]))).pow(3).sum(), tensorArb(uniform(-2, 2))],
  ['sort values', (x) => sort(x.reshape([-1])).values.mul(x.reshape([-1])).pow(2).sum(), shapeArb().chain((s) => specOf(s, separatedArb))],
];

for (const [name, f, arb] of hvpOps) {
  test(`second order: Hessian-vector products through ${name} match finite differences of the gradient`, () => {
    fc.assert(
      fc.property(arb, seedArb, (x, seed) => {
        hvpcheck(f, build(x), { seed });
      }),
      RUNS,
    );
  });
}
