/**
 * Manifold-Preserving Gating, MPG (§5.3.2, Eq. 13-16; used inside the denoising loop by the two-stage
 * refinement of §6.1, Eq. 21). MPG enhances the action expert's context features H (the suffix tokens:
 * state embeddings and action-token embeddings) with a feature-conditioned residual whose strength is a
 * reliability gate g, and an ungated learned offset:
 *
 * - Eq. 13: `H̃ = H + λ·P_MPG(g·E_obs(H)) = H + λ·g·W_MPG·E_obs(H) + λ·b_MPG`;
 * - Eq. 14: `D = (1/M) Σ_m ‖sort(θ_mᵀĤ) − sort(θ_mᵀẐ)‖²₂` with `Ĥ = LN(E_obs(H))` (one row per token of H)
 *   and `Ẑ = LN(E_act(Z̄))`, `Z̄ = MeanPool(Z^nf)` of the noise-free action-token embeddings, broadcast
 *   along H's sequence length — so D compares the set of observation features with N copies of the one
 *   action anchor, per sample of the batch;
 * - Eq. 15: `g = exp(−D/τ) ∈ (0, 1]`, behind a stop-gradient (`g^sg`): nothing reaches D through g;
 * - Eq. 16: hence `∂H̃/∂H = I + λ·g·W_MPG·∂E_obs(H)/∂H` exactly (the paper's "≈" is the stop-gradient).
 *
 * Choices where the paper is silent: E_obs, E_act and P_MPG are affine layers (`Linear`); LN is a
 * parameter-free LayerNorm (the "shared, scale-invariant space"), applied only where the paper writes it —
 * the residual of Eq. 13 uses E_obs(H) itself. Because g is stop-gradient, E_act gets no gradient from H̃:
 * it stays as initialised unless trained through {@link ManifoldPreservingGate.discrepancy} (which is
 * differentiable). Fresh directions θ_m are drawn at every call unless given. Defaults follow DESIGN.md:
 * λ = 0.1, τ = 1, M = 32. Eq. 14 sums over the N tokens, so D grows with N (about 2N for unrelated
 * features, since E_θ[(θ·v)²] = ‖v‖²/d): with τ = 1, g is near 0 unless the features lie close to the anchor.
 *
 * Gate fluctuations (the paper's argument after Eq. 13), made precise: for fixed H and a random g with
 * variance σ², MPG's output has per-element variance `σ²λ²(W·E_obs(H))²` while output gating
 * (`H̃ = H + g·λ·P_MPG(E_obs(H))`, DiG-Flow's form, available as `gating: 'output'`) has
 * `σ²λ²(W·E_obs(H) + b)²`. Summed over the elements, MPG's is no larger exactly when
 * `2⟨W·E_obs(H), b⟩ + ‖b‖² ≥ 0` — e.g. whenever the offset does not point against the feature term — and
 * averaged over ±b the excess of output gating is `σ²λ²‖b‖²`. It is not smaller unconditionally.
 * @module
 */
import { formatShape, hostValues, type DType, type Generator, type Tensor } from '../tensor/index.js';
import { LayerNorm, Linear, Module } from '../nn/index.js';
import { DEFAULT_NUM_DIRECTIONS, slicedWassersteinDiscrepancy } from './sliced-wasserstein.js';

/** Where the gate acts: on the projection's input (MPG, Eq. 13) or on its output (DiG-Flow's output gating). */
export type GatePlacement = 'input' | 'output';

/** Options of {@link ManifoldPreservingGate}. */
export interface ManifoldPreservingGateOptions {
  /** The random source of the initialisation and of the directions θ_m (the global generator when omitted). */
  generator?: Generator;
  /** Width of the common embedding space of E_obs and E_act (default `dim`). */
  embedDim?: number;
  /** Width of the noise-free action-token embeddings Z^nf (default `dim`, the VLM hidden size). */
  actionDim?: number;
  /** λ, the residual scale of Eq. 13 (default 0.1). */
  lambda?: number;
  /** τ, the gate temperature of Eq. 15 (default 1). */
  tau?: number;
  /** M, the random directions of Eq. 14 (default 32). */
  numDirections?: number;
  /** `'input'` (default): MPG's Eq. 13; `'output'`: output gating `H + g·λ·P_MPG(E_obs(H))`, for ablations. */
  gating?: GatePlacement;
  /** ε of the parameter-free LayerNorm (default 1e-5). */
  layerNormEps?: number;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** Per-call options of {@link ManifoldPreservingGate.forward} and {@link ManifoldPreservingGate.discrepancy}. */
export interface MPGCallOptions {
  /** `[M, embedDim]` unit directions θ_m; fresh ones from the module's generator when omitted. */
  directions?: Tensor;
}

/** What {@link ManifoldPreservingGate.forward} returns. */
export interface MPGOutput {
  /** H̃, the enhanced context features, shaped like H. */
  output: Tensor;
  /** g = exp(−D/τ) per sample (H's leading shape), detached (Eq. 15). */
  gate: Tensor;
  /** D per sample (Eq. 14), differentiable with respect to E_obs, E_act, H and Z^nf. */
  discrepancy: Tensor;
}

function checkPositive(what: string, v: number, integer = false): void {
  if (!(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new RangeError(`ManifoldPreservingGate: ${what} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  }
}

/**
 * Manifold-Preserving Gating (Eq. 13-16): `H̃ = H + λ·g·W_MPG·E_obs(H) + λ·b_MPG` with the reliability gate
 * `g = stopgrad(exp(−D/τ))` and D the sliced Wasserstein discrepancy between the observation features and
 * the mean-pooled noise-free action anchor.
 *
 * @example
 * const mpg = new ManifoldPreservingGate(64, { generator: new Generator(0) });
 * const { output, gate } = mpg.forward(h, zNoiseFree); // h [B, N, 64], zNoiseFree [B, T, 64]
 */
export class ManifoldPreservingGate extends Module {
  /** E_obs: `dim → embedDim`, projects H to the common embedding space. */
  readonly observationEncoder: Linear;
  /** E_act: `actionDim → embedDim`, projects the pooled action anchor Z̄. */
  readonly actionEncoder: Linear;
  /** P_MPG: `embedDim → dim`, weight W_MPG and bias b_MPG. */
  readonly projection: Linear;
  /** LN: parameter-free LayerNorm over the embedding (the scale-invariant space of Eq. 14). */
  readonly norm: LayerNorm;
  /** λ of Eq. 13. */
  readonly lambda: number;
  /** τ of Eq. 15. */
  readonly tau: number;
  /** M of Eq. 14. */
  readonly numDirections: number;
  /** Where the gate acts (`'input'`: MPG). */
  readonly gating: GatePlacement;
  /** Width of the common embedding space. */
  readonly embedDim: number;
  /** Width of the action-token embeddings. */
  readonly actionDim: number;
  readonly #generator: Generator | undefined;

  /** An MPG block for context features of width `dim`. */
  constructor(
    /** Width of H (the VLM hidden size). */
    readonly dim: number,
    opts: ManifoldPreservingGateOptions = {},
  ) {
    super();
    checkPositive('dim', dim, true);
    this.embedDim = opts.embedDim ?? dim;
    this.actionDim = opts.actionDim ?? dim;
    this.lambda = opts.lambda ?? 0.1;
    this.tau = opts.tau ?? 1;
    this.numDirections = opts.numDirections ?? DEFAULT_NUM_DIRECTIONS;
    this.gating = opts.gating ?? 'input';
    checkPositive('embedDim', this.embedDim, true);
    checkPositive('actionDim', this.actionDim, true);
    checkPositive('tau', this.tau);
    checkPositive('numDirections', this.numDirections, true);
    if (!Number.isFinite(this.lambda)) throw new RangeError(`ManifoldPreservingGate: lambda must be finite, got ${this.lambda}`);
    if (this.gating !== 'input' && this.gating !== 'output') {
      throw new RangeError(`ManifoldPreservingGate: gating must be 'input' or 'output', got ${String(this.gating)}`);
    }
    const lin = { generator: opts.generator, dtype: opts.dtype };
    this.observationEncoder = this.module('observationEncoder', new Linear(dim, this.embedDim, lin));
    this.actionEncoder = this.module('actionEncoder', new Linear(this.actionDim, this.embedDim, lin));
    this.projection = this.module('projection', new Linear(this.embedDim, dim, lin));
    this.norm = this.module('norm', new LayerNorm(this.embedDim, { eps: opts.layerNormEps, elementwiseAffine: false }));
    this.#generator = opts.generator;
  }

  #checkH(op: string, h: Tensor): void {
    if (h.ndim < 2 || h.shape[h.ndim - 1] !== this.dim) {
      throw new RangeError(`ManifoldPreservingGate.${op}: H must be [..., N, ${this.dim}], got ${formatShape(h.shape)}`);
    }
  }

  /**
   * D of Eq. 14 between `Ĥ = LN(E_obs(H))` and `Ẑ = LN(E_act(MeanPool(Z^nf)))` broadcast along H's
   * sequence: `h` is `[..., N, dim]`, `zNoiseFree` `[..., T, actionDim]` with the same leading shape (a
   * precomputed anchor Z̄ can be passed as `[..., 1, actionDim]`). Returns D with H's leading shape,
   * differentiable.
   */
  discrepancy(h: Tensor, zNoiseFree: Tensor, opts: MPGCallOptions = {}): Tensor {
    this.#checkH('discrepancy', h);
    const batch = h.shape.slice(0, -2);
    const [n] = h.shape.slice(-2) as [number];
    if (
      zNoiseFree.ndim !== h.ndim ||
      zNoiseFree.shape[zNoiseFree.ndim - 1] !== this.actionDim ||
      zNoiseFree.shape[zNoiseFree.ndim - 2]! < 1 ||
      zNoiseFree.shape.slice(0, -2).some((s, i) => s !== batch[i])
    ) {
      throw new RangeError(
        `ManifoldPreservingGate.discrepancy: Z^nf must be [${[...batch, 'T ≥ 1', this.actionDim].join(', ')}] for H ${formatShape(h.shape)}, got ${formatShape(zNoiseFree.shape)}`,
      );
    }
    const hHat = this.norm.forward(this.observationEncoder.forward(h)); // Ĥ = LN(E_obs(H))
    const zBar = zNoiseFree.mean(-2, true); // Z̄ = MeanPool(Z^nf), [..., 1, actionDim]
    const zHat = this.norm.forward(this.actionEncoder.forward(zBar)).expand([...batch, n, this.embedDim]); // Ẑ, broadcast
    return slicedWassersteinDiscrepancy(hHat, zHat, {
      directions: opts.directions,
      numDirections: opts.directions === undefined ? this.numDirections : undefined,
      generator: this.#generator,
    });
  }

  /**
   * Eq. 15: `g = stopgrad(exp(−D/τ)) ∈ (0, 1]` for a discrepancy D ≥ 0 (it underflows to 0 beyond D ≈ 745τ
   * in float64, 104τ in float32). D ≥ 0 is checked where D can be read without waiting (see `hostValues`).
   */
  gate(discrepancy: Tensor): Tensor {
    const d = hostValues(discrepancy);
    if (d !== null && d.length > 0) {
      let lo = Infinity;
      for (const x of d) if (x < lo || Number.isNaN(x)) lo = x;
      if (!(lo >= 0)) throw new RangeError(`ManifoldPreservingGate.gate: D must be ≥ 0, got ${lo}`);
    }
    // The stop-gradient keeps the model from manipulating g instead of improving its features.
    return discrepancy.div(-this.tau).exp().detach();
  }

  /**
   * Eq. 13 for a given gate: `H + λ·P_MPG(g·E_obs(H))` (or output gating `H + g·λ·P_MPG(E_obs(H))` with
   * `gating: 'output'`). `g` in [0, 1] is a number or a tensor of H's leading shape (or broadcastable to
   * it); it is treated as a constant (stop-gradient).
   */
  enhance(h: Tensor, g: Tensor | number): Tensor {
    this.#checkH('enhance', h);
    // g ∈ [0, 1] is checked where g can be read without waiting (see `hostValues`).
    const values = typeof g === 'number' ? [g] : (hostValues(g) ?? []);
    for (const v of values) if (!(v >= 0 && v <= 1)) throw new RangeError(`ManifoldPreservingGate.enhance: g must lie in [0, 1], got ${v}`);
    // g per sample, as [..., 1, 1] against H's [..., N, dim].
    const gs = typeof g === 'number' ? g : g.detach().reshape([...g.shape, 1, 1]);
    if (typeof gs !== 'number' && (gs.ndim > h.ndim || gs.shape.some((s, i) => s !== 1 && s !== h.shape[h.ndim - gs.ndim + i]))) {
      throw new RangeError(`ManifoldPreservingGate.enhance: g ${formatShape((g as Tensor).shape)} does not match H's leading shape ${formatShape(h.shape.slice(0, -2))}`);
    }
    const e = this.observationEncoder.forward(h); // E_obs(H)
    if (this.gating === 'output') return h.add(this.projection.forward(e).mul(gs).mul(this.lambda));
    // Eq. 13: the gate scales the projection's input, so the offset λ·b_MPG stays ungated.
    return h.add(this.projection.forward(e.mul(gs)).mul(this.lambda));
  }

  /**
   * MPG on context features `h` `[..., N, dim]` with the noise-free action-token embeddings `zNoiseFree`
   * `[..., T, actionDim]` (training: the ground-truth actions; refinement, Eq. 21: the previous
   * prediction): D (Eq. 14), g (Eq. 15), and H̃ (Eq. 13).
   */
  forward(h: Tensor, zNoiseFree: Tensor, opts: MPGCallOptions = {}): MPGOutput {
    const discrepancy = this.discrepancy(h, zNoiseFree, opts);
    const gate = this.gate(discrepancy);
    return { output: this.enhance(h, gate), gate, discrepancy };
  }
}
