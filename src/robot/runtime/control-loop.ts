/**
 * The control thread's work for one control period (§6.3, the consumer): take up a posted chunk
 * (Eq. 24) and check it came within its committed delay (Eq. 22), pop one action from the buffer 𝓑,
 * send it to the driver — or, when 𝓑 is empty, hold the last action or run the configured safe
 * fallback. It never waits for the inference thread: everything it needs is on shared memory.
 *
 * {@link ControlCore.tick} is synchronous and timer-free; a schedule calls it (`schedule.ts`: a virtual
 * {@link Clock} in tests, a precise absolute-deadline timer in the control worker).
 * @module
 */
import type { RobotDriver } from '../driver.js';
import { boundedStep } from './bounded-step.js';
import type { SharedControlMetrics } from './control-metrics.js';
import type { AppliedStitch, SharedActionRing } from './ring-buffer.js';

/** On underflow, re-send the last action. */
export interface HoldFallback {
  /** `hold`. */
  readonly kind: 'hold';
}

/** On underflow, hold for `after` ticks, then move toward a safe pose. */
export interface RampFallback {
  /** `ramp`. */
  readonly kind: 'ramp';
  /** The pose to move to (one entry per action entry). */
  readonly target: ArrayLike<number>;
  /** The largest change per tick and entry (> 0), exact in float32. */
  readonly maxStep: number;
  /** Underflow ticks to hold before moving (default 0). */
  readonly after?: number;
}

/**
 * What the control thread does on underflow: {@link HoldFallback} or {@link RampFallback}. Plain data,
 * so it can be posted to a worker.
 */
export type Fallback = HoldFallback | RampFallback;

/** When a control event happened. */
export interface ControlStamp {
  /** The tick it happened at (from 0). */
  readonly tick: number;
  /** Seconds on the control thread's clock. */
  readonly time: number;
}

/** The buffer ran empty: the first tick of a run of underflows. */
export interface UnderflowEvent extends ControlStamp {
  /** `underflow`. */
  readonly type: 'underflow';
}

/** A chunk was taken up after more than d ticks (Eq. 22 not honoured). */
export interface PrefixOverrunEvent extends ControlStamp {
  /** `prefix-overrun`. */
  readonly type: 'prefix-overrun';
  /** The stitch's generation. */
  readonly generation: number;
  /** d declared. */
  readonly delay: number;
  /** Ticks that ran before the chunk was taken up (> delay). */
  readonly realized: number;
  /** Rows executed past the committed prefix. */
  readonly uncommitted: number;
}

/** The driver rejected a command: the first of a run of failures. */
export interface DriverErrorEvent extends ControlStamp {
  /** `driver-error`. */
  readonly type: 'driver-error';
  /** The driver's error message. */
  readonly message: string;
}

/** Deadlines were skipped because the loop fell a period or more behind. */
export interface MissedTicksEvent extends ControlStamp {
  /** `missed-ticks`. */
  readonly type: 'missed-ticks';
  /** How many. */
  readonly count: number;
}

/** What the control thread reports as it happens. */
export type ControlEvent = UnderflowEvent | PrefixOverrunEvent | DriverErrorEvent | MissedTicksEvent;

/** The part of a {@link RobotDriver} the control loop uses. */
export type ControlledDriver = Pick<RobotDriver, 'sendAction' | 'readState'>;

/** Options of {@link ControlCore}. */
export interface ControlCoreOptions {
  /** What to do on underflow (default hold). */
  fallback?: Fallback;
  /** Ticks between robot-state reads published to the ring's mailbox (default 1; 0 = never). */
  stateEvery?: number;
  /** Receives {@link ControlEvent}s; a listener that throws is ignored. */
  onEvent?: (event: ControlEvent) => void;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Validates a {@link Fallback} for actions of `actionDim` entries; returns it with a Float32 target. */
export function checkFallback(fallback: Fallback | undefined, actionDim: number, fn: string): Fallback {
  if (fallback === undefined || fallback.kind === 'hold') return { kind: 'hold' };
  if (fallback.kind !== 'ramp') throw new RangeError(`${fn}: fallback.kind must be 'hold' or 'ramp', got ${JSON.stringify((fallback as { kind: unknown }).kind)}`);
  const { target, maxStep, after = 0 } = fallback;
  if (target?.length !== actionDim) throw new RangeError(`${fn}: fallback.target must have ${actionDim} entries, got ${target?.length}`);
  if (!Array.from(target).every(Number.isFinite)) throw new RangeError(`${fn}: fallback.target must be finite`);
  if (typeof maxStep !== 'number' || !(maxStep > 0) || !Number.isFinite(maxStep)) throw new RangeError(`${fn}: fallback.maxStep must be a finite number > 0, got ${maxStep}`);
  if (!Number.isInteger(after) || after < 0) throw new RangeError(`${fn}: fallback.after must be an integer ≥ 0, got ${after}`);
  return { kind: 'ramp', target: Float32Array.from(target), maxStep, after };
}

/** The consumer side of the runtime: one {@link ControlCore.tick} per control period. */
export class ControlCore {
  readonly #ring: SharedActionRing;
  readonly #metrics: SharedControlMetrics;
  readonly #driver: ControlledDriver;
  readonly #fallback: Fallback;
  readonly #stateEvery: number;
  readonly #onEvent: ((event: ControlEvent) => void) | undefined;
  readonly #row: Float32Array;
  readonly #last: Float32Array;
  #began = false;
  #prevNow = NaN;
  #prevDeadline = NaN;
  #streak = 0;
  #sending = false;
  #reading = false;
  #errorStreak = 0;
  #ticks = 0;

  /** A core popping from `ring` into `driver`, reporting into `metrics`. */
  constructor(ring: SharedActionRing, metrics: SharedControlMetrics, driver: ControlledDriver, options: ControlCoreOptions = {}) {
    const fn = 'ControlCore';
    if (typeof driver?.sendAction !== 'function' || typeof driver.readState !== 'function') throw new TypeError(`${fn}: driver must have sendAction and readState`);
    const stateEvery = options.stateEvery ?? 1;
    if (!Number.isInteger(stateEvery) || stateEvery < 0) throw new RangeError(`${fn}: stateEvery must be an integer ≥ 0, got ${stateEvery}`);
    this.#ring = ring;
    this.#metrics = metrics;
    this.#driver = driver;
    this.#fallback = checkFallback(options.fallback, ring.actionDim, fn);
    this.#stateEvery = stateEvery;
    this.#onEvent = options.onEvent;
    this.#row = new Float32Array(ring.actionDim);
    this.#last = new Float32Array(ring.actionDim);
  }

  /**
   * Starts the buffer from the robot's measured position (or `initial`): it becomes the value held
   * until the first chunk arrives. Call once, before the first tick.
   */
  async begin(initial?: ArrayLike<number>): Promise<void> {
    const fn = 'ControlCore.begin';
    if (this.#began) throw new Error(`${fn}: already begun`);
    let start = initial;
    if (start === undefined) {
      const state = await this.#driver.readState();
      this.#ring.writeState(state.timestamp, state.positions);
      start = state.positions;
    }
    if (start.length !== this.#ring.actionDim) throw new RangeError(`${fn}: the robot has ${start.length} entries but actions have ${this.#ring.actionDim}`);
    this.#ring.initialize(start);
    this.#last.set(Float32Array.from(start));
    this.#began = true;
  }

  /** The last action sent (or held), a copy. */
  get lastAction(): Float32Array {
    return this.#last.slice();
  }

  #emit(event: ControlEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // a listener's failure must not stop the control loop
    }
  }

  /** Counts `count` deadlines skipped because the schedule fell more than a period behind. */
  missed(count: number, now: number): void {
    if (count <= 0) return;
    this.#metrics.begin();
    this.#metrics.add('missedTicks', count);
    this.#metrics.end();
    this.#emit({ type: 'missed-ticks', count, tick: this.#ticks, time: now });
  }

  /** One control period, run at time `now` for the tick scheduled at `deadline` (seconds). */
  tick(now: number, deadline: number): void {
    if (!this.#began) throw new Error('ControlCore.tick: call begin() first');
    const m = this.#metrics;
    const events: ControlEvent[] = [];
    const tick = this.#ticks++;
    let busy = false;
    m.begin();
    try {
      m.add('ticks');
      m.sample(Math.abs(now - this.#prevNow - (deadline - this.#prevDeadline)), now - deadline); // NaN on the first tick
      this.#prevNow = now;
      this.#prevDeadline = deadline;
      const applied = this.#ring.applyPending();
      if (applied !== null) this.#recordStitch(applied, tick, now, events);
      busy = this.#sending;
      if (busy) m.add('driverBusy'); // the previous command is still in flight: execute nothing this period
      else {
        const action = this.#next(tick, now, events);
        let jump = 0;
        for (let j = 0; j < action.length; j++) jump = Math.max(jump, Math.abs(action[j]! - this.#last[j]!));
        if (jump > m.get('maxJump')) m.set('maxJump', jump);
        this.#last.set(action);
      }
    } finally {
      m.end();
    }
    if (!busy) this.#send(this.#last.slice(), tick);
    if (this.#stateEvery > 0 && tick % this.#stateEvery === 0) this.#readState(tick);
    for (const e of events) this.#emit(e);
  }

  #recordStitch(s: AppliedStitch, tick: number, now: number, events: ControlEvent[]): void {
    const m = this.#metrics;
    m.add('stitches');
    m.set('lastDelay', s.delay);
    m.set('lastRealizedDelay', s.realized);
    if (s.realized > m.get('maxRealizedDelay')) m.set('maxRealizedDelay', s.realized);
    if (s.realized > s.delay) {
      // Eq. 22 was not honoured: steps ran that the committed prefix did not cover.
      m.add('prefixOverruns');
      m.add('overrunSteps', s.realized - s.delay);
      m.add('uncommittedExecuted', s.uncommitted);
      events.push({ type: 'prefix-overrun', generation: s.generation, delay: s.delay, realized: s.realized, uncommitted: s.uncommitted, tick, time: now });
    }
  }

  #next(tick: number, now: number, events: ControlEvent[]): Float32Array {
    const m = this.#metrics;
    if (this.#ring.step(this.#row)) {
      m.add('actions');
      this.#streak = 0;
      return this.#row;
    }
    m.add('underflows');
    if (this.#streak++ === 0) {
      m.add('underflowEpisodes');
      events.push({ type: 'underflow', tick, time: now });
    }
    const f = this.#fallback;
    if (f.kind === 'hold' || this.#streak <= (f.after ?? 0)) return this.#last;
    m.add('fallbackTicks');
    for (let j = 0; j < this.#row.length; j++) this.#row[j] = boundedStep(this.#last[j]!, f.target[j]!, f.maxStep);
    return this.#row;
  }

  #failed(e: unknown, tick: number): void {
    this.#metrics.begin();
    this.#metrics.add('driverErrors');
    this.#metrics.end();
    if (this.#errorStreak++ === 0) this.#emit({ type: 'driver-error', message: message(e), tick, time: this.#prevNow });
  }

  #send(action: Float32Array, tick: number): void {
    this.#sending = true;
    let sent: Promise<void>;
    try {
      sent = Promise.resolve(this.#driver.sendAction(action));
    } catch (e) {
      sent = Promise.reject(e);
    }
    sent.then(
      () => {
        this.#sending = false;
        this.#errorStreak = 0;
      },
      (e: unknown) => {
        this.#sending = false;
        this.#failed(e, tick);
      },
    );
  }

  #readState(tick: number): void {
    if (this.#reading) return;
    this.#reading = true;
    let read: Promise<{ timestamp: number; positions: ArrayLike<number> }>;
    try {
      read = Promise.resolve(this.#driver.readState());
    } catch (e) {
      read = Promise.reject(e);
    }
    read.then(
      (s) => {
        this.#reading = false;
        this.#ring.writeState(s.timestamp, s.positions);
      },
      (e: unknown) => {
        this.#reading = false;
        this.#failed(e, tick);
      },
    );
  }
}
