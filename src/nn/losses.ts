/**
 * Losses, as `torch.nn.functional`: mean squared error and cross-entropy, with PyTorch's reductions,
 * ignore index, label smoothing and class weights, plus an element mask (true = the element counts) so
 * that a loss can be taken on a subset of positions (the paper's Ω index sets, Eq. 4-8).
 * @module
 */
import { broadcastShapes, cast, formatShape, logSoftmax, sum, where, type Tensor } from '../tensor/index.js';

/** How per-element losses are combined: averaged (the default), summed, or returned as they are. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options of {@link mseLoss}. */
export interface MSELossOptions {
  /** Default `'mean'`; with a mask, the mean is over the elements the mask selects. */
  reduction?: Reduction;
  /** Per-element weight, broadcast to the prediction's shape; it scales each squared error. */
  weight?: Tensor;
  /** Bool, broadcast to the prediction's shape: true where the element counts. */
  mask?: Tensor;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Default `'mean'`: divided by the number of counted targets, or by the sum of their class weights. */
  reduction?: Reduction;
  /** Targets equal to this contribute nothing, neither to the sum nor to the mean's divisor (default −100). */
  ignoreIndex?: number;
  /** ε in [0, 1]: the loss is (1 − ε)·NLL + ε·mean over classes of −log p (PyTorch's definition). Default 0. */
  labelSmoothing?: number;
  /** A weight per class, `[C]` (PyTorch's `weight`). */
  weight?: Tensor;
  /** Bool, broadcast to the target's shape: true where the target counts (as if the others were ignored). */
  mask?: Tensor;
}

function checkReduction(fn: string, r: string): void {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') {
    throw new RangeError(`${fn}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(r)}`);
  }
}

function checkFloatInput(fn: string, what: string, t: Tensor): void {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') {
    throw new TypeError(`${fn}: ${what} must be float32 or float64, got ${t.dtype} ${formatShape(t.shape)}`);
  }
}

/** `mask` as a 0/1 tensor of `dtype` broadcast to `shape`, after checking that it is bool and broadcasts. */
function maskOf(fn: string, mask: Tensor, shape: readonly number[], dtype: 'float32' | 'float64'): Tensor {
  if (mask.dtype !== 'bool') throw new TypeError(`${fn}: mask must be bool, got ${mask.dtype} ${formatShape(mask.shape)}`);
  const b = broadcastShapes(fn, mask.shape, shape);
  if (b.length !== shape.length || b.some((d, i) => d !== shape[i])) {
    throw new RangeError(`${fn}: mask ${formatShape(mask.shape)} does not broadcast to ${formatShape(shape)}`);
  }
  return cast(mask, dtype).expand(shape);
}

/** `num / den`, taken as 0 where `den` is 0 (every element masked out) instead of NaN. */
function safeDiv(num: Tensor, den: Tensor): Tensor {
  return num.div(where(den.eq(0), 1, den));
}

/**
 * Mean squared error `w·(pred − target)²`, as `torch.nn.functional.mse_loss` (plus weight and mask).
 * `pred` and `target` must have one shape and one float dtype. With a mask, masked-out elements add
 * nothing and the mean divides by the number of selected elements (0 when none is).
 *
 * @example
 * const loss = mseLoss(pred, target, { mask: valid }); // mean over the valid elements
 */
export function mseLoss(pred: Tensor, target: Tensor, opts: MSELossOptions = {}): Tensor {
  const fn = 'mseLoss';
  const reduction = opts.reduction ?? 'mean';
  checkReduction(fn, reduction);
  checkFloatInput(fn, 'pred', pred);
  if (target.dtype !== pred.dtype) {
    throw new TypeError(`${fn}: target dtype ${target.dtype} differs from pred dtype ${pred.dtype}`);
  }
  if (target.ndim !== pred.ndim || target.shape.some((d, i) => d !== pred.shape[i])) {
    throw new RangeError(`${fn}: pred ${formatShape(pred.shape)} and target ${formatShape(target.shape)} differ in shape`);
  }
  const dtype = pred.dtype as 'float32' | 'float64';
  const d = pred.sub(target);
  let l = d.mul(d);
  if (opts.weight !== undefined) {
    checkFloatInput(fn, 'weight', opts.weight);
    const b = broadcastShapes(fn, opts.weight.shape, pred.shape);
    if (b.length !== pred.ndim || b.some((n, i) => n !== pred.shape[i])) {
      throw new RangeError(`${fn}: weight ${formatShape(opts.weight.shape)} does not broadcast to pred ${formatShape(pred.shape)}`);
    }
    l = l.mul(opts.weight.cast(dtype));
  }
  if (opts.mask === undefined) {
    if (reduction === 'none') return l;
    return reduction === 'sum' ? l.sum() : l.mean();
  }
  const m = maskOf(fn, opts.mask, pred.shape, dtype);
  // `where`, not a product, so that an inf or NaN at a masked-out element cannot leak into the loss.
  const kept = where(m.ne(0), l, 0);
  if (reduction === 'none') return kept;
  const total = kept.sum();
  return reduction === 'sum' ? total : safeDiv(total, m.sum());
}

/**
 * Cross-entropy between `logits` `[..., C]` (classes on the last axis) and int32 class indices `target`
 * `[...]`, as `torch.nn.functional.cross_entropy` with the class axis moved last. Built on a stable
 * log-softmax, so logits of ±1e4 give finite losses and gradients.
 *
 * Per target i with class y: `ℓᵢ = (1 − ε)·w_y·(−log p_y) + (ε/C)·Σ_c w_c·(−log p_c)` (w = 1 without
 * class weights). `'mean'` divides Σ ℓᵢ by Σ w_y over the counted targets (their number without weights);
 * targets equal to `ignoreIndex` or outside the mask count for nothing. When no target counts, the mean
 * is 0 (PyTorch gives NaN). `'none'` returns `ℓ` of the target's shape, 0 at uncounted targets.
 *
 * @example
 * const loss = crossEntropy(logits, labels, { labelSmoothing: 0.1 });
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const fn = 'crossEntropy';
  const reduction = opts.reduction ?? 'mean';
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const eps = opts.labelSmoothing ?? 0;
  checkReduction(fn, reduction);
  checkFloatInput(fn, 'logits', logits);
  if (target.dtype !== 'int32') {
    throw new TypeError(`${fn}: target must be int32 class indices, got ${target.dtype} ${formatShape(target.shape)}`);
  }
  if (logits.ndim < 1) throw new RangeError(`${fn}: logits must have a class axis, got shape ${formatShape(logits.shape)}`);
  const lead = logits.shape.slice(0, -1);
  const C = logits.shape[logits.ndim - 1]!;
  if (target.ndim !== lead.length || target.shape.some((d, i) => d !== lead[i])) {
    throw new RangeError(
      `${fn}: logits ${formatShape(logits.shape)} need target ${formatShape(lead)} (classes last), got ${formatShape(target.shape)}`,
    );
  }
  if (!(eps >= 0 && eps <= 1)) throw new RangeError(`${fn}: labelSmoothing must be in [0, 1], got ${eps}`);
  if (!Number.isInteger(ignoreIndex)) throw new RangeError(`${fn}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  const dtype = logits.dtype as 'float32' | 'float64';
  if (opts.weight !== undefined) {
    checkFloatInput(fn, 'weight', opts.weight);
    if (opts.weight.ndim !== 1 || opts.weight.shape[0] !== C) {
      throw new RangeError(`${fn}: weight must be [${C}] (one per class), got ${formatShape(opts.weight.shape)}`);
    }
  }
  const weight = opts.weight?.cast(dtype);

  let counted = target.ne(ignoreIndex);
  if (opts.mask !== undefined) counted = counted.logicalAnd(maskOf(fn, opts.mask, target.shape, dtype).ne(0));
  // Ignored targets may hold any value; point them at class 0 so that the gather stays in range.
  const safeTarget = where(counted, target, 0);
  const logp = logSoftmax(logits, -1);
  let picked: Tensor;
  try {
    picked = logp.gather(-1, safeTarget.unsqueeze(-1)).squeeze(-1);
  } catch (e) {
    if (e instanceof RangeError && e.message.startsWith('gather: index ')) {
      throw new RangeError(`${fn}: a target is not a class of logits ${formatShape(logits.shape)} nor ignoreIndex ${ignoreIndex} (${e.message.slice(8)})`);
    }
    throw e;
  }
  const wy = weight === undefined ? null : weight.indexSelect(0, safeTarget.reshape([-1])).reshape(lead);
  let l = picked.neg();
  if (wy !== null) l = l.mul(wy);
  if (eps > 0) {
    const smooth = (weight === undefined ? logp : logp.mul(weight)).sum(-1).neg();
    l = l.mul(1 - eps).add(smooth.mul(eps / C));
  }
  const kept = where(counted, l, 0);
  if (reduction === 'none') return kept;
  const total = kept.sum();
  if (reduction === 'sum') return total;
  const den = wy === null ? sum(counted).cast(dtype) : where(counted, wy, 0).sum();
  return safeDiv(total, den);
}
