/**
 * Shapes, strides and broadcasting, with the checks that give clear errors.
 * @module
 */

/** A tensor's shape: the size of each axis. */
export type Shape = readonly number[];

/** Formats a shape for error messages: `[2,3]`. */
export function fmt(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** The number of elements of a shape. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides of a shape. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True when `strides` are the row-major strides of `shape` (axes of size 1 may have any stride). */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== s) return false;
    s *= shape[i]!;
  }
  return true;
}

/** Throws unless `shape` is a list of non-negative integers. */
export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${op}: shape must be an array of integers, got ${String(shape)}`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new RangeError(`${op}: shape must hold non-negative integers, got ${JSON.stringify(shape)}`);
    }
  }
  return shape.slice() as number[];
}

/** Normalises a possibly negative axis against `ndim`, throwing if it is out of range. */
export function normAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis)) throw new TypeError(`${op}: axis must be an integer, got ${axis}`);
  const lo = ndim === 0 ? -1 : -ndim;
  const hi = ndim === 0 ? 0 : ndim - 1;
  if (axis < lo || axis > hi) {
    throw new RangeError(`${op}: axis ${axis} is out of range for a tensor of rank ${ndim} (expected ${lo}..${hi})`);
  }
  return axis < 0 ? axis + Math.max(ndim, 1) : axis;
}

/** Normalises a list of axes (or all axes when `axes` is undefined), rejecting duplicates; sorted ascending. */
export function normAxes(op: string, axes: number | readonly number[] | undefined, ndim: number): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = list.map((a) => normAxis(op, a, ndim));
  const seen = new Set<number>();
  for (const a of out) {
    if (seen.has(a)) throw new RangeError(`${op}: axis ${a} appears more than once in ${JSON.stringify(list)}`);
    seen.add(a);
  }
  // A 0-d tensor accepts axis 0 / -1 as "the only element"; it has no axes to reduce.
  return out.filter((a) => a < ndim).sort((x, y) => x - y);
}

/** The broadcast shape of several shapes, NumPy rules; throws naming the op and the shapes. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const ndim = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(ndim).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = ndim - s.length + i;
      const d = s[i]!;
      if (d === out[j]) continue;
      if (out[j] === 1) out[j] = d;
      else if (d !== 1) {
        throw new RangeError(`${op}: shapes cannot be broadcast together: ${shapes.map(fmt).join(' and ')}`);
      }
    }
  }
  return out;
}

/** Resolves one `-1` in a reshape target against `size`, checking that the sizes agree. */
export function inferShape(op: string, from: Shape, to: readonly number[]): number[] {
  const size = sizeOf(from);
  let known = 1;
  let hole = -1;
  for (let i = 0; i < to.length; i++) {
    const d = to[i]!;
    if (d === -1) {
      if (hole >= 0) throw new RangeError(`${op}: only one dimension can be -1, got ${fmt(to)}`);
      hole = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${op}: invalid dimension ${d} in ${fmt(to)}`);
    } else known *= d;
  }
  const out = to.slice();
  if (hole >= 0) {
    if (known === 0 || size % known !== 0) {
      throw new RangeError(`${op}: cannot reshape ${fmt(from)} (size ${size}) into ${fmt(to)}`);
    }
    out[hole] = size / known;
  } else if (known !== size) {
    throw new RangeError(`${op}: cannot reshape ${fmt(from)} (size ${size}) into ${fmt(to)} (size ${known})`);
  }
  return out;
}

/** Shapes equal element by element. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
