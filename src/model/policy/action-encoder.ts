/**
 * The action expert's input and output for action tokens: the flow time t enters through a sinusoidal
 * embedding, mixed with the noisy action x_t (Eq. 7: x_t = (1 − t)·x0 + t·a) by a small MLP, as in π0's
 * action expert (Black et al. 2024; openpi `action_in_proj`, `action_time_mlp_in`, `action_time_mlp_out`):
 *
 *   e_i = W3 · swish(W2 · [W1·x_i ; φ(t_i)]),   φ(t) = [sin(2π·t/P_j)]_j ++ [cos(2π·t/P_j)]_j,
 *
 * with periods P_j spaced geometrically from `minPeriod` to `maxPeriod` (openpi: 4e-3 and 4, so times in
 * [0, 1] are resolved finely). The time is per token (`t` `[B, T]`): UAC (Eq. 18) gives the committed
 * prefix t_i = 1 and the rest t_base, and the encoder embeds each token at its own time. The decoder maps
 * the action expert's output back to the unified space (Eq. 1), where it is the velocity v_θ of Eq. 7.
 * @module
 */
import { concat, formatShape, tensor, type DType, type Tensor } from '../../tensor/index.js';
import { Linear, Module, type init } from '../../nn/index.js';

/** Options of {@link sinusoidalTimeEmbedding}. */
export interface TimeEmbeddingOptions {
  /** Shortest period (default 4e-3). */
  minPeriod?: number;
  /** Longest period (default 4). */
  maxPeriod?: number;
  /** Output dtype (default: t's dtype when float, else float32). */
  dtype?: DType;
}

/**
 * φ(t): for times `t` of any shape, `[...t.shape, dim]` holding `sin(2π·t/P_j)` for j < dim/2 and then
 * `cos(2π·t/P_j)`, with `P_j = minPeriod·(maxPeriod/minPeriod)^(j/(dim/2 − 1))` (the first period is
 * `minPeriod`, the last `maxPeriod`; one frequency of period `minPeriod` when dim = 2). `dim` must be even.
 *
 * @example
 * sinusoidalTimeEmbedding(tensor([0, 0.5]), 8); // [2, 8]; row 0 is [0, 0, 0, 0, 1, 1, 1, 1]
 */
export function sinusoidalTimeEmbedding(t: Tensor | number, dim: number, opts: TimeEmbeddingOptions = {}): Tensor {
  const fn = 'sinusoidalTimeEmbedding';
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0) throw new RangeError(`${fn}: dim must be an even integer ≥ 2, got ${dim}`);
  const minPeriod = opts.minPeriod ?? 4e-3;
  const maxPeriod = opts.maxPeriod ?? 4;
  if (!(minPeriod > 0 && maxPeriod > minPeriod && Number.isFinite(maxPeriod))) {
    throw new RangeError(`${fn}: need 0 < minPeriod < maxPeriod < ∞, got minPeriod ${minPeriod}, maxPeriod ${maxPeriod}`);
  }
  const time = typeof t === 'number' ? tensor(t, { dtype: opts.dtype ?? 'float32' }) : t;
  if (time.dtype === 'bool' || time.dtype === 'int32') {
    if (opts.dtype === undefined) throw new TypeError(`${fn}: t must be a float tensor (or give dtype), got ${time.dtype}`);
  }
  const dtype = opts.dtype ?? time.dtype;
  const half = dim / 2;
  // Angular frequencies 2π/P_j, computed in float64 on the host and rounded to dtype on upload.
  const host = new Float64Array(half);
  for (let j = 0; j < half; j++) host[j] = (2 * Math.PI) / (minPeriod * (maxPeriod / minPeriod) ** (half === 1 ? 0 : j / (half - 1)));
  const freqs = tensor(host, { dtype });
  const angles = time.cast(dtype).unsqueeze(-1).mul(freqs);
  return concat([angles.sin(), angles.cos()], -1);
}

/** Options of {@link ActionEncoder}. */
export interface ActionEncoderOptions extends init.InitOptions {
  /** Shortest period of the time embedding (default 4e-3). */
  minPeriod?: number;
  /** Longest period of the time embedding (default 4). */
  maxPeriod?: number;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/**
 * Action-token encoder: `e_i = W3·swish(W2·[W1·x_i ; φ(t_i)])` (see the module notes), from the unified
 * space (width `actionDim`, 200 for `UNIFIED_LAYOUT`) to the action expert's width `hidden` (even; φ has
 * width `hidden`).
 *
 * @example
 * const enc = new ActionEncoder(200, 64);
 * const e = enc.forward(xt, t); // xt [B, 16, 200], t [B] or [B, 16] → [B, 16, 64]
 */
export class ActionEncoder extends Module {
  /** W1: `actionDim → hidden`. */
  readonly inProj: Linear;
  /** W2: `2·hidden → hidden`, over `[W1·x ; φ(t)]`. */
  readonly mlpIn: Linear;
  /** W3: `hidden → hidden`, after the swish. */
  readonly mlpOut: Linear;
  /** Shortest period of φ. */
  readonly minPeriod: number;
  /** Longest period of φ. */
  readonly maxPeriod: number;

  /** An encoder from `actionDim`-wide actions to `hidden`-wide tokens. */
  constructor(
    /** Width of the unified action vectors. */
    readonly actionDim: number,
    /** Width of the action expert (even). */
    readonly hidden: number,
    opts: ActionEncoderOptions = {},
  ) {
    super();
    if (!Number.isInteger(actionDim) || actionDim < 1) throw new RangeError(`ActionEncoder: actionDim must be a positive integer, got ${actionDim}`);
    if (!Number.isInteger(hidden) || hidden < 2 || hidden % 2 !== 0) throw new RangeError(`ActionEncoder: hidden must be an even integer ≥ 2, got ${hidden}`);
    this.minPeriod = opts.minPeriod ?? 4e-3;
    this.maxPeriod = opts.maxPeriod ?? 4;
    if (!(this.minPeriod > 0 && this.maxPeriod > this.minPeriod && Number.isFinite(this.maxPeriod))) {
      throw new RangeError(`ActionEncoder: need 0 < minPeriod < maxPeriod < ∞, got ${this.minPeriod}, ${this.maxPeriod}`);
    }
    const lin = { dtype: opts.dtype, generator: opts.generator };
    this.inProj = this.module('inProj', new Linear(actionDim, hidden, lin));
    this.mlpIn = this.module('mlpIn', new Linear(2 * hidden, hidden, lin));
    this.mlpOut = this.module('mlpOut', new Linear(hidden, hidden, lin));
  }

  /**
   * Encodes noisy actions `x` `[B, T, actionDim]` at times `t`: a number, `[]`, `[B]` (one time per
   * sample) or `[B, T]` (one per token, as UAC needs). Returns `[B, T, hidden]`.
   */
  forward(x: Tensor, t: Tensor | number): Tensor {
    if (x.ndim !== 3 || x.shape[2] !== this.actionDim) {
      throw new RangeError(`ActionEncoder: expected actions [B, T, ${this.actionDim}], got ${formatShape(x.shape)}`);
    }
    return this.embedProjected(this.inProj.forward(x), t);
  }

  /**
   * The encoder after W1: `W3·swish(W2·[p ; φ(t)])` for already projected actions `p` `[B, T, hidden]`.
   * For callers that replace or extend W1 (for instance with ESA's slot-wise adapters, Eq. 12).
   */
  embedProjected(p: Tensor, t: Tensor | number): Tensor {
    if (p.ndim !== 3 || p.shape[2] !== this.hidden) {
      throw new RangeError(`ActionEncoder.embedProjected: expected [B, T, ${this.hidden}], got ${formatShape(p.shape)}`);
    }
    const [B, T] = p.shape as [number, number, number];
    const times = this.#times(t, B, T, p.dtype);
    const phi = sinusoidalTimeEmbedding(times, this.hidden, { minPeriod: this.minPeriod, maxPeriod: this.maxPeriod, dtype: p.dtype });
    return this.mlpOut.forward(this.mlpIn.forward(concat([p, phi], -1)).silu());
  }

  /** `t` as `[B, T]` in `dtype`, or a clear error. */
  #times(t: Tensor | number, B: number, T: number, dtype: DType): Tensor {
    if (typeof t === 'number') return tensor(t, { dtype }).expand([B, T]);
    if (t.dtype === 'bool' || t.dtype === 'int32') throw new TypeError(`ActionEncoder: t must be a float tensor, got ${t.dtype}`);
    const c = t.cast(dtype);
    if (t.ndim === 0) return c.expand([B, T]);
    if (t.ndim === 1 && (t.shape[0] === B || t.shape[0] === 1)) return c.unsqueeze(1).expand([B, T]);
    if (t.ndim === 2 && (t.shape[0] === B || t.shape[0] === 1) && (t.shape[1] === T || t.shape[1] === 1)) return c.expand([B, T]);
    throw new RangeError(`ActionEncoder: t must be a number, [], [${B}] or [${B}, ${T}] for actions [${B}, ${T}, ·], got ${formatShape(t.shape)}`);
  }
}

/** Options of {@link ActionDecoder}. */
export interface ActionDecoderOptions extends init.InitOptions {
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/**
 * The action decoder: a linear map from the action expert's output `[..., hidden]` back to the unified
 * space `[..., actionDim]`, read as the velocity v_θ of Eq. 7 (trained towards a − x0).
 */
export class ActionDecoder extends Module {
  /** `hidden → actionDim`. */
  readonly outProj: Linear;

  /** A decoder from `hidden`-wide tokens to `actionDim`-wide velocities. */
  constructor(
    /** Width of the action expert. */
    readonly hidden: number,
    /** Width of the unified action vectors. */
    readonly actionDim: number,
    opts: ActionDecoderOptions = {},
  ) {
    super();
    if (!Number.isInteger(hidden) || hidden < 1) throw new RangeError(`ActionDecoder: hidden must be a positive integer, got ${hidden}`);
    if (!Number.isInteger(actionDim) || actionDim < 1) throw new RangeError(`ActionDecoder: actionDim must be a positive integer, got ${actionDim}`);
    this.outProj = this.module('outProj', new Linear(hidden, actionDim, { dtype: opts.dtype, generator: opts.generator }));
  }

  /** `[..., hidden]` → `[..., actionDim]`. */
  forward(h: Tensor): Tensor {
    if (h.ndim < 1 || h.shape[h.ndim - 1] !== this.hidden) {
      throw new RangeError(`ActionDecoder: expected [..., ${this.hidden}], got ${formatShape(h.shape)}`);
    }
    return this.outProj.forward(h);
  }
}
