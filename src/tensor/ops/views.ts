/**
 * Views: new shapes and strides over the same storage, no copy. `contiguous` and `clone` copy.
 * Gradients flow back through each view by its inverse.
 * @module
 */
import { record } from '../autograd.js';
import { runKernel } from '../debug.js';
import { checkShape, contiguousStrides, fmt, inferShape, isContiguous, normAxis, sizeOf, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { fromBuffer, operand } from './core.js';
import { sumToShape } from './reduce.js';

function makeView(x: Tensor, shape: Shape, strides: readonly number[], offset: number): Tensor {
  return new Tensor(x.backend, x.buffer, shape, strides, offset);
}

/**
 * Strides that let `x`'s storage be read as `shape` without a copy, or `null` when none exist (the
 * algorithm NumPy and PyTorch use: runs of old axes that are contiguous with each other regroup freely).
 */
function viewStrides(x: Tensor, shape: Shape): number[] | null {
  if (x.size === 0 || isContiguous(x.shape, x.strides)) return contiguousStrides(shape);
  const old = x.shape.map((d, i) => [d, x.strides[i]!] as const).filter(([d]) => d !== 1);
  const out = new Array<number>(shape.length);
  let oi = 0;
  let ni = 0;
  while (ni < shape.length) {
    if (shape[ni] === 1) {
      out[ni] = 1;
      ni++;
      continue;
    }
    // Take old axes until their product equals the product of the next new axes.
    const n0 = ni;
    const o0 = oi;
    let np = shape[ni++]!;
    let op = oi < old.length ? old[oi++]![0] : 1;
    while (np !== op) {
      if (np < op) {
        if (ni >= shape.length) return null;
        np *= shape[ni++]!;
      } else {
        if (oi >= old.length) return null;
        op *= old[oi++]![0];
      }
    }
    for (let k = o0; k < oi - 1; k++) if (old[k]![1] !== old[k + 1]![1] * old[k + 1]![0]) return null;
    let stride = oi > o0 ? old[oi - 1]![1] : 1;
    for (let k = ni - 1; k >= n0; k--) {
      out[k] = stride;
      stride *= shape[k]!;
    }
  }
  return oi === old.length ? out : null;
}

/** The same elements read as `shape` (one entry may be −1); copies only when no view is possible. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape('reshape', x.shape, shape);
  const strides = viewStrides(x, s);
  const src = strides === null ? contiguous(x) : x;
  const out = makeView(src, s, strides ?? contiguousStrides(s), src.offset);
  return record('reshape', out, [x], (g) => [reshape(g, x.shape)]);
}

/** Like {@link reshape} but never copies: throws when the strides do not allow a view. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape('view', x.shape, shape);
  const strides = viewStrides(x, s);
  if (strides === null) {
    throw new RangeError(`view: ${fmt(x.shape)} with strides ${fmt(x.strides)} cannot be viewed as ${fmt(s)}; use reshape()`);
  }
  return record('view', makeView(x, s, strides, x.offset), [x], (g) => [reshape(g, x.shape)]);
}

/** Reorders axes: output axis i is input axis `dims[i]`. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) throw new RangeError(`permute: ${dims.length} axes given for a tensor of rank ${x.ndim}`);
  const d = dims.map((a) => normAxis('permute', a, x.ndim));
  if (new Set(d).size !== d.length) throw new RangeError(`permute: repeated axis in ${fmt(dims)}`);
  const out = makeView(x, d.map((a) => x.shape[a]!), d.map((a) => x.strides[a]!), x.offset);
  const inverse = new Array<number>(d.length);
  d.forEach((a, i) => (inverse[a] = i));
  return record('permute', out, [x], (g) => [permute(g, inverse)]);
}

/** Swaps two axes (the last two by default). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const dims = Array.from({ length: x.ndim }, (_, i) => i);
  const i = normAxis('transpose', a, x.ndim);
  const j = normAxis('transpose', b, x.ndim);
  [dims[i], dims[j]] = [dims[j]!, dims[i]!];
  return permute(x, dims);
}

/** Broadcasts to `shape` without copying (size-1 axes stretch; −1 keeps an axis; new axes go in front). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  if (lead < 0) throw new RangeError(`expand: cannot expand ${fmt(x.shape)} to fewer axes ${fmt(shape)}`);
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  checkShape('expand', target);
  const strides = target.map((d, i) => {
    if (i < lead) return 0;
    const xd = x.shape[i - lead]!;
    if (xd === d) return x.strides[i - lead]!;
    if (xd === 1) return 0;
    throw new RangeError(`expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)} (axis ${i - lead}: ${xd} → ${d})`);
  });
  return record('expand', makeView(x, target, strides, x.offset), [x], (g) => [sumToShape(g, x.shape)]);
}

/** Removes size-1 axes: the given one(s), or all when omitted. */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  let drop: number[];
  if (axes === undefined) drop = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  else {
    drop = (typeof axes === 'number' ? [axes] : axes).map((a) => normAxis('squeeze', a, x.ndim));
    for (const a of drop) {
      if (x.shape[a] !== 1) throw new RangeError(`squeeze: axis ${a} of ${fmt(x.shape)} has size ${x.shape[a]}, not 1`);
    }
  }
  return reshape(x, x.shape.filter((_, i) => !drop.includes(i)));
}

/** Inserts a size-1 axis at `axis` (−1 appends). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('unsqueeze', axis, x.ndim + 1);
  const shape = x.shape.slice();
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Flattens axes `start..end` (inclusive) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis('flatten', start, x.ndim);
  const e = normAxis('flatten', end, x.ndim);
  if (s > e) throw new RangeError(`flatten: start axis ${start} comes after end axis ${end}`);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** One axis's slice: `[start, stop, step]` (Python semantics: negative counts from the end; clamped). */
export type SliceRange = readonly [start?: number | null, stop?: number | null, step?: number] | null | undefined;

interface Resolved {
  start: number;
  len: number;
  step: number;
}

function resolveSlice(op: string, r: SliceRange, n: number, axis: number): Resolved {
  if (r === null || r === undefined) return { start: 0, len: n, step: 1 };
  if (!Array.isArray(r)) {
    throw new TypeError(`${op}: the range of axis ${axis} must be [start, stop, step] or null, got ${String(r)} (for one index, use [i, i + 1])`);
  }
  const [s0, e0, step = 1] = r;
  if (!Number.isInteger(step) || step <= 0) {
    throw new RangeError(`${op}: step must be a positive integer on axis ${axis}, got ${step}`);
  }
  const clampIdx = (v: number | null | undefined, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    if (!Number.isInteger(v)) throw new TypeError(`${op}: slice bounds must be integers on axis ${axis}, got ${v}`);
    const w = v < 0 ? v + n : v;
    return Math.min(Math.max(w, 0), n);
  };
  const start = clampIdx(s0, 0);
  const stop = clampIdx(e0, n);
  return { start, len: Math.max(0, Math.ceil((stop - start) / step)), step };
}

/**
 * A strided slice: one `[start, stop, step]` (or `null` for "all") per leading axis, Python semantics.
 *
 * @example
 * x.slice([0, 2], null, [null, null, 2]) // rows 0–1, every column of axis 1, even entries of axis 2
 */
export function slice(x: Tensor, ranges: readonly SliceRange[]): Tensor {
  if (ranges.length > x.ndim) throw new RangeError(`slice: ${ranges.length} ranges for a tensor of rank ${x.ndim}`);
  const res = x.shape.map((n, i) => resolveSlice('slice', ranges[i], n, i));
  let offset = x.offset;
  res.forEach((r, i) => {
    if (r.len > 0) offset += r.start * x.strides[i]!;
  });
  const out = makeView(
    x,
    res.map((r) => r.len),
    res.map((r, i) => r.step * x.strides[i]!),
    offset,
  );
  return record('slice', out, [x], (g) => [sliceScatter(g, x.shape, ranges)]);
}

/** `length` entries of `axis` from `start`. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normAxis('narrow', axis, x.ndim);
  const n = x.shape[a]!;
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
    throw new RangeError(`narrow: start ${start} and length ${length} do not fit axis ${a} of size ${n}`);
  }
  const ranges: SliceRange[] = x.shape.map(() => null);
  ranges[a] = [s, s + length];
  return slice(x, ranges);
}

/**
 * Zeros of `shape` with `src` written into the slice `ranges`: the adjoint of {@link slice}, which is
 * also its backward rule. Its own backward is the slice again.
 */
export function sliceScatter(src: Tensor, shape: Shape, ranges: readonly SliceRange[]): Tensor {
  const be = src.backend;
  const out = fromBuffer(be, be.alloc(src.dtype, sizeOf(shape)), shape);
  const res = shape.map((n, i) => resolveSlice('sliceScatter', ranges[i], n, i));
  const base = contiguousStrides(shape);
  let offset = 0;
  res.forEach((r, i) => {
    if (r.len > 0) offset += r.start * base[i]!;
  });
  const dst = { buffer: out.buffer, shape: src.shape, strides: res.map((r, i) => r.step * base[i]!), offset };
  const so = operand(src);
  runKernel(be.name, 'copy', [so], () => be.copy(so, dst));
  return record('sliceScatter', out, [src], (g) => [slice(g, ranges)]);
}

/** A contiguous (row-major) tensor with the same values; `x` itself when it already is one. */
export function contiguous(x: Tensor): Tensor {
  if (isContiguous(x.shape, x.strides)) return x;
  return clone(x);
}

/** A contiguous copy with its own storage. Gradients flow through unchanged. */
export function clone(x: Tensor): Tensor {
  const be = x.backend;
  const buf = be.alloc(x.dtype, x.size);
  const src = operand(x);
  const dst = { buffer: buf, shape: x.shape, strides: contiguousStrides(x.shape), offset: 0 };
  runKernel(be.name, 'copy', [src], () => be.copy(src, dst));
  return record('clone', fromBuffer(be, buf, x.shape), [x], (g) => [g]);
}
