/**
 * WebGL gather, scatter-add and index checks.
 *
 * - gather: one fragment per output element reads its index, then the source element.
 * - scatterAdd: WebGL has no atomics (nor scattered writes), so it is turned around: one fragment per
 *   output element loops over the index entries of its lane (the index's positions that agree with it on
 *   every other axis) and adds the source values of those that point at it, in index order — the order
 *   in which the CPU backend adds them. It runs on the GPU, in O(output size · index length along axis).
 * - index checks: a kernel marks the first out-of-range index of each run of 64 (NaN where there is
 *   none); the backend reads those marks at the next read and raises a RangeError there, as the WebGPU
 *   backend does, so that no kernel waits for the GPU.
 * @module
 */
import type { Operand } from '../backend.js';
import { coalesce } from '../cpu/strided.js';
import { contiguousStrides, sizeOf } from '../shape.js';
import type { WebGLBuffer } from './buffer.js';
import type { GLKernelHost } from './runner.js';
import { GLParams, walk } from './source.js';

/** Index entries checked by one fragment of {@link indexMarks}. */
export const MARK_RUN = 64;

/** `out[p] = x[p with p[axis] := index[p]]`, shaped like `index`; out-of-range indices read a clamped one. */
export function gather(host: GLKernelHost, x: Operand, axis: number, index: Operand): WebGLBuffer {
  const xs = x.strides.map((s, i) => (i === axis ? 0 : s));
  const c = coalesce(index.shape, [contiguousStrides(index.shape), index.strides, xs]);
  const p = new GLParams();
  p.add('x', host.input('gather', x.buffer));
  p.add('ix', host.input('gather', index.buffer));
  const axes = c.shape.map((size, k) => ({ size, strides: { ii: c.strides[1]![k]!, xi: c.strides[2]![k]! } }));
  const body = [
    `let ii = ${p.add('io', index.offset)};`,
    `let xi = ${p.add('xo', x.offset)};`,
    walk(p, 'g', 'this.thread.x', axes),
    `let v = bt_clampi(ix[ii], ${p.add('n', x.shape[axis]!)});`,
    `return x[xi + v * ${p.add('xa', x.strides[axis]!)}];`,
  ].join('\n');
  return host.launch('gather', x.buffer.dtype, sizeOf(index.shape), p, body);
}

/** A copy of `base` (contiguous) with `src[p]` added at `p` with its `axis` coordinate replaced by `index[p]`. */
export function scatterAdd(host: GLKernelHost, base: Operand, axis: number, index: Operand, src: Operand): WebGLBuffer {
  const nd = base.shape.length;
  const p = new GLParams();
  p.add('bs', host.input('scatterAdd', base.buffer));
  p.add('ix', host.input('scatterAdd', index.buffer));
  p.add('s', host.input('scatterAdd', src.buffer));
  const coords = base.shape.map((_, k) => `c${k}`);
  const lines = [`let bi = ${p.add('bo', base.offset)};`];
  lines.push(walk(p, 't', 'this.thread.x', base.shape.map((size, k) => ({ size, strides: { bi: base.strides[k]! }, coord: coords[k]! }))));
  lines.push('let acc = bs[bi];', 'let inside = bt_f(1);', `let ii = ${p.add('io', index.offset)};`, `let si = ${p.add('so', src.offset)};`);
  for (let k = 0; k < nd; k++) {
    if (k === axis) continue;
    lines.push(
      `inside = inside * bt_lt(${coords[k]}, ${p.add(`m${k}`, index.shape[k]!)});`,
      `ii = ii + ${coords[k]} * ${p.add(`is${k}`, index.strides[k]!)};`,
      `si = si + ${coords[k]} * ${p.add(`ss${k}`, src.strides[k]!)};`,
    );
  }
  lines.push(
    'if (inside > 0.5) {',
    `for (let j = 0; j < ${p.add('ma', index.shape[axis]!)}; j++) {`,
    `if (ix[ii + bt_f(j) * ${p.add('isa', index.strides[axis]!)}] == ${coords[axis]}) {`,
    `acc = acc + s[si + bt_f(j) * ${p.add('ssa', src.strides[axis]!)}];`,
    '}',
    '}',
    '}',
    'return acc;',
  );
  return host.launch('scatterAdd', base.buffer.dtype, sizeOf(base.shape), p, lines.join('\n'));
}

/**
 * For each run of {@link MARK_RUN} entries of `index` (row-major), the first one outside `[0, n)`, or
 * NaN when there is none.
 */
export function indexMarks(host: GLKernelHost, op: string, index: Operand, n: number): WebGLBuffer {
  const size = sizeOf(index.shape);
  const c = coalesce(index.shape, [index.strides]);
  const p = new GLParams();
  p.add('ix', host.input(op, index.buffer));
  p.add('n', n);
  p.add('total', size);
  const axes = c.shape.map((s, k) => ({ size: s, strides: { ii: c.strides[0]![k]! } }));
  const body = [
    'let found = bt_nanf();',
    `for (let j = 0; j < ${MARK_RUN}; j++) {`,
    `let pos = bt_f(this.thread.x) * ${MARK_RUN} + bt_f(j);`,
    'if (pos < total) {',
    `let ii = ${p.add('io', index.offset)};`,
    walk(p, 'k', 'pos', axes),
    'let v = ix[ii];',
    'if (bt_isnanf(found) > 0.5 && bt_bad(v, n) > 0.5) {\nfound = v;\n}',
    '}',
    '}',
    'return found;',
  ].join('\n');
  return host.launch(`${op} (index check)`, 'float32', Math.ceil(size / MARK_RUN), p, body);
}
