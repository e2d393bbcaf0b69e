/**
 * Evaluation metrics of the paper. Mean Wrist Displacement Similarity (MWDS, Table 8): "MWDS averages the
 * cosine similarity between the predicted and ground-truth wrist displacement vectors from the initial to
 * the final state, cos(Δp̂_wrist, Δp_wrist)":
 *
 *   Table 8: `MWDS = (1/B) Σ_b cos(Δp̂_b, Δp_b)`, with `Δp_b = p_{b,T} − p_{b,1}`.
 *
 * It scores the direction of the motion, not its size or the starting pose (the paper's reason for it: in
 * the delta action space the initial pose, given as ground truth, would dominate position errors).
 * Inputs are trajectories of positions (states); a chunk of delta actions must first be turned into
 * positions (e.g. the initial state plus the accumulated deltas), since "delta" depends on its reference.
 * @module
 */
import { formatShape, tensor, where, type Tensor } from '../tensor/index.js';

/** A contiguous run of features, as a unified-layout slot gives it. */
export interface FeatureRange {
  /** Index of the first feature. */
  readonly offset: number;
  /** Number of features. */
  readonly size: number;
}

/** Options of {@link wristDisplacementCosine} and {@link meanWristDisplacementSimilarity}. */
export interface WristDisplacementOptions {
  /**
   * The wrist-position features on the last axis: a list of indices, or a slot `{ offset, size }` such as
   * `UNIFIED_LAYOUT.slot('right_eef_pos')` (the unified layout's wrist position). Default: every feature.
   */
  indices?: readonly number[] | FeatureRange;
  /** A displacement whose Euclidean norm is ≤ this counts as zero (default 1e-8, in the data's units). */
  eps?: number;
}

/** The displacement `x_T − x_1` `[B, F']` of trajectories `x` `[B, T, F]` over the selected features. */
function displacement(fn: string, what: string, x: Tensor, indices: readonly number[] | undefined): Tensor {
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new TypeError(`${fn}: ${what} must be float32 or float64, got ${x.dtype} ${formatShape(x.shape)}`);
  const t = x.shape[1]!;
  const d = x.narrow(1, t - 1, 1).sub(x.narrow(1, 0, 1)).squeeze(1);
  return indices === undefined ? d : d.indexSelect(1, tensor(Int32Array.from(indices), { shape: [indices.length] }));
}

function slotIndices(fn: string, slot: FeatureRange): number[] {
  if (!Number.isInteger(slot.offset) || !Number.isInteger(slot.size) || slot.offset < 0 || slot.size < 1) {
    throw new RangeError(`${fn}: a slot needs an integer offset ≥ 0 and size ≥ 1, got offset ${slot.offset}, size ${slot.size}`);
  }
  return Array.from({ length: slot.size }, (_, i) => slot.offset + i);
}

/**
 * Per-sample `cos(Δp̂_b, Δp_b)` `[B]` between the first-to-last displacements of predicted and true
 * trajectories `[B, T, F]` (T ≥ 2; the selected features, see {@link WristDisplacementOptions}).
 *
 * Zero displacement, where the cosine is undefined: when both norms are ≤ eps the value is 1 (the
 * prediction correctly stays put: full agreement); when exactly one is, it is 0 (a direction against no
 * direction, neither agreeing nor opposing, the expected cosine of a random direction). So a model that
 * always predicts no motion scores 0 on moving samples, not NaN.
 */
export function wristDisplacementCosine(pred: Tensor, target: Tensor, opts: WristDisplacementOptions = {}): Tensor {
  const fn = 'wristDisplacementCosine';
  if (pred.ndim !== 3 || target.ndim !== 3 || pred.shape.some((n, i) => n !== target.shape[i])) {
    throw new RangeError(`${fn}: pred and target must be [B, T, F] of one shape, got ${formatShape(pred.shape)} and ${formatShape(target.shape)}`);
  }
  if (pred.dtype !== target.dtype) throw new TypeError(`${fn}: pred ${pred.dtype} and target ${target.dtype} differ in dtype`);
  const [, t, f] = pred.shape as [number, number, number];
  if (t < 2) throw new RangeError(`${fn}: trajectories need T ≥ 2 states (initial and final), got ${formatShape(pred.shape)}`);
  const sel = opts.indices;
  const indices = sel !== undefined && 'offset' in sel ? slotIndices(fn, sel) : sel;
  if (indices !== undefined) {
    if (indices.length === 0) throw new RangeError(`${fn}: indices must not be empty`);
    const bad = indices.filter((i) => !Number.isInteger(i) || i < 0 || i >= f);
    if (bad.length > 0) throw new RangeError(`${fn}: indices ${JSON.stringify(bad)} are not features of [B, T, ${f}]`);
  }
  const eps = opts.eps ?? 1e-8;
  if (!(eps >= 0)) throw new RangeError(`${fn}: eps must be ≥ 0, got ${eps}`);
  const dp = displacement(fn, 'pred', pred, indices);
  const dt = displacement(fn, 'target', target, indices);
  const np = dp.norm(2, -1);
  const nt = dt.norm(2, -1);
  const zp = np.le(eps);
  const zt = nt.le(eps);
  // The denominator is replaced where either is zero so that no NaN is formed even in unused entries.
  const anyZero = zp.logicalOr(zt);
  const cos = dp.mul(dt).sum(-1).div(where(anyZero, 1, np.mul(nt)));
  // Rounding can push |cos| a hair past 1; the metric is bounded by definition.
  const bounded = cos.clamp(-1, 1);
  return where(zp.logicalAnd(zt), 1, where(anyZero, 0, bounded));
}

/**
 * Table 8's MWDS: the mean over the batch of {@link wristDisplacementCosine} (a scalar in [−1, 1]).
 *
 * @example
 * // [B, T, d] trajectories in the unified space; the right wrist's xyz slot
 * const wrist = UNIFIED_LAYOUT.slot('right_eef_pos');
 * const mwds = meanWristDisplacementSimilarity(pred, truth, { indices: wrist }).item();
 */
export function meanWristDisplacementSimilarity(pred: Tensor, target: Tensor, opts: WristDisplacementOptions = {}): Tensor {
  if (pred.ndim === 3 && pred.shape[0] === 0) {
    throw new RangeError(`meanWristDisplacementSimilarity: the batch is empty, got ${formatShape(pred.shape)}`);
  }
  return wristDisplacementCosine(pred, target, opts).mean();
}
