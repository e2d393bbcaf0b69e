/**
 * The AdamW update as one generated f32x4 SIMD pass over a parameter, its gradient and its two moments
 * (torch's `_single_tensor_adamw` without AMSGrad), in the same float32 operations and order as the
 * composition in `nn/optim/adamw.ts`, so that both give the same bits.
 * @module
 */
import { F32, I32, V128 } from './encoder.js';
import { eachElement, ld, moduleWithMemory, st } from './row-emit.js';

/** The AdamW module's exports: one step over `n` elements, in place for `p`; the lerp form picks the function. */
export interface AdamWExports {
  /** First-moment lerp as `m + (d − m)·w` (torch's form for w < 0.5). */
  low(p: number, g: number, m: number, v: number, mOut: number, vOut: number, n: number, ...k: AdamWConstants): void;
  /** First-moment lerp as `d − (d − m)·(1 − w)` (for w ≥ 0.5). */
  high(p: number, g: number, m: number, v: number, mOut: number, vOut: number, n: number, ...k: AdamWConstants): void;
}

/**
 * The float32 constants of an AdamW step: `decay` = 1 − lr·λ, `w` = the lerp weight of the chosen form,
 * `beta2`, `oneMinusBeta2`, `negStep` = −lr/(1 − β₁ᵗ), `bc2` = √(1 − β₂ᵗ), `eps`, `sign` = ±1 (−1 to maximise).
 */
export type AdamWConstants = [decay: number, w: number, beta2: number, oneMinusBeta2: number, negStep: number, bc2: number, eps: number, sign: number];

/**
 * The AdamW module. Composition replaced (`nn/optim/adamw.ts`, torch's `_single_tensor_adamw`), every
 * step a float32 operation in the same order, so the results are bitwise equal: `d = g·sign`,
 * `m' = m + (d − m)·w` or `d − (d − m)·(1 − w)`, `v' = v·β₂ + (d·(1 − β₂))·d`,
 * `p' = p·decay + (m'·negStep) / (√v' / bc2 + eps)`.
 */
export function adamwModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const m = moduleWithMemory(shared);
  for (const form of ['low', 'high'] as const) {
    m.addFunction(form, [I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32], [], [], (c) => {
      const [p, g, mp, vp, mo, vo, n] = [0, 1, 2, 3, 4, 5, 6];
      const k = Array.from({ length: 8 }, (_, i) => {
        const s = c.local(V128);
        c.localGet(7 + i).f32x4Splat().localSet(s);
        return s;
      });
      const [decay, w, beta2, omb2, negStep, bc2, eps, sign] = k as [number, number, number, number, number, number, number, number];
      const [left, d, mNew, vNew] = [c.local(I32), c.local(V128), c.local(V128), c.local(V128)];
      eachElement(c, n, left, [[p, 4], [g, 4], [mp, 4], [vp, 4], [mo, 4], [vo, 4]], (l) => {
        ld(c, g, l);
        c.localGet(sign).f32x4Mul().localSet(d);
        st(c, mo, l, () => {
          if (form === 'low') {
            ld(c, mp, l);
            c.localGet(d);
            ld(c, mp, l);
            c.f32x4Sub().localGet(w).f32x4Mul().f32x4Add();
          } else {
            c.localGet(d).localGet(d);
            ld(c, mp, l);
            c.f32x4Sub().localGet(w).f32x4Mul().f32x4Sub();
          }
          c.localTee(mNew);
        });
        st(c, vo, l, () => {
          ld(c, vp, l);
          c.localGet(beta2).f32x4Mul().localGet(d).localGet(omb2).f32x4Mul().localGet(d).f32x4Mul().f32x4Add().localTee(vNew);
        });
        st(c, p, l, () => {
          ld(c, p, l);
          c.localGet(decay).f32x4Mul();
          c.localGet(mNew).localGet(negStep).f32x4Mul();
          c.localGet(vNew).f32x4Sqrt().localGet(bc2).f32x4Div().localGet(eps).f32x4Add();
          c.f32x4Div().f32x4Add();
        });
      });
    });
  }
  return m.build();
}
