/**
 * CPU gather, scatter-add, sort and top-k.
 * @module
 */
import type { TypedArray } from '../dtype.js';
import type { Shape } from '../shape.js';
import { contiguousStrides } from '../shape.js';
import { outerOffsets, planRows, type Layout } from './strided.js';

function badIndex(op: string, v: number, n: number, axis: number): RangeError {
  return new RangeError(`${op}: index ${v} is out of range for axis ${axis} of size ${n}`);
}

/** `out[p] = x[p with p[axis] := index[p]]`, out shaped like the index view. */
export function gatherKernel(
  x: TypedArray,
  xl: Layout,
  xShape: Shape,
  axis: number,
  idx: TypedArray,
  il: Layout,
  shape: Shape,
  out: TypedArray,
): void {
  const n = xShape[axis]!;
  const sAxis = xl.strides[axis]!;
  const xBase = { strides: xl.strides.map((s, i) => (i === axis ? 0 : s)), offset: xl.offset };
  const p = planRows(shape, [xBase, il]);
  const [sx, si] = p.steps as [number, number];
  let o = 0;
  for (let r = 0; r < p.rows; r++) {
    let ix = p.starts[0]![r]!;
    let ii = p.starts[1]![r]!;
    for (let j = 0; j < p.len; j++, ix += sx, ii += si) {
      const v = idx[ii]!;
      if (v < 0 || v >= n) throw badIndex('gather', v, n, axis);
      out[o++] = x[ix + v * sAxis]!;
    }
  }
}

/** Adds `src[p]` into `out[p with p[axis] := index[p]]`; `out` is contiguous with shape `outShape`. */
export function scatterAddKernel(
  out: TypedArray,
  outShape: Shape,
  axis: number,
  idx: TypedArray,
  il: Layout,
  src: TypedArray,
  sl: Layout,
  shape: Shape,
): void {
  const n = outShape[axis]!;
  const ostr = contiguousStrides(outShape);
  const sAxis = ostr[axis]!;
  const oBase = { strides: ostr.map((s, i) => (i === axis ? 0 : s)), offset: 0 };
  const p = planRows(shape, [oBase, il, sl]);
  const [so, si, ss] = p.steps as [number, number, number];
  for (let r = 0; r < p.rows; r++) {
    let io = p.starts[0]![r]!;
    let ii = p.starts[1]![r]!;
    let is = p.starts[2]![r]!;
    for (let j = 0; j < p.len; j++, io += so, ii += si, is += ss) {
      const v = idx[ii]!;
      if (v < 0 || v >= n) throw badIndex('scatterAdd', v, n, axis);
      out[io + v * sAxis] += src[is]!;
    }
  }
}

/** Row starts of a view along `axis` and the matching starts in a contiguous output of the same shape. */
function lanes(shape: Shape, l: Layout, axis: number): { inStarts: Int32Array; outStarts: Int32Array; outStride: number } {
  const os = contiguousStrides(shape);
  const keep = shape.map((_, i) => i).filter((i) => i !== axis);
  return {
    inStarts: outerOffsets(keep.map((i) => shape[i]!), keep.map((i) => l.strides[i]!), l.offset),
    outStarts: outerOffsets(keep.map((i) => shape[i]!), keep.map((i) => os[i]!), 0),
    outStride: os[axis]!,
  };
}

/**
 * Orders `a` before `b`: ascending with NaN last, or descending with NaN first (PyTorch's convention).
 * Two NaNs compare equal, so a stable sort keeps them in index order.
 */
function compare(descending: boolean): (a: number, b: number) => number {
  return descending
    ? (a, b) => (a === b || (a !== a && b !== b) ? 0 : a !== a ? -1 : b !== b ? 1 : b - a)
    : (a, b) => (a === b || (a !== a && b !== b) ? 0 : a !== a ? 1 : b !== b ? -1 : a - b);
}

/**
 * Stable sort of every lane along `axis`, keeping the first `k` entries of each (k = the axis size for a
 * full sort). `values` and `indices` are contiguous with the lane axis shortened to `k`.
 */
export function sortKernel(
  x: TypedArray,
  l: Layout,
  shape: Shape,
  axis: number,
  descending: boolean,
  k: number,
  values: TypedArray,
  indices: Int32Array,
): void {
  const n = shape[axis]!;
  const outShape = shape.slice();
  outShape[axis] = k;
  const { inStarts } = lanes(shape, l, axis);
  const { outStarts, outStride } = lanes(outShape, { strides: contiguousStrides(outShape), offset: 0 }, axis);
  const s = l.strides[axis]!;
  const cmp = compare(descending);
  const lane = new Float64Array(n);
  const order: number[] = new Array<number>(n);
  for (let r = 0; r < inStarts.length; r++) {
    for (let j = 0, i = inStarts[r]!; j < n; j++, i += s) {
      lane[j] = x[i]!;
      order[j] = j;
    }
    // Array.prototype.sort is stable (ES2019), so equal values keep their order.
    order.sort((p, q) => cmp(lane[p]!, lane[q]!));
    for (let j = 0, o = outStarts[r]!; j < k; j++, o += outStride) {
      values[o] = lane[order[j]!]!;
      indices[o] = order[j]!;
    }
  }
}
