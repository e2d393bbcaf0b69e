/**
 * `where(cond, a, b)` over float32 values with a bool (byte) condition, as generated f32x4 SIMD, in every
 * form of contiguous or broadcast operands a row plan produces.
 * @module
 */
import { I32, V128 } from './encoder.js';
import { eachElement, ld, moduleWithMemory, st, type Ptr } from './row-emit.js';

/** Which `where` operands (condition, `a`, `b`) walk the run (`v`) or are one value broadcast over it (`s`). */
export type WhereForm = `${'v' | 's'}${'v' | 's'}${'v' | 's'}`;

/** The where module's exports: `out = cond ? a : b` over `n` elements (cond: bytes, 0 = false). */
export type WhereExports = Record<WhereForm, (cond: number, a: number, b: number, out: number, n: number) => void>;

/**
 * The float32 `where` module, with a bool (byte) condition: four condition bytes at a time are widened
 * to 32-bit lane masks that select between the lanes of `a` and `b`. A broadcast operand (a scalar side,
 * or a condition constant along the run) is read once.
 */
export function whereModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const m = moduleWithMemory(shared);
  for (const form of ['vvv', 'vsv', 'vvs', 'vss', 'svv', 'ssv', 'svs', 'sss'] as const) {
    m.addFunction(form, [I32, I32, I32, I32, I32], [], [], (c) => {
      const [cond, a, b, out, n] = [0, 1, 2, 3, 4];
      const [left, sc, sa, sb] = [c.local(I32), c.local(V128), c.local(V128), c.local(V128)];
      const [scalarC, scalarA, scalarB] = [form[0] === 's', form[1] === 's', form[2] === 's'];
      const mask = (): void => void c.v128ConstI32(0, 0, 0, 0).i32x4Ne();
      if (scalarC) (c.localGet(cond).i32Load8U(0, 0).i32x4Splat(), mask(), c.localSet(sc));
      if (scalarA) c.localGet(a).v128Load32Splat(0, 2).localSet(sa);
      if (scalarB) c.localGet(b).v128Load32Splat(0, 2).localSet(sb);
      const ptrs: Ptr[] = [[out, 4]];
      if (!scalarA) ptrs.push([a, 4]);
      if (!scalarB) ptrs.push([b, 4]);
      if (!scalarC) ptrs.push([cond, 1]);
      eachElement(c, n, left, ptrs, (l) =>
        st(c, out, l, () => {
          if (scalarA) c.localGet(sa);
          else ld(c, a, l);
          if (scalarB) c.localGet(sb);
          else ld(c, b, l);
          if (scalarC) c.localGet(sc);
          else {
            // Four condition bytes → i16x8 → i32x4 lanes, true where non-zero.
            c.localGet(cond);
            if (l === 'tail') c.i32Load8U(0, 0).i32x4Splat();
            else c.v128Load32Zero(0, 0).i16x8ExtendLowI8x16U().i32x4ExtendLowI16x8U();
            mask();
          }
          c.v128Bitselect();
        }),
      );
    });
  }
  return m.build();
}
