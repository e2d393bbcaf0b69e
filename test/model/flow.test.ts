/**
 * Rectified flow matching: training-time sampling, the path and loss of Eq. 7, and the Euler sampler of
 * Eq. 20 (exact transport, step count and times, hooks, per-token time).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, full, randn, tensor, vjp, where, type Tensor } from '../../src/tensor/index.js';
import {
  DEFAULT_TIME_SAMPLING,
  eulerSample,
  flowMatchingLoss,
  interpolate,
  sampleTime,
  velocityTarget,
  type TimeSampling,
} from '../../src/model/flow.js';
import { assertClose, gradcheck } from '../helpers/gradcheck.js';
import { moments } from '../helpers/stats.js';

const f64 = (data: ArrayLike<number>, shape: readonly number[]): Tensor => tensor(Float64Array.from(data), { shape, dtype: 'float64' });
const bools = (data: readonly boolean[], shape: readonly number[]): Tensor => tensor(data.map(Number), { shape, dtype: 'bool' });
const values = (t: Tensor): number[] => Array.from(t.dataSync());
const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** [B, T, D] with small dims. */
const shapeArb = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }));

describe('training time t (t = 1 clean, t = 0 noise)', () => {
  const samplings: [string, TimeSampling][] = [
    ['uniform', { kind: 'uniform' }],
    ['default beta', DEFAULT_TIME_SAMPLING],
    ['beta with s = 0.5 (many redraws)', { kind: 'beta', alpha: 2, beta: 2, s: 0.5 }],
  ];
  for (const [name, sampling] of samplings) {
    test(`${name}: t lies in (0, 1] and the same seed gives the same times`, () => {
      fc.assert(
        fc.property(fc.integer(), (seed) => {
          const t = values(sampleTime([500], { sampling, generator: new Generator(seed), dtype: 'float64' }));
          assert.ok(t.every((x) => x > 0 && x <= 1), `t out of (0, 1]: ${t.find((x) => !(x > 0 && x <= 1))}`);
          const t32 = values(sampleTime([500], { sampling, generator: new Generator(seed) }));
          assert.deepEqual(t32, Array.from(Float32Array.from(t)));
          assert.ok(t32.every((x) => x > 0 && x <= 1), 'float32 times stay in (0, 1]');
          assert.deepEqual(values(sampleTime([500], { sampling, generator: new Generator(seed), dtype: 'float64' })), t);
        }),
        { numRuns: 20 },
      );
    });
  }

  test('uniform: mean 1/2 and variance 1/12 within 4 standard errors', () => {
    const m = moments(sampleTime([20_000], { sampling: { kind: 'uniform' }, generator: new Generator(1), dtype: 'float64' }).dataSync());
    assert.ok(Math.abs(m.mean - 0.5) < 4 * m.meanSE, `mean ${m.mean}`);
    assert.ok(Math.abs(m.variance - 1 / 12) < 4 * m.varianceSE, `variance ${m.variance}`);
  });

  test('beta: t = (s − B)/s has the moments of 1 − Beta(α, β) when s = 1, and for β = 1 whatever s (B < s rescales Beta(α, 1))', () => {
    const cases: [TimeSampling, number, number][] = [
      [{ kind: 'beta', alpha: 2, beta: 3, s: 1 }, 2, 3],
      [DEFAULT_TIME_SAMPLING, 1.5, 1],
    ];
    for (const [sampling, alpha, beta] of cases) {
      const m = moments(sampleTime([20_000], { sampling, generator: new Generator(2), dtype: 'float64' }).dataSync());
      const s = alpha + beta;
      const mean = beta / s;
      const variance = (alpha * beta) / (s * s * (s + 1));
      assert.ok(Math.abs(m.mean - mean) < 4 * m.meanSE, `${JSON.stringify(sampling)}: mean ${m.mean} vs ${mean}`);
      assert.ok(Math.abs(m.variance - variance) < 4 * m.varianceSE, `${JSON.stringify(sampling)}: variance ${m.variance} vs ${variance}`);
    }
  });

  test('bad sampling parameters throw, naming the function', () => {
    assert.throws(() => sampleTime([2], { sampling: { kind: 'beta', s: 0 } }), /sampleTime: sampling.s must lie in \(0, 1\], got 0/);
    assert.throws(() => sampleTime([2], { sampling: { kind: 'beta', alpha: -1 } }), /sampleTime: sampling.alpha/);
    assert.throws(() => sampleTime([2], { sampling: { kind: 'gauss' } as unknown as TimeSampling }), /sampleTime: sampling.kind/);
    assert.throws(() => sampleTime([2, 1.5]), /sampleTime/);
  });
});

describe('Eq. 7: the probability path and its target', () => {
  test('Eq. 7: x_t is x0 at t = 0 and a at t = 1, bit for bit, for scalar, per-sample and per-token t', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer(), ([B, T, D], seed) => {
        const g = new Generator(seed);
        const x0 = randn([B, T, D], { generator: g });
        const a = randn([B, T, D], { generator: g });
        for (const [t, want] of [
          [0, x0],
          [1, a],
        ] as const) {
          for (const tt of [t, full([B], t), full([B, T], t, { dtype: 'float64' })]) {
            const xt = interpolate(x0, a, tt);
            assert.equal(xt.dtype, 'float32');
            assert.deepEqual(values(xt), values(want));
          }
        }
        // Per-token times mix the endpoints token by token.
        const mixed = tensor(Array.from({ length: B * T }, (_, i) => i % 2), { shape: [B, T] });
        const xt = values(interpolate(x0, a, mixed));
        const [x0v, av] = [values(x0), values(a)];
        xt.forEach((v, i) => assert.equal(v, Math.floor(i / D) % 2 === 1 ? av[i] : x0v[i]));
      }),
      { numRuns: 30 },
    );
  });

  test('Eq. 7: the target a − x0 is the velocity d x_t / dt of the path, at any t', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), ([B, T, D], seed, t0) => {
        const g = new Generator(seed);
        const x0 = randn([B, T, D], { generator: g, dtype: 'float64' });
        const a = randn([B, T, D], { generator: g, dtype: 'float64' });
        const [, back] = vjp((t) => interpolate(x0, a, t), full([B, T, D], t0, { dtype: 'float64' }));
        const [dxdt] = back(full([B, T, D], 1, { dtype: 'float64' }));
        assertClose('d x_t / dt', dxdt!, values(velocityTarget(x0, a)), 0, 0);
      }),
      { numRuns: 20 },
    );
  });

  test('interpolate rejects times that do not match the leading axes, and mismatched endpoints', () => {
    const x = randn([2, 3, 4]);
    assert.throws(() => interpolate(x, x, full([3], 0.5)), /interpolate: t \[3\] must match the leading axes of \[2,3,4\]/);
    assert.throws(() => interpolate(x, randn([2, 3, 5]), 0.5), /interpolate: x0 \[2,3,4\] and a \[2,3,5\] differ in shape/);
  });
});

/** A loss case: [B, T, D] prediction and target, per-sample active-dim mask [B, D] and token weights [B, T]. */
const lossCaseArb = shapeArb.chain(([B, T, D]) =>
  fc.record({
    shape: fc.constant([B, T, D]),
    pred: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: B * T * D, maxLength: B * T * D }),
    target: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: B * T * D, maxLength: B * T * D }),
    mask: fc.array(fc.boolean(), { minLength: B * D, maxLength: B * D }),
    weight: fc.array(fc.constantFrom(0, 0.5, 1, 2), { minLength: B * T, maxLength: B * T }),
  }),
);

describe('Eq. 7: the flow-matching loss', () => {
  test('Eq. 7: the loss is zero when the prediction equals the target, and positive when a counted element differs', () => {
    fc.assert(
      fc.property(lossCaseArb, fc.double({ min: 1e-3, max: 2, noNaN: true }), fc.nat(), (c, delta, pick) => {
        const [B, T, D] = c.shape as [number, number, number];
        const opts = { mask: bools(c.mask, [B, D]), weight: f64(c.weight, [B, T]) };
        const target = f64(c.target, c.shape);
        for (const reduction of ['mean', 'sum'] as const) assert.equal(flowMatchingLoss(target, target, { ...opts, reduction }).item(), 0);
        const counted = c.target.map((_, i) => c.mask[Math.floor(i / (T * D)) * D + (i % D)]! && c.weight[Math.floor(i / D)]! > 0);
        const ids = counted.flatMap((on, i) => (on ? [i] : []));
        fc.pre(ids.length > 0);
        const moved = c.target.slice();
        moved[ids[pick % ids.length]!]! += delta;
        for (const reduction of ['mean', 'sum'] as const) assert.ok(flowMatchingLoss(f64(moved, c.shape), target, { ...opts, reduction }).item() > 0);
      }),
      { numRuns: 50 },
    );
  });

  test('Eq. 7: inactive dims and zero-weight tokens never contribute: any values there (NaN, ±Infinity) leave the loss unchanged and get exactly zero gradient', () => {
    fc.assert(
      fc.property(lossCaseArb, fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1e300, 7), (c, junk) => {
        const [B, T, D] = c.shape as [number, number, number];
        const opts = { mask: bools(c.mask, [B, D]), weight: f64(c.weight, [B, T]) };
        const counted = c.pred.map((_, i) => c.mask[Math.floor(i / (T * D)) * D + (i % D)]! && c.weight[Math.floor(i / D)]! > 0);
        const spoiled = c.pred.map((v, i) => (counted[i] ? v : junk));
        const target = f64(c.target, c.shape);
        for (const reduction of ['mean', 'sum'] as const) {
          const clean = flowMatchingLoss(f64(c.pred, c.shape), target, { ...opts, reduction });
          const pred = f64(spoiled, c.shape).requiresGrad_(true);
          const loss = flowMatchingLoss(pred, target, { ...opts, reduction });
          assert.equal(loss.item(), clean.item());
          loss.backward();
          values(pred.grad!).forEach((gv, i) => {
            if (!counted[i]) assert.ok(gv === 0, `gradient ${gv} at uncounted element ${i}`);
            else assert.ok(Number.isFinite(gv));
          });
        }
      }),
      { numRuns: 40 },
    );
  });

  test("Eq. 7 reductions: 'sum' is Σ w·m·(v − u)², 'mean' divides by Σ w·m, 'none' keeps each element; masks [D], [B, D] and full", () => {
    fc.assert(
      fc.property(lossCaseArb, (c) => {
        const [B, T, D] = c.shape as [number, number, number];
        const m = (i: number): boolean => c.mask[Math.floor(i / (T * D)) * D + (i % D)]!;
        const w = (i: number): number => c.weight[Math.floor(i / D)]!;
        const per = c.pred.map((p, i) => (m(i) ? w(i) * (p - c.target[i]!) ** 2 : 0));
        const sum = per.reduce((s, x) => s + x, 0);
        const den = c.pred.reduce((s, _, i) => s + (m(i) ? w(i) : 0), 0);
        const fullMask = bools(c.pred.map((_, i) => m(i)), c.shape);
        for (const mask of [bools(c.mask, [B, D]), fullMask]) {
          const args = [f64(c.pred, c.shape), f64(c.target, c.shape)] as const;
          const opts = { mask, weight: f64(c.weight, [B, T]) };
          assertClose('sum', flowMatchingLoss(...args, { ...opts, reduction: 'sum' }), [sum], 1e-12, 1e-12);
          assertClose('mean', flowMatchingLoss(...args, opts), [den === 0 ? 0 : sum / den], 1e-12, 1e-12);
          assertClose('none', flowMatchingLoss(...args, { ...opts, reduction: 'none' }), per, 1e-12, 0);
        }
        // A [D] mask applies the first sample's mask to every sample.
        const shared = c.pred.reduce((s, p, i) => s + (c.mask[i % D] ? (p - c.target[i]!) ** 2 : 0), 0);
        const got = flowMatchingLoss(f64(c.pred, c.shape), f64(c.target, c.shape), { mask: bools(c.mask.slice(0, D), [D]), reduction: 'sum' });
        assertClose('sum with a [D] mask', got, [shared], 1e-12, 1e-12);
      }),
      { numRuns: 40 },
    );
  });

  test("Eq. 7: 'mean' with nothing counted is 0, not NaN", () => {
    const z = flowMatchingLoss(randn([2, 3, 4]), randn([2, 3, 4]), { mask: full([4], false) });
    assert.equal(z.item(), 0);
  });

  test('Eq. 7: gradients with mask and weights match finite differences (float64)', () => {
    fc.assert(
      fc.property(lossCaseArb, fc.integer({ min: 0, max: 1000 }), (c, seed) => {
        const [B, T, D] = c.shape as [number, number, number];
        const opts = { mask: bools(c.mask, [B, D]), weight: f64(c.weight, [B, T]) };
        gradcheck((p, t) => flowMatchingLoss(p, t, opts), [f64(c.pred, c.shape), f64(c.target, c.shape)], { seed });
      }),
      { numRuns: 20 },
    );
  });

  test('bad inputs throw, naming the function and the shapes', () => {
    const x = randn([2, 3, 4]);
    assert.throws(() => flowMatchingLoss(x, randn([2, 3, 5])), /flowMatchingLoss: pred \[2,3,4\] and target \[2,3,5\] differ in shape/);
    assert.throws(() => flowMatchingLoss(x, x, { mask: full([3], true) }), /flowMatchingLoss: mask \[3\] must be \[D\], \[B, D\]/);
    assert.throws(() => flowMatchingLoss(x, x, { mask: full([4], 1) }), /flowMatchingLoss: mask must be bool, got float32 \[4\]/);
    assert.throws(() => flowMatchingLoss(x, x, { weight: full([2, 3], -1) }), /flowMatchingLoss: weights must be finite and ≥ 0, got -1/);
    assert.throws(() => flowMatchingLoss(x, x, { weight: full([2, 4], 1) }), /flowMatchingLoss: .*\[2,4\]/);
    assert.throws(() => flowMatchingLoss(x, x, { reduction: 'max' as 'sum' }), /flowMatchingLoss: reduction/);
  });
});

describe('Eq. 20: the Euler sampler', () => {
  test('Eq. 20: a constant field v carries x0 to x0 + v: exactly for K = 1, 2, 4, 8 on dyadic values, within K ulps for any K', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 12 }), (seed, K) => {
        const g = new Generator(seed);
        // Multiples of 1/16 in [−8, 8]: their sums with multiples of v/K stay exact when K is a power of 2.
        const dyadic = (n: number): number[] => Array.from({ length: n }, () => g.integer(-128, 129) / 16);
        const x0 = f64(dyadic(12), [3, 4]);
        const v = f64(dyadic(12), [3, 4]);
        const out = values(eulerSample(() => v, x0, { steps: K }));
        const want = values(x0.add(v));
        if ([1, 2, 4, 8].includes(K)) assert.deepEqual(out, want);
        else out.forEach((o, i) => assert.ok(Math.abs(o - want[i]!) <= K * 16 * Number.EPSILON, `K = ${K}: ${o} vs ${want[i]}`));
      }),
      { numRuns: 60 },
    );
  });

  test('Eq. 20: K steps (default 4) call the field K times, at t = 0, 1/K, …, (K−1)/K, each on the state the previous step produced', () => {
    for (const K of [undefined, 1, 3, 7]) {
      const calls: { x: Tensor; t: Tensor; k: number; v: Tensor }[] = [];
      const x0 = randn([2, 5], { generator: new Generator(K ?? 0), dtype: 'float64' });
      const field = (x: Tensor, t: Tensor, k: number): Tensor => {
        const v = x.sin().add(t);
        calls.push({ x, t, k, v });
        return v;
      };
      const out = eulerSample(field, x0, K === undefined ? {} : { steps: K });
      const steps = K ?? 4;
      assert.equal(calls.length, steps);
      calls.forEach((c, k) => {
        assert.equal(c.k, k);
        assert.deepEqual(c.t.shape, []);
        assert.equal(c.t.item(), k / steps);
        const next = c.x.add(c.v.mul(1 / steps));
        assert.deepEqual(values(k + 1 < steps ? calls[k + 1]!.x : out), values(next));
      });
      assert.deepEqual(values(calls[0]!.x), values(x0));
    }
  });

  test('Eq. 20 with Eq. 7: the exact field of a single data point a, (a − x)/(1 − t), carries any noise to a', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 9 }), (seed, K) => {
        const g = new Generator(seed);
        const a = randn([4, 3], { generator: g, dtype: 'float64' });
        const x0 = randn([4, 3], { generator: g, dtype: 'float64' });
        const out = eulerSample((x, t) => a.sub(x).div(t.neg().add(1)), x0, { steps: K });
        assertClose('a^(K)', out, values(a), 1e-9, 1e-9);
      }),
      { numRuns: 30 },
    );
  });

  test('hooks: beforeStep sees states 0 … K−1 and afterStep states 1 … K, each with its time j/K, and what they return is used', () => {
    const K = 5;
    const seen: string[] = [];
    const x0 = randn([3], { generator: new Generator(4), dtype: 'float64' });
    const out = eulerSample(() => full([3], 1, { dtype: 'float64' }), x0, {
      steps: K,
      beforeStep: (x, t, j) => (seen.push(`before ${j} ${t.item()}`), x),
      afterStep: (x, t, j) => (seen.push(`after ${j} ${t.item()}`), x.mul(0)),
    });
    const want = Array.from({ length: K }, (_, j) => [`before ${j} ${j / K}`, `after ${j + 1} ${(j + 1) / K}`]).flat();
    assert.deepEqual(seen, want);
    assert.deepEqual(values(out), [0, 0, 0]);
  });

  test('Eq. 23 as a hook: locking a prefix before and after every step keeps it bit-identical, in every state the field sees', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 6 }), (seed, K, d) => {
        const g = new Generator(seed);
        const T = 6;
        const committed = randn([2, T, 3], { generator: g });
        const prefix = tensor(Array.from({ length: T }, (_, i) => (i < d ? 1 : 0)), { dtype: 'bool' }).reshape([T, 1]);
        const lock = (x: Tensor): Tensor => where(prefix, committed, x);
        const seen: Tensor[] = [];
        const field = (x: Tensor, t: Tensor): Tensor => (seen.push(x), x.mul(x).add(t).cos().mul(3));
        const out = eulerSample(field, randn([2, T, 3], { generator: g }), { steps: K, beforeStep: lock, afterStep: lock });
        const c = values(committed);
        for (const x of [...seen, out]) values(x).forEach((v, i) => Math.floor(i / 3) % T < d && assert.ok(Object.is(v, c[i]), `${v} vs ${c[i]}`));
      }),
      { numRuns: 30 },
    );
  });

  test('Eq. 18 at inference: held tokens see t = 1 and never move; the others integrate as they would alone', () => {
    const T = 5;
    const D = 2;
    const held = bools([true, true, false, false, false], [T]);
    const x0 = randn([T, D], { generator: new Generator(8) });
    const field = (x: Tensor, t: Tensor): Tensor => x.sin().mul(t.ndim === 0 ? t.add(1) : t.reshape([T, 1]).add(1));
    const ts: number[][] = [];
    const out = values(eulerSample((x, t) => (ts.push(values(t)), field(x, t)), x0, { held, steps: 3 }));
    assert.deepEqual(ts, [0, 1, 2].map((k) => [1, 1, k / 3, k / 3, k / 3].map((v) => Math.fround(v))));
    const alone = values(eulerSample(field, x0, { steps: 3 }));
    const start = values(x0);
    out.forEach((v, i) => assert.ok(Object.is(v, i < 2 * D ? start[i] : alone[i]), `element ${i}: ${v}`));
  });

  test('bad inputs throw, naming the function', () => {
    const x = randn([2, 3]);
    assert.throws(() => eulerSample(() => x, x, { steps: 0 }), /eulerSample: steps must be an integer ≥ 1, got 0/);
    assert.throws(() => eulerSample(() => x, x, { steps: 1.5 }), /eulerSample: steps/);
    assert.throws(() => eulerSample(() => randn([3, 2]), x), /eulerSample: the velocity field returned float32 \[3,2\], expected float32 \[2,3\]/);
    assert.throws(() => eulerSample(() => x, x, { held: full([2], 1) }), /eulerSample: held must be bool/);
    assert.throws(() => eulerSample(() => x, x, { held: full([3], true) }), /eulerSample: held \[3\] must match the leading axes of \[2,3\]/);
    assert.throws(() => eulerSample(() => x, x, { beforeStep: () => randn([2]) }), /eulerSample: beforeStep returned/);
  });
});
