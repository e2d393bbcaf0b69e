/**
 * Vector quantisation with a learned codebook: the discrete bottleneck of the motion tokenizer that
 * turns an action chunk into the motion tokens `z ∈ {1, …, |C|}^{T_z}` of §5.2.3 (Eq. 8 predicts them).
 * Ids here are 0-based: `0 … |C| − 1`.
 *
 * For each latent vector `z` (VQ-VAE, van den Oord et al. 2017):
 * - nearest code: `k* = argmin_k ‖z − e_k‖²`, `q = e_{k*}`;
 * - straight-through estimator: `z_q = z + sg(q − z)`, so `z_q = q` forward and `∂z_q/∂z = I` backward;
 * - loss: `‖sg(z) − q‖² + β·‖z − sg(q)‖²` (codebook + commitment, β = 0.25 by default), each the mean over
 *   elements; with EMA updates the codebook term is dropped, as the codebook then learns without gradients;
 * - EMA codebook (VQ-VAE appendix; Razavi et al. 2019): with `n_k` latents assigned to code k in the batch
 *   and `s_k` their sum, `N_k ← γ·N_k + (1 − γ)·n_k`, `m_k ← γ·m_k + (1 − γ)·s_k`, Laplace-smoothed
 *   `Ñ_k = (N_k + ε) / (Σ_j N_j + |C|·ε) · Σ_j N_j`, and `e_k = m_k / Ñ_k`;
 * - dead-code reset: a code whose running usage `N_k` falls below a threshold is moved onto a latent of
 *   the batch drawn from the quantizer's seeded `Generator` (its usage restarts at the threshold).
 * @module
 */
import { Module } from '../nn/index.js';
import { normal_ } from '../nn/init.js';
import { arange, formatShape, noGrad, ones, randint, stopGradient, where, zeros, type Generator, type Tensor } from '../tensor/index.js';
import { mseLoss } from '../nn/losses.js';

/** Options of {@link VectorQuantizer}. */
export interface VectorQuantizerOptions {
  /** β, the weight of the commitment term `‖z − sg(q)‖²` (default 0.25). */
  beta?: number;
  /** How the codebook learns: `'ema'` (moving averages of assigned latents, the default) or `'gradient'` (the codebook loss). */
  codebookUpdate?: 'ema' | 'gradient';
  /** γ, the decay of the EMA statistics (default 0.99). The usage counts that dead-code reset reads decay at γ in both modes. */
  decay?: number;
  /** ε of the Laplace smoothing of the EMA counts (default 1e-5; must be > 0). */
  epsilon?: number;
  /** Reset codes whose running usage `N_k` is below this (default 0: never). */
  deadCodeThreshold?: number;
  /** The random source of the initial codebook and of dead-code resets (the global generator when omitted). */
  generator?: Generator;
  /** Codebook dtype (default float32). */
  dtype?: 'float32' | 'float64';
}

/** What {@link VectorQuantizer.quantize} returns for latents `z` of shape `[..., D]`. */
export interface Quantized {
  /** `z_q = z + sg(q − z)`, `[..., D]`: equal to the chosen codes, with the identity as gradient w.r.t. `z`. */
  quantized: Tensor;
  /** Int32 code ids `[...]`, 0-based. */
  ids: Tensor;
  /** `codebookLoss + β·commitmentLoss` (scalar). */
  loss: Tensor;
  /** `mean ‖sg(z) − q‖²` (scalar); zero under EMA updates, where the codebook gets no gradient. */
  codebookLoss: Tensor;
  /** `mean ‖z − sg(q)‖²` (scalar), unweighted. */
  commitmentLoss: Tensor;
  /** `exp(−Σ_k p_k log p_k)` of the batch's code usage (scalar, no gradient): 1 when one code is used, |C| when all are used evenly. */
  perplexity: Tensor;
}

/**
 * A codebook of `numCodes` vectors of size `codeDim` with nearest-code lookup, straight-through gradients,
 * the codebook/commitment loss, EMA updates and dead-code reset (see the module notes).
 *
 * `forward` quantises and, in training mode, then updates the codebook statistics (EMA and/or usage);
 * `quantize` only quantises. The codebook is the parameter (gradient mode) or buffer (EMA mode) `codebook`.
 *
 * @example
 * const vq = new VectorQuantizer(64, 16, { generator: new Generator(0) });
 * const { quantized, ids, loss } = vq.forward(z); // z: [B, T_z, 16]
 */
export class VectorQuantizer extends Module {
  /** The codes `[numCodes, codeDim]`: a parameter in gradient mode, a buffer under EMA. */
  readonly codebook: Tensor;
  /** Running usage `N_k`, `[numCodes]` (a buffer). */
  readonly clusterSize: Tensor;
  /** Running sums `m_k` of the assigned latents, `[numCodes, codeDim]` (a buffer; EMA mode only, else null). */
  readonly embedSum: Tensor | null;
  /** β of the commitment term. */
  readonly beta: number;
  /** `'ema'` or `'gradient'`. */
  readonly codebookUpdate: 'ema' | 'gradient';
  /** γ of the running statistics. */
  readonly decay: number;
  /** ε of the Laplace smoothing. */
  readonly epsilon: number;
  /** Usage below which a code is reset (0: never). */
  readonly deadCodeThreshold: number;
  readonly #generator: Generator | undefined;

  /** A codebook of `numCodes` codes of size `codeDim`. */
  constructor(
    /** |C|, the number of codes. */
    readonly numCodes: number,
    /** D, the size of each code. */
    readonly codeDim: number,
    opts: VectorQuantizerOptions = {},
  ) {
    super();
    const fn = 'VectorQuantizer';
    if (!Number.isInteger(numCodes) || numCodes < 1) throw new RangeError(`${fn}: numCodes must be a positive integer, got ${numCodes}`);
    if (!Number.isInteger(codeDim) || codeDim < 1) throw new RangeError(`${fn}: codeDim must be a positive integer, got ${codeDim}`);
    this.beta = opts.beta ?? 0.25;
    this.codebookUpdate = opts.codebookUpdate ?? 'ema';
    this.decay = opts.decay ?? 0.99;
    this.epsilon = opts.epsilon ?? 1e-5;
    this.deadCodeThreshold = opts.deadCodeThreshold ?? 0;
    if (!(this.beta >= 0)) throw new RangeError(`${fn}: beta must be ≥ 0, got ${this.beta}`);
    if (this.codebookUpdate !== 'ema' && this.codebookUpdate !== 'gradient') {
      throw new RangeError(`${fn}: codebookUpdate must be 'ema' or 'gradient', got ${JSON.stringify(this.codebookUpdate)}`);
    }
    if (!(this.decay >= 0 && this.decay < 1)) throw new RangeError(`${fn}: decay must be in [0, 1), got ${this.decay}`);
    if (!(this.epsilon > 0)) throw new RangeError(`${fn}: epsilon must be > 0, got ${this.epsilon}`);
    if (!(this.deadCodeThreshold >= 0)) throw new RangeError(`${fn}: deadCodeThreshold must be ≥ 0, got ${this.deadCodeThreshold}`);
    this.#generator = opts.generator;
    const dtype = opts.dtype ?? 'float32';
    const init = { generator: opts.generator };
    // The reference VQ-VAE's U(±1/|C|) leaves codes far from typical latents; N(0, 1) matches unit-scale encoders.
    const codes = normal_(zeros([numCodes, codeDim], { dtype }), 0, 1, init);
    if (this.codebookUpdate === 'gradient') {
      this.codebook = this.param('codebook', codes);
      this.embedSum = null;
    } else {
      this.codebook = this.buffer('codebook', codes);
      // Consistent start: e_k = m_k / N_k with N_k = 1.
      this.embedSum = this.buffer('embedSum', codes.clone());
    }
    this.clusterSize = this.buffer('clusterSize', ones([numCodes], { dtype }));
  }

  #check(fn: string, z: Tensor): void {
    if (z.dtype !== this.codebook.dtype) {
      throw new TypeError(`VectorQuantizer.${fn}: z must be ${this.codebook.dtype} like the codebook, got ${z.dtype} ${formatShape(z.shape)}`);
    }
    if (z.ndim < 1 || z.shape[z.ndim - 1] !== this.codeDim) {
      throw new RangeError(`VectorQuantizer.${fn}: z must be [..., ${this.codeDim}], got ${formatShape(z.shape)}`);
    }
  }

  /** Int32 ids `[...]` of the nearest codes to `z` `[..., D]` by squared distance (first one on ties). */
  nearest(z: Tensor): Tensor {
    this.#check('nearest', z);
    return noGrad(() => {
      const flat = z.reshape([-1, this.codeDim]);
      const c = this.codebook;
      // ‖z − e‖² = ‖z‖² − 2 z·e + ‖e‖²; ‖z‖² is the same for every code, so it cannot change the argmin.
      const dist = c.mul(c).sum(-1).sub(flat.matmul(c.transpose()).mul(2));
      return dist.argmin(-1).reshape(z.shape.slice(0, -1));
    });
  }

  /** The codes `[..., D]` of int32 `ids` `[...]` (differentiable w.r.t. the codebook in gradient mode). */
  lookup(ids: Tensor): Tensor {
    if (ids.dtype !== 'int32') throw new TypeError(`VectorQuantizer.lookup: ids must be int32, got ${ids.dtype} ${formatShape(ids.shape)}`);
    return this.codebook.indexSelect(0, ids.reshape([-1])).reshape([...ids.shape, this.codeDim]);
  }

  /** Quantises `z` `[..., D]` without touching the codebook statistics. */
  quantize(z: Tensor): Quantized {
    this.#check('quantize', z);
    const ids = this.nearest(z);
    const q = this.lookup(ids);
    // Straight-through: forward value q, gradient w.r.t. z the identity.
    const quantized = z.add(stopGradient(q.sub(z)));
    const commitmentLoss = mseLoss(z, stopGradient(q));
    const codebookLoss = this.codebookUpdate === 'gradient' ? mseLoss(q, stopGradient(z)) : zeros([], { dtype: z.dtype });
    const loss = codebookLoss.add(commitmentLoss.mul(this.beta));
    const perplexity = noGrad(() => {
      const p = this.#counts(ids).div(Math.max(ids.size, 1));
      return where(p.gt(0), p.mul(p.log()), 0).sum().neg().exp();
    });
    return { quantized, ids, loss, codebookLoss, commitmentLoss, perplexity };
  }

  /** `n_k`: how many of `ids` name each code, `[numCodes]` in the codebook's dtype. */
  #counts(ids: Tensor): Tensor {
    return this.#oneHot(ids).sum(0);
  }

  /** `[N, numCodes]` one-hot rows of `ids` in the codebook's dtype. */
  #oneHot(ids: Tensor): Tensor {
    return ids.reshape([-1]).unsqueeze(-1).eq(arange(0, this.numCodes, 1, { dtype: 'int32' })).cast(this.codebook.dtype);
  }

  /** Quantises `z` and, in training mode, updates the codebook statistics (EMA, usage, dead-code reset) from it. */
  forward(z: Tensor): Quantized {
    const out = this.quantize(z);
    if (this.training) this.update(z, out.ids);
    return out;
  }

  /**
   * Updates the running statistics from latents `z` `[..., D]` assigned to `ids` `[...]`: the usage `N_k`
   * (both modes), the EMA codebook (EMA mode), then resets dead codes when a threshold is set.
   */
  update(z: Tensor, ids: Tensor): void {
    this.#check('update', z);
    if (ids.dtype !== 'int32' || ids.ndim !== z.ndim - 1 || ids.shape.some((d, i) => d !== z.shape[i])) {
      throw new RangeError(`VectorQuantizer.update: ids must be int32 ${formatShape(z.shape.slice(0, -1))} for z ${formatShape(z.shape)}, got ${ids.dtype} ${formatShape(ids.shape)}`);
    }
    noGrad(() => {
      const flat = z.detach().reshape([-1, this.codeDim]);
      const onehot = this.#oneHot(ids); // [N, K]
      const g = this.decay;
      const n = onehot.sum(0);
      const size = this.clusterSize.mul(g).add(n.mul(1 - g));
      this.clusterSize.copy_(size);
      if (this.embedSum !== null) {
        const m = this.embedSum.mul(g).add(onehot.transpose().matmul(flat).mul(1 - g));
        this.embedSum.copy_(m);
        const total = size.sum();
        // Laplace smoothing keeps unused codes away from a division by zero.
        const smoothed = size.add(this.epsilon).div(total.add(this.numCodes * this.epsilon)).mul(total);
        this.codebook.copy_(m.div(smoothed.unsqueeze(-1)));
      }
      if (this.deadCodeThreshold > 0 && flat.shape[0]! > 0) this.#resetDead(flat);
    });
  }

  /** Moves each code with `N_k` below the threshold onto a latent of `flat` `[N, D]` drawn from the generator. */
  #resetDead(flat: Tensor): void {
    const dead = this.clusterSize.lt(this.deadCodeThreshold);
    const picks = randint(0, flat.shape[0]!, [this.numCodes], { generator: this.#generator });
    const fresh = flat.indexSelect(0, picks);
    this.codebook.copy_(where(dead.unsqueeze(-1), fresh, this.codebook));
    this.clusterSize.copy_(where(dead, this.deadCodeThreshold, this.clusterSize));
    if (this.embedSum !== null) this.embedSum.copy_(where(dead.unsqueeze(-1), fresh.mul(this.deadCodeThreshold), this.embedSum));
  }
}
