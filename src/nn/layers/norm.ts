/**
 * `LayerNorm` and `RMSNorm` over the trailing axes, as PyTorch defines them. Both call the tensor layer's
 * `layerNorm` / `rmsNorm`, which use a backend's fused kernels where it has them.
 * @module
 */
import { formatShape, layerNorm, ones, rmsNorm, zeros, type DType, type Tensor } from '../../tensor/index.js';
import { Module } from '../module.js';

function trailingAxes(layer: string, x: Tensor, normalized: readonly number[]): number[] {
  const k = normalized.length;
  const tail = x.shape.slice(x.ndim - k);
  if (x.ndim < k || tail.some((d, i) => d !== normalized[i])) {
    throw new RangeError(`${layer}: expected input [..., ${normalized.join(', ')}], got ${formatShape(x.shape)}`);
  }
  return normalized.map((_, i) => x.ndim - k + i);
}

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5, as PyTorch). */
  eps?: number;
  /** Learn a scale and shift (default true). */
  elementwiseAffine?: boolean;
  /** Learn the shift when affine (default true). */
  bias?: boolean;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** `(x − mean) / √(var + eps) · γ + β` over the trailing `normalizedShape` axes (population variance). */
export class LayerNorm extends Module {
  /** γ, or null without affine. */
  readonly weight: Tensor | null;
  /** β, or null. */
  readonly bias: Tensor | null;
  /** Added to the variance. */
  readonly eps: number;
  readonly #shape: number[];

  /** Normalises over trailing axes of `normalizedShape` (a number for the last axis alone). */
  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    this.#shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape.slice();
    this.eps = opts.eps ?? 1e-5;
    const dtype = opts.dtype ?? 'float32';
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? this.param('weight', ones(this.#shape, { dtype })) : null;
    this.bias = affine && (opts.bias ?? true) ? this.param('bias', zeros(this.#shape, { dtype })) : null;
  }

  /** Normalises `x`. */
  forward(x: Tensor): Tensor {
    trailingAxes('LayerNorm', x, this.#shape);
    return layerNorm(x, this.#shape, this.weight, this.bias, this.eps);
  }
}

/** Options of {@link RMSNorm}. */
export interface RMSNormOptions {
  /** Added to the mean square (default 1e-6, as in Qwen-style models). */
  eps?: number;
  /** Learn a scale (default true). */
  elementwiseAffine?: boolean;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** `x / √(mean(x²) + eps) · γ` over the trailing `normalizedShape` axes. */
export class RMSNorm extends Module {
  /** γ, or null without affine. */
  readonly weight: Tensor | null;
  /** Added to the mean square. */
  readonly eps: number;
  readonly #shape: number[];

  /** Normalises over trailing axes of `normalizedShape` (a number for the last axis alone). */
  constructor(normalizedShape: number | readonly number[], opts: RMSNormOptions = {}) {
    super();
    this.#shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape.slice();
    this.eps = opts.eps ?? 1e-6;
    this.weight = opts.elementwiseAffine ?? true ? this.param('weight', ones(this.#shape, { dtype: opts.dtype ?? 'float32' })) : null;
  }

  /** Normalises `x`. */
  forward(x: Tensor): Tensor {
    trailingAxes('RMSNorm', x, this.#shape);
    return rmsNorm(x, this.#shape, this.weight, this.eps);
  }
}
