/**
 * The control thread of §6.3 as seen from the thread that starts it: a handle to read its metrics,
 * hear its events and stop it. Three kinds run the same {@link ControlCore}:
 * - `inline`: on the caller's thread, ticked by a `Clock` ({@link startInlineControlThread}) — with a
 *   `ManualClock`, runtime tests are deterministic;
 * - `node-worker`: a `worker_threads` worker (`startNodeControlThread`, Node-only file);
 * - `web-worker`: a module Web Worker (`startWebControlThread`, browsers and Deno).
 * @module
 */
import { systemClock, type Clock } from '../clock.js';
import { ControlCore, type ControlCoreOptions, type ControlEvent, type ControlledDriver } from './control-loop.js';
import { SharedControlMetrics, type ControlMetrics } from './control-metrics.js';
import type { SharedActionRing } from './ring-buffer.js';
import { runClockSchedule } from './schedule.js';

/** The control thread ended: `error` says why when it did not end on request. */
export interface ControlExitEvent {
  /** `control-exit`. */
  readonly type: 'control-exit';
  /** Why it ended, when it failed (its driver could not start, a tick threw, the worker died). */
  readonly error: string | null;
  /** Seconds on the host's clock. */
  readonly time: number;
}

/** Everything a control thread reports. */
export type ControlThreadEvent = ControlEvent | ControlExitEvent;

/** A running control thread. */
export interface ControlThread {
  /** Where it runs. */
  readonly kind: 'inline' | 'node-worker' | 'web-worker';
  /** The execution buffer it consumes (the producer's side of it). */
  readonly ring: SharedActionRing;
  /** A consistent copy of its metrics, read from shared memory. */
  metrics(): ControlMetrics;
  /** Subscribes to its events; returns the function that unsubscribes. */
  on(listener: (event: ControlThreadEvent) => void): () => void;
  /** Asks it to stop and settles once it has (stopping its driver as configured). */
  stop(): Promise<void>;
  /** Settles when it has ended, on request or not. */
  readonly done: Promise<void>;
}

/** A set of listeners; one that throws is reported on the console and does not stop the others. */
export class Listeners<E> {
  readonly #set = new Set<(event: E) => void>();

  /** Adds a listener; returns the function that removes it. */
  on(listener: (event: E) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`Listeners.on: listener must be a function, got ${typeof listener}`);
    this.#set.add(listener);
    return () => void this.#set.delete(listener);
  }

  /** Delivers `event` to every listener. */
  emit(event: E): void {
    for (const l of [...this.#set]) {
      try {
        l(event);
      } catch (e) {
        console.error('runtime: an event listener threw', e);
      }
    }
  }
}

/** Options of {@link startInlineControlThread}. */
export interface InlineControlOptions extends Omit<ControlCoreOptions, 'onEvent'> {
  /** t_control^(e) in seconds. */
  controlPeriod: number;
  /** The clock that times the ticks (default `systemClock`; a `ManualClock` in tests). */
  clock?: Clock;
  /** The position held until the first chunk (default: read from the driver). */
  initial?: ArrayLike<number>;
}

/**
 * Runs the control loop on the calling thread, a tick every `controlPeriod` seconds of `clock`
 * (absolute deadlines). For tests and simulation; on a real robot use a worker, which keeps its period
 * whatever the calling thread does. The driver must already be connected, and is left running on stop.
 *
 * @example
 * const clock = new ManualClock();
 * const control = await startInlineControlThread(ring, driver, { controlPeriod: 0.02, clock });
 */
export async function startInlineControlThread(ring: SharedActionRing, driver: ControlledDriver, options: InlineControlOptions): Promise<ControlThread> {
  const clock = options.clock ?? systemClock;
  const metrics = SharedControlMetrics.create();
  const listeners = new Listeners<ControlThreadEvent>();
  const core = new ControlCore(ring, metrics, driver, { ...options, onEvent: (e) => listeners.emit(e) });
  await core.begin(options.initial);
  const schedule = runClockSchedule(
    clock,
    options.controlPeriod,
    (now, deadline) => core.tick(now, deadline),
    (count, now) => core.missed(count, now),
  );
  const done = schedule.done.then(
    () => listeners.emit({ type: 'control-exit', error: null, time: clock.now() }),
    (e: unknown) => listeners.emit({ type: 'control-exit', error: e instanceof Error ? e.message : String(e), time: clock.now() }),
  );
  return {
    kind: 'inline',
    ring,
    metrics: () => metrics.read(),
    on: (listener) => listeners.on(listener),
    stop: async () => {
      ring.requestStop();
      schedule.stop();
      await done;
    },
    done,
  };
}
