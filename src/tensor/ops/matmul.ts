/**
 * Matrix products with PyTorch's rules: batching and broadcasting over leading axes, and the 1-D cases.
 * @module
 */
import { record } from '../autograd.js';
import { runKernel } from '../debug.js';
import { promoteTypes } from '../dtype.js';
import { broadcastShapes, fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { broadcastOperand, fromBuffer, sameBackend } from './core.js';
import { sumToShape } from './reduce.js';

/**
 * True when the leading axes of `a` (`[...batch, M, K]`) merge with its row axis without a copy, so that
 * `a` can be read as one `[batch·M, K]` matrix.
 */
function rowsMerge(a: Tensor): boolean {
  let inner = -1; // the next axis of size > 1 towards M
  for (let i = a.ndim - 2; i >= 0; i--) {
    if (a.shape[i] === 1) continue;
    if (inner >= 0 && a.strides[i] !== a.strides[inner]! * a.shape[inner]!) return false;
    inner = i;
  }
  return true;
}

/** The 2-D-or-more product `[...ba, M, K] @ [...bb, K, N]` with broadcast batches. */
function matmulND(a: Tensor, b: Tensor): Tensor {
  const be = sameBackend('matmul', [a, b]);
  const [M, K] = a.shape.slice(-2) as [number, number];
  const [K2, N] = b.shape.slice(-2) as [number, number];
  if (K !== K2) throw new RangeError(`matmul: inner dimensions differ: ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  // A batch against one matrix (x·Wᵀ in Linear): one [batch·M, K] @ [K, N] product, as PyTorch folds it.
  // The same sums, but the weight's gradient becomes one product over all rows instead of a product per
  // batch entry followed by a sum over the batch.
  if (b.ndim === 2 && a.ndim > 2 && rowsMerge(a)) {
    const lead = a.shape.slice(0, -1);
    const rows = lead.reduce((p, d) => p * d, 1);
    return matmulND(a.reshape([rows, K]), b).reshape([...lead, N]);
  }
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const ao = broadcastOperand(a, [...batch, M, K]);
  const bo = broadcastOperand(b, [...batch, K, N]);
  const dtype = promoteTypes(a.dtype, b.dtype);
  const out = fromBuffer(be, runKernel(be.name, 'matmul', [ao, bo], () => be.matmul(ao, bo, dtype)), [...batch, M, N]);
  // dA = dC·Bᵀ and dB = Aᵀ·dC, each summed over the batch axes its operand was broadcast along.
  return record('matmul', out, [a, b], (g) => [
    a.requiresGrad ? sumToShape(matmulND(g, b.transpose(-2, -1)), a.shape) : null,
    b.requiresGrad ? sumToShape(matmulND(a.transpose(-2, -1), g), b.shape) : null,
  ]);
}

/**
 * Matrix product as `torch.matmul`: 1-D·1-D is a dot product; a 1-D left operand is a row vector and a
 * 1-D right operand a column vector (the added axis is removed afterwards); otherwise batched over the
 * broadcast leading axes.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new RangeError(`matmul: both operands need at least one axis, got ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  }
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(-1) : b;
  if (a2.shape[a2.ndim - 1] !== b2.shape[b2.ndim - 2]) {
    throw new RangeError(`matmul: inner dimensions differ: ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  }
  let out = matmulND(a2, b2);
  if (b.ndim === 1) out = out.squeeze(-1);
  if (a.ndim === 1) out = out.squeeze(a.ndim === 1 && b.ndim === 1 ? -1 : -2);
  return out;
}
