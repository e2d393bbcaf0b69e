/**
 * Fused optimiser updates: one pass over a parameter, its gradient and its state where the backend has
 * a kernel for it (`Backend.adamwUpdate`). Optimisers try it first and fall back to their composition.
 * @module
 */
import { isGradEnabled } from '../autograd.js';
import type { AdamWStep } from '../backend.js';
import { runKernel } from '../debug.js';
import { sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { fromBuffer, operand, sameBackend } from './core.js';
import { contiguous } from './views.js';

/** The moments after a fused AdamW step: fresh tensors shaped as the parameter. */
export interface AdamWUpdateResult {
  /** The new first moment (exponential average of the gradient). */
  m: Tensor;
  /** The new second moment (exponential average of its square). */
  v: Tensor;
}

/**
 * One AdamW step (torch's `_single_tensor_adamw` without AMSGrad, for the step number `step.step`) by the
 * backend's fused kernel: writes the new value into `param`'s storage in place and returns the new first
 * and second moments as fresh tensors (`m` and `v` are left as they were). Returns null, having changed
 * nothing, when the backend has no such kernel or declines the inputs (all four must be float32 and of
 * one shape; a strided gradient, such as a transposed matmul result, is copied contiguous first); the
 * caller then composes the step. Like `copy_`, it is refused on a parameter that
 * requires a gradient unless recording is off (`noGrad`).
 */
export function adamwUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, step: AdamWStep): AdamWUpdateResult | null {
  if (param.requiresGrad && isGradEnabled()) {
    throw new Error('adamwUpdate: in-place write into a tensor that requires a gradient; do it inside noGrad()');
  }
  const be = sameBackend('adamwUpdate', [param, grad, m, v]);
  const all = [param, grad, m, v];
  if (be.adamwUpdate === undefined || all.some((t) => t.dtype !== 'float32' || !sameShape(t.shape, param.shape))) return null;
  const ops = [param, contiguous(grad), m, v].map(operand);
  const r = runKernel(be.name, 'adamw', ops, () => be.adamwUpdate!(ops[0]!, ops[1]!, ops[2]!, ops[3]!, step));
  return r === null ? null : { m: fromBuffer(be, r.m, param.shape), v: fromBuffer(be, r.v, param.shape) };
}
