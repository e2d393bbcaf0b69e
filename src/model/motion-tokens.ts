/**
 * The motion tokenizer of §5.2.3 ("chunk quantization", after Being-H0): an action chunk
 * `A = [a_1, …, a_T] ∈ R^{T×d}` in the unified space becomes `T_z` discrete motion tokens
 * `z ∈ {1, …, |C|}^{T_z}` (0-based ids here), the targets of masked motion-token prediction
 * (Eq. 8: `L_MASK = −Σ_{i ∈ Ω_MASK} log p_θ(z_i | c)`, see `masked-motion`).
 *
 * Encoder: an MLP on the flattened chunk, `T·d → hidden → T_z·D`, read as `T_z` latent vectors of size D
 * (so `T_z` need not divide T). Quantiser: {@link VectorQuantizer} (nearest code, straight-through
 * gradient, codebook + β·commitment loss, EMA codebook, dead-code reset). Decoder: an MLP
 * `T_z·D → hidden → T·d` back to the chunk. Training minimises
 * `‖decode(z_q) − A‖² + ‖sg(z) − q‖² + β·‖z − sg(q)‖²` (means over elements; the middle term only when the
 * codebook learns by gradient).
 * @module
 */
import { MLP, Module } from '../nn/index.js';
import { mseLoss } from '../nn/losses.js';
import { formatShape, noGrad, type Tensor } from '../tensor/index.js';
import { VectorQuantizer, type Quantized, type VectorQuantizerOptions } from './vector-quantizer.js';

/** Options of {@link MotionTokenizer}: the sizes, and the quantiser's options. */
export interface MotionTokenizerOptions extends VectorQuantizerOptions {
  /** T, the steps of a chunk. */
  chunkLength: number;
  /** d, the size of each action vector. */
  actionDim: number;
  /** T_z, the tokens per chunk. */
  numTokens: number;
  /** |C|, the codebook size. */
  numCodes: number;
  /** D, the size of each latent vector and code. */
  codeDim: number;
  /** Hidden width of the encoder and decoder MLPs (default 256). */
  hidden?: number;
}

/** What {@link MotionTokenizer.forward} returns for a batch of chunks. */
export interface MotionTokenizerOutput {
  /** The decoded chunks `[B, T, d]`. */
  reconstruction: Tensor;
  /** The motion tokens, int32 `[B, T_z]`. */
  ids: Tensor;
  /** `reconstructionLoss + quantizer.loss` (scalar): the training objective. */
  loss: Tensor;
  /** `mean ‖decode(z_q) − A‖²` (scalar). */
  reconstructionLoss: Tensor;
  /** The quantiser's output (latents, ids, codebook and commitment losses, perplexity). */
  quantizer: Quantized;
}

/**
 * A chunk tokenizer `R^{T×d} → {0, …, |C| − 1}^{T_z}` with a decoder back to `R^{T×d}` (see the module notes).
 *
 * @example
 * const tok = new MotionTokenizer({ chunkLength: 16, actionDim: 8, numTokens: 4, numCodes: 64, codeDim: 16 });
 * const { loss } = tok.forward(chunks); // chunks: [B, 16, 8]; train with loss.backward() and AdamW
 * const ids = tok.tokenize(chunks);     // int32 [B, 4]: the targets of Eq. 8
 */
export class MotionTokenizer extends Module {
  /** `T·d → hidden → T_z·D`. */
  readonly encoder: MLP;
  /** The codebook. */
  readonly quantizer: VectorQuantizer;
  /** `T_z·D → hidden → T·d`. */
  readonly decoder: MLP;
  /** T. */
  readonly chunkLength: number;
  /** d. */
  readonly actionDim: number;
  /** T_z. */
  readonly numTokens: number;
  /** |C|. */
  readonly numCodes: number;
  /** D. */
  readonly codeDim: number;

  /** A tokenizer of the given sizes. */
  constructor(opts: MotionTokenizerOptions) {
    super();
    const fn = 'MotionTokenizer';
    for (const key of ['chunkLength', 'actionDim', 'numTokens', 'numCodes', 'codeDim'] as const) {
      const v = opts[key];
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${fn}: ${key} must be a positive integer, got ${v}`);
    }
    const hidden = opts.hidden ?? 256;
    if (!Number.isInteger(hidden) || hidden < 1) throw new RangeError(`${fn}: hidden must be a positive integer, got ${hidden}`);
    this.chunkLength = opts.chunkLength;
    this.actionDim = opts.actionDim;
    this.numTokens = opts.numTokens;
    this.numCodes = opts.numCodes;
    this.codeDim = opts.codeDim;
    const layer = { generator: opts.generator, dtype: opts.dtype ?? 'float32' };
    const chunkSize = opts.chunkLength * opts.actionDim;
    const latentSize = opts.numTokens * opts.codeDim;
    this.encoder = this.module('encoder', new MLP(chunkSize, hidden, { ...layer, outDim: latentSize }));
    this.quantizer = this.module('quantizer', new VectorQuantizer(opts.numCodes, opts.codeDim, opts));
    this.decoder = this.module('decoder', new MLP(latentSize, hidden, { ...layer, outDim: chunkSize }));
  }

  #checkChunks(fn: string, actions: Tensor): void {
    const want = [this.chunkLength, this.actionDim];
    if (actions.ndim !== 3 || actions.shape[1] !== want[0] || actions.shape[2] !== want[1]) {
      throw new RangeError(`MotionTokenizer.${fn}: actions must be [B, ${want[0]}, ${want[1]}] (chunks T×d), got ${formatShape(actions.shape)}`);
    }
    if (actions.dtype !== this.quantizer.codebook.dtype) {
      throw new TypeError(`MotionTokenizer.${fn}: actions must be ${this.quantizer.codebook.dtype}, got ${actions.dtype}`);
    }
  }

  /** The continuous latents `z` `[B, T_z, D]` of chunks `[B, T, d]`, before quantisation. */
  encode(actions: Tensor): Tensor {
    this.#checkChunks('encode', actions);
    const b = actions.shape[0]!;
    return this.encoder.forward(actions.reshape([b, -1])).reshape([b, this.numTokens, this.codeDim]);
  }

  /** Chunks `[B, T, d]` decoded from (quantised) latents `[B, T_z, D]`. */
  decode(latents: Tensor): Tensor {
    if (latents.ndim !== 3 || latents.shape[1] !== this.numTokens || latents.shape[2] !== this.codeDim) {
      throw new RangeError(`MotionTokenizer.decode: latents must be [B, ${this.numTokens}, ${this.codeDim}], got ${formatShape(latents.shape)}`);
    }
    const b = latents.shape[0]!;
    return this.decoder.forward(latents.reshape([b, -1])).reshape([b, this.chunkLength, this.actionDim]);
  }

  /**
   * Encodes, quantises and decodes chunks `[B, T, d]`, with the training loss. In training mode the
   * quantiser's statistics (EMA codebook, usage, dead codes) are updated from this batch.
   */
  forward(actions: Tensor): MotionTokenizerOutput {
    const z = this.encode(actions);
    const quantizer = this.quantizer.forward(z);
    const reconstruction = this.decode(quantizer.quantized);
    const reconstructionLoss = mseLoss(reconstruction, actions);
    return { reconstruction, ids: quantizer.ids, loss: reconstructionLoss.add(quantizer.loss), reconstructionLoss, quantizer };
  }

  /** The motion tokens, int32 `[B, T_z]`, of chunks `[B, T, d]` (no gradient, no statistics update). */
  tokenize(actions: Tensor): Tensor {
    return noGrad(() => this.quantizer.nearest(this.encode(actions)));
  }

  /** Chunks `[B, T, d]` decoded from motion tokens, int32 `[B, T_z]` in `[0, |C|)`. */
  detokenize(ids: Tensor): Tensor {
    if (ids.dtype !== 'int32' || ids.ndim !== 2 || ids.shape[1] !== this.numTokens) {
      throw new RangeError(`MotionTokenizer.detokenize: ids must be int32 [B, ${this.numTokens}], got ${ids.dtype} ${formatShape(ids.shape)}`);
    }
    return this.decode(this.quantizer.lookup(ids));
  }
}
