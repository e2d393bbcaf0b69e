/**
 * Drift-free periodic schedules for the control thread of §6.3, which "runs at fixed frequency
 * 1/t_control^(e)": tick k is due at the absolute deadline τ_k = τ_0 + k·t_control, never at "last
 * tick + period", so lateness does not accumulate. When ticks fall behind, the deadlines a whole
 * period or more past are skipped (counted as missed) and the latest one runs late, instead of a burst
 * of ticks to catch up.
 *
 * Two schedules run the same tick function: {@link runClockSchedule} on any `Clock` (a `ManualClock`
 * makes runtime tests deterministic), and {@link runPreciseSchedule}, the control worker's timer: a
 * coarse sleep (`Atomics.wait`, or `setTimeout`) up to a short busy-wait tail before each deadline.
 * @module
 */
import type { Clock, TimerHandle } from '../clock.js';

/** Runs one tick at time `now` for the deadline `deadline` (seconds). */
export type TickFn = (now: number, deadline: number) => void;
/** Told how many deadlines were skipped, at time `now`. */
export type MissedFn = (count: number, now: number) => void;

/** A running schedule. */
export interface ScheduleHandle {
  /** Stops ticking (no tick starts after this returns). */
  stop(): void;
  /** Settles when the schedule has stopped; rejects if a tick threw (the schedule stops then). */
  readonly done: Promise<void>;
}

function checkPeriod(fn: string, period: number): void {
  if (typeof period !== 'number' || !Number.isFinite(period) || period <= 0) throw new RangeError(`${fn}: period must be a finite number of seconds > 0, got ${period}`);
}

/** The deadline index to run after index `k` ran and the time is `now`: k + 1, or later if that is ≥ a period past. */
function nextIndex(k: number, start: number, period: number, now: number): { k: number; skipped: number } {
  const late = now - (start + (k + 1) * period);
  const skipped = late >= period ? Math.floor(late / period) : 0;
  return { k: k + 1 + skipped, skipped };
}

/**
 * Ticks on `clock` at `clock.now() + k·period`, k = 1, 2, …, until stopped.
 *
 * @example
 * const clock = new ManualClock();
 * const s = runClockSchedule(clock, 0.02, (now) => console.log(now), () => {});
 * clock.advance(0.1); // ticks at 0.02, 0.04, …, 0.1
 * s.stop();
 */
export function runClockSchedule(clock: Clock, period: number, tick: TickFn, missed: MissedFn): ScheduleHandle {
  checkPeriod('runClockSchedule', period);
  const start = clock.now();
  let k = 1;
  let handle: TimerHandle | undefined;
  let stopped = false;
  let settle!: (error?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (error?: unknown) => (error === undefined ? resolve() : reject(error));
  });
  const arm = (): void => {
    handle = clock.setTimer(fire, Math.max(0, start + k * period - clock.now()));
  };
  const fire = (): void => {
    if (stopped) return;
    try {
      tick(clock.now(), start + k * period);
    } catch (e) {
      stopped = true;
      settle(e);
      return;
    }
    const next = nextIndex(k, start, period, clock.now());
    k = next.k;
    if (next.skipped > 0) missed(next.skipped, clock.now());
    if (!stopped) arm();
  };
  arm();
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      if (handle !== undefined) clock.clearTimer(handle);
      settle();
    },
    done,
  };
}

/**
 * How the control worker waits for each deadline: `atomics` sleeps in `Atomics.wait` (woken at once by
 * a stop request), `timeout` in `setTimeout`, `spin` not at all; then each busy-waits the last
 * `spinTail` seconds. Before sleeping it yields once to the event loop, so the driver's I/O and timers run.
 */
export interface PreciseTiming {
  /** Coarse sleep (default `atomics`). */
  readonly sleep?: 'atomics' | 'timeout' | 'spin';
  /** Seconds of busy-wait before each deadline (default 0.0005 for `atomics`, 0.0015 for `timeout`). */
  readonly spinTail?: number;
}

/** What {@link runPreciseSchedule} needs from its thread. */
export interface PreciseScheduleOptions {
  /** t_control in seconds. */
  period: number;
  /** The time in seconds (e.g. `performance.now() / 1000`). */
  now: () => number;
  /** The work of one period. */
  tick: TickFn;
  /** Told about skipped deadlines. */
  missed: MissedFn;
  /** Whether to stop (checked before and after every sleep). */
  stopped: () => boolean;
  /** Blocks up to `ms` milliseconds or until a stop request (for `atomics`: `SharedActionRing.waitForStop`). */
  waitForStop: (ms: number) => void;
  /** How to wait (default `atomics` with a 0.5 ms busy-wait tail). */
  timing?: PreciseTiming;
}

/** A yield to the event loop (a macrotask, so I/O callbacks run) that works in Node, Deno and browsers. */
function macrotaskYield(): { next: () => Promise<void>; close: () => void } {
  const channel = new MessageChannel();
  let wake: (() => void) | null = null;
  channel.port1.onmessage = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  return {
    next: () =>
      new Promise<void>((resolve) => {
        wake = resolve;
        channel.port2.postMessage(0);
      }),
    close: () => {
      channel.port1.onmessage = null;
      channel.port1.close();
      channel.port2.close();
    },
  };
}

/**
 * The control worker's timer: ticks at absolute deadlines τ_0 + k·period until `stopped()`, sleeping
 * coarsely and busy-waiting the tail (see {@link PreciseTiming}). Resolves when stopped; a tick that
 * throws rejects it.
 */
export async function runPreciseSchedule(options: PreciseScheduleOptions): Promise<void> {
  const fn = 'runPreciseSchedule';
  const { period, now, tick, missed, stopped, waitForStop } = options;
  checkPeriod(fn, period);
  const sleep = options.timing?.sleep ?? 'atomics';
  if (sleep !== 'atomics' && sleep !== 'timeout' && sleep !== 'spin') throw new RangeError(`${fn}: timing.sleep must be 'atomics', 'timeout' or 'spin', got ${JSON.stringify(sleep)}`);
  const spinTail = options.timing?.spinTail ?? (sleep === 'timeout' ? 0.0015 : 0.0005);
  if (typeof spinTail !== 'number' || !Number.isFinite(spinTail) || spinTail < 0) throw new RangeError(`${fn}: timing.spinTail must be a finite number of seconds ≥ 0, got ${spinTail}`);
  const yielder = macrotaskYield();
  try {
    const start = now() + period;
    let k = 0;
    while (!stopped()) {
      const deadline = start + k * period;
      await yielder.next();
      const coarse = deadline - now() - spinTail;
      if (sleep !== 'spin' && coarse > 0) {
        if (sleep === 'atomics') waitForStop(coarse * 1000);
        else await new Promise<void>((resolve) => setTimeout(resolve, coarse * 1000));
      }
      if (stopped()) break;
      while (now() < deadline) {
        if (sleep === 'spin' && stopped()) return;
      }
      tick(now(), deadline);
      const next = nextIndex(k, start, period, now());
      k = next.k;
      if (next.skipped > 0) missed(next.skipped, now());
    }
  } finally {
    yielder.close();
  }
}
