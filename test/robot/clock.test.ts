/** ManualClock: timers fire in due order, at their due time, never early, and can be cancelled. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../src/robot/clock.js';

describe('ManualClock', () => {
  test('fires each timer once, in due-time order, seeing now() = its due time; none fires early', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { maxLength: 20 }), fc.double({ min: 0, max: 12, noNaN: true }), (delays, until) => {
        const clock = new ManualClock(5);
        const fired: [number, number][] = [];
        delays.forEach((d, k) => clock.setTimer(() => fired.push([k, clock.now()]), d));
        clock.advance(until);
        const expected = delays.map((d, k) => [k, 5 + d] as [number, number]).filter(([, t]) => t <= 5 + until).sort((x, y) => x[1] - y[1] || x[0] - y[0]);
        assert.deepEqual(fired, expected);
        assert.equal(clock.now(), 5 + until);
        assert.equal(clock.pendingTimers, delays.length - expected.length);
      }),
    );
  });

  test('cleared timers never fire; timers set by a callback fire in the same advance when due', () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const h = clock.setTimer(() => log.push('cleared'), 1);
    clock.setTimer(() => {
      log.push('a');
      clock.setTimer(() => log.push('b'), 0.5);
    }, 1);
    clock.clearTimer(h);
    clock.advance(1.4);
    assert.deepEqual(log, ['a']);
    clock.advance(0.1);
    assert.deepEqual(log, ['a', 'b']);
    assert.throws(() => clock.advance(-1), /seconds must be finite and ≥ 0, got -1/);
    assert.throws(() => clock.setTimer(() => {}, Number.NaN), /delay must be a number ≥ 0, got NaN/);
  });
});
