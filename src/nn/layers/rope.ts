/**
 * Rotary position embeddings (RoPE, Su et al. 2021) in the rotate-half convention of HF LLaMA / Qwen:
 * `x·cos + rotate_half(x)·sin`, with frequencies `θ^(−2i/d)`. Positions are explicit integers per token,
 * so two segments may share positions (the aligned position ids of Eq. 10).
 * @module
 */
import { concat, formatShape, noGrad, tensor, type DType, type Tensor } from '../../tensor/index.js';
import { Module } from '../module.js';

/** Options of {@link RotaryEmbedding}. */
export interface RotaryOptions {
  /** The base θ of the frequencies `θ^(−2i/rotaryDim)` (default 10000). */
  base?: number;
  /**
   * How many leading features of each head are rotated (default: all of them). The rest pass through
   * unchanged (partial rotary, as in GPT-NeoX and Phi). Must be even.
   */
  rotaryDim?: number;
}

/** The cosine and sine tables for some positions, each `[B or 1, 1, T, rotaryDim]`, to rotate heads with. */
export interface RotaryTables {
  /** `cos(p·f)` with the frequencies repeated twice along the last axis. */
  cos: Tensor;
  /** `sin(p·f)`, laid out like `cos`. */
  sin: Tensor;
}

/** `[x₁, x₂] → [−x₂, x₁]` over the two halves of the last axis. */
export function rotateHalf(x: Tensor): Tensor {
  const d = x.shape[x.ndim - 1]!;
  if (d % 2 !== 0) throw new RangeError(`rotateHalf: the last axis must have even size, got ${formatShape(x.shape)}`);
  const h = d / 2;
  return concat([x.narrow(-1, h, h).neg(), x.narrow(-1, 0, h)], -1);
}

/**
 * Rotates the first `tables.cos.shape[-1]` features of `x` (`[B, H, T, headDim]`) by the angles of
 * `tables`; the remaining features pass through.
 */
export function applyRotary(x: Tensor, tables: RotaryTables): Tensor {
  const hd = x.shape[x.ndim - 1]!;
  const rd = tables.cos.shape[tables.cos.ndim - 1]!;
  if (rd > hd) throw new RangeError(`applyRotary: tables of width ${rd} do not fit heads ${formatShape(x.shape)}`);
  const cos = tables.cos.cast(x.dtype);
  const sin = tables.sin.cast(x.dtype);
  if (rd === hd) return x.mul(cos).add(rotateHalf(x).mul(sin));
  const rot = x.narrow(-1, 0, rd);
  return concat([rot.mul(cos).add(rotateHalf(rot).mul(sin)), x.narrow(-1, rd, hd - rd)], -1);
}

/**
 * The rotary embedding of one attention layer: holds the inverse frequencies and rotates query and key
 * heads by their token positions. Rotating q at position m and k at position n makes `q·k` depend on
 * `n − m` only.
 *
 * @example
 * const rope = new RotaryEmbedding(64);
 * const t = rope.tables(arange(10)); // positions 0..9
 * const qRot = applyRotary(q, t);    // q: [B, H, 10, 64]
 */
export class RotaryEmbedding extends Module {
  /** Size of each head. */
  readonly headDim: number;
  /** Number of rotated features per head (even, ≤ headDim). */
  readonly rotaryDim: number;
  /** The frequency base θ. */
  readonly base: number;
  /** `θ^(−2i/rotaryDim)` for i < rotaryDim/2, float32 (a non-persistent buffer, as in HF). */
  readonly invFreq: Tensor;
  /** The same frequencies in float64 on the host, rounded to each table's dtype when it is built. */
  readonly #inv: Float64Array;

  /** A rotary embedding for heads of size `headDim`. */
  constructor(headDim: number, opts: RotaryOptions = {}) {
    super();
    this.headDim = headDim;
    this.rotaryDim = opts.rotaryDim ?? headDim;
    this.base = opts.base ?? 10000;
    const rd = this.rotaryDim;
    if (!Number.isInteger(rd) || rd <= 0 || rd % 2 !== 0 || rd > headDim) {
      throw new RangeError(`RotaryEmbedding: rotaryDim must be an even integer in (0, headDim=${headDim}], got ${rd}`);
    }
    if (!(this.base > 1)) throw new RangeError(`RotaryEmbedding: base must be > 1, got ${this.base}`);
    this.#inv = new Float64Array(rd / 2);
    for (let i = 0; i < this.#inv.length; i++) this.#inv[i] = 1 / Math.pow(this.base, (2 * i) / rd);
    this.invFreq = this.buffer('invFreq', tensor(this.#inv, { dtype: 'float32' }), false);
  }

  /**
   * The cos/sin tables for integer `positions`, `[T]` or `[B, T]`; the tables are `[1 or B, 1, T,
   * rotaryDim]` in `dtype`, float32 or float64, and the angles are computed in that dtype on the device
   * (as HF computes them in float32): the frequencies are uploaded, nothing is read back, and float32
   * tables need no float64 arithmetic (which WebGPU lacks).
   */
  tables(positions: Tensor, dtype: DType = 'float32'): RotaryTables {
    if (positions.ndim !== 1 && positions.ndim !== 2) {
      throw new RangeError(`RotaryEmbedding: positions must be [T] or [B, T], got ${formatShape(positions.shape)}`);
    }
    if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`RotaryEmbedding: tables must be float32 or float64, got ${dtype}`);
    return noGrad(() => {
      const p = (positions.ndim === 1 ? positions.unsqueeze(0) : positions).cast(dtype);
      const freqs = p.unsqueeze(-1).mul(tensor(this.#inv, { dtype })); // [B, T, rd/2]
      const angles = concat([freqs, freqs], -1).unsqueeze(1); // [B, 1, T, rd]
      return { cos: angles.cos(), sin: angles.sin() };
    });
  }

  /** Rotates `x` (`[B, H, T, headDim]`) by `positions` (`[T]` or `[B, T]`). */
  forward(x: Tensor, positions: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[3] !== this.headDim) {
      throw new RangeError(`RotaryEmbedding: expected heads [B, H, T, ${this.headDim}], got ${formatShape(x.shape)}`);
    }
    return applyRotary(x, this.tables(positions, x.dtype));
  }
}

