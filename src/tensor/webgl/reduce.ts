/**
 * WebGL reductions: sum/prod/max/min over a set of axes, argmax/argmin and cumsum along one axis. One
 * fragment computes one output element and loops over the elements it reduces (the reduced axes are
 * coalesced first). Sums and prefix sums are compensated (Kahan), which keeps float32 sums of thousands
 * of terms close to the CPU backend's float64 accumulation; max/min and argmax/argmin treat NaN as the
 * extreme value, as the CPU backend does.
 * @module
 */
import type { ArgReduceOp, Operand, ReduceOp } from '../backend.js';
import type { DType } from '../dtype.js';
import { coalesce } from '../cpu/strided.js';
import { contiguousStrides, sizeOf } from '../shape.js';
import type { WebGLBuffer } from './buffer.js';
import { REDUCE_CODES, storeCode } from './glsl.js';
import type { GLKernelHost } from './runner.js';
import { GLParams, laneAxes, pick, walk, type Axis } from './source.js';

/** Walk axes over the kept axes of `x` (the output, contiguous), adding `x`'s strides to `xi`. */
function outerAxes(x: Operand, keep: readonly number[]): Axis[] {
  const o = pick(x, keep);
  const c = coalesce(o.shape, [contiguousStrides(o.shape), o.strides]);
  return c.shape.map((size, k) => ({ size, strides: { xi: c.strides[1]![k]! } }));
}

/** The compensated step `acc += v` (Kahan): `comp` carries the low-order bits lost. */
const KAHAN = 'let y = v - comp;\nlet t = acc + y;\ncomp = bt_kcomp(t, acc, y);\nacc = t;';

/** Reduces `axes` of `x` away with `op`, stored as `outDtype`. */
export function reduce(host: GLKernelHost, op: ReduceOp, x: Operand, axes: readonly number[], outDtype: DType): WebGLBuffer {
  const keep = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const inner = pick(x, axes);
  let ic = coalesce(inner.shape, [inner.strides]);
  if (ic.shape.length === 0) ic = { shape: [1], strides: [[0]] };
  const p = new GLParams();
  p.add('code', REDUCE_CODES[op]);
  p.add('dcode', storeCode(outDtype));
  p.add('x', host.input(op, x.buffer));
  const lines = [`let xi = ${p.add('xo', x.offset)};`, walk(p, 'o', 'this.thread.x', outerAxes(x, keep)), 'let acc = bt_rinit(code);', 'let comp = bt_f(0);'];
  const index = ic.shape.map((n, k) => {
    lines.push(`for (let j${k} = 0; j${k} < ${p.add(`m${k}`, n)}; j${k}++) {`);
    return `bt_f(j${k}) * ${p.add(`is${k}`, ic.strides[0]![k]!)}`;
  });
  lines.push(`let v = x[xi + ${index.join(' + ')}];`, `if (code < 0.5) {\n${KAHAN}\n} else {\nacc = bt_racc(code, acc, v);\n}`);
  lines.push(...ic.shape.map(() => '}'), 'return bt_store(dcode, acc);');
  return host.launch(op, outDtype, sizeOf(keep.map((i) => x.shape[i]!)), p, lines.join('\n'));
}

/** The int32 index of the first extreme value along `axis` (NaN counts as the extreme). */
export function argReduce(host: GLKernelHost, op: ArgReduceOp, x: Operand, axis: number): WebGLBuffer {
  const keep = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const p = new GLParams();
  p.add('code', op === 'argmax' ? 0 : 1);
  p.add('x', host.input(op, x.buffer));
  const body = [
    `let xi = ${p.add('xo', x.offset)};`,
    walk(p, 'o', 'this.thread.x', outerAxes(x, keep)),
    'let best = x[xi];',
    'let bi = bt_f(0);',
    `for (let j = 1; j < ${p.add('n', x.shape[axis]!)}; j++) {`,
    `let v = x[xi + bt_f(j) * ${p.add('xas', x.strides[axis]!)}];`,
    'if (bt_better(code, v, best) > 0.5) {\nbest = v;\nbi = bt_f(j);\n}',
    '}',
    'return bi;',
  ].join('\n');
  return host.launch(op, 'int32', sizeOf(keep.map((i) => x.shape[i]!)), p, body);
}

/** Inclusive prefix sums along `axis`, stored as `outDtype` (contiguous, shaped like `x`). */
export function cumsum(host: GLKernelHost, x: Operand, axis: number, outDtype: DType): WebGLBuffer {
  const { before, after } = laneAxes(x, axis);
  const p = new GLParams();
  p.add('dcode', storeCode(outDtype));
  p.add('x', host.input('cumsum', x.buffer));
  const body = [
    `let xi = ${p.add('xo', x.offset)};`,
    walk(p, 'o', 'this.thread.x', [...before, { size: x.shape[axis]!, strides: {}, coord: 'pos' }, ...after]),
    'let acc = bt_f(0);',
    'let comp = bt_f(0);',
    `for (let j = 0; j < ${p.add('n', x.shape[axis]!)}; j++) {`,
    'if (bt_f(j) <= pos) {',
    `let v = x[xi + bt_f(j) * ${p.add('xas', x.strides[axis]!)}];`,
    KAHAN,
    '}',
    '}',
    'return bt_store(dcode, acc);',
  ].join('\n');
  return host.launch('cumsum', outDtype, sizeOf(x.shape), p, body);
}
