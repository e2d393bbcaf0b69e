/**
 * The pre-norm transformer block: `x + attn(norm1(x))`, then `x + mlp(norm2(x))`.
 * @module
 */
import { formatShape, type Tensor } from '../../tensor/index.js';
import { Module } from '../module.js';
import { MultiHeadAttention, type AttentionCallOptions, type AttentionResult, type MultiHeadAttentionOptions } from './attention.js';
import { Dropout } from './dropout.js';
import { MLP, SwiGLU } from './mlp.js';
import { LayerNorm, RMSNorm } from './norm.js';

/** Options of {@link TransformerBlock}: those of the attention, plus the norms and the feed-forward block. */
export interface TransformerBlockOptions extends MultiHeadAttentionOptions {
  /** `'layer'` (LayerNorm, default) or `'rms'` (RMSNorm). */
  norm?: 'layer' | 'rms';
  /** Epsilon of the two block norms (default: the norm's own, 1e-5 for LayerNorm and 1e-6 for RMSNorm). */
  blockNormEps?: number;
  /** `'gelu'` (MLP, default) or `'swiglu'` (SwiGLU). */
  mlp?: 'gelu' | 'swiglu';
  /** Hidden width of the feed-forward block (default 4·dim). */
  mlpHidden?: number;
  /** GELU form of the `'gelu'` MLP (exact by default). */
  approximate?: 'none' | 'tanh';
  /** Dropout on each branch before it is added back, in training mode (default 0). */
  residualDropout?: number;
}

/**
 * A pre-norm transformer block. The defaults give a GPT-2/ViT-style block (LayerNorm, GELU MLP, biases,
 * no positions); `{ norm: 'rms', mlp: 'swiglu', bias: false, rope: true, qkNorm: true }` gives a
 * Qwen3-style one. `bias` applies to the attention projections and, when given, to the feed-forward
 * block too (MLP defaults to biases, SwiGLU to none).
 *
 * @example
 * const block = new TransformerBlock(64, { numHeads: 4, norm: 'rms', mlp: 'swiglu', rope: true });
 * const y = block.forward(x, { causal: true });   // [B, T, 64] → [B, T, 64]
 */
export class TransformerBlock extends Module {
  /** Model width. */
  readonly dim: number;
  /** Norm before the attention. */
  readonly norm1: LayerNorm | RMSNorm;
  /** The self-attention. */
  readonly attn: MultiHeadAttention;
  /** Norm before the feed-forward block. */
  readonly norm2: LayerNorm | RMSNorm;
  /** The feed-forward block. */
  readonly mlp: MLP | SwiGLU;
  /** Dropout on the branches. */
  readonly dropout: Dropout;

  /** A block over tokens of width `dim`. */
  constructor(dim: number, opts: TransformerBlockOptions) {
    super();
    this.dim = dim;
    const makeNorm = (): LayerNorm | RMSNorm => {
      const o = { dtype: opts.dtype, ...(opts.blockNormEps !== undefined ? { eps: opts.blockNormEps } : {}) };
      return (opts.norm ?? 'layer') === 'rms' ? new RMSNorm(dim, o) : new LayerNorm(dim, o);
    };
    this.norm1 = this.module('norm1', makeNorm());
    this.attn = this.module('attn', new MultiHeadAttention(dim, opts));
    this.norm2 = this.module('norm2', makeNorm());
    const hidden = opts.mlpHidden ?? 4 * dim;
    const ff = { dtype: opts.dtype, generator: opts.generator, ...(opts.bias !== undefined ? { bias: opts.bias } : {}) };
    const mlp = (opts.mlp ?? 'gelu') === 'swiglu' ? new SwiGLU(dim, hidden, ff) : new MLP(dim, hidden, { ...ff, approximate: opts.approximate });
    this.mlp = this.module('mlp', mlp);
    this.dropout = this.module('dropout', new Dropout(opts.residualDropout ?? 0, opts.generator));
  }

  /** Applies the block to `x` (`[B, T, dim]`); masks, biases, positions and the cache go to the attention. */
  forward(x: Tensor, opts: AttentionCallOptions = {}): Tensor {
    return this.forwardWithWeights(x, opts).output;
  }

  /** As {@link forward}, also returning the attention weights `[B, H, T, Tk]`. */
  forwardWithWeights(x: Tensor, opts: AttentionCallOptions = {}): AttentionResult {
    if (x.ndim !== 3 || x.shape[2] !== this.dim) {
      throw new RangeError(`TransformerBlock: expected input [B, T, ${this.dim}], got ${formatShape(x.shape)}`);
    }
    const a = this.attn.forwardWithWeights(this.norm1.forward(x), opts);
    const h = x.add(this.dropout.forward(a.output));
    return { output: h.add(this.dropout.forward(this.mlp.forward(this.norm2.forward(h)))), weights: a.weights };
  }
}
