/**
 * Eq. 22: d ≥ ⌈t_inference / t_control⌉ + ε_safety, clamped to the trained maximum and T − 1, with a
 * conservative (windowed maximum) latency estimate.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chooseDelay, latencyCommitment, LatencyEstimator } from '../../../src/robot/runtime/latency-commitment.js';

describe('latency commitment', () => {
  test('Eq. 22: d − ε is the least whole number of control periods that covers the latency', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 2, noNaN: true }), fc.double({ min: 1e-3, max: 0.2, noNaN: true }), fc.nat({ max: 5 }), (t, dt, eps) => {
        const d = latencyCommitment(t, dt, eps);
        assert.ok(Number.isInteger(d) && d >= eps);
        const steps = d - eps;
        // within the documented tolerance: a ratio within 1e-9 of an integer counts as that integer
        assert.ok(steps * dt >= t - 1e-9 * Math.max(dt, t), `${steps} steps of ${dt} s do not cover ${t} s`);
        if (steps > 0) assert.ok((steps - 1) * dt < t, `${steps - 1} steps of ${dt} s already cover ${t} s`);
      }),
    );
    assert.equal(latencyCommitment(0.3, 0.1, 0), 3); // not 4 from 0.3 / 0.1 = 2.9999999999999996
    assert.equal(latencyCommitment(0.045, 0.02, 1), 4);
    assert.throws(() => latencyCommitment(-1, 0.02, 1), /tInference must be a finite number of seconds ≥ 0, got -1/);
    assert.throws(() => latencyCommitment(0.1, 0, 1), /tControl/);
    assert.throws(() => latencyCommitment(0.1, 0.02, 0.5), /safetyMargin/);
  });

  test('Eq. 22: the chosen d never exceeds the trained maximum or T − 1, and clamping is reported', () => {
    fc.assert(
      fc.property(
        fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
        fc.double({ min: 1e-3, max: 0.1, noNaN: true }),
        fc.nat({ max: 3 }),
        fc.nat({ max: 20 }),
        fc.integer({ min: 1, max: 24 }),
        (latency, controlPeriod, safetyMargin, trainedMaxDelay, chunkLength) => {
          const c = chooseDelay({ latency, controlPeriod, safetyMargin, trainedMaxDelay, chunkLength });
          const cap = Math.min(trainedMaxDelay, chunkLength - 1);
          assert.ok(c.delay <= cap && c.delay >= 0);
          if (latency === null) assert.equal(c.delay, cap); // nothing measured: overestimate, which is safe
          else assert.equal(c.required, latencyCommitment(latency, controlPeriod, safetyMargin));
          assert.equal(c.clamped, c.delay < c.required);
          assert.equal(c.delay, Math.min(c.required, cap));
        },
      ),
    );
  });

  test('the latency estimate is the recent maximum, never below the floor', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }), fc.integer({ min: 1, max: 10 }), fc.double({ min: 0, max: 0.5, noNaN: true }), (xs, window, floor) => {
        const e = new LatencyEstimator(window, floor);
        xs.forEach((x) => e.record(x));
        const recent = xs.slice(-window);
        const want = recent.length === 0 ? (floor > 0 ? floor : null) : Math.max(floor, ...recent);
        assert.equal(e.estimate(), want);
      }),
    );
    assert.throws(() => new LatencyEstimator(0), /window must be an integer ≥ 1, got 0/);
    assert.throws(() => new LatencyEstimator(4).record(NaN), /seconds must be finite/);
  });
});
