/**
 * Rectified flow matching: training time sampling, the linear probability path and its loss (Eq. 7),
 * and the Euler sampler (Eq. 20).
 *
 * Conventions (DESIGN.md): t = 1 is clean data and t = 0 is noise. A chunk of actions `a` and noise
 * `x0 ~ N(0, I)` give the point `x_t = (1 − t)·x0 + t·a` on the straight path, whose velocity is the
 * target `u_t = a − x0`, and
 *
 *   Eq. 7: L_FM = Σ_{i ∈ Ω_FM} ‖v_θ(x_t, t, c) − (a_i − x0)‖²₂.
 *
 * Sampling integrates the learned field from noise to data:
 *
 *   Eq. 20: a^(k+1) = a^(k) + Δt·v_θ(a^(k), t^(k) | H),  Δt = 1/K,  t^(k) = k/K.
 *
 * Shapes: actions are `[..., D]` with D the unified action space's width, usually `[B, T, D]` (batch,
 * chunk length, dims). A time `t` may be a number, or a tensor whose shape is a leading part of the
 * actions' shape: `[B]` (one time per sample) or `[B, T]` (one per token, as UAC needs, Eq. 18).
 * @module
 */
import {
  broadcastShapes,
  cast,
  checkShape,
  defaultGenerator,
  formatShape,
  full,
  hostValues,
  tensor,
  where,
  type Generator,
  type Tensor,
} from '../tensor/index.js';
import { betaVariate } from './beta.js';

// --- training time --------------------------------------------------------------------------------

/**
 * How training times are drawn: `uniform` on (0, 1], or `beta`: t = (s − B)/s with B ~ Beta(α, β)
 * (defaults α = 1.5, β = 1, s = 0.999, DESIGN.md's convention, which favours small t: more noise).
 * B is redrawn while B ≥ s (probability 1 − P(B < s), 0.15% for the defaults), so t always lies in
 * (0, 1]; without the redraw, (s − B)/s would be negative for those draws. (For β = 1, B given B < s
 * is s·Beta(α, 1), so the redrawn t has exactly the law of 1 − Beta(α, 1), whatever s.)
 */
export type TimeSampling = UniformTimeSampling | BetaTimeSampling;

/** t ~ U(0, 1] (see {@link TimeSampling}). */
export interface UniformTimeSampling {
  /** The distribution's name. */
  readonly kind: 'uniform';
}

/** t = (s − B)/s, B ~ Beta(α, β) redrawn while B ≥ s (see {@link TimeSampling}). */
export interface BetaTimeSampling {
  /** The distribution's name. */
  readonly kind: 'beta';
  /** α of the Beta distribution (default 1.5). */
  readonly alpha?: number;
  /** β of the Beta distribution (default 1). */
  readonly beta?: number;
  /** The shift s ∈ (0, 1] (default 0.999). */
  readonly s?: number;
}

/** The default training-time distribution: t = (0.999 − Beta(1.5, 1))/0.999. */
export const DEFAULT_TIME_SAMPLING: TimeSampling = Object.freeze({ kind: 'beta', alpha: 1.5, beta: 1, s: 0.999 });

/** Options of {@link sampleTime}. */
export interface SampleTimeOptions {
  /** The distribution (default {@link DEFAULT_TIME_SAMPLING}). */
  sampling?: TimeSampling;
  /** The random source (the global generator when omitted). */
  generator?: Generator;
  /** float32 (default) or float64. */
  dtype?: 'float32' | 'float64';
}

/** Redraws of B ≥ s allowed before giving up (each draw is accepted with probability P(B < s)). */
const MAX_REDRAWS = 100_000;

function timeDrawer(sampling: TimeSampling): (g: Generator) => number {
  const fn = 'sampleTime';
  if (sampling.kind === 'uniform') return (g) => 1 - g.uniform(); // (0, 1]
  if (sampling.kind !== 'beta') {
    throw new RangeError(`${fn}: sampling.kind must be 'uniform' or 'beta', got ${JSON.stringify((sampling as { kind: unknown }).kind)}`);
  }
  const alpha = sampling.alpha ?? 1.5;
  const beta = sampling.beta ?? 1;
  const s = sampling.s ?? 0.999;
  for (const [name, v] of [['alpha', alpha], ['beta', beta]] as const) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${fn}: sampling.${name} must be a finite number > 0, got ${v}`);
  }
  if (!(s > 0 && s <= 1)) throw new RangeError(`${fn}: sampling.s must lie in (0, 1], got ${s}`);
  return (g) => {
    for (let i = 0; i < MAX_REDRAWS; i++) {
      const b = betaVariate(alpha, beta, g);
      if (b < s) return (s - b) / s;
    }
    throw new RangeError(`${fn}: Beta(${alpha}, ${beta}) gave no value below s = ${s} in ${MAX_REDRAWS} draws; raise s`);
  };
}

/**
 * Training times t ∈ (0, 1] of the given shape (t = 1 clean, t = 0 noise), drawn in row-major order
 * from `opts.sampling` (see {@link TimeSampling}); deterministic for a seeded generator.
 *
 * @example
 * const t = sampleTime([batch], { generator: new Generator(0) }); // (0.999 − Beta(1.5, 1))/0.999
 */
export function sampleTime(shape: readonly number[], opts: SampleTimeOptions = {}): Tensor {
  const s = checkShape('sampleTime', shape);
  const draw = timeDrawer(opts.sampling ?? DEFAULT_TIME_SAMPLING);
  const g = opts.generator ?? defaultGenerator();
  const host = new Float64Array(s.reduce((p, d) => p * d, 1));
  for (let i = 0; i < host.length; i++) host[i] = draw(g);
  return tensor(host, { shape: s, dtype: opts.dtype ?? 'float32' });
}

// --- the path and its target (Eq. 7) ---------------------------------------------------------------

/**
 * `t` reshaped so that it broadcasts against `shape` along the leading axes: a tensor of shape
 * `[n0, …, n(r−1)]` (each equal to `shape[i]` or 1) becomes `[n0, …, n(r−1), 1, …, 1]`. A number or a
 * 0-d tensor broadcasts as it is.
 */
export function alignLeading(fn: string, what: string, t: Tensor, shape: readonly number[]): Tensor {
  const ok = t.ndim <= shape.length && t.shape.every((d, i) => d === shape[i] || d === 1);
  if (!ok) {
    throw new RangeError(`${fn}: ${what} ${formatShape(t.shape)} must match the leading axes of ${formatShape(shape)}`);
  }
  return t.ndim === shape.length ? t : t.reshape([...t.shape, ...new Array<number>(shape.length - t.ndim).fill(1)]);
}

function checkFloat(fn: string, what: string, t: Tensor): void {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') {
    throw new TypeError(`${fn}: ${what} must be float32 or float64, got ${t.dtype} ${formatShape(t.shape)}`);
  }
}

function checkSameShape(fn: string, a: Tensor, aName: string, b: Tensor, bName: string): void {
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${fn}: ${aName} ${formatShape(a.shape)} and ${bName} ${formatShape(b.shape)} differ in shape`);
  }
  if (a.dtype !== b.dtype) throw new TypeError(`${fn}: ${aName} is ${a.dtype} but ${bName} is ${b.dtype}`);
}

/**
 * Eq. 7's probability path: `x_t = (1 − t)·x0 + t·a`, so `x_t = x0` at t = 0 and `x_t = a` at t = 1.
 * `t` is a number or a tensor over the leading axes (`[B]`, `[B, T]`; see the module notes); it is cast
 * to the actions' dtype.
 *
 * @example
 * const xt = interpolate(noise, actions, sampleTime([B], { generator }));
 */
export function interpolate(x0: Tensor, a: Tensor, t: Tensor | number): Tensor {
  const fn = 'interpolate';
  checkFloat(fn, 'x0', x0);
  checkSameShape(fn, x0, 'x0', a, 'a');
  const tt = typeof t === 'number' ? full([], t, { dtype: a.dtype }) : alignLeading(fn, 't', cast(t, a.dtype), a.shape);
  return x0.mul(tt.neg().add(1)).add(a.mul(tt));
}

/** Eq. 7's target velocity `u_t = a − x0`: the path's derivative d x_t / dt, the same for every t. */
export function velocityTarget(x0: Tensor, a: Tensor): Tensor {
  checkFloat('velocityTarget', 'x0', x0);
  checkSameShape('velocityTarget', x0, 'x0', a, 'a');
  return a.sub(x0);
}

// --- the loss (Eq. 7) ------------------------------------------------------------------------------

/** Options of {@link flowMatchingLoss}. */
export interface FlowMatchingLossOptions {
  /**
   * Bool, true where a dim of the unified space is active (Eq. 1's slots of the embodiment): `[D]` for
   * the whole batch, `[B, D]` per sample, or the prediction's full shape. Inactive dims never count.
   */
  mask?: Tensor;
  /**
   * Per-token weights `w ≥ 0` over the prediction's leading axes (e.g. `[B, T]`, or anything that
   * broadcasts to them); a token of weight 0 counts for nothing (UAC's prefix, Eq. 19).
   */
  weight?: Tensor;
  /**
   * `'mean'` (default): Σ w·m·(v − u)² / Σ w·m, a weighted mean over counted elements (0 when none
   * counts). `'sum'`: Σ w·m·(v − u)², Eq. 7 as written. `'none'`: the per-element `w·m·(v − u)²`.
   */
  reduction?: 'mean' | 'sum' | 'none';
}

function maskFor(fn: string, mask: Tensor, shape: readonly number[]): Tensor {
  if (mask.dtype !== 'bool') throw new TypeError(`${fn}: mask must be bool, got ${mask.dtype} ${formatShape(mask.shape)}`);
  const n = shape.length;
  const D = shape[n - 1];
  const same = mask.ndim === n && mask.shape.every((d, i) => d === shape[i]);
  if (same) return mask;
  if (mask.ndim === 1 && mask.shape[0] === D) return mask;
  if (mask.ndim === 2 && n >= 2 && mask.shape[0] === shape[0] && mask.shape[1] === D) {
    return mask.reshape([shape[0]!, ...new Array<number>(n - 2).fill(1), D!]);
  }
  throw new RangeError(`${fn}: mask ${formatShape(mask.shape)} must be [D], [B, D] or the prediction's shape ${formatShape(shape)}`);
}

function weightFor(fn: string, weight: Tensor, shape: readonly number[], dtype: 'float32' | 'float64'): Tensor {
  checkFloat(fn, 'weight', weight);
  const lead = shape.slice(0, -1);
  const b = broadcastShapes(fn, weight.shape, lead);
  if (b.length !== lead.length || b.some((d, i) => d !== lead[i])) {
    throw new RangeError(`${fn}: weight ${formatShape(weight.shape)} does not broadcast to the token axes ${formatShape(lead)}`);
  }
  // Values are checked where they can be read without waiting (see hostValues).
  const w = hostValues(weight.detach()) ?? [];
  for (let i = 0; i < w.length; i++) {
    if (!(w[i]! >= 0 && Number.isFinite(w[i]!))) throw new RangeError(`${fn}: weights must be finite and ≥ 0, got ${w[i]} at ${i}`);
  }
  return cast(weight, dtype).unsqueeze(-1);
}

/**
 * Eq. 7, the flow-matching loss: squared error between the predicted velocity `pred` and the target
 * `a − x0` (see {@link velocityTarget}), both `[..., D]`, counted only on active dims (`mask`) and
 * weighted per token (`weight`); reductions as {@link FlowMatchingLossOptions.reduction} says.
 *
 * Elements that do not count (mask false or weight 0) are removed before squaring, so they add exactly
 * 0 to the loss and receive exactly 0 gradient, even where `pred` is not finite.
 *
 * @example
 * const loss = flowMatchingLoss(expert(xt, t), velocityTarget(noise, actions), { mask: activeDims });
 */
export function flowMatchingLoss(pred: Tensor, target: Tensor, opts: FlowMatchingLossOptions = {}): Tensor {
  const fn = 'flowMatchingLoss';
  const reduction = opts.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new RangeError(`${fn}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
  checkFloat(fn, 'pred', pred);
  checkSameShape(fn, pred, 'pred', target, 'target');
  if (pred.ndim < 1) throw new RangeError(`${fn}: pred must have a dims axis [..., D], got ${formatShape(pred.shape)}`);
  const dtype = pred.dtype as 'float32' | 'float64';
  const shape = pred.shape;
  // w·m per element, broadcast to the prediction's shape (ones where neither is given).
  let wm: Tensor = full(shape, 1, { dtype });
  if (opts.weight !== undefined) wm = wm.mul(weightFor(fn, opts.weight, shape, dtype));
  if (opts.mask !== undefined) wm = where(maskFor(fn, opts.mask, shape), wm, 0);
  const counted = wm.ne(0);
  // Eq. 7 over Ω: the residual is zeroed (not multiplied by 0) where it does not count.
  const diff = where(counted, pred.sub(target), 0);
  const perElement = diff.mul(diff).mul(wm);
  if (reduction === 'none') return perElement;
  const total = perElement.sum();
  if (reduction === 'sum') return total;
  const den = wm.sum();
  return total.div(where(den.eq(0), 1, den));
}

// --- the sampler (Eq. 20) ---------------------------------------------------------------------------

/**
 * The velocity field v_θ(x, t) at Euler step k: `x` has the sampled actions' shape; `t` is a 0-d tensor
 * holding t^(k) = k/K, or with {@link EulerOptions.held} a tensor of `held`'s shape with 1 on held
 * tokens and k/K elsewhere (per-token time, Eq. 18). It returns a velocity of `x`'s shape and dtype.
 */
export type VelocityField = (x: Tensor, t: Tensor, k: number) => Tensor;

/**
 * A hook on the sampler's state `x = a^(j)` at time `t` (as the field sees it) and index `j`; it
 * returns the state to continue with, of the same shape and dtype (e.g. with a locked prefix, Eq. 23).
 */
export type EulerHook = (x: Tensor, t: Tensor, j: number) => Tensor;

/** Options of {@link eulerSample}. */
export interface EulerOptions {
  /** K, the number of Euler steps (default 4; the paper keeps K < 10). */
  steps?: number;
  /**
   * Bool over the leading axes of the actions (`[T]` or `[B, T]`): tokens held clean at t = 1 (UAC's
   * committed prefix, Eq. 18). The field sees t = 1 there, and those tokens are never updated.
   */
  held?: Tensor;
  /** Called on a^(j) before step j evaluates the field, j = 0 … K−1. */
  beforeStep?: EulerHook;
  /** Called on a^(j) right after step j − 1 produced it, j = 1 … K. */
  afterStep?: EulerHook;
}

function checkState(fn: string, what: string, x: Tensor, like: Tensor): Tensor {
  if (x.ndim !== like.ndim || x.shape.some((d, i) => d !== like.shape[i]) || x.dtype !== like.dtype) {
    throw new RangeError(`${fn}: ${what} returned ${x.dtype} ${formatShape(x.shape)}, expected ${like.dtype} ${formatShape(like.shape)}`);
  }
  return x;
}

/**
 * Eq. 20, the Euler sampler: from the noise `x0` = a^(0) at t = 0, `a^(k+1) = a^(k) + (1/K)·v(a^(k), k/K)`
 * for k = 0 … K−1, returning a^(K) at t = 1. The field is called exactly K times, at t = 0, 1/K, …,
 * (K−1)/K. Held tokens (`opts.held`) see t = 1 and keep their values bit for bit. Gradients flow
 * through the steps when the caller records them; wrap in `noGrad` for inference.
 *
 * @example
 * const actions = noGrad(() => eulerSample((x, t) => expert(x, t, context), randn([B, T, D], { generator })));
 */
export function eulerSample(field: VelocityField, x0: Tensor, opts: EulerOptions = {}): Tensor {
  const fn = 'eulerSample';
  const K = opts.steps ?? 4;
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`${fn}: steps must be an integer ≥ 1, got ${K}`);
  checkFloat(fn, 'x0', x0);
  const dtype = x0.dtype;
  let held: Tensor | null = null;
  if (opts.held !== undefined) {
    if (opts.held.dtype !== 'bool') throw new TypeError(`${fn}: held must be bool, got ${opts.held.dtype} ${formatShape(opts.held.shape)}`);
    held = alignLeading(fn, 'held', opts.held, x0.shape);
  }
  const timeAt = (j: number): Tensor => {
    const tj = full([], j / K, { dtype });
    return opts.held === undefined ? tj : where(opts.held, 1, tj);
  };
  const dt = 1 / K;
  let x = x0;
  for (let k = 0; k < K; k++) {
    const t = timeAt(k);
    if (opts.beforeStep) x = checkState(fn, 'beforeStep', opts.beforeStep(x, t, k), x0);
    const v = checkState(fn, 'the velocity field', field(x, t, k), x0);
    const next = x.add(v.mul(dt));
    x = held === null ? next : where(held, x, next);
    if (opts.afterStep) x = checkState(fn, 'afterStep', opts.afterStep(x, timeAt(k + 1), k + 1), x0);
  }
  return x;
}
