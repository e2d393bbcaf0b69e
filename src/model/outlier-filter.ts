/**
 * Outlier filtering for the unified state-action space (§5.1.1): "we eschew traditional statistical
 * normalization (e.g., scaling to [-1, 1]) in favor of preserving raw physical magnitudes … By applying
 * only outlier filtering to mitigate sensor noise, we force the model to learn the true physical scale."
 *
 * An {@link OutlierFilter} holds per-dimension bounds `[lower_j, upper_j]`, fitted on a dataset `[N, D]`,
 * and clips into them; values inside the bounds pass through bit-identical and nothing is rescaled, so
 * units stay raw. Two fits:
 *
 * - quantiles: `lower_j = Q_j(p_lo)`, `upper_j = Q_j(p_hi)` (linear interpolation between order
 *   statistics, numpy's default; p_lo = 0.01 and p_hi = 0.99 by default);
 * - MAD: `median_j ± k·σ̂_j` with the robust scale `σ̂ = 1.4826·MAD` (MAD = median |x − median|,
 *   consistent for the normal σ) and k = 3.5 by default (Iglewicz–Hoaglin's modified z-score cut-off).
 *   Where more than half of a dimension's values are equal, MAD = 0; then `σ̂ = 1.2533·mean|x − median|`
 *   (their fallback), so a gripper that is mostly closed is not collapsed onto "closed".
 *
 * Degenerate dimensions are left alone: a dimension whose fitted interval has zero width (a constant
 * dimension, such as one every sample leaves at zero) gets bounds (−∞, ∞), since an empty interval says
 * nothing about the noise scale and clipping to it would erase any variation met later; a dimension with
 * no counted value gets (−∞, ∞) too. In the unified space, the dimensions outside an embodiment's I_e
 * must stay exactly zero (Eq. 1): fit with the `mask` of the entries that are real data (rows of several
 * embodiments pooled), and apply with the embodiment's `activeMask`, which leaves the other entries
 * untouched whatever their bounds.
 * @module
 */
import { Tensor, formatShape, tensor, where } from '../tensor/index.js';

/** Options shared by the fits. */
export interface OutlierFitOptions {
  /** The number of dimensions D when the data is a flat array of rows laid end to end (a tensor's last axis otherwise). */
  readonly dim?: number;
  /** Which entries are data: D flags (per dimension) or one per value; false/0 entries are not counted. */
  readonly mask?: ArrayLike<boolean | number>;
}

/** Options of {@link OutlierFilter.fitQuantile}. */
export interface QuantileFitOptions extends OutlierFitOptions {
  /** Lower quantile p_lo ∈ [0, 1) (default 0.01). */
  readonly lower?: number;
  /** Upper quantile p_hi ∈ (p_lo, 1] (default 0.99). */
  readonly upper?: number;
}

/** Options of {@link OutlierFilter.fitMad}. */
export interface MadFitOptions extends OutlierFitOptions {
  /** The half-width in robust standard deviations (default 3.5). */
  readonly k?: number;
}

/** Bounds as plain JSON: `null` stands for an infinite bound (no clipping on that side). */
export interface OutlierBounds {
  /** Per-dimension lower bounds. */
  readonly lower: readonly (number | null)[];
  /** Per-dimension upper bounds. */
  readonly upper: readonly (number | null)[];
}

/** Normal-consistency factors of the MAD and of the mean absolute deviation. */
const MAD_SCALE = 1.4826;
const MEAN_AD_SCALE = 1.2533;

/** Per-dimension clipping bounds fitted on a dataset, applied to arrays or tensors (see the module notes). */
export class OutlierFilter {
  /** The number of dimensions D. */
  readonly dim: number;
  /** Per-dimension lower bounds (−∞ where unclipped). */
  readonly lower: readonly number[];
  /** Per-dimension upper bounds (∞ where unclipped). */
  readonly upper: readonly number[];

  /** A filter with the given bounds (`null` or ±∞ for none); `lower ≤ upper` in each dimension. */
  constructor(bounds: { readonly lower: ArrayLike<number | null>; readonly upper: ArrayLike<number | null> }) {
    const { lower, upper } = bounds;
    if (lower.length !== upper.length || lower.length === 0) {
      throw new RangeError(`OutlierFilter: lower and upper need one bound per dimension, got ${lower.length} and ${upper.length}`);
    }
    const lo = Array.from(lower, (v) => (v === null ? -Infinity : v));
    const hi = Array.from(upper, (v) => (v === null ? Infinity : v));
    lo.forEach((l, j) => {
      if (Number.isNaN(l) || Number.isNaN(hi[j]) || !(l <= hi[j]!)) throw new RangeError(`OutlierFilter: dimension ${j} has bounds [${l}, ${hi[j]}]`);
    });
    this.dim = lo.length;
    this.lower = Object.freeze(lo);
    this.upper = Object.freeze(hi);
  }

  /** Bounds at the quantiles p_lo and p_hi of each dimension's counted values. */
  static fitQuantile(data: Tensor | ArrayLike<number>, opts: QuantileFitOptions = {}): OutlierFilter {
    const pLo = opts.lower ?? 0.01;
    const pHi = opts.upper ?? 0.99;
    if (!(pLo >= 0 && pLo < pHi && pHi <= 1)) throw new RangeError(`OutlierFilter.fitQuantile: need 0 ≤ lower < upper ≤ 1, got lower ${pLo}, upper ${pHi}`);
    return fit('OutlierFilter.fitQuantile', data, opts, (sorted) => [quantile(sorted, pLo), quantile(sorted, pHi)]);
  }

  /** Bounds `median ± k·σ̂` per dimension, σ̂ from the MAD (or the mean absolute deviation where MAD = 0). */
  static fitMad(data: Tensor | ArrayLike<number>, opts: MadFitOptions = {}): OutlierFilter {
    const k = opts.k ?? 3.5;
    if (!(k > 0 && Number.isFinite(k))) throw new RangeError(`OutlierFilter.fitMad: k must be positive and finite, got ${k}`);
    return fit('OutlierFilter.fitMad', data, opts, (sorted) => {
      const med = quantile(sorted, 0.5);
      const dev = sorted.map((v) => Math.abs(v - med)).sort();
      const mad = quantile(dev, 0.5);
      const scale = mad > 0 ? MAD_SCALE * mad : (MEAN_AD_SCALE * dev.reduce((s, v) => s + v, 0)) / dev.length;
      return [med - k * scale, med + k * scale];
    });
  }

  /**
   * `x` clipped into the bounds along its last axis (a tensor `[..., D]`, or rows of D laid end to end).
   * Entries whose `active` flag is false are returned unchanged: `active` holds D flags (per dimension,
   * e.g. an embodiment's `activeMask`) or one per value. Differentiable for tensors: the gradient passes
   * where the value is inside its bounds or inactive, and is zero where it was clipped.
   */
  apply(x: Tensor, active?: ArrayLike<boolean | number>): Tensor;
  /** Clipped Float32 rows (see the tensor overload). */
  apply(x: Float32Array, active?: ArrayLike<boolean | number>): Float32Array;
  /** Clipped rows as float64 (see the tensor overload). */
  apply(x: ArrayLike<number>, active?: ArrayLike<boolean | number>): Float64Array;
  apply(x: Tensor | ArrayLike<number>, active?: ArrayLike<boolean | number>): Tensor | Float32Array | Float64Array {
    const n = x instanceof Tensor ? x.size : x.length;
    if (x instanceof Tensor) {
      if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.dim) {
        throw new RangeError(`OutlierFilter.apply: expected a tensor of shape [..., ${this.dim}], got ${formatShape(x.shape)}`);
      }
      if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new TypeError(`OutlierFilter.apply: expected a float tensor, got ${x.dtype}`);
    } else if (n % this.dim !== 0) {
      throw new RangeError(`OutlierFilter.apply: ${n} values are not whole rows of ${this.dim}`);
    }
    checkMask('OutlierFilter.apply', active, this.dim, n);
    if (x instanceof Tensor) {
      const lo = tensor(Float64Array.from(this.lower), { dtype: x.dtype });
      const hi = tensor(Float64Array.from(this.upper), { dtype: x.dtype });
      const clipped = x.clamp(lo, hi);
      if (active === undefined) return clipped;
      const flags = Uint8Array.from(active, (b) => (b ? 1 : 0));
      const mask = tensor(flags, { dtype: 'bool', shape: flags.length === this.dim ? [this.dim] : x.shape });
      return where(mask, clipped, x);
    }
    const out = x instanceof Float32Array ? new Float32Array(x) : Float64Array.from(x);
    for (let i = 0; i < n; i++) {
      const j = i % this.dim;
      if (active !== undefined && !active[active.length === this.dim ? j : i]) continue;
      out[i] = Math.min(Math.max(out[i]!, this.lower[j]!), this.upper[j]!);
    }
    return out;
  }

  /** The bounds as JSON-safe data (infinite bounds as `null`); `new OutlierFilter(f.toJSON())` restores it. */
  toJSON(): OutlierBounds {
    const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
    return { lower: this.lower.map(finite), upper: this.upper.map(finite) };
  }
}

/** Collects each dimension's counted values, sorts them, and turns them into bounds with `bounds`. */
function fit(
  fn: string,
  data: Tensor | ArrayLike<number>,
  opts: OutlierFitOptions,
  bounds: (sorted: Float64Array) => [number, number],
): OutlierFilter {
  let values: ArrayLike<number>;
  let dim: number;
  if (data instanceof Tensor) {
    if (data.ndim === 0) throw new RangeError(`${fn}: expected a tensor [..., D], got a scalar`);
    dim = data.shape[data.ndim - 1]!;
    if (opts.dim !== undefined && opts.dim !== dim) throw new RangeError(`${fn}: dim ${opts.dim} differs from the tensor's last axis ${formatShape(data.shape)}`);
    values = data.dataSync();
  } else {
    if (opts.dim === undefined) throw new RangeError(`${fn}: flat array data needs opts.dim`);
    dim = opts.dim;
    values = data;
  }
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`${fn}: dim must be a positive integer, got ${dim}`);
  if (values.length % dim !== 0) throw new RangeError(`${fn}: ${values.length} values are not whole rows of ${dim}`);
  const { mask } = opts;
  checkMask(fn, mask, dim, values.length);
  const rows = values.length / dim;
  const lower: number[] = [];
  const upper: number[] = [];
  const column = new Float64Array(rows);
  for (let j = 0; j < dim; j++) {
    let n = 0;
    for (let r = 0; r < rows; r++) {
      const i = r * dim + j;
      if (mask !== undefined && !mask[mask.length === dim ? j : i]) continue;
      const v = values[i]!;
      if (!Number.isFinite(v)) throw new RangeError(`${fn}: row ${r}, dimension ${j} is ${v}`);
      column[n++] = v;
    }
    const [lo, hi] = n === 0 ? [-Infinity, Infinity] : bounds(column.slice(0, n).sort());
    // A zero-width interval carries no scale: leave the dimension unclipped (see the module notes).
    const degenerate = !(hi > lo);
    lower.push(degenerate ? -Infinity : lo);
    upper.push(degenerate ? Infinity : hi);
  }
  return new OutlierFilter({ lower, upper });
}

/** The p-quantile of ascending values by linear interpolation between order statistics (numpy's default). */
function quantile(sorted: Float64Array, p: number): number {
  const pos = p * (sorted.length - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  return f === 0 ? sorted[i]! : sorted[i]! + f * (sorted[i + 1]! - sorted[i]!);
}

function checkMask(fn: string, mask: ArrayLike<boolean | number> | undefined, dim: number, n: number): void {
  if (mask !== undefined && mask.length !== dim && mask.length !== n) {
    throw new RangeError(`${fn}: the mask has ${mask.length} flags; expected ${dim} (one per dimension) or ${n} (one per value)`);
  }
}
