/**
 * Universal Async Chunking, the training side (§5.3.3, Eq. 17-19), and the prefix lock of its
 * deployment protocol (§6.2, Eq. 23).
 *
 * An embodiment e with control period Δt^(e) and latency budget L^(e) executes about ⌈L/Δt⌉ committed
 * actions while the next chunk is computed. Training simulates that delay:
 *
 *   Eq. 17: d ~ π^(e)(d),  d ∈ {0, 1, …, d_max^(e) − 1};
 *   Eq. 18: t_i = 𝟙[i < d] + 𝟙[i ≥ d]·t_base,  t_base ~ p(t);
 *   Eq. 19: L_UAC = Σ_{i ≥ d} ‖v̂_i − v*_i‖²₂.
 *
 * The first d action tokens (the committed prefix, already being executed) are given clean at t = 1;
 * the postfix is noised at t_base and is the only part supervised. With d = 0 this is plain flow
 * matching (Eq. 7). At inference the same prefix is held at t = 1 and locked to the committed actions
 * through every Euler step (Eq. 23): see {@link lockPrefix} and the `held` option of
 * {@link eulerSample}.
 *
 * d_max rule: d_max^(e) = max(1, ⌈L^(e)/Δt^(e)⌉), capped at the chunk length T so that at least one
 * token (d ≤ T − 1) is left to supervise.
 * @module
 */
import { cast, defaultGenerator, formatShape, randn, tensor, where, type Generator, type Tensor } from '../tensor/index.js';
import {
  alignLeading,
  flowMatchingLoss,
  interpolate,
  sampleTime,
  velocityTarget,
  type EulerHook,
  type FlowMatchingLossOptions,
  type TimeSampling,
} from './flow.js';

/** An embodiment's timing: what d_max^(e) is derived from. */
export interface EmbodimentTiming {
  /** Δt^(e), the control period in seconds (> 0). */
  controlPeriod: number;
  /** L^(e), the expected inference latency budget in seconds (≥ 0). */
  latencyBudget: number;
  /** T, the action chunk length (an integer ≥ 1); it caps d_max. */
  chunkLength: number;
}

/**
 * d_max^(e) = min(T, max(1, ⌈L/Δt⌉)) (§5.3.3). A ratio L/Δt within 1e-9 (relative) of an integer is
 * taken as that integer, so that e.g. L = 0.3 s at Δt = 0.1 s gives 3 despite rounding.
 *
 * @example
 * maxDelay({ controlPeriod: 1 / 30, latencyBudget: 0.1, chunkLength: 16 }); // 3
 */
export function maxDelay(timing: EmbodimentTiming): number {
  const fn = 'maxDelay';
  const { controlPeriod: dt, latencyBudget: L, chunkLength: T } = timing;
  if (typeof dt !== 'number' || !Number.isFinite(dt) || dt <= 0) throw new RangeError(`${fn}: controlPeriod must be a finite number > 0, got ${dt}`);
  if (typeof L !== 'number' || !Number.isFinite(L) || L < 0) throw new RangeError(`${fn}: latencyBudget must be a finite number ≥ 0, got ${L}`);
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`${fn}: chunkLength must be an integer ≥ 1, got ${T}`);
  const r = L / dt;
  const near = Math.round(r);
  const steps = Math.abs(r - near) <= 1e-9 * Math.max(1, r) ? near : Math.ceil(r);
  return Math.min(T, Math.max(1, steps));
}

/**
 * π^(e) over d ∈ {0, …, d_max − 1}: `'uniform'`; `'exponential'`, weight ∝ exp(d_max − 1 − d) (the public
 * DESIGN.md convention, favouring short delays); or explicit non-negative weights, one per delay.
 */
export type DelayWeighting = 'uniform' | 'exponential' | readonly number[];

/**
 * The probabilities of π^(e) (Eq. 17) for `dMax` delays; they sum to 1. The exponential weights are
 * normalised as exp(−d)/Σ exp(−d'), equal to exp(d_max − 1 − d)/Σ … without overflow for large d_max.
 */
export function delayProbabilities(dMax: number, weighting: DelayWeighting = 'exponential'): number[] {
  const fn = 'delayProbabilities';
  if (!Number.isInteger(dMax) || dMax < 1) throw new RangeError(`${fn}: dMax must be an integer ≥ 1, got ${dMax}`);
  let w: number[];
  if (weighting === 'uniform') w = new Array<number>(dMax).fill(1);
  else if (weighting === 'exponential') w = Array.from({ length: dMax }, (_, d) => Math.exp(-d));
  else if (Array.isArray(weighting)) {
    if (weighting.length !== dMax) throw new RangeError(`${fn}: ${weighting.length} weights given for dMax = ${dMax}`);
    w = weighting.map((x: number, d: number) => {
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new RangeError(`${fn}: weight of d = ${d} must be finite and ≥ 0, got ${x}`);
      return x;
    });
  } else throw new RangeError(`${fn}: weighting must be 'uniform', 'exponential' or an array of weights, got ${JSON.stringify(weighting)}`);
  const total = w.reduce((s, x) => s + x, 0);
  if (!(total > 0)) throw new RangeError(`${fn}: the weights sum to ${total}; at least one must be > 0`);
  return w.map((x) => x / total);
}

/** An embodiment's delay distribution π^(e) over {0, …, d_max − 1} (Eq. 17), sampled by inverse CDF. */
export class DelayDistribution {
  /** d_max^(e): every sampled delay is below it. */
  readonly dMax: number;
  /** P(d) for d = 0 … d_max − 1. */
  readonly probabilities: readonly number[];
  readonly #cdf: Float64Array;

  /** π over `dMax` delays with the given weighting (default `'exponential'`). */
  constructor(dMax: number, weighting: DelayWeighting = 'exponential') {
    this.probabilities = Object.freeze(delayProbabilities(dMax, weighting));
    this.dMax = dMax;
    this.#cdf = new Float64Array(dMax);
    let c = 0;
    this.probabilities.forEach((p, d) => {
      c += p;
      this.#cdf[d] = c;
    });
  }

  /** π^(e) for an embodiment's timing: d_max from {@link maxDelay}. */
  static forEmbodiment(timing: EmbodimentTiming, weighting: DelayWeighting = 'exponential'): DelayDistribution {
    return new DelayDistribution(maxDelay(timing), weighting);
  }

  /** One delay d ∈ {0, …, d_max − 1}; one `uniform()` draw from the generator (the global one if omitted). */
  sample(generator?: Generator): number {
    const u = (generator ?? defaultGenerator()).uniform();
    // The first d with u < CDF(d); delays of probability 0 are never chosen. Rounding may leave
    // CDF(d_max − 1) a hair below 1: such a u falls to the last delay of positive probability.
    let last = 0;
    for (let d = 0; d < this.dMax; d++) {
      if (this.probabilities[d]! > 0) {
        last = d;
        if (u < this.#cdf[d]!) return d;
      }
    }
    return last;
  }
}

/** Eq. 17 for a batch: d_b ~ π^(e_b), where `distributions[b]` is the distribution of sample b's embodiment. */
export function sampleDelays(distributions: readonly DelayDistribution[], generator?: Generator): number[] {
  const g = generator ?? defaultGenerator();
  return distributions.map((p) => p.sample(g));
}

function checkDelays(fn: string, delays: readonly number[], B: number, T: number): void {
  if (delays.length !== B) throw new RangeError(`${fn}: ${delays.length} delays for a batch of ${B}`);
  delays.forEach((d, b) => {
    if (!Number.isInteger(d) || d < 0 || d >= T) {
      throw new RangeError(`${fn}: delay of sample ${b} must be an integer in [0, ${T - 1}] (chunk length ${T}), got ${d}`);
    }
  });
}

/** The committed prefix as a bool `[B, T]` mask: true at token i of sample b when i < d_b. */
export function prefixMask(delays: readonly number[], chunkLength: number): Tensor {
  const fn = 'prefixMask';
  if (!Number.isInteger(chunkLength) || chunkLength < 1) throw new RangeError(`${fn}: chunkLength must be an integer ≥ 1, got ${chunkLength}`);
  checkDelays(fn, delays, delays.length, chunkLength);
  const host = new Uint8Array(delays.length * chunkLength);
  delays.forEach((d, b) => host.fill(1, b * chunkLength, b * chunkLength + d));
  return tensor(host, { shape: [delays.length, chunkLength], dtype: 'bool' });
}

/**
 * Eq. 18, per-token times `[B, T]`: 1 on each sample's prefix (i < d_b) and `tBase[b]` elsewhere;
 * `tBase` is `[B]` (float), and the result has its dtype.
 */
export function uacTimesteps(delays: readonly number[], tBase: Tensor, chunkLength: number): Tensor {
  const fn = 'uacTimesteps';
  if (tBase.ndim !== 1 || (tBase.dtype !== 'float32' && tBase.dtype !== 'float64')) {
    throw new RangeError(`${fn}: tBase must be a float [B] tensor, got ${tBase.dtype} ${formatShape(tBase.shape)}`);
  }
  checkDelays(fn, delays, tBase.shape[0]!, chunkLength);
  return where(prefixMask(delays, chunkLength), 1, tBase.unsqueeze(1));
}

/** What a UAC training step feeds the action expert and the loss (see {@link uacInputs}). */
export interface UACInputs {
  /** d_b per sample. */
  delays: readonly number[];
  /** Bool `[B, T]`, true on the committed prefix (i < d_b). */
  prefix: Tensor;
  /** Per-token times `[B, T]` (Eq. 18). */
  t: Tensor;
  /** The expert's input `[B, T, D]`: the clean actions on the prefix (exactly), x_t elsewhere. */
  xt: Tensor;
  /** The target velocity `a − x0` `[B, T, D]` (Eq. 7); the loss reads it on the postfix only. */
  target: Tensor;
}

/**
 * Builds UAC training inputs from actions `a` `[B, T, D]`, noise `x0` of the same shape, delays d_b and
 * base times `tBase` `[B]`: per-token times (Eq. 18), `x_t = (1 − t_i)·x0 + t_i·a` per token with the
 * prefix set to `a` exactly, and the target `a − x0`. Deterministic; see {@link sampleUACInputs} to draw
 * d, t_base and x0.
 */
export function uacInputs(actions: Tensor, noise: Tensor, delays: readonly number[], tBase: Tensor): UACInputs {
  const fn = 'uacInputs';
  if (actions.ndim !== 3) throw new RangeError(`${fn}: actions must be [B, T, D], got ${formatShape(actions.shape)}`);
  const [B, T] = actions.shape as [number, number, number];
  if (tBase.ndim !== 1 || tBase.shape[0] !== B) throw new RangeError(`${fn}: tBase must be [${B}], got ${formatShape(tBase.shape)}`);
  checkDelays(fn, delays, B, T);
  const prefix = prefixMask(delays, T);
  const t = uacTimesteps(delays, cast(tBase, actions.dtype), T);
  // t = 1 already gives a on the prefix; the `where` makes it exact whatever the signs of zeros.
  const xt = where(prefix.unsqueeze(-1), actions, interpolate(noise, actions, t));
  return { delays, prefix, t, xt, target: velocityTarget(noise, actions) };
}

/** Options of {@link sampleUACInputs}. */
export interface SampleUACOptions {
  /** The random source (the global generator when omitted). */
  generator?: Generator;
  /** p(t) for t_base (default: flow.ts's `DEFAULT_TIME_SAMPLING`). */
  timeSampling?: TimeSampling;
}

/** {@link UACInputs} with the random draws that made them. */
export interface SampledUACInputs extends UACInputs {
  /** x0 ~ N(0, I), `[B, T, D]`. */
  noise: Tensor;
  /** t_base per sample, `[B]`. */
  tBase: Tensor;
}

/**
 * Draws d_b ~ π^(e_b) (Eq. 17, `distributions[b]` for sample b), then t_base ~ p(t) `[B]`, then
 * x0 ~ N(0, I) like `actions`, in that order from one generator, and builds {@link uacInputs}.
 *
 * @example
 * const so101 = DelayDistribution.forEmbodiment({ controlPeriod: 1 / 30, latencyBudget: 0.2, chunkLength: 16 });
 * const inp = sampleUACInputs(actions, [so101, so101], { generator });
 * const loss = uacLoss(expert(inp.xt, inp.t), inp, { mask: activeDims });
 */
export function sampleUACInputs(
  actions: Tensor,
  distributions: readonly DelayDistribution[],
  opts: SampleUACOptions = {},
): SampledUACInputs {
  const fn = 'sampleUACInputs';
  if (actions.ndim !== 3) throw new RangeError(`${fn}: actions must be [B, T, D], got ${formatShape(actions.shape)}`);
  const [B, T] = actions.shape as [number, number, number];
  if (distributions.length !== B) throw new RangeError(`${fn}: ${distributions.length} delay distributions for a batch of ${B}`);
  distributions.forEach((p, b) => {
    if (p.dMax > T) throw new RangeError(`${fn}: sample ${b}'s d_max ${p.dMax} exceeds the chunk length ${T} (d_max ≤ T)`);
  });
  if (actions.dtype !== 'float32' && actions.dtype !== 'float64') throw new TypeError(`${fn}: actions must be float32 or float64, got ${actions.dtype}`);
  const g = opts.generator ?? defaultGenerator();
  const delays = sampleDelays(distributions, g);
  const tBase = sampleTime([B], { generator: g, dtype: actions.dtype, ...(opts.timeSampling ? { sampling: opts.timeSampling } : {}) });
  const noise = randn(actions.shape, { generator: g, dtype: actions.dtype });
  return { ...uacInputs(actions, noise, delays, tBase), noise, tBase };
}

/**
 * Eq. 19, the UAC loss: {@link flowMatchingLoss} on the postfix (i ≥ d_b) only. Prefix positions add
 * exactly 0 and receive exactly 0 gradient; `'mean'` averages over the postfix's counted elements.
 * With every d_b = 0 it equals the plain flow-matching loss.
 */
export function uacLoss(
  pred: Tensor,
  inputs: Pick<UACInputs, 'prefix' | 'target'>,
  opts: Omit<FlowMatchingLossOptions, 'weight'> = {},
): Tensor {
  const fn = 'uacLoss';
  const { prefix, target } = inputs;
  if (prefix.dtype !== 'bool' || prefix.ndim !== 2 || prefix.shape[0] !== pred.shape[0] || prefix.shape[1] !== pred.shape[1]) {
    throw new RangeError(`${fn}: prefix must be bool [B, T] matching pred ${formatShape(pred.shape)}, got ${prefix.dtype} ${formatShape(prefix.shape)}`);
  }
  const postfix = cast(prefix.logicalNot(), pred.dtype === 'float64' ? 'float64' : 'float32');
  return flowMatchingLoss(pred, target, { ...opts, weight: postfix });
}

/**
 * Eq. 23, hard prefix locking, as an {@link EulerHook}: every state's prefix tokens are replaced by the
 * committed actions `committed` (the sampled actions' shape), so the flow never edits what is already
 * executing. `prefix` is a bool over the leading axes (`[T]` or `[B, T]`). Pass it as both
 * `beforeStep` and `afterStep`, with `held: prefix` so the field sees t = 1 there as in training.
 *
 * @example
 * const lock = lockPrefix(buffer, prefix);
 * eulerSample(field, noise, { held: prefix, beforeStep: lock, afterStep: lock });
 */
export function lockPrefix(committed: Tensor, prefix: Tensor): EulerHook {
  const fn = 'lockPrefix';
  if (prefix.dtype !== 'bool') throw new TypeError(`${fn}: prefix must be bool, got ${prefix.dtype} ${formatShape(prefix.shape)}`);
  const mask = alignLeading(fn, 'prefix', prefix, committed.shape);
  return (x) => {
    if (x.ndim !== committed.ndim || x.shape.some((d, i) => d !== committed.shape[i]) || x.dtype !== committed.dtype) {
      throw new RangeError(`${fn}: state ${x.dtype} ${formatShape(x.shape)} differs from committed ${committed.dtype} ${formatShape(committed.shape)}`);
    }
    return where(mask, committed, x);
  };
}
