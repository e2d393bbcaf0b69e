/**
 * The inference thread of §6.3 (the producer), running the deployment protocol of §6.2 in a loop:
 *
 *   Eq. 22: d ≥ ⌈t_inference / t_control^(e)⌉ + ε_safety — d from the measured latency, clamped to
 *           the checkpoint's largest trained delay and to T − 1;
 *   Eq. 23: the committed prefix 𝓑_{<d} (the next d actions in the buffer) is passed to
 *           `sampleActions`, which keeps it locked while denoising;
 *   Eq. 24: only the postfix a_{≥d} is stitched in, after the committed rows.
 *
 * One cycle: wait until the control thread has taken up the last stitch, read the latest observation,
 * choose d, snapshot the prefix, sample, post the stitched chunk. A policy that throws is retried after
 * a back-off and given up after too many failures in a row; one that never answers is reported as
 * stalled. Neither affects the control thread, which holds or falls back on underflow. Every wait is on
 * the injected `Clock`, so with a `ManualClock` a run is deterministic.
 * @module
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { percentiles, type Percentiles } from './control-metrics.js';
import { LatencyEstimator, chooseDelay } from './latency-commitment.js';
import type { PolicyLike } from './policy.js';
import type { SharedActionRing } from './ring-buffer.js';
import { prefixEdits, stitchChunk } from './stitch.js';

/** When an inference event happened. */
export interface InferenceStamp {
  /** Seconds on the inference loop's clock. */
  readonly time: number;
}

/** A cycle failed (observe or sampleActions threw, or the chunk was malformed); it will be retried. */
export interface InferenceErrorEvent extends InferenceStamp {
  /** `inference-error`. */
  readonly type: 'inference-error';
  /** The error message. */
  readonly message: string;
  /** Failures in a row so far. */
  readonly consecutive: number;
}

/** `sampleActions` has not answered within the stall timeout. */
export interface InferenceStalledEvent extends InferenceStamp {
  /** `inference-stalled`. */
  readonly type: 'inference-stalled';
  /** Seconds waited so far. */
  readonly elapsed: number;
}

/** The loop gave up after too many failures in a row; the control thread holds or falls back. */
export interface InferenceStoppedEvent extends InferenceStamp {
  /** `inference-stopped`. */
  readonly type: 'inference-stopped';
  /** Why. */
  readonly reason: string;
}

/** Eq. 22 asked for a d the checkpoint was not trained for (reported the first time). */
export interface DelayClampedEvent extends InferenceStamp {
  /** `delay-clamped`. */
  readonly type: 'delay-clamped';
  /** d by Eq. 22. */
  readonly required: number;
  /** d used. */
  readonly delay: number;
}

/** The policy returned prefix rows different from the committed ones (Eq. 23; reported the first time). */
export interface PrefixEditedEvent extends InferenceStamp {
  /** `prefix-edited`. */
  readonly type: 'prefix-edited';
  /** Rows that differed. */
  readonly rows: number;
}

/** The control thread has not taken up the last stitch for the acknowledgement timeout. */
export interface ControlUnresponsiveEvent extends InferenceStamp {
  /** `control-unresponsive`. */
  readonly type: 'control-unresponsive';
  /** Seconds waited so far. */
  readonly waited: number;
}

/** What the inference loop reports. */
export type InferenceEvent = InferenceErrorEvent | InferenceStalledEvent | InferenceStoppedEvent | DelayClampedEvent | PrefixEditedEvent | ControlUnresponsiveEvent;

/** Options of {@link InferenceLoop}. */
export interface InferenceLoopOptions<O> {
  /** The policy. Its actions are in the driver's raw layout. */
  policy: PolicyLike<O>;
  /** The latest observation (e.g. camera frames plus `ring.readState()`). */
  observe: () => O | Promise<O>;
  /** t_control^(e) in seconds. */
  controlPeriod: number;
  /** ε_safety in control steps (default 1). */
  safetyMargin?: number;
  /** `auto` (default): Eq. 22 from measured latency; a number: that d for every chunk (0 ≤ d ≤ trainedMaxDelay, d < T). */
  delay?: 'auto' | number;
  /** A latency in seconds the deployment is known to reach: the estimate never goes below it (default 0). */
  expectedLatency?: number;
  /** Measured latencies the estimate takes the maximum of (default 8). */
  latencyWindow?: number;
  /** The clock for latency and waits (default `systemClock`). */
  clock?: Clock;
  /** Seconds after which an unanswered `sampleActions` is reported stalled (default max(1, 50·t_control)). */
  stallTimeout?: number;
  /** Seconds to wait after a failed cycle (default 10·t_control). */
  errorBackoff?: number;
  /** Failed cycles in a row after which the loop gives up (default 5). */
  maxConsecutiveErrors?: number;
  /** Seconds without the control thread taking up a stitch before it is reported unresponsive (default max(1, 50·t_control)). */
  ackTimeout?: number;
  /** Least seconds between the starts of two cycles (default 0: back to back). */
  minInterval?: number;
  /** Receives {@link InferenceEvent}s. */
  onEvent?: (event: InferenceEvent) => void;
}

/** What the inference loop reports (counts since start; seconds). */
export interface InferenceMetrics {
  /** Chunks sampled and posted. */
  readonly inferences: number;
  /** Failed cycles (observe or sampleActions threw, or returned a bad chunk). */
  readonly errors: number;
  /** Calls reported stalled. */
  readonly stalls: number;
  /** Cycles whose Eq. 22 delay had to be clamped to the trained maximum. */
  readonly delayClamped: number;
  /** Chunks whose prefix rows differed from the committed ones (Eq. 23 violated by the policy; the committed rows were kept). */
  readonly prefixEdits: number;
  /** d of the last chunk (NaN before the first). */
  readonly lastDelay: number;
  /** How often each d was chosen: `delays[d]`. */
  readonly delays: readonly number[];
  /** Measured t_inference (snapshot to post) over the last 1024 chunks. */
  readonly latency: Percentiles;
  /** The latency estimate Eq. 22 uses now (null before any). */
  readonly latencyEstimate: number | null;
  /** Whether the loop is running. */
  readonly running: boolean;
  /** Why it gave up, when it did. */
  readonly failure: string | null;
}

const LATENCY_SAMPLES = 1024;
const STOPPED = Symbol('stopped');

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function seconds(fn: string, name: string, x: number, positive = false): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || (positive && x === 0)) throw new RangeError(`${fn}: ${name} must be a finite number of seconds ${positive ? '>' : '≥'} 0, got ${x}`);
  return x;
}

/** The producer side of the runtime (see the module doc). */
export class InferenceLoop<O> {
  readonly #ring: SharedActionRing;
  readonly #policy: PolicyLike<O>;
  readonly #observe: () => O | Promise<O>;
  readonly #period: number;
  readonly #margin: number;
  readonly #fixedDelay: number | null;
  readonly #estimator: LatencyEstimator;
  readonly #clock: Clock;
  readonly #stallTimeout: number;
  readonly #errorBackoff: number;
  readonly #maxErrors: number;
  readonly #ackTimeout: number;
  readonly #minInterval: number;
  readonly #onEvent: ((event: InferenceEvent) => void) | undefined;
  readonly #latencies: number[] = [];
  readonly #delays: number[] = [];
  #inferences = 0;
  #errors = 0;
  #stalls = 0;
  #clamped = 0;
  #edits = 0;
  #lastDelay = NaN;
  #failure: string | null = null;
  #running = false;
  #stopping = false;
  #loop: Promise<void> | null = null;
  #abort: AbortController | null = null;
  #wakeStop: (() => void) | null = null;
  #stopSignal: Promise<typeof STOPPED> = new Promise((resolve) => (this.#wakeStop = () => resolve(STOPPED)));

  /** A loop producing into `ring` (the same T and D as the policy). */
  constructor(ring: SharedActionRing, options: InferenceLoopOptions<O>) {
    const fn = 'InferenceLoop';
    const { policy, observe, controlPeriod } = options ?? ({} as InferenceLoopOptions<O>);
    if (typeof policy?.sampleActions !== 'function') throw new TypeError(`${fn}: policy must have sampleActions`);
    if (typeof observe !== 'function') throw new TypeError(`${fn}: observe must be a function`);
    if (policy.chunkLength !== ring.chunkLength || policy.actionDim !== ring.actionDim) {
      throw new RangeError(`${fn}: the policy makes ${policy.chunkLength} × ${policy.actionDim} chunks but the ring holds ${ring.chunkLength} × ${ring.actionDim}`);
    }
    if (!Number.isInteger(policy.trainedMaxDelay) || policy.trainedMaxDelay < 0) throw new RangeError(`${fn}: policy.trainedMaxDelay must be an integer ≥ 0, got ${policy.trainedMaxDelay}`);
    seconds(fn, 'controlPeriod', controlPeriod, true);
    const margin = options.safetyMargin ?? 1;
    if (!Number.isInteger(margin) || margin < 0) throw new RangeError(`${fn}: safetyMargin must be an integer number of steps ≥ 0, got ${margin}`);
    const delay = options.delay ?? 'auto';
    const cap = Math.min(policy.trainedMaxDelay, ring.chunkLength - 1);
    if (delay !== 'auto' && (!Number.isInteger(delay) || delay < 0 || delay > cap)) {
      throw new RangeError(`${fn}: delay must be 'auto' or an integer in [0, ${cap}] (trainedMaxDelay ${policy.trainedMaxDelay}, chunk length ${ring.chunkLength}), got ${delay}`);
    }
    const maxErrors = options.maxConsecutiveErrors ?? 5;
    if (!Number.isInteger(maxErrors) || maxErrors < 1) throw new RangeError(`${fn}: maxConsecutiveErrors must be an integer ≥ 1, got ${maxErrors}`);
    this.#ring = ring;
    this.#policy = policy;
    this.#observe = observe;
    this.#period = controlPeriod;
    this.#margin = margin;
    this.#fixedDelay = delay === 'auto' ? null : delay;
    this.#estimator = new LatencyEstimator(options.latencyWindow ?? 8, seconds(fn, 'expectedLatency', options.expectedLatency ?? 0));
    this.#clock = options.clock ?? systemClock;
    this.#stallTimeout = seconds(fn, 'stallTimeout', options.stallTimeout ?? Math.max(1, 50 * controlPeriod), true);
    this.#errorBackoff = seconds(fn, 'errorBackoff', options.errorBackoff ?? 10 * controlPeriod);
    this.#maxErrors = maxErrors;
    this.#ackTimeout = seconds(fn, 'ackTimeout', options.ackTimeout ?? Math.max(1, 50 * controlPeriod), true);
    this.#minInterval = seconds(fn, 'minInterval', options.minInterval ?? 0);
    this.#onEvent = options.onEvent;
  }

  /** Whether the loop is running. */
  get running(): boolean {
    return this.#running;
  }

  /** Starts the loop (once). */
  start(): void {
    if (this.#loop !== null) throw new Error('InferenceLoop.start: already started');
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops the loop, abandoning a call in flight (its `signal` is aborted); settles once it has exited. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort?.abort();
    this.#wakeStop?.();
    await this.#loop;
  }

  /** The loop's metrics. */
  metrics(): InferenceMetrics {
    return {
      inferences: this.#inferences,
      errors: this.#errors,
      stalls: this.#stalls,
      delayClamped: this.#clamped,
      prefixEdits: this.#edits,
      lastDelay: this.#lastDelay,
      delays: Array.from(this.#delays, (x) => x ?? 0),
      latency: percentiles(this.#latencies),
      latencyEstimate: this.#estimator.estimate(),
      running: this.#running,
      failure: this.#failure,
    };
  }

  #emit(event: InferenceEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // a listener's failure must not stop the loop
    }
  }

  /** `p`, or STOPPED as soon as stop() is called. */
  #race<T>(p: Promise<T>): Promise<T | typeof STOPPED> {
    return Promise.race([p, this.#stopSignal]);
  }

  #sleep(s: number): Promise<void | typeof STOPPED> {
    let timer: TimerHandle;
    const slept = new Promise<void>((resolve) => (timer = this.#clock.setTimer(resolve, s)));
    return this.#race(slept).finally(() => this.#clock.clearTimer(timer));
  }

  /** Waits until the control thread has taken up the last stitch; false if stopped first. */
  async #acknowledged(): Promise<boolean> {
    const started = this.#clock.now();
    let reported = false;
    while (!this.#ring.acknowledged) {
      if ((await this.#sleep(this.#period / 4)) === STOPPED) return false;
      const waited = this.#clock.now() - started;
      if (!reported && waited >= this.#ackTimeout) {
        reported = true;
        this.#emit({ type: 'control-unresponsive', waited, time: this.#clock.now() });
      }
    }
    return !this.#stopping;
  }

  async #run(): Promise<void> {
    let consecutive = 0;
    try {
      while (!this.#stopping) {
        const cycleStart = this.#clock.now();
        if (!(await this.#acknowledged())) return;
        try {
          if (!(await this.#cycle())) return;
          consecutive = 0;
        } catch (e) {
          if (this.#stopping) return;
          this.#errors++;
          consecutive++;
          this.#emit({ type: 'inference-error', message: message(e), consecutive, time: this.#clock.now() });
          if (consecutive >= this.#maxErrors) {
            this.#failure = `${consecutive} failures in a row; last: ${message(e)}`;
            this.#emit({ type: 'inference-stopped', reason: this.#failure, time: this.#clock.now() });
            return;
          }
          if ((await this.#sleep(this.#errorBackoff)) === STOPPED) return;
        }
        const rest = this.#minInterval - (this.#clock.now() - cycleStart);
        if (rest > 0 && (await this.#sleep(rest)) === STOPPED) return;
      }
    } finally {
      this.#running = false;
    }
  }

  /** One cycle; false if stopped meanwhile. */
  async #cycle(): Promise<boolean> {
    const { chunkLength: T, actionDim: D } = this.#ring;
    const observation = await this.#race(Promise.resolve().then(() => this.#observe()));
    if (observation === STOPPED || this.#stopping) return false;
    let d: number;
    if (this.#fixedDelay !== null) d = this.#fixedDelay;
    else {
      const choice = chooseDelay({ latency: this.#estimator.estimate(), controlPeriod: this.#period, safetyMargin: this.#margin, trainedMaxDelay: this.#policy.trainedMaxDelay, chunkLength: T });
      d = choice.delay;
      if (choice.clamped && this.#clamped++ === 0) this.#emit({ type: 'delay-clamped', required: choice.required, delay: d, time: this.#clock.now() });
    }
    const snap = this.#ring.snapshot(d); // Eq. 23: the next d actions, locked
    const t0 = this.#clock.now();
    this.#abort = new AbortController();
    const stall = this.#clock.setTimer(() => {
      this.#stalls++;
      this.#emit({ type: 'inference-stalled', elapsed: this.#clock.now() - t0, time: this.#clock.now() });
    }, this.#stallTimeout);
    let chunk: Float32Array | typeof STOPPED;
    try {
      const call = Promise.resolve().then(() =>
        this.#policy.sampleActions(observation, { committedPrefix: d > 0 ? snap.prefix.slice() : null, delay: d, signal: this.#abort!.signal }),
      );
      chunk = await this.#race(call);
    } finally {
      this.#clock.clearTimer(stall);
      this.#abort = null;
    }
    if (chunk === STOPPED || this.#stopping) return false;
    const latency = this.#clock.now() - t0;
    if (!(chunk instanceof Float32Array) || chunk.length !== T * D) throw new RangeError(`sampleActions returned ${chunk instanceof Float32Array ? `${chunk.length} entries` : typeof chunk}; expected a Float32Array of ${T} × ${D}`);
    for (let i = d * D; i < chunk.length; i++) {
      if (!Number.isFinite(chunk[i])) throw new RangeError(`sampleActions returned ${chunk[i]} at row ${Math.floor(i / D)}, entry ${i % D}`);
    }
    const edited = prefixEdits(snap, chunk);
    if (edited > 0 && this.#edits++ === 0) this.#emit({ type: 'prefix-edited', rows: edited, time: this.#clock.now() });
    this.#ring.post(snap, stitchChunk(snap, chunk, T)); // Eq. 24: committed rows ⊕ postfix
    this.#estimator.record(Math.max(0, latency));
    this.#latencies.push(latency);
    if (this.#latencies.length > LATENCY_SAMPLES) this.#latencies.shift();
    this.#delays[d] = (this.#delays[d] ?? 0) + 1;
    this.#lastDelay = d;
    this.#inferences++;
    return true;
  }
}
