/**
 * `Linear` and `Embedding`, with PyTorch's parameter layouts (so checkpoints move between the two) and
 * default initialisations.
 * @module
 */
import { empty } from '../tensor-utils.js';
import { Module } from '../module.js';
import { kaimingUniform_, normal_, uniform_, type InitOptions } from '../init.js';
import { formatShape, type DType, type Tensor } from '../../tensor/index.js';

/** Options of {@link Linear}. */
export interface LinearOptions extends InitOptions {
  /** Add a learned bias (default true). */
  bias?: boolean;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/**
 * `y = x·Wᵀ + b` over the last axis, as `torch.nn.Linear`: `weight` is `[out, in]`; initialised like
 * PyTorch (weight Kaiming-uniform with a = √5, i.e. U(±1/√in); bias U(±1/√in)).
 */
export class Linear extends Module {
  /** `[outFeatures, inFeatures]`. */
  readonly weight: Tensor;
  /** `[outFeatures]`, or null without bias. */
  readonly bias: Tensor | null;

  /** A layer mapping `inFeatures` to `outFeatures`. */
  constructor(
    /** Size of each input vector. */
    readonly inFeatures: number,
    /** Size of each output vector. */
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    const dtype = opts.dtype ?? 'float32';
    this.weight = this.param('weight', kaimingUniform_(empty('Linear', [outFeatures, inFeatures], dtype), { ...opts, a: Math.sqrt(5) }));
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    this.bias = opts.bias === false ? null : this.param('bias', uniform_(empty('Linear', [outFeatures], dtype), -bound, bound, opts));
  }

  /** Applies the layer to `x` of shape `[..., inFeatures]`. */
  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new RangeError(`Linear: expected input [..., ${this.inFeatures}], got ${formatShape(x.shape)}`);
    }
    const y = x.matmul(this.weight.transpose());
    return this.bias ? y.add(this.bias) : y;
  }
}

/** Options of {@link Embedding}. */
export interface EmbeddingOptions extends InitOptions {
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** A lookup table `[numEmbeddings, dim]` initialised N(0, 1), as `torch.nn.Embedding`. */
export class Embedding extends Module {
  /** `[numEmbeddings, embeddingDim]`. */
  readonly weight: Tensor;

  /** A table of `numEmbeddings` vectors of size `embeddingDim`. */
  constructor(
    /** Number of rows of the table. */
    readonly numEmbeddings: number,
    /** Size of each vector. */
    readonly embeddingDim: number,
    opts: EmbeddingOptions = {},
  ) {
    super();
    this.weight = this.param('weight', normal_(empty('Embedding', [numEmbeddings, embeddingDim], opts.dtype ?? 'float32'), 0, 1, opts));
  }

  /** Looks up int32 `ids` of any shape; the result is `[...ids.shape, embeddingDim]`. */
  forward(ids: Tensor): Tensor {
    if (ids.dtype !== 'int32') throw new TypeError(`Embedding: ids must be int32, got ${ids.dtype}`);
    const rows = this.weight.indexSelect(0, ids.reshape([-1]));
    return rows.reshape([...ids.shape, this.embeddingDim]);
  }
}
