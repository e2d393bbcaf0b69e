/**
 * Sums over leading axes (a column sum per kept element) as generated f32x4 SIMD, accumulated in float64
 * in row order, which is the CPU reduction's order: the results are the CPU kernel's, bit for bit.
 * @module
 */
import { I32, V128 } from './encoder.js';
import { bump, forRange, loc, whileAtLeast } from './emit.js';
import { acc64, eachElement, ld, moduleWithMemory, reset } from './row-emit.js';

/** The column-sum module's export. */
export interface ColumnSumExports {
  /**
   * `out[j] = Σ_r x[r·rowStride + j]` for j < n (float32 out), summed in float64 in row order (as the CPU
   * kernel does), using `acc` (8·n bytes) as scratch. `rowStride` is in bytes.
   */
  sumCols(x: number, rowStride: number, rows: number, n: number, acc: number, out: number): void;
}

/** The column-sum module. */
export function columnSumModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const m = moduleWithMemory(shared);
  m.addFunction('sumCols', [I32, I32, I32, I32, I32, I32], [], [], (c) => {
    const [x, rowStride, rows, n, acc, out] = [0, 1, 2, 3, 4, 5];
    const [r, left, p, q, v] = [c.local(I32), c.local(I32), c.local(I32), c.local(I32), c.local(V128)];
    reset(c, [[q, acc]]);
    eachElement(c, n, left, [[q, 8]], (l) => {
      if (l === 'vec') c.localGet(q).v128ConstF32(0, 0, 0, 0).v128Store(0, 3).localGet(q).v128ConstF32(0, 0, 0, 0).v128Store(16, 3);
      else c.localGet(q).f64Const(0).f64Store();
    });
    forRange(c, r, 0, loc(rows), 1, () => {
      reset(c, [[p, x], [q, acc]]);
      eachElement(c, n, left, [[p, 4], [q, 8]], (l) => {
        ld(c, p, l);
        c.localSet(v);
        acc64(c, q, l, v);
      });
      bump(c, x, loc(rowStride));
    });
    reset(c, [[q, acc]]);
    c.localGet(n).localSet(left);
    whileAtLeast(c, left, 1, () => {
      c.localGet(out).localGet(q).f64Load().f32DemoteF64().f32Store();
      bump(c, q, 8);
      bump(c, out, 4);
    });
  });
  return m.build();
}
