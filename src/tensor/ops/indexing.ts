/**
 * Indexing and assembly: gather/scatter, index selection, masking, concatenation and splitting,
 * triangular masks, one-hot, sort/argsort and top-k.
 * @module
 */
import { record } from '../autograd.js';
import { runKernel } from '../debug.js';
import { promoteTypes } from '../dtype.js';
import { contiguousStrides, fmt, normAxis, sameShape, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast, eq, ge, le, sub, where } from './arithmetic.js';
import { asTensor, checkIndexTensor, fromBuffer, operand, sameBackend, type TensorLike } from './core.js';
import { arange, zeros, zerosLike } from './creation.js';
import { hostValues } from '../host-values.js';

function checkGatherShapes(op: string, x: Shape, index: Shape, axis: number): void {
  if (index.length !== x.length) {
    throw new RangeError(`${op}: index rank ${index.length} differs from input rank ${x.length} (${fmt(index)} vs ${fmt(x)})`);
  }
  index.forEach((d, i) => {
    if (i !== axis && d > x[i]!) {
      throw new RangeError(`${op}: index shape ${fmt(index)} exceeds input shape ${fmt(x)} on axis ${i}`);
    }
  });
}

/**
 * `out[i][j][k] = x[i][index[i][j][k]][k]` for `axis = 1` (and likewise for any axis), as `torch.gather`.
 * `index` is int32 with the rank of `x`; the output has its shape.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  const a = normAxis('gather', axis, x.ndim);
  checkIndexTensor('gather', 'index', index);
  checkGatherShapes('gather', x.shape, index.shape, a);
  const be = sameBackend('gather', [x, index]);
  const [xo, io] = [operand(x), operand(index)];
  const out = fromBuffer(be, runKernel(be.name, 'gather', [xo, io], () => be.gather(xo, a, io)), index.shape);
  // The adjoint of gathering is scattering the gradient back, adding where indices repeat.
  return record('gather', out, [x], (g) => [scatterAdd(zerosLike(x, { dtype: g.dtype }), a, index, g)]);
}

/**
 * `base` plus `src` added at the positions `index` names along `axis`, as `torch.scatter_add`. `index` and
 * `src` have one shape, no larger than `base` off the axis.
 */
export function scatterAdd(base: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  const a = normAxis('scatterAdd', axis, base.ndim);
  checkIndexTensor('scatterAdd', 'index', index);
  checkGatherShapes('scatterAdd', base.shape, index.shape, a);
  if (!sameShape(index.shape, src.shape)) {
    throw new RangeError(`scatterAdd: index shape ${fmt(index.shape)} differs from src shape ${fmt(src.shape)}`);
  }
  const be = sameBackend('scatterAdd', [base, index, src]);
  const dtype = promoteTypes(base.dtype, src.dtype);
  const b = cast(base, dtype);
  const [bo, io, so] = [operand(b), operand(index), operand(src)];
  const out = fromBuffer(be, runKernel(be.name, 'scatterAdd', [bo, io, so], () => be.scatterAdd(bo, a, io, so)), base.shape);
  return record('scatterAdd', out, [b, src], (g) => [g, gather(g, a, index)]);
}

/** Entries `index` (1-D int32) of `axis`, as `torch.index_select`. */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  const a = normAxis('indexSelect', axis, x.ndim);
  checkIndexTensor('indexSelect', 'index', index);
  if (index.ndim !== 1) throw new RangeError(`indexSelect: index must be 1-D, got ${fmt(index.shape)}`);
  const shape = x.shape.slice();
  shape[a] = index.shape[0]!;
  const lifted = x.shape.map((_, i) => (i === a ? index.shape[0]! : 1));
  try {
    return gather(x, a, index.reshape(lifted).expand(shape));
  } catch (e) {
    // The kernel reports a bad index as gather's; name the op the caller used.
    if (e instanceof RangeError && e.message.startsWith('gather: index ')) throw new RangeError(`indexSelect: ${e.message.slice(8)}`);
    throw e;
  }
}

/** `x` with `value` wherever `mask` (broadcast to `x`) is true. */
export function maskedFill(x: Tensor, mask: Tensor, value: TensorLike): Tensor {
  if (mask.dtype !== 'bool') throw new TypeError(`maskedFill: mask must be bool, got ${mask.dtype}`);
  const v = asTensor('maskedFill', value, x);
  const out = where(mask, cast(v, x.dtype), x);
  if (!sameShape(out.shape, x.shape)) {
    throw new RangeError(`maskedFill: mask ${fmt(mask.shape)} does not broadcast to input ${fmt(x.shape)}`);
  }
  return out;
}

/** Joins tensors along an existing axis. All other axes must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('concat: needs at least one tensor');
  const first = tensors[0]!;
  const a = normAxis('concat', axis, first.ndim);
  const be = sameBackend('concat', tensors);
  let dtype = first.dtype;
  let total = 0;
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new RangeError(`concat: shapes differ off axis ${a}: ${tensors.map((u) => fmt(u.shape)).join(', ')}`);
    }
    dtype = promoteTypes(dtype, t.dtype);
    total += t.shape[a]!;
  }
  const shape = first.shape.slice();
  shape[a] = total;
  const buf = be.alloc(dtype, shape.reduce((p, d) => p * d, 1));
  const strides = contiguousStrides(shape);
  let at = 0;
  for (const t of tensors) {
    const src = operand(t);
    const dst = { buffer: buf, shape: t.shape, strides, offset: at * strides[a]! };
    runKernel(be.name, 'copy', [src], () => be.copy(src, dst));
    at += t.shape[a]!;
  }
  const out = fromBuffer(be, buf, shape);
  const starts: number[] = [];
  at = 0;
  for (const t of tensors) {
    starts.push(at);
    at += t.shape[a]!;
  }
  return record('concat', out, tensors, (g) => tensors.map((t, i) => cast(g.narrow(a, starts[i]!, t.shape[a]!), t.dtype)));
}

/** Joins same-shaped tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('stack: needs at least one tensor');
  const s0 = tensors[0]!.shape;
  for (const t of tensors) {
    if (!sameShape(t.shape, s0)) throw new RangeError(`stack: shapes differ: ${tensors.map((u) => fmt(u.shape)).join(', ')}`);
  }
  const a = normAxis('stack', axis, s0.length + 1);
  return concat(
    tensors.map((t) => t.unsqueeze(a)),
    a,
  );
}

/**
 * Splits along `axis` into pieces of `size` (the last may be smaller), or of the listed sizes, as views.
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const a = normAxis('split', axis, x.ndim);
  const n = x.shape[a]!;
  let list: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) throw new RangeError(`split: size must be a positive integer, got ${sizes}`);
    list = [];
    for (let s = 0; s < n; s += sizes) list.push(Math.min(sizes, n - s));
  } else {
    list = sizes.slice();
    const total = list.reduce((p, d) => p + d, 0);
    if (list.some((d) => !Number.isInteger(d) || d < 0) || total !== n) {
      throw new RangeError(`split: sizes ${fmt(list)} do not add up to axis ${a} of size ${n}`);
    }
  }
  let at = 0;
  return list.map((len) => {
    const piece = x.narrow(a, at, len);
    at += len;
    return piece;
  });
}

/** Splits into `chunks` nearly equal pieces along `axis` (PyTorch's rule: pieces of ceil(n / chunks)). */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new RangeError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const n = x.shape[normAxis('chunk', axis, x.ndim)]!;
  return split(x, Math.max(1, Math.ceil(n / chunks)), axis);
}

function triangle(op: string, x: Tensor, k: number, lower: boolean): Tensor {
  if (x.ndim < 2) throw new RangeError(`${op}: needs at least 2 axes, got ${fmt(x.shape)}`);
  if (!Number.isInteger(k)) throw new TypeError(`${op}: diagonal must be an integer, got ${k}`);
  const [r, c] = x.shape.slice(-2) as [number, number];
  const rows = arange(r).reshape([r, 1]);
  const cols = arange(c).reshape([1, c]);
  const diff = sub(cols, rows); // j − i
  const keep = lower ? le(diff, k) : ge(diff, k);
  return where(keep, x, cast(0, x.dtype));
}

/** Keeps the lower triangle (`j − i ≤ k`) of the last two axes, zeroing the rest. */
export function tril(x: Tensor, k = 0): Tensor {
  return triangle('tril', x, k, true);
}

/** Keeps the upper triangle (`j − i ≥ k`) of the last two axes, zeroing the rest. */
export function triu(x: Tensor, k = 0): Tensor {
  return triangle('triu', x, k, false);
}

/**
 * One-hot vectors along a new last axis (int32 by default); indices must lie in `[0, numClasses)`. The
 * range is checked on the host where the backend reads synchronously; on asynchronous backends (webgpu)
 * nothing is read back: a gather of the indices flags a bad one, raised at the next read.
 */
export function oneHot(index: Tensor, numClasses: number, dtype: 'int32' | 'float32' | 'float64' = 'int32'): Tensor {
  checkIndexTensor('oneHot', 'index', index);
  if (!Number.isInteger(numClasses) || numClasses <= 0) {
    throw new RangeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  }
  if (index.size > 0) {
    const v = hostValues(index);
    if (v === null) {
      const probe = zeros([numClasses], { dtype: 'int32' });
      const flat = index.reshape([-1]);
      gather(probe, 0, flat).dispose();
      for (const t of [probe, flat]) t.dispose();
    } else {
      let [lo, hi] = [Infinity, -Infinity];
      for (const x of v) [lo, hi] = [Math.min(lo, x), Math.max(hi, x)];
      if (lo < 0 || hi >= numClasses) throw new RangeError(`oneHot: index ${lo < 0 ? lo : hi} is outside [0, ${numClasses})`);
    }
  }
  return cast(eq(index.unsqueeze(-1), arange(numClasses)), dtype);
}

/** Sorted values and their int32 source indices. */
export interface SortResult {
  /** The values, in order. */
  values: Tensor;
  /** Where each value came from along the sorted axis. */
  indices: Tensor;
}

function sortedOp(op: 'sort' | 'topk', x: Tensor, axis: number, descending: boolean, k?: number): SortResult {
  if (x.ndim === 0) return { values: x, indices: zerosLike(x, { dtype: 'int32' }) };
  const a = normAxis(op, axis, x.ndim);
  const n = x.shape[a]!;
  if (k !== undefined && (!Number.isInteger(k) || k < 0 || k > n)) {
    throw new RangeError(`topk: k = ${k} is outside [0, ${n}] for axis ${a} of ${fmt(x.shape)}`);
  }
  const be = x.backend;
  const xo = operand(x);
  const r = runKernel(be.name, op, [xo], () => (k === undefined ? be.sort(xo, a, descending) : be.topk(xo, k, a, descending)));
  const shape = x.shape.slice();
  shape[a] = k ?? n;
  const values = fromBuffer(be, r.values, shape);
  const indices = fromBuffer(be, r.indices, shape);
  record(op, values, [x], (g) => [scatterAdd(zerosLike(x, { dtype: g.dtype }), a, indices, g)]);
  return { values, indices };
}

/** Stable sort along `axis` (last by default); NaN sorts as the largest value, as in PyTorch. */
export function sort(x: Tensor, axis = -1, descending = false): SortResult {
  return sortedOp('sort', x, axis, descending);
}

/** The int32 indices that sort `axis` (stable). */
export function argsort(x: Tensor, axis = -1, descending = false): Tensor {
  return sortedOp('sort', x, axis, descending).indices;
}

/** The `k` largest (or with `largest = false`, smallest) entries along `axis`, in order; ties by index. */
export function topk(x: Tensor, k: number, axis = -1, largest = true): SortResult {
  return sortedOp('topk', x, axis, largest, k);
}
