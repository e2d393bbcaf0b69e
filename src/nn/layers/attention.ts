/**
 * Scaled dot-product attention and `MultiHeadAttention`: grouped-query heads, optional q/k RMSNorm
 * (Qwen3), rotary positions given per token, boolean masks and additive biases (the hybrid mask of Eq. 9
 * is one such mask), and a KV cache for decoding and prefix reuse (Eq. 20).
 * @module
 */
import { arange, broadcastShapes, formatShape, noGrad, rand, where, type DType, type Generator, type Tensor } from '../../tensor/index.js';
import type { InitOptions } from '../init.js';
import { Module } from '../module.js';
import type { LayerKVCache } from './kv-cache.js';
import { Linear } from './linear.js';
import { RMSNorm } from './norm.js';
import { RotaryEmbedding, applyRotary, type RotaryOptions } from './rope.js';

/** Which keys each query may attend to. Every tensor must broadcast to the scores `[B, H, Tq, Tk]`. */
export interface AttentionMaskOptions {
  /** Bool; true where the query may attend to the key. */
  mask?: Tensor;
  /** Added to the scaled scores before the softmax (−Infinity also masks). */
  bias?: Tensor;
  /**
   * Query i may attend to keys j ≤ i + (Tk − Tq) (bottom-right aligned, so with P cached keys the new
   * query i sees the cache and new keys up to itself). Combined with `mask` by logical and.
   */
  causal?: boolean;
}

/** Options of {@link scaledDotProductAttention}. */
export interface ScaledDotProductOptions extends AttentionMaskOptions {
  /** Multiplies `q·k` (default 1/√headDim). */
  scale?: number;
  /** Probability of dropping each attention weight (default 0; survivors are scaled by 1/(1−p)). */
  dropout?: number;
  /** Source of the dropout mask (the global generator when omitted). */
  generator?: Generator;
}

/** Output of attention, with the weights for inspection. */
export interface AttentionResult {
  /** The attended values (`[B, H, Tq, Dv]` from the function, `[B, T, dim]` from the module). */
  output: Tensor;
  /** The softmax weights `[B, H, Tq, Tk]`, before dropout; each row sums to 1, or is all 0 when fully masked. */
  weights: Tensor;
}

/** Bool `[Tq, Tk]`, true where key j ≤ query i + (Tk − Tq): the causal mask aligned to the last key. */
export function causalMask(tq: number, tk: number): Tensor {
  return noGrad(() => arange(tk).unsqueeze(0).le(arange(tq).unsqueeze(1).add(tk - tq)));
}

function checkBroadcasts(what: string, t: Tensor, target: readonly number[]): void {
  let ok = t.ndim <= target.length;
  if (ok) {
    try {
      ok = broadcastShapes('attention', t.shape, target).every((d, i) => d === target[i]);
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    throw new RangeError(`attention: ${what} ${formatShape(t.shape)} does not broadcast to the scores [B, H, Tq, Tk] = ${formatShape(target)}`);
  }
}

/**
 * `softmax(q·kᵀ·scale + bias, masked) · v` for query heads `q` `[B, H, Tq, D]` and key/value heads `k`
 * `[B, Hkv, Tk, D]`, `v` `[B, Hkv, Tk, Dv]`. With Hkv < H each key/value head serves H/Hkv consecutive
 * query heads (grouped-query attention; head h reads kv head ⌊h·Hkv/H⌋, as HF's `repeat_kv`). A batch of
 * 1 on either side broadcasts.
 *
 * Masked keys get exactly zero weight (their scores become −∞). A query whose keys are all masked gets
 * all-zero weights and a zero output, not the NaN of a softmax over −∞ — and zero gradient.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: ScaledDotProductOptions = {}): AttentionResult {
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) {
    const got = [q, k, v].map((t) => formatShape(t.shape)).join(', ');
    throw new RangeError(`attention: expected q [B, H, Tq, D], k [B, Hkv, Tk, D], v [B, Hkv, Tk, Dv], got ${got}`);
  }
  const [, H, Tq, D] = q.shape as [number, number, number, number];
  const [, Hkv, Tk, Dk] = k.shape as [number, number, number, number];
  const Dv = v.shape[3]!;
  if (Dk !== D || v.shape[0] !== k.shape[0] || v.shape[1] !== Hkv || v.shape[2] !== Tk) {
    throw new RangeError(`attention: q ${formatShape(q.shape)}, k ${formatShape(k.shape)} and v ${formatShape(v.shape)} do not fit together`);
  }
  if (H % Hkv !== 0) throw new RangeError(`attention: ${H} query heads cannot be grouped over ${Hkv} key/value heads`);
  if (Tk === 0) throw new RangeError('attention: there are no keys to attend to');
  const B = broadcastShapes('attention', [q.shape[0]!], [k.shape[0]!])[0]!;
  const G = H / Hkv;
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const shape = [B, H, Tq, Tk];

  let scores = q
    .reshape([q.shape[0]!, Hkv, G, Tq, D])
    .matmul(k.unsqueeze(2).transpose(-2, -1))
    .mul(scale)
    .reshape(shape);
  if (opts.bias) {
    checkBroadcasts('bias', opts.bias, shape);
    scores = scores.add(opts.bias.cast(scores.dtype));
  }
  let mask = opts.mask ?? null;
  if (mask) {
    if (mask.dtype !== 'bool') throw new TypeError(`attention: mask must be bool (true = may attend), got ${mask.dtype}`);
    checkBroadcasts('mask', mask, shape);
  }
  if (opts.causal) mask = mask ? mask.logicalAnd(causalMask(Tq, Tk)) : causalMask(Tq, Tk);
  if (mask) scores = where(mask, scores, -Infinity);

  // Rows with no key left would give softmax(−∞…) = NaN; they get zeros instead.
  const alive = noGrad(() => scores.max(-1, true).gt(-Infinity));
  const weights = where(alive, where(alive, scores, 0).softmax(-1), 0);

  let attn = weights;
  const p = opts.dropout ?? 0;
  if (!(p >= 0 && p < 1)) throw new RangeError(`attention: dropout must be in [0, 1), got ${p}`);
  if (p > 0) {
    const keep = rand(weights.shape, { generator: opts.generator, dtype: weights.dtype }).ge(p);
    attn = weights.mul(keep.cast(weights.dtype)).mul(1 / (1 - p));
  }
  const output = attn
    .reshape([B, Hkv, G, Tq, Tk])
    .matmul(v.unsqueeze(2))
    .reshape([B, H, Tq, Dv]);
  return { output, weights };
}

/** Options of {@link MultiHeadAttention}. */
export interface MultiHeadAttentionOptions extends InitOptions {
  /** Number of query heads. */
  numHeads: number;
  /** Number of key/value heads (default `numHeads`); must divide `numHeads` (grouped-query attention). */
  numKvHeads?: number;
  /** Size of each head (default `dim / numHeads`). */
  headDim?: number;
  /** Biases on the q/k/v projections (default true). */
  bias?: boolean;
  /** Bias on the output projection (default: `bias`). */
  outBias?: boolean;
  /** RMSNorm over each query and key head before RoPE, as Qwen3 (default false). */
  qkNorm?: boolean;
  /** Epsilon of the q/k norms (default 1e-6). */
  normEps?: number;
  /** Rotary position embeddings: true, or their options (default false: no positions). */
  rope?: boolean | RotaryOptions;
  /** Dropout on the attention weights in training mode (default 0). */
  attentionDropout?: number;
  /** Score scale (default 1/√headDim). */
  scale?: number;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** Per-call options of {@link MultiHeadAttention}. */
export interface AttentionCallOptions extends AttentionMaskOptions {
  /**
   * Int32 positions of the tokens, `[T]` or `[B, T]`, for RoPE (default: `0..T−1`, or continuing the
   * cache). Tokens may share positions, as the two target segments of Eq. 10 do.
   */
  positionIds?: Tensor;
  /**
   * This layer's cache: the keys and values of earlier tokens are attended to first (masks then cover
   * `Tk = cached + T` keys), and this call's are appended unless the cache is frozen.
   */
  cache?: LayerKVCache;
}

/**
 * Multi-head self-attention over `[B, T, dim]`, with the layouts of HF LLaMA/Qwen (`qProj`, `kProj`,
 * `vProj`, `oProj`, optional `qNorm`/`kNorm`), so checkpoints map one to one.
 *
 * @example
 * const attn = new MultiHeadAttention(64, { numHeads: 8, numKvHeads: 2, rope: true, bias: false });
 * const y = attn.forward(x, { causal: true });   // x: [B, T, 64] → y: [B, T, 64]
 */
export class MultiHeadAttention extends Module {
  /** Model width. */
  readonly dim: number;
  /** Number of query heads. */
  readonly numHeads: number;
  /** Number of key/value heads. */
  readonly numKvHeads: number;
  /** Size of each head. */
  readonly headDim: number;
  /** Score scale. */
  readonly scale: number;
  /** Dropout probability on the attention weights (training mode only). */
  readonly attentionDropout: number;
  /** `dim → numHeads·headDim`. */
  readonly qProj: Linear;
  /** `dim → numKvHeads·headDim`. */
  readonly kProj: Linear;
  /** `dim → numKvHeads·headDim`. */
  readonly vProj: Linear;
  /** `numHeads·headDim → dim`. */
  readonly oProj: Linear;
  /** RMSNorm over query heads, or null. */
  readonly qNorm: RMSNorm | null;
  /** RMSNorm over key heads, or null. */
  readonly kNorm: RMSNorm | null;
  /** The rotary embedding, or null without positions. */
  readonly rotary: RotaryEmbedding | null;
  readonly #generator: Generator | undefined;

  /** Attention over tokens of width `dim`. */
  constructor(dim: number, opts: MultiHeadAttentionOptions) {
    super();
    const H = opts.numHeads;
    const Hkv = opts.numKvHeads ?? H;
    if (!Number.isInteger(H) || H <= 0) throw new RangeError(`MultiHeadAttention: numHeads must be a positive integer, got ${H}`);
    if (!Number.isInteger(Hkv) || Hkv <= 0 || H % Hkv !== 0) {
      throw new RangeError(`MultiHeadAttention: numKvHeads must be a positive divisor of numHeads = ${H}, got ${Hkv}`);
    }
    if (opts.headDim === undefined && dim % H !== 0) {
      throw new RangeError(`MultiHeadAttention: dim ${dim} is not divisible by numHeads ${H}; give headDim`);
    }
    const hd = opts.headDim ?? dim / H;
    if (!Number.isInteger(hd) || hd <= 0) throw new RangeError(`MultiHeadAttention: headDim must be a positive integer, got ${hd}`);
    this.dim = dim;
    this.numHeads = H;
    this.numKvHeads = Hkv;
    this.headDim = hd;
    this.scale = opts.scale ?? 1 / Math.sqrt(hd);
    this.attentionDropout = opts.attentionDropout ?? 0;
    if (!(this.attentionDropout >= 0 && this.attentionDropout < 1)) {
      throw new RangeError(`MultiHeadAttention: attentionDropout must be in [0, 1), got ${this.attentionDropout}`);
    }
    this.#generator = opts.generator;
    const lin = { bias: opts.bias ?? true, dtype: opts.dtype, generator: opts.generator };
    this.qProj = this.module('qProj', new Linear(dim, H * hd, lin));
    this.kProj = this.module('kProj', new Linear(dim, Hkv * hd, lin));
    this.vProj = this.module('vProj', new Linear(dim, Hkv * hd, lin));
    this.oProj = this.module('oProj', new Linear(H * hd, dim, { ...lin, bias: opts.outBias ?? lin.bias }));
    const norm = { eps: opts.normEps ?? 1e-6, dtype: opts.dtype };
    this.qNorm = opts.qkNorm ? this.module('qNorm', new RMSNorm(hd, norm)) : null;
    this.kNorm = opts.qkNorm ? this.module('kNorm', new RMSNorm(hd, norm)) : null;
    const rope = opts.rope ?? false;
    this.rotary = rope === false ? null : this.module('rotary', new RotaryEmbedding(hd, rope === true ? {} : rope));
  }

  /** Attends `x` (`[B, T, dim]`) to itself (and to the cache); returns `[B, T, dim]`. */
  forward(x: Tensor, opts: AttentionCallOptions = {}): Tensor {
    return this.forwardWithWeights(x, opts).output;
  }

  /** As {@link forward}, also returning the attention weights `[B, H, T, Tk]`. */
  forwardWithWeights(x: Tensor, opts: AttentionCallOptions = {}): AttentionResult {
    if (x.ndim !== 3 || x.shape[2] !== this.dim) {
      throw new RangeError(`MultiHeadAttention: expected input [B, T, ${this.dim}], got ${formatShape(x.shape)}`);
    }
    const [B, T] = x.shape as [number, number, number];
    const hd = this.headDim;
    // [B, T, n·hd] → [B, T, n, hd] (normed per head) → [B, n, T, hd]
    const heads = (t: Tensor, n: number, norm: RMSNorm | null): Tensor => {
      const h = t.reshape([B, T, n, hd]);
      return (norm ? norm.forward(h) : h).permute([0, 2, 1, 3]);
    };
    let q = heads(this.qProj.forward(x), this.numHeads, this.qNorm);
    let k = heads(this.kProj.forward(x), this.numKvHeads, this.kNorm);
    const v = heads(this.vProj.forward(x), this.numKvHeads, null);

    let positions = opts.positionIds;
    if (positions !== undefined) {
      const rows = positions.ndim === 1 ? 1 : positions.shape[0];
      const ok = positions.dtype === 'int32' && positions.ndim <= 2 && (rows === 1 || rows === B);
      if (!ok || positions.shape[positions.ndim - 1] !== T) {
        const got = `${positions.dtype} ${formatShape(positions.shape)}`;
        throw new RangeError(`MultiHeadAttention: positionIds must be int32 [${T}] or [${B}, ${T}], got ${got}`);
      }
      if (!this.rotary) throw new Error('MultiHeadAttention: positionIds were given but the layer has no rotary embedding (rope: false)');
    }
    positions ??= opts.cache ? opts.cache.nextPositions(T) : noGrad(() => arange(T));
    if (this.rotary) {
      const tables = this.rotary.tables(positions, q.dtype);
      q = applyRotary(q, tables);
      k = applyRotary(k, tables);
    }
    const kv = opts.cache ? opts.cache.update(k, v, positions) : { keys: k, values: v };
    const { output, weights } = scaledDotProductAttention(q, kv.keys, kv.values, {
      mask: opts.mask,
      bias: opts.bias,
      causal: opts.causal,
      scale: this.scale,
      dropout: this.training ? this.attentionDropout : 0,
      generator: this.#generator,
    });
    const merged = output.permute([0, 2, 1, 3]).reshape([output.shape[0]!, T, this.numHeads * hd]);
    return { output: this.oProj.forward(merged), weights };
  }
}
