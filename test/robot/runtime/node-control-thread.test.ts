/**
 * The control thread as a real Node worker (§6.3): a ~1 s smoke run of the whole runtime on the
 * simulated SO-101, in which the main thread is also blocked outright for a while — the control thread
 * keeps ticking through it. No timing thresholds: only counts, ordering and bounded-by-construction facts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getRobot } from '../../../src/robot/embodiments/index.js';
import type { ControlThreadEvent } from '../../../src/robot/runtime/control-thread.js';
import { startNodeControlThread } from '../../../src/robot/runtime/node-control-thread.js';
import { SharedActionRing } from '../../../src/robot/runtime/ring-buffer.js';
import { RealtimeRuntime, type RuntimeEvent } from '../../../src/robot/runtime/runtime.js';
import { simulatedDriverModule } from '../../../src/robot/runtime/simulated-driver-module.js';
import { StandInPolicy, type StandInObservation } from '../../../src/robot/runtime/stand-in-policy.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('startNodeControlThread', () => {
  test('§6.3: a worker control thread runs the runtime and keeps ticking while the main thread is blocked', async () => {
    const robot = getRobot('so101');
    const period = 0.01;
    const ring = SharedActionRing.create({ chunkLength: 16, actionDim: robot.dof });
    const control = await startNodeControlThread(ring, { driver: simulatedDriverModule({ robot: 'so101' }), controlPeriod: period });
    assert.equal(control.kind, 'node-worker');
    const policy = new StandInPolicy({ chunkLength: 16, actionDim: robot.dof, trainedMaxDelay: 12, maxStep: 0.001, latency: 0.02, lower: robot.lower, upper: robot.upper });
    const runtime = new RealtimeRuntime<StandInObservation>({
      control,
      policy,
      observe: () => ({ state: ring.readState()?.positions ?? robot.home }),
      controlPeriod: period,
      expectedLatency: 0.05,
    });
    const events: RuntimeEvent[] = [];
    runtime.on((e) => events.push(e));
    runtime.start();
    await sleep(400);
    // Block this thread completely until the worker has ticked 5 more times (or 10 s have passed).
    const before = ring.ticks;
    const giveUp = Date.now() + 10_000;
    while (ring.ticks < before + 5 && Date.now() < giveUp);
    const duringBlock = ring.ticks - before;
    await sleep(400);
    const m = await runtime.stop();
    await control.done;
    assert.ok(duringBlock >= 5, `the control thread ticked ${duringBlock} times while the main thread was blocked`);
    assert.ok(m.control.ticks >= duringBlock);
    assert.ok(m.control.stitches >= 1 && m.inference.inferences >= 1);
    assert.ok(m.control.actions >= 1);
    assert.ok(m.control.jitter.count > 0 && Number.isFinite(m.control.jitter.p50) && m.control.jitter.p99 >= m.control.jitter.p50);
    assert.ok(m.control.lateness.p50 >= 0); // the busy-wait tail never ticks early
    if (m.control.prefixOverruns === 0) assert.ok(m.control.maxJump <= policy.observedMaxStep, `jump ${m.control.maxJump} > ${policy.observedMaxStep}`);
    const state = ring.readState();
    assert.ok(state !== null && state.positions.length === robot.dof);
    const exit = events.find((e): e is Extract<ControlThreadEvent, { type: 'control-exit' }> => e.type === 'control-exit');
    assert.ok(exit && exit.error === null, JSON.stringify(exit));
  });

  test('a driver module that cannot be loaded fails the start, naming the module and export', async () => {
    const ring = SharedActionRing.create({ chunkLength: 4, actionDim: 6 });
    const module = simulatedDriverModule({ robot: 'so101' }).module;
    await assert.rejects(startNodeControlThread(ring, { driver: { module, export: 'nope' }, controlPeriod: 0.01 }), /the control worker failed: runControlWorker: .*simulated-driver-module\.js has no function export "nope"/);
    await assert.rejects(startNodeControlThread(SharedActionRing.create({ chunkLength: 4, actionDim: 6 }), { driver: { module, options: { robot: 'no-such-robot' } }, controlPeriod: 0.01 }), /getRobot: no robot named "no-such-robot"/);
    await assert.rejects(startNodeControlThread(ring, { driver: { module }, controlPeriod: 0 }), /startNodeControlThread: controlPeriod must be a finite number of seconds > 0, got 0/);
  });
});
