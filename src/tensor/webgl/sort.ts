/**
 * WebGL stable sort and top-k by ranking: a fragment per element counts the lane's elements that go
 * before it (smaller, or equal at a lower index; NaN last ascending, first descending, as the CPU
 * backend orders), a fragment per output position finds the element of that rank, and the values are
 * gathered. No data-dependent control flow or scattered writes are needed, at O(n²) work per lane of n
 * (fine for the lanes of routing top-k and of moderate sorts; a lane of 10⁴ costs 10⁸ comparisons).
 * @module
 */
import type { Operand, SortedBuffers } from '../backend.js';
import { contiguousStrides, sizeOf } from '../shape.js';
import type { WebGLBuffer } from './buffer.js';
import { gather } from './indexing.js';
import type { GLKernelHost } from './runner.js';
import { GLParams, laneAxes, walk, type Axis } from './source.js';

/** The sorted values and int32 source indices of the first `k` entries of every lane along `axis`. */
export function sortLanes(host: GLKernelHost, x: Operand, axis: number, descending: boolean, k: number, free: (b: WebGLBuffer) => void): SortedBuffers {
  const n = x.shape[axis]!;
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const { before, after } = laneAxes(x, axis);

  const rp = new GLParams();
  rp.add('desc', descending ? 1 : 0);
  rp.add('x', host.input('sort', x.buffer));
  const rankBody = [
    `let xi = ${rp.add('xo', x.offset)};`,
    walk(rp, 'r', 'this.thread.x', [...before, { size: n, strides: {}, coord: 'pos' }, ...after]),
    `let xa = ${rp.add('xstep', x.strides[axis]!)};`,
    'let v = x[xi + pos * xa];',
    'let rank = bt_f(0);',
    `for (let j = 0; j < ${rp.add('n', n)}; j++) {`,
    'rank = rank + bt_precedes(desc, x[xi + bt_f(j) * xa], v, bt_f(j), pos);',
    '}',
    'return rank;',
  ].join('\n');
  const ranks = host.launch('sort', 'float32', sizeOf(x.shape), rp, rankBody);

  // Output position (o, r, i) of [outer, k, inner] takes the element of lane (o, ·, i) ranked r.
  const ip = new GLParams();
  ip.add('rk', host.input('sort', ranks));
  const idxBody = [
    'let ri = bt_f(0);',
    walk(ip, 'i', 'this.thread.x', [
      { size: outer, strides: { ri: n * inner } },
      { size: k, strides: {}, coord: 'r' },
      { size: inner, strides: { ri: 1 } },
    ]),
    'let found = bt_f(0);',
    `for (let j = 0; j < ${ip.add('n', n)}; j++) {`,
    `if (rk[ri + bt_f(j) * ${ip.add('inner', inner)}] == r) {\nfound = bt_f(j);\n}`,
    '}',
    'return found;',
  ].join('\n');
  const indices = host.launch('sort', 'int32', outer * k * inner, ip, idxBody);
  free(ranks);

  const shape = x.shape.slice();
  shape[axis] = k;
  const values = gather(host, x, axis, { buffer: indices, shape, strides: contiguousStrides(shape), offset: 0 });
  return { values, indices };
}
