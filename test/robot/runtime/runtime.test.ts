/**
 * The runtime of §6 on a virtual clock (inline control thread, ManualClock, stand-in policy):
 * Eq. 22-24's continuity when d is honoured or overestimated, detection when it is underestimated,
 * and a control thread that keeps its period whatever the inference thread does.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../../src/robot/clock.js';
import { InferenceLoop } from '../../../src/robot/runtime/inference-loop.js';
import { latencyCommitment } from '../../../src/robot/runtime/latency-commitment.js';
import { SharedActionRing } from '../../../src/robot/runtime/ring-buffer.js';
import type { PolicyLike, SampleActionsOptions } from '../../../src/robot/runtime/policy.js';
import { StandInPolicy } from '../../../src/robot/runtime/stand-in-policy.js';
import { advance, largestJump, virtualRuntime } from './harness.js';

const scenario = fc.record({
  T: fc.integer({ min: 6, max: 20 }),
  D: fc.integer({ min: 1, max: 3 }),
  hz: fc.constantFrom(10, 30, 50, 200),
  maxStep: fc.double({ min: 1e-3, max: 0.2, noNaN: true }),
  margin: fc.integer({ min: 1, max: 2 }),
  seed: fc.nat(),
  latencyFractions: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }),
  maxLatencySteps: fc.double({ min: 0, max: 1, noNaN: true }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

/** Latencies up to a bound that Eq. 22 can honour within T − 1; the bound includes the virtual scheduling lag (≤ period/4). */
function setup(s: Scenario) {
  const period = 1 / s.hz;
  const trainedMaxDelay = s.T - 1;
  const maxSteps = Math.floor(s.maxLatencySteps * Math.max(0, trainedMaxDelay - s.margin - 1));
  const bound = maxSteps * period; // Eq. 22 with the lag: ⌈(bound + period/2)/period⌉ + ε ≤ maxSteps + 1 + ε ≤ T − 1
  const latencies = s.latencyFractions.map((f) => f * bound);
  const clock = new ManualClock();
  const policy = new StandInPolicy({ chunkLength: s.T, actionDim: s.D, trainedMaxDelay, maxStep: s.maxStep, seed: s.seed, latency: (call) => latencies[call % latencies.length]!, clock });
  return { clock, period, bound, policy, latencies, expectedLatency: bound + period / 2 };
}

async function run<O>(clock: ManualClock, policy: PolicyLike<O>, period: number, seconds: number, options: Parameters<typeof virtualRuntime<O>>[1]) {
  const v = await virtualRuntime(policy, options, clock);
  v.runtime.start();
  await advance(v.clock, seconds, period / 4);
  const metrics = await v.runtime.stop();
  return { ...v, metrics };
}

describe('real-time runtime (virtual clock)', () => {
  test('Eq. 22-24: when d is honoured the executed stream never jumps more than the policy’s own steps', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { clock, period, policy, expectedLatency } = setup(s);
        const { driver, metrics, events } = await run(clock, policy, period, (3 * s.T + 10) * period, { controlPeriod: period, safetyMargin: s.margin, expectedLatency });
        const { control, inference } = metrics;
        assert.equal(control.prefixOverruns, 0, JSON.stringify(events.filter((e) => e.type === 'prefix-overrun')));
        assert.ok(control.stitches >= 1 && inference.inferences >= control.stitches);
        assert.ok(control.maxRealizedDelay <= Math.max(...inference.delays.map((n, d) => (n > 0 ? d : 0))));
        assert.ok(control.maxJump <= policy.observedMaxStep, `jump ${control.maxJump} > policy step ${policy.observedMaxStep}`);
        assert.ok(largestJump(driver.sent) <= policy.observedMaxStep);
        assert.ok(policy.observedMaxStep <= s.maxStep);
        assert.equal(inference.errors, 0);
        assert.equal(inference.prefixEdits, 0);
      }),
      { numRuns: 25 },
    );
  });

  test('Eq. 22: overestimating d is safe — any larger d keeps the stream as smooth', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.double({ min: 0, max: 1, noNaN: true }), async (s, extra) => {
        const { clock, period, policy, expectedLatency } = setup(s);
        const required = Math.min(s.T - 1, latencyCommitment(expectedLatency, period, s.margin));
        const delay = required + Math.floor(extra * (s.T - 1 - required));
        const { driver, metrics } = await run(clock, policy, period, (3 * s.T + 10) * period, { controlPeriod: period, delay });
        assert.equal(metrics.control.prefixOverruns, 0);
        assert.ok(metrics.control.stitches >= 1);
        assert.deepEqual(metrics.inference.delays.flatMap((n, d) => (n > 0 ? [d] : [])), [delay]);
        assert.ok(largestJump(driver.sent) <= policy.observedMaxStep);
        assert.ok(metrics.control.maxJump <= policy.observedMaxStep);
      }),
      { numRuns: 20 },
    );
  });

  test('Eq. 22: underestimating d is detected and reported as prefix overruns', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 8, max: 16 }), fc.constantFrom(30, 50, 200), fc.integer({ min: 3, max: 6 }), fc.nat(), async (T, hz, latencySteps, seed) => {
        const period = 1 / hz;
        const delay = seed % latencySteps; // d < the ticks the inference really takes
        const clock = new ManualClock();
        const policy = new StandInPolicy({ chunkLength: T, actionDim: 2, trainedMaxDelay: T - 1, maxStep: 0.05, seed, latency: (latencySteps + 0.5) * period, clock });
        const { metrics, events } = await run(clock, policy, period, 6 * T * period, { controlPeriod: period, delay });
        const overruns = events.filter((e) => e.type === 'prefix-overrun');
        assert.ok(metrics.control.prefixOverruns > 0);
        assert.equal(overruns.length, metrics.control.prefixOverruns);
        for (const e of overruns) assert.ok(e.type === 'prefix-overrun' && e.realized > e.delay && e.delay === delay);
        assert.ok(metrics.control.overrunSteps >= metrics.control.prefixOverruns);
        assert.ok(metrics.control.maxRealizedDelay > delay);
      }),
      { numRuns: 15 },
    );
  });

  test('Eq. 22: a delay the checkpoint was not trained for is clamped to trainedMaxDelay, and the shortfall reported', async () => {
    const period = 1 / 50;
    const clock = new ManualClock();
    const policy = new StandInPolicy({ chunkLength: 8, actionDim: 1, trainedMaxDelay: 1, maxStep: 0.05, latency: 4.5 * period, clock });
    const { metrics, events } = await run(clock, policy, period, 60 * period, { controlPeriod: period });
    assert.ok(metrics.inference.delayClamped > 0);
    assert.ok(events.some((e) => e.type === 'delay-clamped' && e.delay === 1 && e.required > 1));
    assert.ok(metrics.inference.delays.every((n, d) => n === 0 || d <= 1));
    assert.ok(metrics.control.prefixOverruns > 0);
  });

  test('t_inference is measured on the clock and the estimate follows it', async () => {
    const period = 1 / 50;
    const latency = 2.25 * period;
    const clock = new ManualClock();
    const policy = new StandInPolicy({ chunkLength: 12, actionDim: 1, trainedMaxDelay: 8, maxStep: 0.05, latency, clock });
    const { metrics } = await run(clock, policy, period, 40 * period, { controlPeriod: period, safetyMargin: 1 });
    const { latency: l, latencyEstimate } = metrics.inference;
    assert.ok(l.count >= 3);
    assert.ok(l.p50 >= latency - 1e-12 && l.max <= latency + period / 4 + 1e-9, JSON.stringify(l));
    assert.ok(latencyEstimate !== null && latencyEstimate >= latency - 1e-12);
    // Before the first measurement d is the trained maximum; afterwards Eq. 22 on the estimate.
    const chosen = metrics.inference.delays.flatMap((n, d) => (n > 0 ? [d] : []));
    assert.ok(chosen.includes(8) && chosen.includes(latencyCommitment(latencyEstimate!, period, 1)));
  });

  test('Eq. 23-24: prefix rows a policy edits are discarded; the committed ones are executed', async () => {
    const period = 1 / 30;
    const clock = new ManualClock();
    const inner = new StandInPolicy({ chunkLength: 10, actionDim: 2, trainedMaxDelay: 6, maxStep: 0.02, latency: 1.5 * period, clock });
    const editing: PolicyLike<undefined> = {
      chunkLength: 10,
      actionDim: 2,
      trainedMaxDelay: 6,
      async sampleActions(o: undefined, opts: SampleActionsOptions) {
        const chunk = await inner.sampleActions(o, opts);
        chunk.fill(1000, 0, opts.delay * 2);
        return chunk;
      },
    };
    const { driver, metrics, events } = await run(clock, editing, period, 50 * period, { controlPeriod: period, delay: 4 });
    assert.ok(metrics.inference.prefixEdits > 0);
    assert.ok(events.some((e) => e.type === 'prefix-edited'));
    assert.ok(driver.sent.every((a) => a.every((x) => x !== 1000)));
    assert.ok(largestJump(driver.sent) <= inner.observedMaxStep);
  });

  test('§6.3: a stalled inference thread never stops the control thread: it keeps its period and holds', async () => {
    const period = 1 / 50;
    const clock = new ManualClock();
    const inner = new StandInPolicy({ chunkLength: 8, actionDim: 2, trainedMaxDelay: 5, maxStep: 0.05, latency: period, clock });
    let aborted = 0;
    const stalling: PolicyLike<undefined> = {
      chunkLength: 8,
      actionDim: 2,
      trainedMaxDelay: 5,
      sampleActions(o: undefined, opts: SampleActionsOptions) {
        if (inner.calls < 3) return inner.sampleActions(o, opts);
        opts.signal?.addEventListener('abort', () => aborted++);
        return new Promise<Float32Array>(() => {}); // never answers
      },
    };
    const seconds = 100 * period;
    const { driver, metrics, events } = await run(clock, stalling, period, seconds, { controlPeriod: period, stallTimeout: 20 * period });
    const { control, inference } = metrics;
    assert.ok(control.ticks >= Math.floor(seconds / period) - 1, `only ${control.ticks} ticks`);
    assert.equal(control.missedTicks, 0);
    assert.equal(driver.sent.length, control.ticks);
    assert.ok(control.underflows > 0 && control.underflowEpisodes >= 1);
    assert.ok(inference.stalls >= 1 && events.some((e) => e.type === 'inference-stalled'));
    assert.equal(aborted, 1); // stop() gave up the call in flight
    const tail = driver.sent.slice(-20); // long after the stall: holding one position
    assert.ok(tail.every((a) => a.every((x, j) => x === tail[0]![j])));
    assert.ok(largestJump(driver.sent) <= inner.observedMaxStep);
  });

  test('§6.3: a crashing inference thread never stops the control thread; the failure is reported', async () => {
    const period = 1 / 50;
    const clock = new ManualClock();
    const inner = new StandInPolicy({ chunkLength: 8, actionDim: 2, trainedMaxDelay: 5, maxStep: 0.05, latency: period, clock });
    const crashing: PolicyLike<undefined> = {
      chunkLength: 8,
      actionDim: 2,
      trainedMaxDelay: 5,
      async sampleActions(o: undefined, opts: SampleActionsOptions) {
        if (inner.calls >= 4) throw new Error('forward pass failed');
        return inner.sampleActions(o, opts);
      },
    };
    const seconds = 100 * period;
    const { driver, metrics, events } = await run(clock, crashing, period, seconds, { controlPeriod: period, maxConsecutiveErrors: 3, errorBackoff: 5 * period });
    const { control, inference } = metrics;
    assert.ok(control.ticks >= Math.floor(seconds / period) - 1);
    assert.equal(driver.sent.length, control.ticks);
    assert.equal(inference.errors, 3);
    assert.equal(events.filter((e) => e.type === 'inference-error').length, 3);
    assert.ok(events.some((e) => e.type === 'inference-stopped'));
    assert.match(inference.failure ?? '', /3 failures in a row; last: forward pass failed/);
    assert.equal(inference.running, false);
    assert.ok(control.underflows > 0);
    const tail = driver.sent.slice(-20);
    assert.ok(tail.every((a) => a.every((x, j) => x === tail[0]![j])));
    assert.ok(largestJump(driver.sent) <= inner.observedMaxStep);
  });

  test('an inference loop whose control thread stops taking up stitches reports it unresponsive, and still stops', async () => {
    const period = 1 / 50;
    const clock = new ManualClock();
    const policy = new StandInPolicy({ chunkLength: 8, actionDim: 1, trainedMaxDelay: 5, maxStep: 0.05, latency: period, clock });
    const v = await virtualRuntime(policy, { controlPeriod: period, ackTimeout: 10 * period }, clock);
    v.runtime.start();
    await advance(clock, 5 * period, period / 4);
    await v.control.stop(); // the control thread is gone; inference keeps waiting for it
    await advance(clock, 30 * period, period / 4);
    assert.ok(v.events.some((e) => e.type === 'control-unresponsive' && e.waited >= 10 * period));
    const m = await v.runtime.stop();
    assert.equal(m.inference.running, false);
  });

  test('bad runtime settings throw, naming the function and the values', () => {
    const ring = SharedActionRing.create({ chunkLength: 8, actionDim: 2 });
    const policy = new StandInPolicy({ chunkLength: 8, actionDim: 2, trainedMaxDelay: 3, maxStep: 0.05 });
    const observe = () => undefined;
    assert.throws(() => new InferenceLoop(ring, { policy, observe, controlPeriod: 0.02, delay: 4 }), /InferenceLoop: delay must be 'auto' or an integer in \[0, 3\] \(trainedMaxDelay 3, chunk length 8\), got 4/);
    assert.throws(() => new InferenceLoop(SharedActionRing.create({ chunkLength: 8, actionDim: 3 }), { policy, observe, controlPeriod: 0.02 }), /the policy makes 8 × 2 chunks but the ring holds 8 × 3/);
    assert.throws(() => new InferenceLoop(ring, { policy, observe, controlPeriod: 0 }), /controlPeriod must be a finite number of seconds > 0, got 0/);
    assert.throws(() => new InferenceLoop(ring, { policy, observe, controlPeriod: 0.02, safetyMargin: -1 }), /safetyMargin/);
    assert.throws(() => new InferenceLoop(ring, { policy, observe, controlPeriod: 0.02, expectedLatency: NaN }), /expectedLatency/);
  });
});
