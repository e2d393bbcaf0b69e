/**
 * The control thread's schedules (§6.3, "runs at fixed frequency 1/t_control"): absolute deadlines
 * τ_k = τ_0 + k·t_control that do not drift, skipped (and counted) when a tick falls a period behind;
 * the precise timer never ticks before its deadline, whichever way it sleeps.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock, type Clock, type TimerHandle } from '../../../src/robot/clock.js';
import { runClockSchedule, runPreciseSchedule } from '../../../src/robot/runtime/schedule.js';

describe('schedules', () => {
  test('§6.3: on a clock, tick k runs at exactly τ_0 + k·period however time is advanced', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 0.1, noNaN: true }), fc.array(fc.double({ min: 0, max: 0.05, noNaN: true }), { minLength: 1, maxLength: 40 }), (period, steps) => {
        const clock = new ManualClock(3.5);
        const ticks: [number, number][] = [];
        const s = runClockSchedule(clock, period, (now, deadline) => ticks.push([now, deadline]), () => assert.fail('nothing is late'));
        for (const dt of steps) clock.advance(dt);
        s.stop();
        const elapsed = clock.now() - 3.5;
        assert.ok(Math.abs(ticks.length - Math.floor(elapsed / period)) <= 1);
        ticks.forEach(([now, deadline], k) => {
          assert.equal(deadline, 3.5 + (k + 1) * period); // absolute: no accumulated error
          assert.ok(Math.abs(now - deadline) < 1e-12);
        });
      }),
    );
  });

  test('a tick that falls behind skips the deadlines a period or more past, reports them, and runs the next one late', () => {
    // A clock whose time the test moves by hand, so a tick can "take" as long as we like.
    let t = 0;
    const timers: { at: number; fn: () => void }[] = [];
    const clock: Clock = { now: () => t, setTimer: (fn, delay) => (timers.push({ at: t + delay, fn }), timers.length - 1) as TimerHandle, clearTimer: () => {} };
    const period = 0.01;
    const ticks: number[] = [];
    const missed: number[] = [];
    runClockSchedule(clock, period, (_, deadline) => {
      ticks.push(deadline);
      if (ticks.length === 2) t += 3.5 * period; // this tick overruns by 3.5 periods
    }, (count) => missed.push(count));
    for (let i = 0; i < 4; i++) {
      const next = timers[timers.length - 1]!;
      t = Math.max(t, next.at);
      next.fn();
    }
    // deadlines 0.01, 0.02 (ends at 0.055); 0.03 and 0.04, a period or more past, skipped; 0.05 run late; 0.06
    assert.deepEqual(ticks.map((d) => Math.round(d / period)), [1, 2, 5, 6]);
    assert.deepEqual(missed, [2]);
  });

  test('a tick that throws stops the schedule and rejects done', async () => {
    const clock = new ManualClock();
    const s = runClockSchedule(clock, 0.01, () => {
      throw new Error('boom');
    }, () => {});
    clock.advance(0.05);
    await assert.rejects(s.done, /boom/);
    assert.equal(clock.pendingTimers, 0);
  });

  for (const sleep of ['atomics', 'timeout', 'spin'] as const) {
    test(`§6.3: the precise timer (${sleep}) ticks in order, never before its deadline, on absolute deadlines`, async () => {
      const period = 0.004;
      const ticks: [number, number][] = [];
      const stop = new Int32Array(new SharedArrayBuffer(4));
      const now = () => performance.now() / 1000;
      await runPreciseSchedule({
        period,
        now,
        tick: (t, deadline) => {
          ticks.push([t, deadline]);
          if (ticks.length === 25) Atomics.store(stop, 0, 1);
        },
        missed: () => {},
        stopped: () => Atomics.load(stop, 0) === 1,
        waitForStop: (ms) => void Atomics.wait(stop, 0, 0, ms),
        timing: { sleep },
      });
      assert.equal(ticks.length, 25);
      const start = ticks[0]![1];
      for (const [t, deadline] of ticks) {
        assert.ok(t >= deadline);
        const k = Math.round((deadline - start) / period);
        assert.ok(Math.abs(deadline - (start + k * period)) < 1e-9);
      }
      for (let k = 1; k < ticks.length; k++) assert.ok(ticks[k]![1] > ticks[k - 1]![1]);
    });
  }

  test('bad periods and timings throw, naming the function and the value', async () => {
    assert.throws(() => runClockSchedule(new ManualClock(), 0, () => {}, () => {}), /runClockSchedule: period must be a finite number of seconds > 0, got 0/);
    const base = { period: 0.01, now: () => 0, tick: () => {}, missed: () => {}, stopped: () => true, waitForStop: () => {} };
    await assert.rejects(runPreciseSchedule({ ...base, timing: { spinTail: -1 } }), /runPreciseSchedule: timing.spinTail must be a finite number of seconds ≥ 0, got -1/);
    await assert.rejects(runPreciseSchedule({ ...base, timing: { sleep: 'nap' as 'spin' } }), /timing.sleep must be 'atomics', 'timeout' or 'spin', got "nap"/);
  });
});
