/**
 * Latency commitment, §6.2:
 *
 *   Eq. 22: d ≥ ⌈t_inference / t_control^(e)⌉ + ε_safety.
 *
 * d upper-bounds the control steps executed before the new chunk is ready. Overestimating it is safe
 * (a longer locked prefix); underestimating it lets the robot execute actions the model did not
 * condition on. The runtime takes t_inference from its own measurements ({@link LatencyEstimator}) and
 * clamps d to what the checkpoint was trained for (the largest delay of Eq. 17 it saw) and to T − 1.
 * @module
 */

/**
 * Eq. 22 with equality: ⌈t_inference / t_control⌉ + ε_safety. A ratio within 1e-9 (relative) of an
 * integer counts as that integer, as in `maxDelay`, so 0.3 s at 0.1 s gives 3 despite rounding.
 *
 * @example
 * latencyCommitment(0.045, 0.02, 1); // ⌈2.25⌉ + 1 = 4
 */
export function latencyCommitment(tInference: number, tControl: number, safetyMargin: number): number {
  const fn = 'latencyCommitment';
  if (typeof tInference !== 'number' || !Number.isFinite(tInference) || tInference < 0) throw new RangeError(`${fn}: tInference must be a finite number of seconds ≥ 0, got ${tInference}`);
  if (typeof tControl !== 'number' || !Number.isFinite(tControl) || tControl <= 0) throw new RangeError(`${fn}: tControl must be a finite number of seconds > 0, got ${tControl}`);
  if (!Number.isInteger(safetyMargin) || safetyMargin < 0) throw new RangeError(`${fn}: safetyMargin must be an integer number of steps ≥ 0, got ${safetyMargin}`);
  const r = tInference / tControl;
  const near = Math.round(r);
  const steps = Math.abs(r - near) <= 1e-9 * Math.max(1, r) ? near : Math.ceil(r);
  return steps + safetyMargin;
}

/** What {@link chooseDelay} decided. */
export interface DelayChoice {
  /** The d to use. */
  readonly delay: number;
  /** What Eq. 22 asked for (before clamping). */
  readonly required: number;
  /** Whether d was clamped below `required`, so the commitment cannot be honoured if the latency estimate is right. */
  readonly clamped: boolean;
}

/** Inputs of {@link chooseDelay}. */
export interface DelayInputs {
  /** Estimated t_inference in seconds, or null when nothing is known yet (then the largest trained delay is used: overestimating is safe). */
  latency: number | null;
  /** t_control^(e) in seconds. */
  controlPeriod: number;
  /** ε_safety in control steps. */
  safetyMargin: number;
  /** The largest d the checkpoint was trained with. */
  trainedMaxDelay: number;
  /** T; d ≤ T − 1 leaves at least one postfix row. */
  chunkLength: number;
}

/**
 * Eq. 22, clamped: d = min(⌈t/Δt⌉ + ε, trainedMaxDelay, T − 1).
 *
 * @example
 * chooseDelay({ latency: 0.045, controlPeriod: 0.02, safetyMargin: 1, trainedMaxDelay: 8, chunkLength: 16 }).delay; // 4
 */
export function chooseDelay(inputs: DelayInputs): DelayChoice {
  const fn = 'chooseDelay';
  const { latency, controlPeriod, safetyMargin, trainedMaxDelay, chunkLength } = inputs;
  if (!Number.isInteger(chunkLength) || chunkLength < 1) throw new RangeError(`${fn}: chunkLength must be an integer ≥ 1, got ${chunkLength}`);
  if (!Number.isInteger(trainedMaxDelay) || trainedMaxDelay < 0) throw new RangeError(`${fn}: trainedMaxDelay must be an integer ≥ 0, got ${trainedMaxDelay}`);
  const cap = Math.min(trainedMaxDelay, chunkLength - 1);
  const required = latency === null ? cap : latencyCommitment(latency, controlPeriod, safetyMargin);
  const delay = Math.min(required, cap);
  return { delay, required, clamped: delay < required };
}

/**
 * A conservative t_inference estimate: the largest of the last `window` measured latencies, and never
 * below `floor` (a latency the deployment is known to reach). Null before the first measurement when
 * `floor` is 0. Taking the recent maximum, not the mean, errs toward overestimating d, which is safe.
 */
export class LatencyEstimator {
  /** Measurements considered. */
  readonly window: number;
  /** The least estimate, in seconds. */
  readonly floor: number;
  readonly #recent: number[] = [];

  /** An estimator over the last `window` (≥ 1) measurements, never below `floor` seconds (≥ 0). */
  constructor(window = 8, floor = 0) {
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`LatencyEstimator: window must be an integer ≥ 1, got ${window}`);
    if (typeof floor !== 'number' || !Number.isFinite(floor) || floor < 0) throw new RangeError(`LatencyEstimator: floor must be a finite number of seconds ≥ 0, got ${floor}`);
    this.window = window;
    this.floor = floor;
  }

  /** Records one measured latency in seconds. */
  record(seconds: number): void {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) throw new RangeError(`LatencyEstimator.record: seconds must be finite and ≥ 0, got ${seconds}`);
    this.#recent.push(seconds);
    if (this.#recent.length > this.window) this.#recent.shift();
  }

  /** The current estimate in seconds, or null when nothing is known (no measurement and floor 0). */
  estimate(): number | null {
    if (this.#recent.length === 0) return this.floor > 0 ? this.floor : null;
    return Math.max(this.floor, ...this.#recent);
  }
}
