/**
 * WebGL batched matrix product: one fragment per output element `[…batch, m, n]` loops over K. The batch
 * axes are coalesced, and broadcast batches (stride 0) and transposed operands are read in place.
 * @module
 */
import type { Operand } from '../backend.js';
import type { DType } from '../dtype.js';
import { coalesce } from '../cpu/strided.js';
import { contiguousStrides, sizeOf } from '../shape.js';
import type { WebGLBuffer } from './buffer.js';
import { storeCode } from './glsl.js';
import type { GLKernelHost } from './runner.js';
import { GLParams, walk, type Axis } from './source.js';

/** `a [...batch, M, K] @ b [...batch, K, N]`, stored as `outDtype`. */
export function matmul(host: GLKernelHost, a: Operand, b: Operand, outDtype: DType): WebGLBuffer {
  const nd = a.shape.length;
  const [M, K, N] = [a.shape[nd - 2]!, a.shape[nd - 1]!, b.shape[nd - 1]!];
  const batch = a.shape.slice(0, nd - 2);
  const c = coalesce(batch, [contiguousStrides(batch), a.strides.slice(0, nd - 2), b.strides.slice(0, nd - 2)]);
  const p = new GLParams();
  p.add('dcode', storeCode(outDtype));
  p.add('a', host.input('matmul', a.buffer));
  p.add('b', host.input('matmul', b.buffer));
  const axes: Axis[] = [
    ...c.shape.map((size, k) => ({ size, strides: { ai: c.strides[1]![k]!, bi: c.strides[2]![k]! } })),
    { size: M, strides: { ai: a.strides[nd - 2]! } },
    { size: N, strides: { bi: b.strides[nd - 1]! } },
  ];
  const body = [
    `let ai = ${p.add('ao', a.offset)};`,
    `let bi = ${p.add('bo', b.offset)};`,
    walk(p, 'o', 'this.thread.x', axes),
    'let acc = bt_f(0);',
    `for (let k = 0; k < ${p.add('kk', K)}; k++) {`,
    `acc = acc + a[ai + bt_f(k) * ${p.add('ak', a.strides[nd - 1]!)}] * b[bi + bt_f(k) * ${p.add('bk', b.strides[nd - 2]!)}];`,
    '}',
    'return bt_store(dcode, acc);',
  ].join('\n');
  return host.launch('matmul', outDtype, sizeOf(batch) * M * N, p, body);
}
