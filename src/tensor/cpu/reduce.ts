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

/** Reduces `axes` of the view into the contiguous `out`. Sums accumulate in double precision. */
export function reduceKernel(op: ReduceOp, x: TypedArray, l: Layout, shape: Shape, axes: readonly number[], out: TypedArray): void {
  const { starts, inner } = split(shape, l, axes);
  const n = inner.length;
  for (let r = 0; r < starts.length; r++) {
    const base = starts[r]!;
    let acc: number;
    switch (op) {
      case 'sum':
        acc = 0;
        for (let j = 0; j < n; j++) acc += x[base + inner[j]!]!;
        break;
      case 'prod':
        acc = 1;
        for (let j = 0; j < n; j++) acc *= x[base + inner[j]!]!;
        break;
      case 'max':
        acc = -Infinity;
        for (let j = 0; j < n; j++) {
          const v = x[base + inner[j]!]!;
          if (v > acc || v !== v) acc = v;
          if (acc !== acc) break;
        }
        break;
      case 'min':
        acc = Infinity;
        for (let j = 0; j < n; j++) {
          const v = x[base + inner[j]!]!;
          if (v < acc || v !== v) acc = v;
          if (acc !== acc) break;
        }
        break;
    }
    out[r] = acc;
  }
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
