/**
 * Gamma and Beta variates (Marsaglia–Tsang with the α < 1 boost): moments within a few standard errors
 * over many draws, ranges, determinism per seed, the tensor forms, and errors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator } from '../../src/tensor/index.js';
import { betaVariate, gammaVariate, sampleBeta, sampleGamma } from '../../src/model/beta.js';
import { moments } from '../helpers/stats.js';

const N = 20_000;
/** Moments must agree within this many standard errors (|z| > 4 has probability 6e-5 per check). */
const Z = 4;

function draws(n: number, draw: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = draw();
  return out;
}

function assertMoments(what: string, xs: Float64Array, mean: number, variance: number): void {
  const m = moments(xs);
  const zMean = (m.mean - mean) / m.meanSE;
  const zVar = (m.variance - variance) / m.varianceSE;
  assert.ok(Math.abs(zMean) < Z, `${what}: mean ${m.mean} vs ${mean} (z = ${zMean.toFixed(2)})`);
  assert.ok(Math.abs(zVar) < Z, `${what}: variance ${m.variance} vs ${variance} (z = ${zVar.toFixed(2)})`);
}

describe('Gamma variates', () => {
  for (const alpha of [0.3, 0.8, 1, 1.5, 4, 20]) {
    test(`Gamma(${alpha}, 1) has mean α and variance α (${N} draws, ${alpha < 1 ? 'boost' : 'squeeze'} path)`, () => {
      const g = new Generator(`gamma-${alpha}`);
      const xs = draws(N, () => gammaVariate(alpha, g));
      assert.ok(xs.every((x) => Number.isFinite(x) && x >= 0), 'Gamma variates are finite and ≥ 0');
      assertMoments(`Gamma(${alpha})`, xs, alpha, alpha);
    });
  }

  test('a tiny shape gives finite, non-negative values (the boost may underflow to 0, never to NaN)', () => {
    const g = new Generator(3);
    const xs = draws(2000, () => gammaVariate(0.01, g));
    assert.ok(xs.every((x) => Number.isFinite(x) && x >= 0));
  });
});

describe('Beta variates from Gamma variates', () => {
  const cases: [number, number][] = [
    [1.5, 1],
    [0.5, 0.5],
    [2, 5],
    [0.3, 3],
    [5, 0.7],
    [30, 30],
  ];
  for (const [a, b] of cases) {
    test(`Beta(${a}, ${b}) has mean α/(α+β) and variance αβ/((α+β)²(α+β+1)) (${N} draws)`, () => {
      const g = new Generator(`beta-${a}-${b}`);
      const xs = draws(N, () => betaVariate(a, b, g));
      assert.ok(xs.every((x) => x >= 0 && x <= 1), 'Beta variates lie in [0, 1]');
      const s = a + b;
      assertMoments(`Beta(${a}, ${b})`, xs, a / s, (a * b) / (s * s * (s + 1)));
    });
  }

  test('the moment check has power: Beta(1.5, 1) draws fail against Beta(1, 1.5) moments', () => {
    const g = new Generator(11);
    const m = moments(draws(N, () => betaVariate(1.5, 1, g)));
    assert.ok(Math.abs((m.mean - 0.4) / m.meanSE) > Z, `mean ${m.mean} should be far from 0.4`);
  });

  test('tiny shapes give values in [0, 1], near the ends, never NaN (ratio taken in log space)', () => {
    const g = new Generator(5);
    const xs = draws(2000, () => betaVariate(0.01, 0.01, g));
    assert.ok(xs.every((x) => x >= 0 && x <= 1));
    const middle = xs.filter((x) => x > 0.01 && x < 0.99).length;
    assert.ok(middle < 100, `Beta(0.01, 0.01) puts almost all mass near 0 and 1, got ${middle} of 2000 in the middle`);
  });

  test('the same seed gives the same stream bit for bit; different seeds differ', () => {
    fc.assert(
      fc.property(fc.integer(), fc.double({ min: 0.05, max: 10, noNaN: true }), fc.double({ min: 0.05, max: 10, noNaN: true }), (seed, a, b) => {
        const g1 = new Generator(seed);
        const g2 = new Generator(seed);
        const x1 = draws(20, () => betaVariate(a, b, g1));
        const x2 = draws(20, () => betaVariate(a, b, g2));
        assert.deepEqual(x1, x2);
        const x3 = draws(20, () => betaVariate(a, b, new Generator(`${seed}-other`)));
        assert.notDeepEqual(x1, x3);
      }),
      { numRuns: 50 },
    );
  });
});

describe('tensor forms', () => {
  test('sampleBeta and sampleGamma draw the scalar stream in row-major order', () => {
    const t = sampleBeta([3, 4], 1.5, 1, { generator: new Generator(9), dtype: 'float64' });
    assert.deepEqual(t.shape, [3, 4]);
    assert.equal(t.dtype, 'float64');
    const g = new Generator(9);
    assert.deepEqual(Array.from(t.dataSync()), Array.from(draws(12, () => betaVariate(1.5, 1, g))));
    const u = sampleGamma([5], 0.5, { generator: new Generator(2) });
    assert.equal(u.dtype, 'float32');
    const h = new Generator(2);
    assert.deepEqual(Array.from(u.dataSync()), Array.from(Float32Array.from(draws(5, () => gammaVariate(0.5, h)))));
  });
});

describe('errors', () => {
  test('non-positive or non-finite shapes throw, naming the function and the value', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => gammaVariate(bad), new RegExp(`gammaVariate: alpha must be a finite number > 0, got ${bad}`));
      assert.throws(() => betaVariate(1, bad), new RegExp(`betaVariate: beta must be a finite number > 0, got ${bad}`));
      assert.throws(() => sampleBeta([2], bad, 1), /sampleBeta: alpha/);
      assert.throws(() => sampleGamma([2], bad), /sampleGamma: alpha/);
    }
    assert.throws(() => sampleBeta([2, -1], 1, 1), /sampleBeta/);
  });
});
