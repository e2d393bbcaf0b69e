/**
 * The control thread's tick (§6.3): hold or fallback on underflow, stitch take-up with overrun
 * detection (Eq. 22), the largest-jump and jitter metrics, and a driver that fails or lags.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ControlCore, type ControlEvent } from '../../../src/robot/runtime/control-loop.js';
import { SharedControlMetrics, percentiles } from '../../../src/robot/runtime/control-metrics.js';
import { SharedActionRing } from '../../../src/robot/runtime/ring-buffer.js';
import { stitchChunk } from '../../../src/robot/runtime/stitch.js';
import { RecordingDriver, largestJump, settle } from './harness.js';

async function core(T: number, D: number, initial: number[], options: ConstructorParameters<typeof ControlCore>[3] = {}) {
  const ring = SharedActionRing.create({ chunkLength: T, actionDim: D });
  const metrics = SharedControlMetrics.create();
  const driver = new RecordingDriver(initial);
  const events: ControlEvent[] = [];
  const c = new ControlCore(ring, metrics, driver, { ...options, onEvent: (e) => events.push(e) });
  await c.begin();
  let k = 0;
  const tick = async (now = (k + 1) * 0.01, deadline = (k + 1) * 0.01) => {
    k++;
    c.tick(now, deadline);
    await settle();
  };
  return { ring, metrics, driver, events, core: c, tick };
}

/** Posts a chunk whose postfix rows are `rows` (d committed rows first, as the inference loop would), after `meanwhile`. */
async function stitch(ring: SharedActionRing, d: number, postfix: number[][], meanwhile?: () => Promise<void>) {
  const snap = ring.snapshot(d);
  await meanwhile?.();
  const D = ring.actionDim;
  const chunk = new Float32Array(ring.chunkLength * D);
  chunk.set(snap.prefix);
  postfix.forEach((r, i) => chunk.set(r, (d + i) * D));
  ring.post(snap, stitchChunk(snap, chunk, ring.chunkLength));
}

describe('ControlCore', () => {
  test('§6.3: on underflow the control thread holds the last action, and counts it', async () => {
    const { ring, metrics, driver, events, tick } = await core(4, 2, [0.5, -0.25]);
    await tick();
    await tick();
    await stitch(ring, 0, [[0.5, -0.2], [0.55, -0.15], [0.6, -0.1], [0.65, -0.05]]);
    for (let i = 0; i < 7; i++) await tick();
    const sent = driver.sent.map((a) => Array.from(a));
    assert.deepEqual(sent.slice(0, 2), [[0.5, -0.25], [0.5, -0.25]]);
    assert.deepEqual(sent.slice(2, 6).map((r) => r.map((x) => Math.fround(x))), [[0.5, -0.2], [0.55, -0.15], [0.6, -0.1], [0.65, -0.05]].map((r) => r.map(Math.fround)));
    assert.deepEqual(sent.slice(6), [sent[5], sent[5], sent[5]]);
    const m = metrics.read();
    assert.equal(m.ticks, 9);
    assert.equal(m.actions, 4);
    assert.equal(m.underflows, 5);
    assert.equal(m.underflowEpisodes, 2);
    assert.deepEqual(events.filter((e) => e.type === 'underflow').map((e) => e.tick), [0, 6]);
    assert.equal(m.maxJump, largestJump(driver.sent));
    assert.equal(ring.readState()!.positions.length, 2);
  });

  test('§6.3: the ramp fallback holds for `after` ticks, then moves toward its target by at most maxStep', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 1, maxLength: 4 }), fc.double({ min: 0.01, max: 0.5, noNaN: true }), fc.nat({ max: 4 }), async (target, maxStep, after) => {
        const D = target.length;
        const { driver, metrics, tick } = await core(4, D, new Array(D).fill(0), { fallback: { kind: 'ramp', target, maxStep, after } });
        const n = after + Math.ceil(4 / maxStep) + 2;
        for (let i = 0; i < n; i++) await tick();
        const sent = driver.sent;
        for (let i = 0; i < after; i++) assert.ok(sent[i]!.every((x) => x === 0));
        assert.ok(largestJump(sent) <= maxStep);
        assert.ok(sent[n - 1]!.every((x, j) => x === Math.fround(target[j]!)));
        assert.equal(metrics.read().fallbackTicks, n - after);
      }),
      { numRuns: 30 },
    );
  });

  test('Eq. 22: a chunk taken up after more than d ticks is a prefix overrun, with the uncommitted rows counted', async () => {
    const { ring, metrics, events, tick } = await core(8, 1, [0]);
    await stitch(ring, 0, [[0], [0], [0], [0], [0], [0], [0], [0]]);
    await tick(); // take-up, pop row 0
    // d = 2, but 4 ticks pass between the snapshot and the post
    await stitch(ring, 2, [[1], [1], [1], [1], [1], [1]], async () => {
      for (let i = 0; i < 4; i++) await tick();
    });
    assert.equal(metrics.read().prefixOverruns, 0); // not taken up yet
    await tick();
    const m = metrics.read();
    assert.equal(m.stitches, 2);
    assert.equal(m.prefixOverruns, 1);
    assert.equal(m.overrunSteps, 2);
    assert.equal(m.uncommittedExecuted, 2);
    assert.equal(m.lastRealizedDelay, 4);
    assert.deepEqual(
      events.filter((e) => e.type === 'prefix-overrun').map((e) => e.type === 'prefix-overrun' && [e.delay, e.realized, e.uncommitted]),
      [[2, 4, 2]],
    );
  });

  test('a driver that rejects commands is counted and reported once per run of failures; ticks go on', async () => {
    const { driver, metrics, events, tick } = await core(4, 1, [0]);
    driver.failFrom = 2;
    for (let i = 0; i < 6; i++) await tick();
    driver.failFrom = Infinity;
    await tick();
    driver.failFrom = 0;
    await tick();
    const m = metrics.read();
    assert.equal(m.ticks, 8);
    assert.equal(m.driverErrors, 5);
    assert.deepEqual(events.filter((e) => e.type === 'driver-error').map((e) => e.tick), [2, 7]);
  });

  test('a tick whose previous command is still in flight executes nothing (no pop, no send)', async () => {
    const ring = SharedActionRing.create({ chunkLength: 4, actionDim: 1 });
    const metrics = SharedControlMetrics.create();
    let release!: () => void;
    const sent: number[] = [];
    const slow = {
      readState: async () => ({ positions: new Float64Array([0]), timestamp: 0 }),
      sendAction: (a: ArrayLike<number>) => {
        sent.push(a[0]!);
        return new Promise<void>((r) => (release = r));
      },
    };
    const c = new ControlCore(ring, metrics, slow);
    await c.begin();
    await stitch(ring, 0, [[1], [2], [3], [4]]);
    c.tick(0.01, 0.01);
    c.tick(0.02, 0.02);
    c.tick(0.03, 0.03);
    release();
    await settle();
    c.tick(0.04, 0.04);
    assert.deepEqual(sent, [1, 2]);
    assert.equal(metrics.read().driverBusy, 2);
    assert.equal(ring.available, 2);
  });

  test('jitter is |Δactual − Δscheduled| and lateness actual − scheduled, summarised by nearest rank', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.double({ min: 0, max: 0.005, noNaN: true }), { minLength: 2, maxLength: 60 }), async (late) => {
        const { metrics, tick } = await core(4, 1, [0]);
        const period = 0.01;
        for (let k = 0; k < late.length; k++) await tick((k + 1) * period + late[k]!, (k + 1) * period);
        const m = metrics.read();
        const jitter = late.slice(1).map((l, k) => Math.abs((k + 2) * period + l - ((k + 1) * period + late[k]!) - period));
        const want = percentiles(jitter);
        assert.equal(m.jitter.count, late.length - 1);
        assert.ok(Math.abs(m.jitter.p50 - want.p50) < 1e-12 && Math.abs(m.jitter.p99 - want.p99) < 1e-12);
        const lat = percentiles(late.map((l, k) => (k + 1) * period + l - (k + 1) * period));
        assert.ok(Math.abs(m.lateness.max - lat.max) < 1e-12 && Math.abs(m.lateness.p50 - lat.p50) < 1e-12);
      }),
      { numRuns: 30 },
    );
    assert.deepEqual(percentiles([]).count, 0);
    assert.deepEqual(percentiles([3, 1, 2, 4]), { p50: 2, p99: 4, max: 4, count: 4 });
  });

  test('bad settings throw, naming the function and the value', async () => {
    const ring = SharedActionRing.create({ chunkLength: 4, actionDim: 2 });
    const metrics = SharedControlMetrics.create();
    const driver = new RecordingDriver([0, 0]);
    assert.throws(() => new ControlCore(ring, metrics, driver, { fallback: { kind: 'ramp', target: [0], maxStep: 0.1 } }), /ControlCore: fallback.target must have 2 entries, got 1/);
    assert.throws(() => new ControlCore(ring, metrics, driver, { fallback: { kind: 'ramp', target: [0, 0], maxStep: 0 } }), /maxStep must be a finite number > 0, got 0/);
    assert.throws(() => new ControlCore(ring, metrics, driver, { stateEvery: -1 }), /stateEvery/);
    const c = new ControlCore(ring, metrics, new RecordingDriver([0, 0, 0]));
    await assert.rejects(c.begin(), /the robot has 3 entries but actions have 2/);
    assert.throws(() => new ControlCore(ring, metrics, driver).tick(0, 0), /call begin\(\) first/);
  });
});
