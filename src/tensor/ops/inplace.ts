/**
 * In-place writes, for optimisers and checkpoint loading. They bypass autograd, so they are refused on
 * a tensor that requires a gradient unless recording is off (as PyTorch requires `torch.no_grad()`).
 * @module
 */
import { isGradEnabled } from '../autograd.js';
import { runKernel } from '../debug.js';
import { broadcastShapes, fmt, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { clone } from './views.js';
import { asTensor, broadcastOperand, operand, sameBackend, type TensorLike } from './core.js';

/**
 * Writes `src` (broadcast to `dst`'s shape, converted to its dtype) into `dst`'s storage and returns
 * `dst`. Every view sharing that storage sees the change. A tensor saved by a recorded op for its
 * backward pass must not be overwritten before that pass runs.
 */
export function copyInto(dst: Tensor, src: TensorLike): Tensor {
  if (dst.requiresGrad && isGradEnabled()) {
    throw new Error('copy_: in-place write into a tensor that requires a gradient; do it inside noGrad()');
  }
  let s = asTensor('copy_', src, dst);
  // Reading and writing one storage through different views would read half-written values.
  if (s.buffer === dst.buffer) s = clone(s);
  sameBackend('copy_', [dst, s]);
  const shape = broadcastShapes('copy_', dst.shape, s.shape);
  if (!sameShape(shape, dst.shape)) {
    throw new RangeError(`copy_: source ${fmt(s.shape)} does not broadcast to destination ${fmt(dst.shape)}`);
  }
  if (dst.strides.some((st, i) => st === 0 && dst.shape[i]! > 1)) {
    throw new RangeError(`copy_: destination ${fmt(dst.shape)} is an expanded view (several elements share memory)`);
  }
  const be = dst.backend;
  const so = broadcastOperand(s, dst.shape);
  const dOp = operand(dst);
  runKernel(be.name, 'copy', [so], () => be.copy(so, dOp));
  return dst;
}
