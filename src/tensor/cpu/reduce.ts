/**
 * CPU reductions: sum/prod/max/min over a set of axes, argmax/argmin and cumsum along one axis.
 * @module
 */
import type { ArgReduceOp, ReduceOp } from '../backend.js';
import type { TypedArray } from '../dtype.js';
import type { Shape } from '../shape.js';
import { coalesce, outerOffsets, type Layout } from './strided.js';

/** Splits a view into kept (outer) and reduced (inner) axes: row starts and relative inner offsets. */
function split(shape: Shape, l: Layout, axes: readonly number[]): { starts: Int32Array; inner: Int32Array } {
  const outerShape: number[] = [];
  const outerStrides: number[] = [];
  const innerShape: number[] = [];
  const innerStrides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      innerShape.push(shape[i]!);
      innerStrides.push(l.strides[i]!);
    } else {
      outerShape.push(shape[i]!);
      outerStrides.push(l.strides[i]!);
    }
  }
  const ci = coalesce(innerShape, [innerStrides]);
  return {
    starts: outerOffsets(outerShape, outerStrides, l.offset),
    inner: outerOffsets(ci.shape, ci.strides[0]!, 0),
  };
}

/** Folds `n` elements of `x` at `base + j·step` (a strided run) or at `base + inner[j]`. */
function fold(op: ReduceOp, x: TypedArray, base: number, n: number, step: number, inner: Int32Array | null): number {
  if (op === 'sum' && inner === null) {
    // The hot case gets its own loop: no per-element dispatch.
    let acc = 0;
    for (let j = 0, i = base; j < n; j++, i += step) acc += x[i]!;
    return acc;
  }
  let acc = op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' ? -Infinity : Infinity;
  for (let j = 0, i = base; j < n; j++, i += step) {
    const v = x[inner === null ? i : base + inner[j]!]!;
    switch (op) {
      case 'sum':
        acc += v;
        break;
      case 'prod':
        acc *= v;
        break;
      case 'max':
        if (v > acc || v !== v) acc = v;
        break;
      case 'min':
        if (v < acc || v !== v) acc = v;
        break;
    }
    if (acc !== acc && (op === 'max' || op === 'min')) break; // NaN propagates
  }
  return acc;
}

/**
 * Reduces `axes` of the view into the contiguous `out`. Sums accumulate in double precision. When the
 * reduced axes coalesce into one strided run (the common case) no index table is built.
 */
export function reduceKernel(op: ReduceOp, x: TypedArray, l: Layout, shape: Shape, axes: readonly number[], out: TypedArray): void {
  const outerShape: number[] = [];
  const outerStrides: number[] = [];
  const innerShape: number[] = [];
  const innerStrides: number[] = [];
  shape.forEach((d, i) => {
    (axes.includes(i) ? innerShape : outerShape).push(d);
    (axes.includes(i) ? innerStrides : outerStrides).push(l.strides[i]!);
  });
  const starts = outerOffsets(outerShape, outerStrides, l.offset);
  const ci = coalesce(innerShape, [innerStrides]);
  const n = innerShape.reduce((p, d) => p * d, 1);
  const run = ci.shape.length <= 1;
  const step = run && ci.shape.length === 1 ? ci.strides[0]![0]! : 0;
  const inner = run ? null : outerOffsets(ci.shape, ci.strides[0]!, 0);
  for (let r = 0; r < starts.length; r++) out[r] = fold(op, x, starts[r]!, n, step, inner);
}

/** Index of the first extreme value along `axis` (NaN counts as the extreme, as in PyTorch). */
export function argReduceKernel(op: ArgReduceOp, x: TypedArray, l: Layout, shape: Shape, axis: number, out: Int32Array): void {
  const { starts } = split(shape, l, [axis]);
  const n = shape[axis]!;
  const s = l.strides[axis]!;
  const max = op === 'argmax';
  for (let r = 0; r < starts.length; r++) {
    const base = starts[r]!;
    let best = x[base]!;
    let bi = 0;
    for (let j = 1; j < n && best === best; j++) {
      const v = x[base + j * s]!;
      if ((max ? v > best : v < best) || v !== v) {
        best = v;
        bi = j;
      }
    }
    out[r] = bi;
  }
}

/** Inclusive prefix sums along `axis` into the contiguous `out` (same shape as the view). */
export function cumsumKernel(x: TypedArray, l: Layout, shape: Shape, axis: number, out: TypedArray): void {
  const { starts } = split(shape, l, [axis]);
  const n = shape[axis]!;
  const s = l.strides[axis]!;
  // Output is contiguous with `shape`; the stride of `axis` there is the product of later dims.
  let os = 1;
  for (let i = axis + 1; i < shape.length; i++) os *= shape[i]!;
  const outer = contiguousOuterStarts(shape, axis);
  for (let r = 0; r < starts.length; r++) {
    let acc = 0;
    let i = starts[r]!;
    let o = outer[r]!;
    for (let j = 0; j < n; j++, i += s, o += os) {
      acc += x[i]!;
      out[o] = acc;
    }
  }
}

function contiguousOuterStarts(shape: Shape, axis: number): Int32Array {
  const outerShape: number[] = [];
  const outerStrides: number[] = [];
  let st = 1;
  const strides = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = st;
    st *= shape[i]!;
  }
  for (let i = 0; i < shape.length; i++) {
    if (i === axis) continue;
    outerShape.push(shape[i]!);
    outerStrides.push(strides[i]!);
  }
  return outerOffsets(outerShape, outerStrides, 0);
}
