/**
 * Sliced Wasserstein distances between point sets (§5.3.2, Eq. 14), differentiable with respect to the
 * points: project both sets on M random unit directions θ_m, sort each projection, and compare the
 * sorted lists. Sorting is differentiable here (the gradient of the sorted values scatters back to the
 * points they came from), so both sets can be trained through the distance.
 *
 * Two normalisations are provided:
 * - {@link slicedWassersteinDiscrepancy}, the paper's quantity (Eq. 14):
 *   `D = (1/M) Σ_m ‖sort(θ_mᵀX) − sort(θ_mᵀY)‖²₂` — a mean over directions of the summed (not averaged)
 *   squared differences of the sorted projections. MPG feeds it to its gate (Eq. 15).
 * - {@link slicedWassersteinDistance}, POT's `ot.sliced_wasserstein_distance(X, Y, n_projections, p)`
 *   with uniform weights: `SW_p = ((1/M) Σ_m W_p^p(θ_m#μ_X, θ_m#μ_Y))^(1/p)`.
 *
 * Unequal sample counts n ≠ m: the 1-D optimal transport between two uniform empirical measures is the
 * monotone (north-west corner) coupling of their sorted values — equivalently, their step quantile
 * functions compared on the merged levels {i/n} ∪ {j/m}, as POT's `wasserstein_1d` does (it looks the
 * quantiles up with `searchsorted`; it does not interpolate). Each sorted x_(i) sends its mass 1/n to
 * consecutive y_(j) in order, and `W_p^p = Σ mass·|x_(i) − y_(j)|^p` is exact. For Eq. 14, whose sum
 * over samples has no 1/n, the unequal-count value is `max(n, m)·W_2²`: it equals Eq. 14 itself when
 * n = m, and equals Eq. 14 applied after repeating the smaller set when its count divides the other — in
 * particular the paper's case of a single anchor broadcast along the sequence (m = 1 gives
 * `Σ_i (θᵀx_i − θᵀy)²`).
 * @module
 */
import { broadcastShapes, defaultGenerator, formatShape, hostValues, tensor, where, type DType, type Generator, type Tensor } from '../tensor/index.js';

/** The default number of random directions M (DESIGN.md: MPG uses 32). */
export const DEFAULT_NUM_DIRECTIONS = 32;

/** Options of {@link randomDirections}. */
export interface RandomDirectionsOptions {
  /** The random source (the global generator when omitted). */
  generator?: Generator;
  /** dtype of the result (float32 by default). */
  dtype?: DType;
}

/** Options shared by {@link slicedWassersteinDiscrepancy} and {@link slicedWassersteinDistance}. */
export interface SlicedWassersteinOptions {
  /**
   * `[M, d]`: the directions θ_m as unit rows (note: POT's `projections` argument is the transpose,
   * `[d, M]`). Drawn with {@link randomDirections} when omitted.
   */
  directions?: Tensor;
  /** M, the number of random directions to draw (default 32); must agree with `directions` if both are given. */
  numDirections?: number;
  /** The random source of the directions (the global generator when omitted). */
  generator?: Generator;
}

/** Options of {@link slicedWassersteinDistance}. */
export interface SlicedWassersteinDistanceOptions extends SlicedWassersteinOptions {
  /** The order p ≥ 1 of the Wasserstein distance (default 2). */
  p?: number;
}

/**
 * `numDirections` directions uniform on the unit sphere in `dim` dimensions, as rows of a
 * `[numDirections, dim]` tensor: normalised standard Gaussian vectors (as POT draws them; the random
 * stream is this library's, not numpy's).
 */
export function randomDirections(numDirections: number, dim: number, opts: RandomDirectionsOptions = {}): Tensor {
  if (!Number.isInteger(numDirections) || numDirections < 1 || !Number.isInteger(dim) || dim < 1) {
    throw new RangeError(`randomDirections: need integers numDirections ≥ 1 and dim ≥ 1, got ${numDirections}, ${dim}`);
  }
  const g = opts.generator ?? defaultGenerator();
  const host = new Float64Array(numDirections * dim);
  for (let r = 0; r < numDirections; r++) {
    const row = host.subarray(r * dim, (r + 1) * dim);
    let sq = 0;
    // A zero Gaussian vector has probability zero, but must not become a NaN direction: draw again.
    while (!(sq > 0)) {
      sq = 0;
      for (let k = 0; k < dim; k++) {
        row[k] = g.normal();
        sq += row[k]! * row[k]!;
      }
    }
    const inv = 1 / Math.sqrt(sq);
    for (let k = 0; k < dim; k++) row[k] = row[k]! * inv;
  }
  return tensor(host, { shape: [numDirections, dim], dtype: opts.dtype ?? 'float32' });
}

/** A transport plan between the sorted atoms of two uniform empirical measures. */
interface Coupling {
  /** Source atom of each pair (an index into the sorted x). */
  from: Int32Array;
  /** Target atom of each pair (an index into the sorted y). */
  to: Int32Array;
  /** Mass of each pair, in units of 1/(n·m) (exact integers). */
  units: number[];
}

/**
 * The monotone (north-west corner) coupling of n sorted atoms of mass 1/n with m of mass 1/m: the optimal
 * 1-D plan for every cost |x − y|^p with p ≥ 1. At most n + m − 1 pairs; integer arithmetic, so the
 * masses are exact.
 */
function monotoneCoupling(n: number, m: number): Coupling {
  const from: number[] = [];
  const to: number[] = [];
  const units: number[] = [];
  let i = 0;
  let j = 0;
  let left = m; // what x_(i) has still to send, in units of 1/(n·m)
  let room = n; // what y_(j) can still receive
  while (i < n && j < m) {
    const t = Math.min(left, room);
    from.push(i);
    to.push(j);
    units.push(t);
    left -= t;
    room -= t;
    if (left === 0) [i, left] = [i + 1, m];
    if (room === 0) [j, room] = [j + 1, n];
  }
  return { from: Int32Array.from(from), to: Int32Array.from(to), units };
}

function checkDirections(op: string, dirs: Tensor, dim: number, numDirections: number | undefined): Tensor {
  if (dirs.ndim !== 2 || dirs.shape[1] !== dim || dirs.shape[0]! < 1) {
    throw new RangeError(`${op}: directions must be [M, ${dim}] with M ≥ 1 (unit rows), got ${formatShape(dirs.shape)}`);
  }
  if (dirs.dtype !== 'float32' && dirs.dtype !== 'float64') throw new TypeError(`${op}: directions must be float, got ${dirs.dtype}`);
  if (numDirections !== undefined && numDirections !== dirs.shape[0]) {
    throw new RangeError(`${op}: numDirections ${numDirections} disagrees with directions ${formatShape(dirs.shape)}`);
  }
  // Unit norms are checked where the directions can be read without waiting (see hostValues).
  const v = hostValues(dirs);
  for (let r = 0; v !== null && r < dirs.shape[0]!; r++) {
    let sq = 0;
    for (let k = 0; k < dim; k++) sq += v[r * dim + k]! * v[r * dim + k]!;
    // The paper's θ_m are unit vectors; a [d, M] matrix passed by mistake (POT's layout) is caught here.
    if (!(Math.abs(Math.sqrt(sq) - 1) <= 1e-4)) throw new RangeError(`${op}: direction ${r} has norm ${Math.sqrt(sq)}, expected 1`);
  }
  return dirs;
}

/**
 * Per-direction transport costs `[..., M]`: `Σ_pairs weight·|x_(i) − y_(j)|^p` over the monotone coupling
 * of the sorted projections; the weights are the pairs' masses (POT) or Eq. 14's `max(n, m)·mass`.
 */
function projectedCosts(op: string, x: Tensor, y: Tensor, opts: SlicedWassersteinOptions, p: number, paper: boolean): Tensor {
  for (const [name, t] of [['x', x], ['y', y]] as const) {
    if (t.ndim < 2) throw new RangeError(`${op}: ${name} must be [..., samples, dim], got ${formatShape(t.shape)}`);
    if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new TypeError(`${op}: ${name} must be float, got ${t.dtype}`);
  }
  const [n, d] = x.shape.slice(-2) as [number, number];
  const [m, d2] = y.shape.slice(-2) as [number, number];
  if (d !== d2 || d < 1 || n < 1 || m < 1) {
    throw new RangeError(`${op}: need non-empty sets of one dimension, got x ${formatShape(x.shape)} and y ${formatShape(y.shape)}`);
  }
  broadcastShapes(op, x.shape.slice(0, -2), y.shape.slice(0, -2));
  const dtype: DType = x.dtype === 'float64' || y.dtype === 'float64' ? 'float64' : 'float32';
  if (opts.numDirections !== undefined && (!Number.isInteger(opts.numDirections) || opts.numDirections < 1)) {
    throw new RangeError(`${op}: numDirections must be a positive integer, got ${opts.numDirections}`);
  }
  const dirs = (
    opts.directions !== undefined
      ? checkDirections(op, opts.directions, d, opts.numDirections)
      : randomDirections(opts.numDirections ?? DEFAULT_NUM_DIRECTIONS, d, { generator: opts.generator, dtype })
  ).cast(dtype);
  // θ_mᵀX for every m at once, sorted along the samples: [..., n, M] and [..., m, M] (Eq. 14's sort(·)).
  const sx = x.matmul(dirs.transpose()).sort(-2).values;
  const sy = y.matmul(dirs.transpose()).sort(-2).values;
  let diff: Tensor;
  let weights: Tensor | number;
  if (n === m) {
    // Equal counts: the i-th smallest meets the i-th smallest, each pair with mass 1/n.
    diff = sx.sub(sy);
    weights = paper ? 1 : 1 / n;
  } else {
    const { from, to, units } = monotoneCoupling(n, m);
    const k = from.length;
    diff = sx.indexSelect(-2, tensor(from, { shape: [k] })).sub(sy.indexSelect(-2, tensor(to, { shape: [k] })));
    // Mass units/(n·m) for POT; Eq. 14's sum over samples is max(n, m)·W_2², i.e. units/min(n, m).
    const w = units.map((u) => (paper ? u / Math.min(n, m) : u / (n * m)));
    weights = tensor(Float64Array.from(w), { shape: [k, 1], dtype });
  }
  const powered = p === 2 ? diff.mul(diff) : diff.abs().pow(p);
  return (typeof weights === 'number' && weights === 1 ? powered : powered.mul(weights)).sum(-2);
}

/**
 * The paper's sliced Wasserstein discrepancy (Eq. 14):
 * `D(μ_X, μ_Y) ≈ (1/M) Σ_{m=1}^{M} ‖sort(θ_mᵀX) − sort(θ_mᵀY)‖²₂` over M random unit directions θ_m.
 *
 * `x` is `[..., n, d]` and `y` `[..., m, d]` (sets of row vectors; leading axes broadcast and are kept);
 * the result has the broadcast leading shape. With n ≠ m the value is `(1/M) Σ_m max(n, m)·W_2²` of the
 * projected uniform empirical measures (see the module notes), which is Eq. 14 after the paper's
 * broadcast when one count divides the other. Differentiable with respect to `x` and `y`.
 *
 * @example
 * const d = slicedWassersteinDiscrepancy(randn([8, 4]), randn([8, 4]), { generator: new Generator(0) });
 */
export function slicedWassersteinDiscrepancy(x: Tensor, y: Tensor, opts: SlicedWassersteinOptions = {}): Tensor {
  // Eq. 14: the mean over the M directions of the summed squared differences.
  return projectedCosts('slicedWassersteinDiscrepancy', x, y, opts, 2, true).mean(-1);
}

/**
 * The sliced p-Wasserstein distance as POT's `ot.sliced_wasserstein_distance(X, Y, n_projections=M, p)`
 * defines it with uniform weights: `SW_p = ((1/M) Σ_m W_p^p(θ_m#μ_X, θ_m#μ_Y))^(1/p)`, with the exact 1-D
 * W_p^p of the projected empirical measures (any sample counts). Shapes as
 * {@link slicedWassersteinDiscrepancy}. Differentiable; at distance 0 the gradient is taken as 0 (the
 * p-th root is not differentiable there).
 *
 * @example
 * const d = slicedWassersteinDistance(randn([8, 4]), randn([5, 4]), { numDirections: 50, p: 2 });
 */
export function slicedWassersteinDistance(x: Tensor, y: Tensor, opts: SlicedWassersteinDistanceOptions = {}): Tensor {
  const p = opts.p ?? 2;
  if (!(p >= 1) || !Number.isFinite(p)) throw new RangeError(`slicedWassersteinDistance: p must be finite and ≥ 1, got ${p}`);
  const mean = projectedCosts('slicedWassersteinDistance', x, y, opts, p, false).mean(-1);
  // The root is taken away from 0 and 0 put back, so that no infinite derivative turns into a NaN gradient.
  const positive = mean.gt(0);
  return where(positive, where(positive, mean, 1).pow(1 / p), 0);
}
