/**
 * Gradient clipping by global norm, as `torch.nn.utils.clip_grad_norm_`.
 * @module
 */
import { div, formatShape, noGrad, stack, zeros, type Tensor } from '../../tensor/index.js';

/**
 * Scales the gradients of `params` together so that their joint `normType`-norm is at most `maxNorm`,
 * and returns that norm before clipping as a 0-d tensor (read it with `.item()`). As PyTorch: the scale
 * is `min(1, maxNorm / (total + 1e-6))`, parameters without a gradient are skipped, and with none at all
 * the norm is 0. `normType` may be `Infinity` (largest absolute entry).
 *
 * @example
 * loss.backward();
 * const total = clipGradNorm(model.parameters(), 1.0);
 * opt.step();
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  if (!(maxNorm >= 0)) throw new RangeError(`clipGradNorm: maxNorm must be non-negative, got ${maxNorm}`);
  if (!(normType > 0)) throw new RangeError(`clipGradNorm: normType must be positive (or Infinity), got ${normType}`);
  const withGrad = [...params].filter((p) => p.grad !== null);
  return noGrad(() => {
    if (withGrad.length === 0) return zeros([]);
    const grads = withGrad.map((p) => p.grad!.detach());
    for (const [i, p] of withGrad.entries()) {
      const g = grads[i]!;
      if (g.ndim !== p.ndim || g.shape.some((d, k) => d !== p.shape[k])) {
        throw new RangeError(`clipGradNorm: gradient ${formatShape(g.shape)} does not match parameter ${formatShape(p.shape)}`);
      }
    }
    // Norms of mixed float32/float64 gradients are combined in the wider dtype.
    const wide = grads.some((g) => g.dtype === 'float64') ? 'float64' : 'float32';
    const total = stack(grads.map((g) => g.norm(normType).cast(wide))).norm(normType);
    // torch evaluates maxNorm / (total + 1e-6) as reciprocal(total + 1e-6) · maxNorm.
    const coef = div(1, total.add(1e-6)).mul(maxNorm).clamp(undefined, 1);
    for (const [i, p] of withGrad.entries()) {
      const g = grads[i]!;
      p.grad = g.mul(coef.cast(g.dtype));
    }
    return total;
  });
}
