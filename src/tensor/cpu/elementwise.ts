/**
 * CPU elementwise kernels: unary, binary and where over strided operands, with a contiguous fast path.
 * @module
 */
import type { BinaryOp, UnaryOp } from '../backend.js';
import type { TypedArray } from '../dtype.js';
import type { Shape } from '../shape.js';
import { erf, erfFast, sigmoid, softplus } from './math.js';
import { planRows, type Layout } from './strided.js';

type Fn1 = (x: number) => number;
type Fn2 = (a: number, b: number) => number;

/** Scalar forms of the unary ops; `precise` selects double-precision erf (float64 outputs). */
export function unaryFn(op: UnaryOp, precise: boolean): Fn1 {
  switch (op) {
    case 'neg':
      return (x) => -x;
    case 'exp':
      return Math.exp;
    case 'log':
      return Math.log;
    case 'log1p':
      return Math.log1p;
    case 'sqrt':
      return Math.sqrt;
    case 'rsqrt':
      return (x) => 1 / Math.sqrt(x);
    case 'abs':
      return Math.abs;
    case 'sign':
      return Math.sign;
    case 'sin':
      return Math.sin;
    case 'cos':
      return Math.cos;
    case 'tanh':
      return Math.tanh;
    case 'sigmoid':
      return sigmoid;
    case 'relu':
      return (x) => (x > 0 || x !== x ? x : 0);
    case 'erf':
      return precise ? erf : erfFast;
    case 'softplus':
      return softplus;
    case 'not':
      return (x) => (x === 0 ? 1 : 0);
  }
}

/** Scalar forms of the binary ops. NaN propagates through maximum and minimum, as in PyTorch. */
export function binaryFn(op: BinaryOp): Fn2 {
  switch (op) {
    case 'add':
      return (a, b) => a + b;
    case 'sub':
      return (a, b) => a - b;
    case 'mul':
      return (a, b) => a * b;
    case 'div':
      return (a, b) => a / b;
    case 'pow':
      return Math.pow;
    case 'maximum':
      return (a, b) => (a > b || a !== a ? a : b);
    case 'minimum':
      return (a, b) => (a < b || a !== a ? a : b);
    case 'eq':
      return (a, b) => (a === b ? 1 : 0);
    case 'ne':
      return (a, b) => (a !== b ? 1 : 0);
    case 'lt':
      return (a, b) => (a < b ? 1 : 0);
    case 'le':
      return (a, b) => (a <= b ? 1 : 0);
    case 'gt':
      return (a, b) => (a > b ? 1 : 0);
    case 'ge':
      return (a, b) => (a >= b ? 1 : 0);
    case 'and':
      return (a, b) => (a !== 0 && b !== 0 ? 1 : 0);
    case 'or':
      return (a, b) => (a !== 0 || b !== 0 ? 1 : 0);
  }
}

/** Writes `f(x)` for every element of the view `x` into the contiguous `out`. */
export function unaryKernel(f: Fn1, x: TypedArray, xl: Layout, shape: Shape, out: TypedArray): void {
  const p = planRows(shape, [xl]);
  const sx = p.steps[0]!;
  const starts = p.starts[0]!;
  let o = 0;
  for (let r = 0; r < p.rows; r++) {
    let i = starts[r]!;
    for (let j = 0; j < p.len; j++, i += sx) out[o++] = f(x[i]!);
  }
}

/** Writes `f(a, b)` elementwise into the contiguous `out`, with hand-written loops for add/sub/mul/div. */
export function binaryKernel(op: BinaryOp, a: TypedArray, al: Layout, b: TypedArray, bl: Layout, shape: Shape, out: TypedArray): void {
  const p = planRows(shape, [al, bl]);
  const [sa, sb] = p.steps as [number, number];
  const [ra, rb] = p.starts as [Int32Array, Int32Array];
  const len = p.len;
  let o = 0;
  for (let r = 0; r < p.rows; r++) {
    let ia = ra[r]!;
    let ib = rb[r]!;
    switch (op) {
      case 'add':
        for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o++] = a[ia]! + b[ib]!;
        break;
      case 'sub':
        for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o++] = a[ia]! - b[ib]!;
        break;
      case 'mul':
        for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o++] = a[ia]! * b[ib]!;
        break;
      case 'div':
        for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o++] = a[ia]! / b[ib]!;
        break;
      default: {
        const f = binaryFn(op);
        for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o++] = f(a[ia]!, b[ib]!);
      }
    }
  }
}

/** `out = c ? a : b` elementwise into the contiguous `out`. */
export function whereKernel(
  c: TypedArray,
  cl: Layout,
  a: TypedArray,
  al: Layout,
  b: TypedArray,
  bl: Layout,
  shape: Shape,
  out: TypedArray,
): void {
  const p = planRows(shape, [cl, al, bl]);
  const [sc, sa, sb] = p.steps as [number, number, number];
  let o = 0;
  for (let r = 0; r < p.rows; r++) {
    let ic = p.starts[0]![r]!;
    let ia = p.starts[1]![r]!;
    let ib = p.starts[2]![r]!;
    for (let j = 0; j < p.len; j++, ic += sc, ia += sa, ib += sb) out[o++] = c[ic] !== 0 ? a[ia]! : b[ib]!;
  }
}

/** Copies the view `src` into the view `dst` (same shape), converting to `dst`'s element type. */
export function copyKernel(src: TypedArray, sl: Layout, dst: TypedArray, dl: Layout, shape: Shape, toBool: boolean): void {
  const p = planRows(shape, [sl, dl]);
  const [ss, ds] = p.steps as [number, number];
  for (let r = 0; r < p.rows; r++) {
    let i = p.starts[0]![r]!;
    let o = p.starts[1]![r]!;
    if (toBool) for (let j = 0; j < p.len; j++, i += ss, o += ds) dst[o] = src[i] !== 0 ? 1 : 0;
    else for (let j = 0; j < p.len; j++, i += ss, o += ds) dst[o] = src[i]!;
  }
}
