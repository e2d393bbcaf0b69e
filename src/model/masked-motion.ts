/**
 * Masked motion-token prediction (§5.2.3, Eq. 8). A random subset `Ω_MASK ⊆ {1, …, T_z}` of the motion
 * tokens `z` (from `MotionTokenizer.tokenize`) is replaced by a [MASK] token, and the model reconstructs the
 * original codebook indices there:
 *
 *   Eq. 8: `L_MASK = − Σ_{i ∈ Ω_MASK} log p_θ(z_i | c)`.
 *
 * Positions outside `Ω_MASK` contribute nothing, neither to the loss nor to its gradient. The backbone's
 * additions for this channel are, as the paper says, "a dedicated token embedding and a linear prediction
 * head for quantized tokens": {@link MaskedMotionHead}.
 * @module
 */
import { crossEntropy, Embedding, Linear, Module, type LinearOptions } from '../nn/index.js';
import { defaultGenerator, formatShape, tensor, where, type Generator, type Tensor } from '../tensor/index.js';

/** Options of {@link maskMotionTokens}. */
export interface MotionTokenMaskOptions {
  /** ρ ∈ [0, 1], the fraction of each sample's tokens to mask. */
  ratio: number;
  /** The [MASK] id written at masked positions (usually |C|, one past the codes; see {@link MaskedMotionHead.maskId}). */
  maskId: number;
  /** The random source (the global generator when omitted). */
  generator?: Generator;
}

/** What {@link maskMotionTokens} returns. */
export interface MaskedMotionTokens {
  /** The model's input: `ids` with `maskId` on `Ω_MASK`, int32 `[B, T_z]`. */
  input: Tensor;
  /** `Ω_MASK` as bool `[B, T_z]`: true where the token was masked (and is to be predicted). */
  mask: Tensor;
}

/**
 * Masks motion tokens `ids` (int32 `[B, T_z]`) for Eq. 8. Each sample gets exactly
 * `m = max(1, round(ρ·T_z))` masked positions when ρ > 0 (none when ρ = 0), drawn uniformly without
 * replacement from the generator. A fixed count, rather than an independent coin per position, means every
 * sample with ρ > 0 has a target, so no sample trains on an empty Ω_MASK, and the loss scale does not
 * vary from batch to batch.
 *
 * @example
 * const { input, mask } = maskMotionTokens(ids, { ratio: 0.5, maskId: head.maskId, generator });
 */
export function maskMotionTokens(ids: Tensor, opts: MotionTokenMaskOptions): MaskedMotionTokens {
  const fn = 'maskMotionTokens';
  if (ids.dtype !== 'int32' || ids.ndim !== 2) {
    throw new RangeError(`${fn}: ids must be int32 [B, T_z], got ${ids.dtype} ${formatShape(ids.shape)}`);
  }
  const { ratio, maskId } = opts;
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`${fn}: ratio must be in [0, 1], got ${ratio}`);
  if (!Number.isInteger(maskId)) throw new RangeError(`${fn}: maskId must be an integer, got ${maskId}`);
  const [b, tz] = ids.shape as [number, number];
  const m = ratio === 0 || tz === 0 ? 0 : Math.max(1, Math.round(ratio * tz));
  const g = opts.generator ?? defaultGenerator();
  const host = new Uint8Array(b * tz);
  const order = new Int32Array(tz);
  for (let row = 0; row < b; row++) {
    for (let j = 0; j < tz; j++) order[j] = j;
    // Partial Fisher–Yates: the first m entries of `order` are a uniform m-subset.
    for (let j = 0; j < m; j++) {
      const k = g.integer(j, tz);
      const t = order[j]!;
      order[j] = order[k]!;
      order[k] = t;
      host[row * tz + order[j]!] = 1;
    }
  }
  const mask = tensor(host, { shape: [b, tz], dtype: 'bool' });
  return { input: where(mask, tensor(maskId, { dtype: 'int32' }), ids), mask };
}

/** Options of {@link maskedMotionLoss}. */
export interface MaskedMotionLossOptions {
  /**
   * `'sum'` is Eq. 8 as written (summed over the batch too); `'mean'` (the default) divides by |Ω_MASK|
   * over the batch, so the loss scale does not depend on ρ, T_z or B (0 when nothing is masked).
   */
  reduction?: 'mean' | 'sum';
}

/**
 * Eq. 8: `L_MASK = − Σ_{i ∈ Ω_MASK} log p_θ(z_i | c)`, the cross-entropy of `logits` `[B, T_z, |C|]` against
 * the original tokens `targets` (int32 `[B, T_z]`) on the masked positions `mask` (bool `[B, T_z]`) only.
 *
 * @example
 * const loss = maskedMotionLoss(head.forward(hidden), ids, mask);
 */
export function maskedMotionLoss(logits: Tensor, targets: Tensor, mask: Tensor, opts: MaskedMotionLossOptions = {}): Tensor {
  const fn = 'maskedMotionLoss';
  const reduction = opts.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') throw new RangeError(`${fn}: reduction must be 'mean' or 'sum', got ${JSON.stringify(reduction)}`);
  if (logits.ndim !== 3) throw new RangeError(`${fn}: logits must be [B, T_z, |C|], got ${formatShape(logits.shape)}`);
  const lead = logits.shape.slice(0, 2);
  const same = (t: Tensor): boolean => t.ndim === 2 && t.shape[0] === lead[0] && t.shape[1] === lead[1];
  if (targets.dtype !== 'int32' || !same(targets)) {
    throw new RangeError(`${fn}: targets must be int32 ${formatShape(lead)} for logits ${formatShape(logits.shape)}, got ${targets.dtype} ${formatShape(targets.shape)}`);
  }
  if (mask.dtype !== 'bool' || !same(mask)) {
    throw new RangeError(`${fn}: mask must be bool ${formatShape(lead)} for logits ${formatShape(logits.shape)}, got ${mask.dtype} ${formatShape(mask.shape)}`);
  }
  // Ω_MASK as crossEntropy's mask: unmasked targets are dropped from the sum and from the mean's divisor.
  return crossEntropy(logits, targets, { mask, reduction });
}

/** Options of {@link MaskedMotionHead}. */
export type MaskedMotionHeadOptions = LinearOptions;

/**
 * The backbone's motion-token channel (§5.2.3): an embedding of `|C| + 1` rows (the codes and [MASK], whose
 * id is `|C|`) into the hidden size, and a linear head from hidden states to `|C|` code logits for Eq. 8.
 *
 * @example
 * const head = new MaskedMotionHead(64, 512);
 * const { input, mask } = maskMotionTokens(ids, { ratio: 0.5, maskId: head.maskId });
 * const hidden = backbone(head.embed(input));       // [B, T_z, 512]
 * const loss = head.loss(hidden, ids, mask);        // Eq. 8
 */
export class MaskedMotionHead extends Module {
  /** `[|C| + 1, hiddenDim]`: codes, then [MASK]. */
  readonly embedding: Embedding;
  /** `hiddenDim → |C|`. */
  readonly head: Linear;

  /** A channel for `numCodes` codes in a backbone of width `hiddenDim`. */
  constructor(
    /** |C|, the codebook size. */
    readonly numCodes: number,
    /** The backbone's hidden size. */
    readonly hiddenDim: number,
    opts: MaskedMotionHeadOptions = {},
  ) {
    super();
    if (!Number.isInteger(numCodes) || numCodes < 1) throw new RangeError(`MaskedMotionHead: numCodes must be a positive integer, got ${numCodes}`);
    if (!Number.isInteger(hiddenDim) || hiddenDim < 1) throw new RangeError(`MaskedMotionHead: hiddenDim must be a positive integer, got ${hiddenDim}`);
    this.embedding = this.module('embedding', new Embedding(numCodes + 1, hiddenDim, { generator: opts.generator, dtype: opts.dtype }));
    this.head = this.module('head', new Linear(hiddenDim, numCodes, opts));
  }

  /** The [MASK] id: `|C|`, one past the last code. */
  get maskId(): number {
    return this.numCodes;
  }

  /** Embeds token ids (int32, codes or [MASK]) into `[..., hiddenDim]`. */
  embed(ids: Tensor): Tensor {
    return this.embedding.forward(ids);
  }

  /** Code logits `[..., |C|]` from hidden states `[..., hiddenDim]`. */
  forward(hidden: Tensor): Tensor {
    return this.head.forward(hidden);
  }

  /** Eq. 8 on hidden states `[B, T_z, hiddenDim]`: {@link maskedMotionLoss} of the head's logits. */
  loss(hidden: Tensor, targets: Tensor, mask: Tensor, opts: MaskedMotionLossOptions = {}): Tensor {
    return maskedMotionLoss(this.forward(hidden), targets, mask, opts);
  }
}
