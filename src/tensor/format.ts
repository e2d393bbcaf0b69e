/**
 * A readable text form of tensors, in PyTorch's style: `tensor([[1.0000, 2.0000], …], dtype=float64)`.
 * @module
 */
import type { DType, TypedArray } from './dtype.js';
import type { Shape } from './shape.js';

const EDGE = 3; // entries shown at each end of a long axis
const LIMIT = 1000; // tensors larger than this are summarised

function formatter(values: TypedArray, dtype: DType): (v: number) => string {
  if (dtype === 'bool') return (v) => (v ? 'True' : 'False');
  if (dtype === 'int32') return (v) => String(v);
  let maxAbs = 0;
  let minAbs = Infinity;
  let allInt = true;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    if (a > 0 && a < minAbs) minAbs = a;
    if (!Number.isInteger(v)) allInt = false;
  }
  const sci = maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity) || maxAbs / minAbs > 1e6;
  return (v) => {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    // PyTorch writes at least two exponent digits: 1.0000e-05, not JS's 1.0000e-5.
    if (sci) return v.toExponential(4).replace(/e([+-])(\d)$/, (_m, sign: string, d: string) => `e${sign}0${d}`);
    return allInt ? `${v.toFixed(0)}.` : v.toFixed(4);
  };
}

/** Formats row-major `values` of `shape` as nested brackets, eliding the middle of long axes. */
export function formatTensor(values: TypedArray, shape: Shape, dtype: DType, requiresGrad: boolean): string {
  const size = values.length;
  const summarise = size > LIMIT;
  const f = formatter(values, dtype);
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  // Format only what is shown: a summarised tensor shows its edges, not all its elements.
  const cells = new Map<number, string>();
  const cell = (off: number): string => {
    let c = cells.get(off);
    if (c === undefined) cells.set(off, (c = f(values[off]!)));
    return c;
  };
  const indent = 'tensor('.length;
  const rec = (axis: number, off: number): string => {
    if (axis === shape.length) return `\u0000${off}\u0000`;
    const n = shape[axis]!;
    const idx: (number | null)[] = [];
    if (summarise && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) idx.push(i);
      idx.push(null);
      for (let i = n - EDGE; i < n; i++) idx.push(i);
    } else for (let i = 0; i < n; i++) idx.push(i);
    const parts = idx.map((i) => (i === null ? '...' : rec(axis + 1, off + i * strides[axis]!)));
    const last = axis === shape.length - 1;
    const sep = last ? ', ' : ',' + '\n'.repeat(shape.length - axis - 1) + ' '.repeat(indent + axis + 1);
    return `[${parts.join(sep)}]`;
  };
  // Lay out first with placeholders, then pad every shown cell to the widest one.
  const layout = shape.length === 0 ? '\u00000\u0000' : rec(0, 0);
  const shown = [...layout.matchAll(/\u0000(\d+)\u0000/g)].map((m) => cell(Number(m[1])));
  const width = Math.max(0, ...shown.map((c) => c.length));
  const body = layout.replace(/\u0000(\d+)\u0000/g, (_, o: string) => cell(Number(o)).padStart(width));
  const extras: string[] = [];
  if (size === 0) extras.push(`size=[${shape.join(', ')}]`);
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') extras.push(`dtype=${dtype}`);
  if (dtype === 'int32') extras.push('dtype=int32');
  if (requiresGrad) extras.push('requiresGrad=true');
  return `tensor(${body}${extras.length ? ', ' + extras.join(', ') : ''})`;
}
