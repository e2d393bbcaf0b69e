/**
 * WebGL elementwise kernels: unary, binary and where over strided, broadcast operands (axes that every
 * operand walks alike are coalesced first), and the strided copy/cast into a view of a buffer.
 *
 * Textures are immutable to a kernel, so a copy into a view renders the whole destination buffer anew:
 * each fragment inverts the view's index map to find whether (and from which source element) it is
 * written. The inversion is greedy over the view's axes by decreasing stride, which is exact when each
 * stride exceeds the span of the smaller ones (every view made by slicing, transposing or reshaping a
 * contiguous buffer); other views return null and the backend copies on the host.
 * @module
 */
import type { BinaryOp, Operand, UnaryOp } from '../backend.js';
import type { DType } from '../dtype.js';
import { coalesce } from '../cpu/strided.js';
import { contiguousStrides, isContiguous, sizeOf } from '../shape.js';
import type { WebGLBuffer } from './buffer.js';
import { BINARY_CODES, UNARY_CODES, storeCode } from './glsl.js';
import type { GLKernelHost } from './runner.js';
import { GLParams, walk } from './source.js';

const NAMES = ['a', 'b', 'c'] as const;

/** Reads `operands` (same shape) elementwise; `expr` combines `a[ai]`, `b[bi]`, `c[ci]`. */
function elementwise(host: GLKernelHost, op: string, operands: readonly Operand[], outDtype: DType, p: GLParams, expr: string): WebGLBuffer {
  const shape = operands[0]!.shape;
  const size = sizeOf(shape);
  const c = coalesce(shape, [contiguousStrides(shape), ...operands.map((o) => o.strides)]);
  const decls = operands.map((o, k) => {
    const v = NAMES[k]!;
    p.add(v, host.input(op, o.buffer));
    return `let ${v}i = ${p.add(`${v}o`, o.offset)};`;
  });
  const axes = c.shape.map((n, d) => ({ size: n, strides: Object.fromEntries(operands.map((_, k) => [`${NAMES[k]}i`, c.strides[k + 1]![d]!])) }));
  const body = [...decls, walk(p, 'e', 'this.thread.x', axes), `return bt_store(dcode, ${expr});`].join('\n');
  return host.launch(op, outDtype, size, p, body);
}

/** `out = op(x)` stored as `outDtype`. */
export function unary(host: GLKernelHost, op: UnaryOp | 'copy', x: Operand, outDtype: DType): WebGLBuffer {
  const p = new GLParams();
  p.add('code', UNARY_CODES.indexOf(op));
  p.add('dcode', storeCode(outDtype));
  return elementwise(host, op, [x], outDtype, p, 'bt_unary(code, a[ai])');
}

/** `out = op(a, b)` stored as `outDtype`. */
export function binary(host: GLKernelHost, op: BinaryOp, a: Operand, b: Operand, outDtype: DType): WebGLBuffer {
  const p = new GLParams();
  p.add('code', BINARY_CODES.indexOf(op));
  p.add('dcode', storeCode(outDtype));
  return elementwise(host, op, [a, b], outDtype, p, 'bt_binary(code, a[ai], b[bi])');
}

/** `out = cond ? a : b` stored as `outDtype`. */
export function where(host: GLKernelHost, cond: Operand, a: Operand, b: Operand, outDtype: DType): WebGLBuffer {
  const p = new GLParams();
  p.add('dcode', storeCode(outDtype));
  return elementwise(host, 'where', [cond, a, b], outDtype, p, 'bt_truthy(a[ai]) > 0.5 ? b[bi] : c[ci]');
}

/** Whether `dst` is its whole buffer, contiguous. */
function coversBuffer(dst: Operand): boolean {
  return dst.offset === 0 && isContiguous(dst.shape, dst.strides) && sizeOf(dst.shape) === dst.buffer.size;
}

/**
 * A new buffer holding what `dst`'s buffer holds once `src` is copied (and converted) into the view
 * `dst`, or null when the view cannot be inverted greedily (see the module notes).
 */
export function copied(host: GLKernelHost, src: Operand, dst: Operand): WebGLBuffer | null {
  const dtype = dst.buffer.dtype;
  if (coversBuffer(dst)) return unary(host, 'copy', src, dtype);
  const c = coalesce(src.shape, [src.strides, dst.strides]);
  const order = c.shape.map((_, k) => k).sort((i, j) => c.strides[1]![j]! - c.strides[1]![i]!);
  let span = 0;
  for (let k = order.length - 1; k >= 0; k--) {
    const d = order[k]!;
    const stride = c.strides[1]![d]!;
    if (stride <= span) return null;
    span += stride * (c.shape[d]! - 1);
  }
  const p = new GLParams();
  p.add('dcode', storeCode(dtype));
  p.add('s', host.input('copy', src.buffer));
  p.add('d', host.input('copy', dst.buffer));
  const lines = [
    `let rem = bt_f(this.thread.x) - ${p.add('doff', dst.offset)};`,
    'let inside = 1 - bt_lt(rem, 0);',
    `let si = ${p.add('soff', src.offset)};`,
  ];
  order.forEach((d, k) => {
    const [n, ds, ss] = [p.add(`n${k}`, c.shape[d]!), p.add(`ds${k}`, c.strides[1]![d]!), p.add(`ss${k}`, c.strides[0]![d]!)];
    lines.push(`let c${k} = bt_div(rem, ${ds});`, `inside = inside * bt_lt(c${k}, ${n});`, `rem = rem - c${k} * ${ds};`, `si = si + c${k} * ${ss};`);
  });
  lines.push('inside = inside * (1 - bt_lt(0, rem));', 'return inside > 0.5 ? bt_store(dcode, s[si]) : d[this.thread.x];');
  return host.launch('copy', dtype, dst.buffer.size, p, lines.join('\n'));
}
