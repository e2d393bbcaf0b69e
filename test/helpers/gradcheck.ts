/**
 * Finite-difference gradient checks for float64 tensor functions, and the fast-check arbitraries the
 * gradient-check suites share (small random shapes, broadcastable shape pairs, values kept away from
 * kinks and ties, and inputs that arrive as non-contiguous views).
 *
 * The check: with a random cotangent `v` (so non-scalar outputs are covered), the analytic input
 * cotangents `vjp(f, ...xs)[1](v)` must match the central differences of `L(x) = Σ v ⊙ f(x)` taken one
 * input element at a time, within `|analytic − numeric| ≤ atol + rtol·|numeric|`. With eps = 1e-6 the
 * truncation error is ~1e-13·|f'''| and the rounding error ~1e-10·|f| for each output the element
 * affects, so the defaults (rtol 1e-5, atol 1e-6) hold while those outputs stay below ~1e3. The same
 * cotangents are recomputed through `Tensor.backward(v)` and must agree with `vjp` (the two entry points
 * share the engine, but not the code that prepares leaves).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, noGrad, randn, tensor, vjp, type Tensor } from '../../src/tensor/index.js';

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Half-width of the central difference (default 1e-6). */
  eps?: number;
  /** Relative tolerance against the numeric derivative (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Seed of the random cotangent (default 0). */
  seed?: number;
  /** Also compare `vjp` with `Tensor.backward(cotangent)` (default true). */
  checkBackward?: boolean;
}

function values(t: Tensor): Float64Array {
  assert.equal(t.dtype, 'float64', `gradcheck: expected a float64 tensor, got ${t.dtype} ${JSON.stringify(t.shape)}`);
  return Float64Array.from(t.dataSync());
}

/** Largest violation of `|a − n| ≤ atol + rtol·|n|`, described, or null when every entry passes. */
function worstMismatch(what: string, analytic: Float64Array, numeric: Float64Array, rtol: number, atol: number): string | null {
  let worst = -Infinity;
  let at = -1;
  for (let i = 0; i < numeric.length; i++) {
    const a = analytic[i]!;
    const n = numeric[i]!;
    // A NaN anywhere is a failure: no check here expects one.
    const diff = Math.abs(a - n) - (atol + rtol * Math.abs(n));
    const excess = Number.isNaN(diff) ? Infinity : diff;
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  if (!(worst > 0)) return null;
  return (
    `${what}: element ${at} analytic ${analytic[at]} vs numeric ${numeric[at]} ` +
    `(|diff| ${Math.abs(analytic[at]! - numeric[at]!).toExponential(3)}, rtol ${rtol}, atol ${atol})\n` +
    `  analytic [${Array.from(analytic).map((x) => x.toPrecision(8)).join(', ')}]\n` +
    `  numeric  [${Array.from(numeric).map((x) => x.toPrecision(8)).join(', ')}]`
  );
}

/**
 * Asserts that the gradients of `f` at `inputs` (float64 tensors, possibly non-contiguous views) match
 * central finite differences. Arguments that should get no gradient (indices, masks, bounds) belong in
 * `f`'s closure, not in `inputs`.
 */
export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], opts: GradcheckOptions = {}): void {
  const eps = opts.eps ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-6;
  const base = inputs.map(values);

  const [out, back] = vjp(f, ...inputs);
  const outValues = values(out);
  const cotangent = randn(out.shape, { dtype: 'float64', generator: new Generator(opts.seed ?? 0) });
  const cot = values(cotangent);
  const analytic = back(cotangent).map((g, i) => {
    assert.deepEqual(g.shape, inputs[i]!.shape, `gradcheck: gradient ${i} has shape ${JSON.stringify(g.shape)}, input ${JSON.stringify(inputs[i]!.shape)}`);
    return values(g);
  });

  if (opts.checkBackward ?? true) {
    const leaves = inputs.map((x) => x.detach().requiresGrad_(true));
    const y = f(...leaves);
    assert.deepEqual(Array.from(values(y)), Array.from(outValues), 'gradcheck: f is not deterministic');
    if (y.requiresGrad) y.backward(cotangent);
    leaves.forEach((leaf, i) => {
      const g = leaf.grad === null ? new Float64Array(base[i]!.length) : values(leaf.grad);
      const bad = worstMismatch(`gradcheck: backward() vs vjp for input ${i}`, g, analytic[i]!, 1e-12, 1e-12);
      if (bad !== null) assert.fail(bad);
    });
  }

  noGrad(() => {
    const outputAt = (k: number, perturbed: Float64Array): Float64Array => {
      const args = inputs.map((x, i) => (i === k ? tensor(perturbed, { shape: x.shape, dtype: 'float64' }) : x));
      const y = values(f(...args));
      assert.equal(y.length, cot.length, 'gradcheck: output size changed under perturbation');
      return y;
    };
    base.forEach((x0, k) => {
      const numeric = new Float64Array(x0.length);
      const x = Float64Array.from(x0);
      for (let j = 0; j < x.length; j++) {
        x[j] = x0[j]! + eps;
        const up = outputAt(k, x);
        x[j] = x0[j]! - eps;
        const down = outputAt(k, x);
        x[j] = x0[j]!;
        // Difference each output before weighting: outputs that x[j] does not affect cancel exactly,
        // so large unrelated outputs add no rounding noise.
        let s = 0;
        for (let i = 0; i < cot.length; i++) s += cot[i]! * (up[i]! - down[i]!);
        numeric[j] = s / (2 * eps);
      }
      const bad = worstMismatch(`gradcheck: d/d(input ${k}) of shape ${JSON.stringify(inputs[k]!.shape)}`, analytic[k]!, numeric, rtol, atol);
      if (bad !== null) assert.fail(bad);
    });
  });
}

// --- arbitraries ---------------------------------------------------------------------------------------

/** How a generated tensor is laid out in memory: the values are the same, the strides differ. */
export type Layout = 'contiguous' | 'permuted' | 'strided';

/**
 * A generated tensor as plain data (so that fast-check prints counterexamples readably). `data` holds
 * twice as many values as the shape needs: the strided layout reads every other one of them.
 */
export interface TensorSpec {
  shape: number[];
  data: number[];
  layout: Layout;
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/**
 * The float64 tensor a spec describes: contiguous; a permuted view of the reversed shape (rank ≥ 2); or
 * every other element of the last axis from offset 1 (rank ≥ 1). Each has the spec's shape.
 */
export function build(spec: TensorSpec): Tensor {
  const { shape, data, layout } = spec;
  const n = sizeOf(shape);
  const r = shape.length;
  if (layout === 'permuted' && r >= 2) {
    const reversed = shape.slice().reverse();
    const axes = reversed.map((_, i) => r - 1 - i);
    return tensor(Float64Array.from(data.slice(0, n)), { shape: reversed, dtype: 'float64' }).permute(axes);
  }
  if (layout === 'strided' && r >= 1) {
    const wide = shape.slice();
    wide[r - 1] = 2 * wide[r - 1]!;
    const ranges = shape.map(() => null as [number, null, number] | null);
    ranges[r - 1] = [1, null, 2];
    return tensor(Float64Array.from(data.slice(0, 2 * n)), { shape: wide, dtype: 'float64' }).slice(...ranges);
  }
  return tensor(Float64Array.from(data.slice(0, n)), { shape, dtype: 'float64' });
}

/** A shape of rank `minRank..maxRank` with dims `minDim..maxDim` (defaults: ranks 0–3, dims 1–4). */
export function shapeArb(opts: { minRank?: number; maxRank?: number; minDim?: number; maxDim?: number } = {}): fc.Arbitrary<number[]> {
  const dim = fc.integer({ min: opts.minDim ?? 1, max: opts.maxDim ?? 4 });
  return fc.array(dim, { minLength: opts.minRank ?? 0, maxLength: opts.maxRank ?? 3 });
}

/** Doubles in `[min, max]` (no NaN). */
export function uniform(min: number, max: number): fc.Arbitrary<number> {
  return fc.double({ min, max, noNaN: true });
}

/** Doubles with magnitude in `[lo, hi]` and either sign: never near 0 (for abs, relu, division). */
export function awayFromZero(lo: number, hi: number): fc.Arbitrary<number> {
  return fc.tuple(uniform(lo, hi), fc.boolean()).map(([v, s]) => (s ? v : -v));
}

/** `n` values from `value`. */
export function valuesArb(n: number, value: fc.Arbitrary<number>): fc.Arbitrary<number[]> {
  return fc.array(value, { minLength: n, maxLength: n });
}

/**
 * `n` distinct values within about ±(0.02n + 0.03), at least 0.006 apart and at least 0.002 from 0: far
 * beyond a perturbation of 1e-6, so no ordering changes under it (max, sort, maximum, clamp, relu).
 */
export function separatedArb(n: number): fc.Arbitrary<number[]> {
  return fc
    .tuple(
      fc.uniqueArray(fc.integer({ min: -2 * n - 2, max: 2 * n + 2 }), { minLength: n, maxLength: n }),
      valuesArb(n, uniform(0.002, 0.004)),
    )
    .map(([ks, js]) => ks.map((k, i) => 0.01 * k + js[i]!));
}

/** Any of the three layouts. */
export const layoutArb: fc.Arbitrary<Layout> = fc.constantFrom('contiguous', 'permuted', 'strided');

/** A spec of `shape` whose values come from `data` (called with the number of values to draw). */
export function specOf(shape: number[], data: (n: number) => fc.Arbitrary<number[]>, layout: fc.Arbitrary<Layout> = layoutArb): fc.Arbitrary<TensorSpec> {
  return fc.record({ shape: fc.constant(shape), data: data(2 * sizeOf(shape)), layout });
}

/** A spec of a random shape with values from `value` and a random layout. */
export function tensorArb(
  value: fc.Arbitrary<number> = uniform(-2, 2),
  shape: fc.Arbitrary<number[]> = shapeArb(),
): fc.Arbitrary<TensorSpec> {
  return shape.chain((s) => specOf(s, (n) => valuesArb(n, value)));
}

/**
 * Shapes that broadcast together: each is the common shape with some leading axes dropped and some
 * axes set to 1.
 */
export function broadcastShapesArb(count: number, full: fc.Arbitrary<number[]> = shapeArb()): fc.Arbitrary<number[][]> {
  return full.chain((s) => {
    const one = fc
      .tuple(fc.integer({ min: 0, max: s.length }), fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }))
      .map(([drop, ones]) => s.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
    return fc.array(one, { minLength: count, maxLength: count });
  });
}

/** Specs of broadcastable shapes (see {@link broadcastShapesArb}), one per value arbitrary, drawing from it. */
export function broadcastSpecsArb(...values: fc.Arbitrary<number>[]): fc.Arbitrary<TensorSpec[]> {
  return broadcastShapesArb(values.length).chain((shapes) =>
    fc.tuple(...shapes.map((s, i) => specOf(s, (n) => valuesArb(n, values[i]!)))),
  );
}

/** Specs of broadcastable shapes whose values, all of them together, are {@link separatedArb}. */
export function separatedSpecsArb(shapes: fc.Arbitrary<number[][]>): fc.Arbitrary<TensorSpec[]> {
  return shapes.chain((ss) => {
    const sizes = ss.map((s) => 2 * sizeOf(s));
    const total = sizes.reduce((p, d) => p + d, 0);
    return fc.tuple(separatedArb(total), fc.array(layoutArb, { minLength: ss.length, maxLength: ss.length })).map(([pool, layouts]) => {
      let at = 0;
      return ss.map((shape, i) => {
        const data = pool.slice(at, at + sizes[i]!);
        at += sizes[i]!;
        return { shape, data, layout: layouts[i]! };
      });
    });
  });
}

/** A seed for the random cotangent. */
export const seedArb: fc.Arbitrary<number> = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** An axis of a tensor of rank `rank` ≥ 1, sometimes negative. */
export function axisArb(rank: number): fc.Arbitrary<number> {
  return fc.integer({ min: -rank, max: rank - 1 });
}

/** Axes to reduce over: all (undefined), one (maybe negative), or a subset (maybe empty). */
export function axesArb(rank: number): fc.Arbitrary<number | number[] | undefined> {
  const all = Array.from({ length: rank }, (_, i) => i);
  if (rank === 0) return fc.constantFrom(undefined, [] as number[]);
  return fc.oneof(fc.constant(undefined), axisArb(rank), fc.subarray(all));
}

/** The fast-check parameters of every property in these suites (`GRADCHECK_RUNS=500` to search harder). */
export const RUNS = { numRuns: Number(process.env['GRADCHECK_RUNS'] ?? 30), includeErrorInReport: true } as const;

// --- second order ----------------------------------------------------------------------------------------

/** Asserts `|actual − expected| ≤ atol + rtol·|expected|` elementwise (and equal sizes). */
export function assertClose(what: string, actual: Tensor, expected: ArrayLike<number>, rtol = 1e-10, atol = 1e-12): void {
  const a = values(actual);
  const e = Float64Array.from(expected);
  assert.equal(a.length, e.length, `${what}: ${a.length} values, expected ${e.length}`);
  const bad = worstMismatch(what, a, e, rtol, atol);
  if (bad !== null) assert.fail(bad);
}

/**
 * Asserts that Hessian-vector products of a scalar `f` at `x` computed by double backward,
 * `grad(x ↦ ⟨∇f(x), v⟩)(x)`, match central differences of the gradient, `(∇f(x + εv) − ∇f(x − εv)) / 2ε`,
 * for a random direction `v`. The difference quotient of a gradient is noisier than of a value, hence
 * the larger default eps (1e-5) and tolerances (rtol 1e-5, atol 1e-5).
 */
export function hvpcheck(f: (x: Tensor) => Tensor, x: Tensor, opts: GradcheckOptions = {}): void {
  const eps = opts.eps ?? 1e-5;
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-5;
  const v = randn(x.shape, { dtype: 'float64', generator: new Generator(opts.seed ?? 0) });
  const gradOf = (at: Tensor): Tensor => {
    const [, back] = vjp(f, at);
    return back(tensor(1, { dtype: 'float64' }))[0]!;
  };
  const [, backOuter] = vjp((t) => gradOf(t).mul(v).sum(), x);
  const analytic = values(backOuter(tensor(1, { dtype: 'float64' }))[0]!);
  const x0 = values(x);
  const dir = values(v);
  const shifted = (sign: number): Float64Array =>
    values(gradOf(tensor(x0.map((xi, i) => xi + sign * eps * dir[i]!), { shape: x.shape, dtype: 'float64' })));
  const up = shifted(1);
  const down = shifted(-1);
  const numeric = up.map((u, i) => (u - down[i]!) / (2 * eps));
  const bad = worstMismatch(`hvpcheck: Hessian-vector product at shape ${JSON.stringify(x.shape)}`, analytic, numeric, rtol, atol);
  if (bad !== null) assert.fail(bad);
}
