/**
 * Injectable time for the robot layer: every timer of the safety layer and the simulated robot goes
 * through a {@link Clock}, so tests drive time with a {@link ManualClock} instead of sleeping. Times are
 * in seconds, like the control period Δt^(e) of §5.3.3 and §6.
 * @module
 */

/** An opaque handle returned by {@link Clock.setTimer}. */
export type TimerHandle = unknown;

/** A source of time and one-shot timers, in seconds. */
export interface Clock {
  /** The current time in seconds (monotonic; the origin is arbitrary). */
  now(): number;
  /** Calls `callback` once, `delay` seconds from now (≥ 0); returns a handle for {@link Clock.clearTimer}. */
  setTimer(callback: () => void, delay: number): TimerHandle;
  /** Cancels a timer that has not fired yet; a handle that already fired or was cleared is ignored. */
  clearTimer(handle: TimerHandle): void;
}

/** Wall time: `performance.now()` and `setTimeout`, available in Node, Deno and browsers. */
export const systemClock: Clock = {
  now: () => performance.now() / 1000,
  setTimer: (callback, delay) => setTimeout(callback, Math.max(0, delay) * 1000),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface PendingTimer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to: {@link ManualClock.advance} fires every timer that falls due,
 * in due-time order (ties in the order they were set), each seeing `now()` equal to its due time.
 * Timers set by a callback fire in the same call when they fall due before its end.
 *
 * @example
 * const clock = new ManualClock();
 * clock.setTimer(() => console.log('fired at', clock.now()), 0.5);
 * clock.advance(1); // "fired at 0.5"; clock.now() is now 1
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #pending: PendingTimer[] = [];

  /** A clock reading `start` seconds (default 0). */
  constructor(start = 0) {
    if (!Number.isFinite(start)) throw new RangeError(`ManualClock: start must be finite, got ${start}`);
    this.#now = start;
  }

  /** The current time in seconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `callback` at `now() + delay`. */
  setTimer(callback: () => void, delay: number): TimerHandle {
    if (typeof delay !== 'number' || Number.isNaN(delay) || delay < 0) throw new RangeError(`ManualClock.setTimer: delay must be a number ≥ 0, got ${delay}`);
    const id = this.#nextId++;
    this.#pending.push({ id, due: this.#now + delay, callback });
    return id;
  }

  /** Cancels the timer with this handle, if it is still pending. */
  clearTimer(handle: TimerHandle): void {
    this.#pending = this.#pending.filter((t) => t.id !== handle);
  }

  /** Number of timers not yet fired. */
  get pendingTimers(): number {
    return this.#pending.length;
  }

  /** Moves time forward by `seconds` (≥ 0), firing the timers that fall due on the way. */
  advance(seconds: number): void {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) throw new RangeError(`ManualClock.advance: seconds must be finite and ≥ 0, got ${seconds}`);
    const end = this.#now + seconds;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const t of this.#pending) if (t.due <= end && (next === undefined || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t;
      if (next === undefined) break;
      this.#pending = this.#pending.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.due);
      next.callback();
    }
    this.#now = end;
  }
}
