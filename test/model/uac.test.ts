/**
 * Universal Async Chunking, training side (Eq. 17-19): d_max from timing, delay distributions (range and
 * a chi-square goodness of fit), per-token times, inputs with an exact clean prefix, and a loss that
 * gives the prefix no loss and no gradient; plus the Eq. 23 prefix lock with the Euler sampler.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, randn, tensor, type Tensor } from '../../src/tensor/index.js';
import { eulerSample, flowMatchingLoss, interpolate, sampleTime, velocityTarget } from '../../src/model/flow.js';
import {
  DelayDistribution,
  delayProbabilities,
  lockPrefix,
  maxDelay,
  prefixMask,
  sampleDelays,
  sampleUACInputs,
  uacInputs,
  uacLoss,
  uacTimesteps,
  type DelayWeighting,
} from '../../src/model/uac.js';
import { assertClose, gradcheck } from '../helpers/gradcheck.js';
import { chiSquareTest, gammaQ } from '../helpers/stats.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const f64 = (data: ArrayLike<number>, shape: readonly number[]): Tensor => tensor(Float64Array.from(data), { shape, dtype: 'float64' });

/** A batch: [B, T, D] and one valid delay per sample (d < T). */
const batchArb = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }))
  .chain(([B, T, D]) => fc.record({ B: fc.constant(B), T: fc.constant(T), D: fc.constant(D), delays: fc.array(fc.integer({ min: 0, max: T - 1 }), { minLength: B, maxLength: B }), seed: fc.integer() }));

function batch(c: { B: number; T: number; D: number; seed: number }): { a: Tensor; x0: Tensor; tBase: Tensor } {
  const g = new Generator(c.seed);
  return {
    a: randn([c.B, c.T, c.D], { generator: g, dtype: 'float64' }),
    x0: randn([c.B, c.T, c.D], { generator: g, dtype: 'float64' }),
    tBase: sampleTime([c.B], { generator: g, dtype: 'float64' }),
  };
}

describe('§5.3.3: d_max from the control period and the latency budget', () => {
  test('d_max = ⌈L/Δt⌉, at least 1, capped at the chunk length, despite rounding in L/Δt', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(5, 10, 15, 20, 30, 50, 60, 100, 200),
        fc.integer({ min: 0, max: 40 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer({ min: 1, max: 32 }),
        (hz, n, frac, T) => {
          const controlPeriod = 1 / hz;
          assert.equal(maxDelay({ controlPeriod, latencyBudget: n * controlPeriod, chunkLength: T }), Math.min(T, Math.max(1, n)));
          assert.equal(maxDelay({ controlPeriod, latencyBudget: (n + frac) / hz, chunkLength: T }), Math.min(T, n + 1));
        },
      ),
      { numRuns: 200 },
    );
    assert.equal(maxDelay({ controlPeriod: 0.1, latencyBudget: 0.3, chunkLength: 16 }), 3);
  });

  test('bad timings throw, naming the function and the value', () => {
    assert.throws(() => maxDelay({ controlPeriod: 0, latencyBudget: 0.1, chunkLength: 16 }), /maxDelay: controlPeriod must be a finite number > 0, got 0/);
    assert.throws(() => maxDelay({ controlPeriod: 0.1, latencyBudget: -1, chunkLength: 16 }), /maxDelay: latencyBudget must be a finite number ≥ 0, got -1/);
    assert.throws(() => maxDelay({ controlPeriod: 0.1, latencyBudget: Number.NaN, chunkLength: 16 }), /maxDelay: latencyBudget/);
    assert.throws(() => maxDelay({ controlPeriod: 0.1, latencyBudget: 0.1, chunkLength: 0 }), /maxDelay: chunkLength must be an integer ≥ 1, got 0/);
  });
});

describe('Eq. 17: delay distributions π^(e)', () => {
  test('probabilities sum to 1; uniform is flat; exponential falls by a factor e per step (∝ exp(d_max − 1 − d)), even for large d_max', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), (dMax) => {
        for (const kind of ['uniform', 'exponential'] as const) {
          const p = delayProbabilities(dMax, kind);
          assert.equal(p.length, dMax);
          assert.ok(Math.abs(p.reduce((s, x) => s + x, 0) - 1) < 1e-12);
          assert.ok(p.every((x) => Number.isFinite(x) && x >= 0));
          for (let d = 0; d + 1 < Math.min(dMax, 30); d++) {
            const ratio = p[d]! / p[d + 1]!;
            assert.ok(Math.abs(ratio - (kind === 'uniform' ? 1 : Math.E)) < 1e-9, `${kind} p${d}/p${d + 1} = ${ratio}`);
          }
        }
      }),
      { numRuns: 50 },
    );
    assert.deepEqual(delayProbabilities(4, [1, 0, 2, 1]), [0.25, 0, 0.5, 0.25]);
  });

  test('Eq. 17: sampled delays stay in {0, …, d_max − 1}', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.constantFrom<DelayWeighting>('uniform', 'exponential'), fc.integer(), (dMax, kind, seed) => {
        const pi = new DelayDistribution(dMax, kind);
        const g = new Generator(seed);
        for (let i = 0; i < 200; i++) {
          const d = pi.sample(g);
          assert.ok(Number.isInteger(d) && d >= 0 && d < dMax, `d = ${d}, d_max = ${dMax}`);
        }
      }),
      { numRuns: 50 },
    );
  });

  const N = 20_000;
  const counts = (pi: DelayDistribution, seed: number): number[] => {
    const g = new Generator(seed);
    const c = new Array<number>(pi.dMax).fill(0);
    for (let i = 0; i < N; i++) c[pi.sample(g)]!++;
    return c;
  };

  const fits: [string, number, DelayWeighting][] = [
    ['uniform', 7, 'uniform'],
    ['exponential', 6, 'exponential'],
    ['explicit weights with a zero', 5, [0.1, 0, 0.5, 0.3, 0.1]],
  ];
  for (const [name, dMax, w] of fits) {
    test(`Eq. 17: delays follow π (${name}, d_max ${dMax}): chi-square goodness of fit, ${N} draws, p > 0.001`, () => {
      const pi = new DelayDistribution(dMax, w);
      const c = counts(pi, 17);
      // A delay of probability 0 is never drawn and is left out of the test.
      c.forEach((n, d) => pi.probabilities[d] === 0 && assert.equal(n, 0, `d = ${d} has probability 0 but was drawn ${n} times`));
      const keep = pi.probabilities.flatMap((p, d) => (p > 0 ? [d] : []));
      const { statistic, pValue } = chiSquareTest(keep.map((d) => c[d]!), keep.map((d) => pi.probabilities[d]!));
      assert.ok(pValue > 0.001, `χ² = ${statistic}, p = ${pValue}, counts ${c}`);
    });
  }

  test('the goodness-of-fit check has power: uniform delays fail against exponential probabilities (p < 1e-6)', () => {
    const { pValue } = chiSquareTest(counts(new DelayDistribution(6, 'uniform'), 17), new DelayDistribution(6, 'exponential').probabilities);
    assert.ok(pValue < 1e-6, `p = ${pValue}`);
  });

  test('the chi-square p-value helper matches closed forms: Q(1, x) = e^−x and Q(2, x) = (1 + x)e^−x', () => {
    for (const x of [0.1, 0.7, 1.5, 3, 10, 40]) {
      assert.ok(Math.abs(gammaQ(1, x) - Math.exp(-x)) < 1e-12 * Math.max(1, Math.exp(-x)) + 1e-15, `Q(1, ${x})`);
      assert.ok(Math.abs(gammaQ(2, x) - (1 + x) * Math.exp(-x)) < 1e-12, `Q(2, ${x})`);
    }
  });

  test('Eq. 17 across embodiments: each sample draws from its own π^(e), so d_b < d_max(e_b)', () => {
    const fast = DelayDistribution.forEmbodiment({ controlPeriod: 1 / 50, latencyBudget: 0.15, chunkLength: 16 }, 'uniform');
    const slow = DelayDistribution.forEmbodiment({ controlPeriod: 1 / 10, latencyBudget: 0.15, chunkLength: 16 });
    assert.equal(fast.dMax, 8);
    assert.equal(slow.dMax, 2);
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }), fc.integer(), (which, seed) => {
        const dists = which.map((f) => (f ? fast : slow));
        const d = sampleDelays(dists, new Generator(seed));
        d.forEach((db, b) => assert.ok(db >= 0 && db < dists[b]!.dMax, `sample ${b}: d = ${db}, d_max ${dists[b]!.dMax}`));
      }),
      { numRuns: 50 },
    );
  });

  test('bad distributions throw, naming the function', () => {
    assert.throws(() => new DelayDistribution(0), /delayProbabilities: dMax must be an integer ≥ 1, got 0/);
    assert.throws(() => delayProbabilities(3, [1, 2]), /delayProbabilities: 2 weights given for dMax = 3/);
    assert.throws(() => delayProbabilities(2, [1, -1]), /delayProbabilities: weight of d = 1 must be finite and ≥ 0, got -1/);
    assert.throws(() => delayProbabilities(2, [0, 0]), /delayProbabilities: the weights sum to 0/);
    assert.throws(() => delayProbabilities(2, 'gauss' as 'uniform'), /delayProbabilities: weighting/);
  });
});

describe('Eq. 18: per-token times and inputs', () => {
  test('Eq. 18: t_i = 1 on the prefix (i < d) and t_base elsewhere', () => {
    fc.assert(
      fc.property(batchArb, (c) => {
        const { tBase } = batch(c);
        const t = uacTimesteps(c.delays, tBase, c.T);
        assert.deepEqual(t.shape, [c.B, c.T]);
        const tb = values(tBase);
        values(t).forEach((v, i) => {
          const [b, k] = [Math.floor(i / c.T), i % c.T];
          assert.equal(v, k < c.delays[b]! ? 1 : tb[b]);
        });
        assert.deepEqual(values(prefixMask(c.delays, c.T)), values(t).map((_, i) => Number(i % c.T < c.delays[Math.floor(i / c.T)]!)));
      }),
      { numRuns: 50 },
    );
  });

  test('Eq. 18: the prefix of x_t is exactly the clean actions; the postfix is (1 − t_base)·x0 + t_base·a; the target is a − x0', () => {
    fc.assert(
      fc.property(batchArb, (c) => {
        const { a, x0, tBase } = batch(c);
        const inp = uacInputs(a, x0, c.delays, tBase);
        const [xt, av, plain] = [values(inp.xt), values(a), values(interpolate(x0, a, tBase))];
        xt.forEach((v, i) => {
          const k = Math.floor(i / c.D) % c.T;
          const b = Math.floor(i / (c.T * c.D));
          assert.ok(Object.is(v, k < c.delays[b]! ? av[i] : plain[i]), `element ${i}`);
        });
        assert.deepEqual(values(inp.target), values(velocityTarget(x0, a)));
      }),
      { numRuns: 50 },
    );
  });

  test('bad delays throw, naming the function and the values', () => {
    const { a, x0, tBase } = batch({ B: 2, T: 4, D: 3, seed: 1 });
    assert.throws(() => uacInputs(a, x0, [0, 4], tBase), /uacInputs: delay of sample 1 must be an integer in \[0, 3\] \(chunk length 4\), got 4/);
    assert.throws(() => uacInputs(a, x0, [0], tBase), /uacInputs: 1 delays for a batch of 2/);
    assert.throws(() => uacInputs(a, x0, [0, 1.5], tBase), /uacInputs: delay of sample 1/);
    assert.throws(() => uacInputs(a.reshape([8, 3]), x0, [0, 1], tBase), /uacInputs: actions must be \[B, T, D\], got \[8,3\]/);
    assert.throws(() => uacTimesteps([0, 1], tBase.reshape([2, 1]), 4), /uacTimesteps: tBase must be a float \[B\] tensor/);
  });
});

describe('Eq. 19: the loss on the postfix only', () => {
  test('Eq. 19: prefix positions get exactly zero loss and exactly zero gradient, whatever is predicted there', () => {
    fc.assert(
      fc.property(batchArb, fc.constantFrom(Number.NaN, Number.NEGATIVE_INFINITY, 1e300, 0.25), (c, junk) => {
        const { a, x0, tBase } = batch(c);
        const inp = uacInputs(a, x0, c.delays, tBase);
        const pred = values(randn([c.B, c.T, c.D], { generator: new Generator(c.seed + 1), dtype: 'float64' }));
        const inPrefix = (i: number): boolean => Math.floor(i / c.D) % c.T < c.delays[Math.floor(i / (c.T * c.D))]!;
        const spoiled = pred.map((v, i) => (inPrefix(i) ? junk : v));
        for (const reduction of ['mean', 'sum'] as const) {
          const p = f64(spoiled, [c.B, c.T, c.D]).requiresGrad_(true);
          const loss = uacLoss(p, inp, { reduction });
          // Σ_{i ≥ d} ‖v̂_i − v*_i‖², written out by hand.
          const tv = values(inp.target);
          let sum = 0;
          let n = 0;
          pred.forEach((v, i) => {
            if (!inPrefix(i)) (sum += (v - tv[i]!) ** 2), n++;
          });
          assertClose(`${reduction} loss`, loss, [reduction === 'sum' ? sum : n === 0 ? 0 : sum / n], 1e-12, 1e-12);
          loss.backward();
          values(p.grad!).forEach((gv, i) => assert.ok(inPrefix(i) ? gv === 0 : Number.isFinite(gv), `gradient ${gv} at element ${i}`));
        }
      }),
      { numRuns: 50 },
    );
  });

  test('Eq. 19: postfix gradients match finite differences (float64, with an active-dim mask)', () => {
    fc.assert(
      fc.property(batchArb, (c) => {
        const { a, x0, tBase } = batch(c);
        const inp = uacInputs(a, x0, c.delays, tBase);
        const mask = tensor(Array.from({ length: c.D }, (_, j) => (j + c.seed) % 3 !== 0), { dtype: 'bool' });
        gradcheck((p) => uacLoss(p, inp, { mask }), [randn([c.B, c.T, c.D], { generator: new Generator(c.seed), dtype: 'float64' })]);
      }),
      { numRuns: 20 },
    );
  });

  test('d = 0 reduces to plain flow matching: same times, same x_t, same loss and gradient, bit for bit', () => {
    fc.assert(
      fc.property(batchArb, (c) => {
        const { a, x0, tBase } = batch(c);
        const inp = uacInputs(a, x0, new Array<number>(c.B).fill(0), tBase);
        assert.deepEqual(values(inp.t), values(tBase.unsqueeze(1).expand([c.B, c.T])));
        assert.deepEqual(values(inp.xt), values(interpolate(x0, a, tBase)));
        const pred = randn([c.B, c.T, c.D], { generator: new Generator(c.seed), dtype: 'float64' });
        const p1 = pred.detach().requiresGrad_(true);
        const p2 = pred.detach().requiresGrad_(true);
        const l1 = uacLoss(p1, inp);
        const l2 = flowMatchingLoss(p2, velocityTarget(x0, a));
        assert.equal(l1.item(), l2.item());
        l1.backward();
        l2.backward();
        assert.deepEqual(values(p1.grad!), values(p2.grad!));
      }),
      { numRuns: 30 },
    );
  });
});

describe('sampling a UAC batch', () => {
  const so101 = DelayDistribution.forEmbodiment({ controlPeriod: 1 / 30, latencyBudget: 0.1, chunkLength: 8 });
  const humanoid = DelayDistribution.forEmbodiment({ controlPeriod: 1 / 50, latencyBudget: 0.1, chunkLength: 8 }, 'uniform');

  test('draws d (Eq. 17), then t_base, then x0 from one generator: deterministic per seed, each d_b < d_max(e_b)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const a = randn([4, 8, 3], { generator: new Generator(-1) });
        const dists = [so101, humanoid, humanoid, so101];
        const got = sampleUACInputs(a, dists, { generator: new Generator(seed) });
        const g = new Generator(seed);
        const delays = sampleDelays(dists, g);
        const tBase = sampleTime([4], { generator: g });
        const noise = randn([4, 8, 3], { generator: g });
        assert.deepEqual(got.delays, delays);
        delays.forEach((d, b) => assert.ok(d < dists[b]!.dMax));
        assert.deepEqual(values(got.tBase), values(tBase));
        assert.deepEqual(values(got.noise), values(noise));
        assert.deepEqual(values(got.xt), values(uacInputs(a, noise, delays, tBase).xt));
      }),
      { numRuns: 20 },
    );
  });

  test('a distribution whose d_max exceeds the chunk length is refused', () => {
    const long = new DelayDistribution(10);
    assert.throws(() => sampleUACInputs(randn([1, 8, 2]), [long]), /sampleUACInputs: sample 0's d_max 10 exceeds the chunk length 8/);
    assert.throws(() => sampleUACInputs(randn([2, 8, 2]), [so101]), /sampleUACInputs: 1 delay distributions for a batch of 2/);
  });
});

describe('Eq. 23: hard prefix locking with the Euler sampler', () => {
  test('Eq. 23: with lockPrefix and held, the committed prefix is bit-identical in every state and the output; the field sees t = 1 there', () => {
    fc.assert(
      fc.property(batchArb, fc.integer({ min: 1, max: 6 }), (c, K) => {
        const { a: committed, x0 } = batch(c);
        const prefix = prefixMask(c.delays, c.T);
        const lock = lockPrefix(committed, prefix);
        const states: Tensor[] = [];
        const field = (x: Tensor, t: Tensor): Tensor => {
          states.push(x);
          values(t).forEach((tv, i) => i % c.T < c.delays[Math.floor(i / c.T)]! && assert.equal(tv, 1));
          return x.mul(t.unsqueeze(-1)).sin().add(1);
        };
        const out = eulerSample(field, x0, { steps: K, held: prefix, beforeStep: lock, afterStep: lock });
        const cv = values(committed);
        for (const s of [...states, out]) {
          values(s).forEach((v, i) => {
            if (Math.floor(i / c.D) % c.T < c.delays[Math.floor(i / (c.T * c.D))]!) assert.ok(Object.is(v, cv[i]));
          });
        }
      }),
      { numRuns: 30 },
    );
  });

  test('lockPrefix rejects masks and states that do not fit', () => {
    const committed = randn([2, 4, 3]);
    assert.throws(() => lockPrefix(committed, prefixMask([1, 2], 4).cast('float32')), /lockPrefix: prefix must be bool/);
    assert.throws(() => lockPrefix(committed, prefixMask([1, 2, 0], 4)), /lockPrefix: prefix \[3,4\] must match the leading axes of \[2,4,3\]/);
    assert.throws(() => lockPrefix(committed, prefixMask([1, 2], 4))(randn([2, 4, 2]), randn([]), 0), /lockPrefix: state float32 \[2,4,2\] differs/);
  });
});
