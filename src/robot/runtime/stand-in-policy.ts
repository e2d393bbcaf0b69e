/**
 * A deterministic stand-in for the policy, so the runtime of §6 can run and be tested without a
 * trained model. It honours the committed prefix exactly (Eq. 23: rows i < d are the committed rows)
 * and continues it toward a new target per call with bounded steps:
 *
 *   a_i = 𝓑_i for i < d;  a_i = a_{i−1} + clamp(g − a_{i−1}, −δ, δ) for i ≥ d  (per entry),
 *
 * with g drawn uniformly from the target box by a seeded generator, one per call, and δ = `maxStep`.
 * Every step of its chunks is at most δ in every entry, exactly in float32 (the rounding is corrected
 * toward the previous row). Different calls aim at different targets, as a re-planning policy would, so
 * executing rows the chunk was not conditioned on shows up as jumps larger than δ.
 *
 * With d = 0 there is no prefix; the chunk then starts from `observation.state` when the observation has
 * one of the right length, else from the origin, and its first row may jump.
 * @module
 */
import { Generator } from '../../tensor/index.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { boundedStep } from './bounded-step.js';
import type { PolicyLike, SampleActionsOptions } from './policy.js';

/** Options of {@link StandInPolicy}. */
export interface StandInPolicyOptions {
  /** T (an integer ≥ 1). */
  chunkLength: number;
  /** D (an integer ≥ 1). */
  actionDim: number;
  /** The largest d accepted (0 ≤ it < T). */
  trainedMaxDelay: number;
  /** δ, the largest change per step and entry (> 0). */
  maxStep: number;
  /** Seed of the targets (default 0). */
  seed?: number | string;
  /** Target box, per entry (default [−1, 1]). */
  lower?: ArrayLike<number>;
  /** Target box, per entry (default [−1, 1]). */
  upper?: ArrayLike<number>;
  /** Seconds each call takes, waited on `clock` (a number, or a function of the call index from 0; default 0). */
  latency?: number | ((call: number) => number);
  /** The clock latencies are waited on (default `systemClock`). */
  clock?: Clock;
  /** Synchronous work run at the start of each call (e.g. a CPU-heavy stand-in for a forward pass). */
  work?: (call: number) => void;
}

/** What the stand-in reads from an observation: an optional starting state for d = 0. */
export interface StandInObservation {
  /** The robot's state, D entries. */
  readonly state?: ArrayLike<number>;
}

function box(fn: string, name: string, x: ArrayLike<number> | undefined, D: number, fill: number): Float64Array {
  if (x === undefined) return new Float64Array(D).fill(fill);
  if (x.length !== D) throw new RangeError(`${fn}: ${name} must have ${D} entries, got ${x.length}`);
  const out = Float64Array.from(x);
  if (!out.every(Number.isFinite)) throw new RangeError(`${fn}: ${name} must be finite`);
  return out;
}

/** The stand-in policy of the module doc. */
export class StandInPolicy implements PolicyLike<StandInObservation | undefined> {
  /** T. */
  readonly chunkLength: number;
  /** D. */
  readonly actionDim: number;
  /** The largest d accepted. */
  readonly trainedMaxDelay: number;
  /** δ. */
  readonly maxStep: number;
  readonly #lower: Float64Array;
  readonly #upper: Float64Array;
  readonly #generator: Generator;
  readonly #latency: (call: number) => number;
  readonly #clock: Clock;
  readonly #work: ((call: number) => void) | undefined;
  #calls = 0;
  #observedMaxStep = 0;

  /** A stand-in with the given shape, step bound and timing. */
  constructor(options: StandInPolicyOptions) {
    const fn = 'StandInPolicy';
    const { chunkLength: T, actionDim: D, trainedMaxDelay, maxStep, latency = 0 } = options;
    if (!Number.isInteger(T) || T < 1) throw new RangeError(`${fn}: chunkLength must be an integer ≥ 1, got ${T}`);
    if (!Number.isInteger(D) || D < 1) throw new RangeError(`${fn}: actionDim must be an integer ≥ 1, got ${D}`);
    if (!Number.isInteger(trainedMaxDelay) || trainedMaxDelay < 0 || trainedMaxDelay >= T) throw new RangeError(`${fn}: trainedMaxDelay must be an integer in [0, ${T - 1}], got ${trainedMaxDelay}`);
    if (typeof maxStep !== 'number' || !Number.isFinite(maxStep) || maxStep <= 0) throw new RangeError(`${fn}: maxStep must be a finite number > 0, got ${maxStep}`);
    if (typeof latency === 'number' && !(latency >= 0 && Number.isFinite(latency))) throw new RangeError(`${fn}: latency must be a finite number of seconds ≥ 0, got ${latency}`);
    this.chunkLength = T;
    this.actionDim = D;
    this.trainedMaxDelay = trainedMaxDelay;
    this.maxStep = maxStep;
    this.#lower = box(fn, 'lower', options.lower, D, -1);
    this.#upper = box(fn, 'upper', options.upper, D, 1);
    this.#lower.forEach((lo, j) => {
      if (!(lo <= this.#upper[j]!)) throw new RangeError(`${fn}: lower[${j}] = ${lo} exceeds upper[${j}] = ${this.#upper[j]}`);
    });
    this.#generator = new Generator(options.seed ?? 0);
    this.#latency = typeof latency === 'number' ? () => latency : latency;
    this.#clock = options.clock ?? systemClock;
    this.#work = options.work;
  }

  /** Calls started so far. */
  get calls(): number {
    return this.#calls;
  }

  /** The largest step (max over entries of |a_i − a_{i−1}|) inside any chunk returned so far; ≤ {@link maxStep}. */
  get observedMaxStep(): number {
    return this.#observedMaxStep;
  }

  /** A chunk continuing the committed prefix (see the module doc), after the configured latency. */
  async sampleActions(observation: StandInObservation | undefined, options: SampleActionsOptions): Promise<Float32Array> {
    const fn = 'StandInPolicy.sampleActions';
    const { chunkLength: T, actionDim: D } = this;
    const { committedPrefix: prefix, delay: d, signal } = options ?? ({} as SampleActionsOptions);
    if (!Number.isInteger(d) || d < 0 || d > this.trainedMaxDelay) throw new RangeError(`${fn}: delay must be an integer in [0, ${this.trainedMaxDelay}] (trainedMaxDelay), got ${d}`);
    if (d === 0 ? prefix !== null : !(prefix instanceof Float32Array) || prefix.length !== d * D) {
      throw new RangeError(`${fn}: committedPrefix must be ${d === 0 ? 'null for d = 0' : `a Float32Array of ${d} × ${D} entries`}, got ${prefix === null ? 'null' : prefix?.length}`);
    }
    const call = this.#calls++;
    this.#work?.(call);
    const goal = Array.from({ length: D }, (_, j) => this.#lower[j]! + (this.#upper[j]! - this.#lower[j]!) * this.#generator.uniform());
    const out = new Float32Array(T * D);
    if (d > 0) out.set(prefix!);
    const state = observation?.state;
    const origin = state !== undefined && state.length === D ? Float32Array.from(state) : new Float32Array(D);
    for (let i = d; i < T; i++) {
      for (let j = 0; j < D; j++) {
        const prev = i > 0 ? out[(i - 1) * D + j]! : origin[j]!;
        out[i * D + j] = boundedStep(prev, goal[j]!, this.maxStep);
      }
    }
    for (let i = 1; i < T; i++) {
      for (let j = 0; j < D; j++) this.#observedMaxStep = Math.max(this.#observedMaxStep, Math.abs(out[i * D + j]! - out[(i - 1) * D + j]!));
    }
    await this.#wait(this.#latency(call), signal);
    return out;
  }

  #wait(seconds: number, signal: AbortSignal | undefined): Promise<void> {
    if (!(seconds >= 0) || !Number.isFinite(seconds)) return Promise.reject(new RangeError(`StandInPolicy: latency of call ${this.#calls - 1} must be finite and ≥ 0, got ${seconds}`));
    if (seconds === 0 && !signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new Error('StandInPolicy: aborted'));
      let timer: TimerHandle;
      const abort = (): void => {
        this.#clock.clearTimer(timer);
        reject(new Error('StandInPolicy: aborted'));
      };
      timer = this.#clock.setTimer(() => {
        signal?.removeEventListener('abort', abort);
        resolve();
      }, seconds);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }
}
