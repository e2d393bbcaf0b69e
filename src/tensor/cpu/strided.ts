/**
 * Walking strided views: axes are coalesced where every operand allows, then the kernels loop over
 * "rows" (runs along the last remaining axis) whose start offsets are precomputed.
 * @module
 */
import type { Shape } from '../shape.js';

/** A strided layout: strides and offset, as in an {@link Operand}. */
export interface Layout {
  readonly strides: readonly number[];
  readonly offset: number;
}

/** Rows to visit: `rows` runs of `len` elements; operand `k` starts row `r` at `starts[k][r]`, stepping `steps[k]`. */
export interface RowPlan {
  readonly rows: number;
  readonly len: number;
  readonly starts: Int32Array[];
  readonly steps: number[];
}

/**
 * Merges neighbouring axes that every layout walks as one (stride[i] = stride[i+1]·shape[i+1]) and drops
 * axes of size 1, so kernels see as few and as long rows as possible.
 */
export function coalesce(shape: Shape, strides: (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[i]! * d)) {
      outShape[last] = outShape[last]! * d;
      for (let k = 0; k < strides.length; k++) outStrides[k]![last] = strides[k]![i]!;
    } else {
      outShape.push(d);
      for (let k = 0; k < strides.length; k++) outStrides[k]!.push(strides[k]![i]!);
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Start offset of every row of an outer shape, row-major. */
export function outerOffsets(shape: readonly number[], strides: readonly number[], offset: number): Int32Array {
  let rows = 1;
  for (const d of shape) rows *= d;
  const out = new Int32Array(rows);
  if (rows === 0) return out;
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let off = offset;
  for (let r = 0; r < rows; r++) {
    out[r] = off;
    for (let a = nd - 1; a >= 0; a--) {
      idx[a]!++;
      off += strides[a]!;
      if (idx[a]! < shape[a]!) break;
      off -= strides[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

/** Plans a joint walk of several layouts over one shape. */
export function planRows(shape: Shape, layouts: readonly Layout[]): RowPlan {
  let size = 1;
  for (const d of shape) size *= d;
  if (size === 0) return { rows: 0, len: 0, starts: layouts.map(() => new Int32Array(0)), steps: layouts.map(() => 0) };
  const c = coalesce(
    shape,
    layouts.map((l) => l.strides),
  );
  if (c.shape.length === 0) {
    return { rows: 1, len: 1, starts: layouts.map((l) => Int32Array.of(l.offset)), steps: layouts.map(() => 0) };
  }
  const nd = c.shape.length;
  const len = c.shape[nd - 1]!;
  const outer = c.shape.slice(0, nd - 1);
  const starts = layouts.map((l, k) => outerOffsets(outer, c.strides[k]!.slice(0, nd - 1), l.offset));
  return { rows: starts[0]!.length, len, starts, steps: c.strides.map((s) => s[nd - 1]!) };
}
