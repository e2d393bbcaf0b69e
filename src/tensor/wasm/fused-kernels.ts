/**
 * Fused float32 kernels, generated at run time as f32x4 SIMD: softmax and log-softmax over rows (forward
 * and backward), layer norm and RMS norm over rows (forward, and a backward that also sums the weight and
 * bias gradients), exact GELU and its derivative, and exp / sigmoid maps. Each reads its inputs once or a
 * few times while a row is in cache, where the composition of primitive kernels would write and re-read
 * a full-size temporary per step. One small module per variant (under 4 KiB), compiled when first used.
 * (The AdamW update, `where` and column sums are in `adamw-kernel.ts`, `where-kernel.ts` and
 * `column-sum-kernel.ts`.)
 *
 * Each kernel evaluates the same formula, operation for operation in float32, as the composition it
 * replaces (written out at each generator below), so the two agree to float32 rounding: within a few
 * ulp where a row sum is added in another order or `exp`/`erf` comes from the polynomials of
 * `simd-math.ts`. Row statistics (max, sums) accumulate in f32x4 lanes; the weight and bias gradients,
 * sums across rows, accumulate in float64, as the CPU kernels' reductions do.
 * @module
 */
import type { NormKind } from '../backend.js';
import { type CodeBuilder, F32, I32, V128 } from './encoder.js';
import { bump, forRange, loc } from './emit.js';
import { acc64, accAdd, eachElement, hmax, hsum, ld, moduleWithMemory, reset, rowFunction, st, type Lanes, type Ptr } from './row-emit.js';
import { SimdMath } from './simd-math.js';

/** The softmax forward module's exports (byte addresses; rows of `n` contiguous elements, one after another). */
export interface SoftmaxExports {
  /** `out = exp(x − max) / Σ exp(x − max)` per row. */
  softmax(x: number, out: number, rows: number, n: number): void;
  /** Per row r: `st[2r] = max`, `st[2r + 1] = Σ exp(x − max)` (float32), for log-softmax. */
  stats(x: number, st: number, rows: number, n: number): void;
  /** `out = x − lse[r]` per row r (log-softmax, given `lse = max + log Σ exp(x − max)`). */
  subRows(x: number, lse: number, out: number, rows: number, n: number): void;
}

/** The softmax backward module's exports (as {@link SoftmaxExports}). */
export interface SoftmaxGradExports {
  /** Softmax backward: `out = y·(g − Σ g·y)` per row. */
  softmaxGrad(y: number, g: number, out: number, rows: number, n: number): void;
  /** Log-softmax backward: `out = g − exp(y)·Σ g` per row. */
  logSoftmaxGrad(y: number, g: number, out: number, rows: number, n: number): void;
}

/**
 * The softmax forward module. Composition replaced (`ops/reduce.ts`): `e = exp(x − max(x)); e / Σe`;
 * log-softmax `x − (log Σ exp(x − m) + m)`.
 */
export function softmaxModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const m = moduleWithMemory(shared);
  /** Pushes the row max as a splat into `mx`, walking `x` from `base`. */
  const rowMax = (c: CodeBuilder, base: number, n: number, left: number, p: number, acc: number, mx: number): void => {
    reset(c, [[p, base]]);
    c.v128ConstF32(-Infinity, -Infinity, -Infinity, -Infinity).localSet(acc);
    eachElement(c, n, left, [[p, 4]], (l) => {
      c.localGet(acc);
      ld(c, p, l);
      c.f32x4Max().localSet(acc);
    });
    hmax(c, acc);
    c.f32x4Splat().localSet(mx);
  };
  /** acc = Σ exp(x − mx) from `base`, each exp also stored at `out` when given. */
  const expSum = (
    c: CodeBuilder,
    base: number,
    out: number | null,
    n: number,
    left: number,
    p: number,
    q: number,
    acc: number,
    mx: number,
    e: number,
  ): void => {
    const math = SimdMath.of(c);
    reset(c, out === null ? [[p, base]] : [[p, base], [q, out]]);
    c.v128ConstF32(0, 0, 0, 0).localSet(acc);
    eachElement(c, n, left, out === null ? [[p, 4]] : [[p, 4], [q, 4]], (l) => {
      ld(c, p, l);
      c.localGet(mx).f32x4Sub();
      math.expNonPositive();
      c.localSet(e);
      if (out !== null) st(c, q, l, () => c.localGet(e));
      accAdd(c, acc, l, () => c.localGet(e));
    });
  };
  rowFunction(m, 'softmax', 2, [], (c, { ptrs: [x, out], n, left }) => {
    const [p, q] = [c.local(I32), c.local(I32)];
    const [acc, mx, e] = [c.local(V128), c.local(V128), c.local(V128)];
    rowMax(c, x!, n, left, p, acc, mx);
    expSum(c, x!, out!, n, left, p, q, acc, mx, e);
    // Scale by 1/Σ (one division per row; e·(1/Σ) is within an ulp of e/Σ).
    c.f32Const(1);
    hsum(c, acc);
    c.f32Div().f32x4Splat().localSet(acc);
    reset(c, [[q, out!]]);
    eachElement(c, n, left, [[q, 4]], (l) => st(c, q, l, () => (ld(c, q, l), c.localGet(acc).f32x4Mul())));
  });
  m.addFunction('stats', [I32, I32, I32, I32], [], [], (c) => {
    const [x, stp, rows, n] = [0, 1, 2, 3];
    const [r, left, p, q, rowBytes] = [c.local(I32), c.local(I32), c.local(I32), c.local(I32), c.local(I32)];
    const [acc, mx, e] = [c.local(V128), c.local(V128), c.local(V128)];
    c.localGet(n).i32Const(2).i32Shl().localSet(rowBytes);
    forRange(c, r, 0, loc(rows), 1, () => {
      rowMax(c, x, n, left, p, acc, mx);
      expSum(c, x, null, n, left, p, q, acc, mx, e);
      c.localGet(stp).localGet(mx).f32x4ExtractLane(0).f32Store(0);
      c.localGet(stp);
      hsum(c, acc);
      c.f32Store(4);
      bump(c, stp, 8);
      bump(c, x, loc(rowBytes));
    });
  });
  m.addFunction('subRows', [I32, I32, I32, I32, I32], [], [], (c) => {
    const [x, lse, out, rows, n] = [0, 1, 2, 3, 4];
    const [r, left, s] = [c.local(I32), c.local(I32), c.local(V128)];
    forRange(c, r, 0, loc(rows), 1, () => {
      c.localGet(lse).v128Load32Splat(0, 2).localSet(s);
      eachElement(c, n, left, [[x, 4], [out, 4]], (l) => st(c, out, l, () => (ld(c, x, l), c.localGet(s).f32x4Sub())));
      bump(c, lse, 4);
    });
  });
  return m.build();
}

/**
 * The softmax backward module. Compositions replaced (`ops/reduce.ts`): `y·(g − Σ g·y)` (softmax) and
 * `g − exp(y)·Σ g` (log-softmax).
 */
export function softmaxGradModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const m = moduleWithMemory(shared);
  rowFunction(m, 'softmaxGrad', 3, [], (c, { ptrs: [y, g, out], n, left }) => {
    const [p, q, o] = [c.local(I32), c.local(I32), c.local(I32)];
    const acc = c.local(V128);
    reset(c, [[p, y!], [q, g!]]);
    c.v128ConstF32(0, 0, 0, 0).localSet(acc);
    eachElement(c, n, left, [[p, 4], [q, 4]], (l) => accAdd(c, acc, l, () => (ld(c, q, l), ld(c, p, l), c.f32x4Mul())));
    hsum(c, acc);
    c.f32x4Splat().localSet(acc);
    reset(c, [[p, y!], [q, g!], [o, out!]]);
    eachElement(c, n, left, [[p, 4], [q, 4], [o, 4]], (l) =>
      st(c, o, l, () => {
        ld(c, p, l);
        ld(c, q, l);
        c.localGet(acc).f32x4Sub().f32x4Mul();
      }),
    );
  });
  rowFunction(m, 'logSoftmaxGrad', 3, [], (c, { ptrs: [y, g, out], n, left }) => {
    const math = SimdMath.of(c);
    const [p, q, o] = [c.local(I32), c.local(I32), c.local(I32)];
    const acc = c.local(V128);
    reset(c, [[q, g!]]);
    c.v128ConstF32(0, 0, 0, 0).localSet(acc);
    eachElement(c, n, left, [[q, 4]], (l) => accAdd(c, acc, l, () => ld(c, q, l)));
    hsum(c, acc);
    c.f32x4Splat().localSet(acc);
    reset(c, [[p, y!], [q, g!], [o, out!]]);
    eachElement(c, n, left, [[p, 4], [q, 4], [o, 4]], (l) =>
      st(c, o, l, () => {
        ld(c, q, l);
        ld(c, p, l);
        math.expNonPositive();
        c.localGet(acc).f32x4Mul().f32x4Sub();
      }),
    );
  });
  return m.build();
}

/** What a norm module variant is generated for. */
export interface NormVariant {
  /** Layer norm or RMS norm. */
  readonly kind: NormKind;
  /** Multiplied by a weight (γ). */
  readonly weight: boolean;
  /** Plus a bias (β; layer norm with a weight only). */
  readonly bias: boolean;
}

/** A norm module's exports (byte addresses; `w`, `b`, `dw`, `db` are ignored where the variant has none). */
export interface NormExports {
  /** The forward pass over `rows` rows of `n`. */
  forward(x: number, w: number, b: number, out: number, rows: number, n: number, eps: number): void;
  /**
   * The backward pass: `dx` for the output gradient `g`, and the weight and bias gradients added into
   * the float64 accumulators `dw`, `db` (n each; the caller zeroes them).
   */
  backward(x: number, w: number, g: number, dx: number, dw: number, db: number, rows: number, n: number, eps: number): void;
}

/**
 * One norm variant's module. Compositions replaced (`ops/norm.ts`), per row of n:
 * layer norm `c = x − Σx/n; y = c·rsqrt(Σc²/n + eps)·w + b`, RMS norm `y = x·rsqrt(Σx²/n + eps)·w`;
 * backward, with x̂ the normalised input, r the reciprocal deviation and ĝ = g·w:
 * layer `dx = ((ĝ − mean ĝ) − x̂·mean(ĝ·x̂))·r`, RMS `dx = (ĝ − x̂·mean(ĝ·x̂))·r`, `dw = Σ_rows g·x̂`,
 * `db = Σ_rows g`.
 */
export function normModule(v: NormVariant, shared: boolean): Uint8Array<ArrayBuffer> {
  const m = moduleWithMemory(shared);
  const layer = v.kind === 'layer';
  /** Sets `mu` (layer norm's mean, splat) and `rs` (the reciprocal deviation, splat) for the row at `x`. */
  const stats = (c: CodeBuilder, x: number, n: number, left: number, eps: number, p: number, acc: number, mu: number, rs: number): void => {
    const rn = c.local(F32);
    c.localGet(n).f32ConvertI32S().localSet(rn);
    if (layer) {
      reset(c, [[p, x]]);
      c.v128ConstF32(0, 0, 0, 0).localSet(acc);
      eachElement(c, n, left, [[p, 4]], (l) => accAdd(c, acc, l, () => ld(c, p, l)));
      hsum(c, acc);
      c.localGet(rn).f32Div().f32x4Splat().localSet(mu);
    }
    reset(c, [[p, x]]);
    c.v128ConstF32(0, 0, 0, 0).localSet(acc);
    eachElement(c, n, left, [[p, 4]], (l) =>
      accAdd(c, acc, l, () => {
        ld(c, p, l);
        if (layer) c.localGet(mu).f32x4Sub();
        c.localTee(rs).localGet(rs).f32x4Mul();
      }),
    );
    c.f32Const(1);
    hsum(c, acc);
    c.localGet(rn).f32Div().localGet(eps).f32Add().f32Sqrt().f32Div().f32x4Splat().localSet(rs);
  };
  /** Pushes x̂ for the elements at `p`. */
  const xhat = (c: CodeBuilder, p: number, l: Lanes, mu: number, rs: number): void => {
    ld(c, p, l);
    if (layer) c.localGet(mu).f32x4Sub();
    c.localGet(rs).f32x4Mul();
  };
  rowFunction(m, 'forward', 4, [F32], (c, { ptrs: [x, w, b, out], n, left, params: [eps] }) => {
    const [p, pw, pb, po] = [c.local(I32), c.local(I32), c.local(I32), c.local(I32)];
    const [acc, mu, rs] = [c.local(V128), c.local(V128), c.local(V128)];
    stats(c, x!, n, left, eps!, p, acc, mu, rs);
    reset(c, [[p, x!], [pw, w!], [pb, b!], [po, out!]]);
    const ptrs: Ptr[] = [[p, 4], [po, 4]];
    if (v.weight) ptrs.push([pw, 4]);
    if (v.bias) ptrs.push([pb, 4]);
    eachElement(c, n, left, ptrs, (l) =>
      st(c, po, l, () => {
        xhat(c, p, l, mu, rs);
        if (v.weight) (ld(c, pw, l), c.f32x4Mul());
        if (v.bias) (ld(c, pb, l), c.f32x4Add());
      }),
    );
    // w and b are the same for every row: undo the per-row bump that rowFunction applies.
    for (const q of [w!, b!]) c.localGet(q).localGet(n).i32Const(2).i32Shl().i32Sub().localSet(q);
  });
  rowFunction(m, 'backward', 6, [F32], (c, { ptrs: [x, w, g, dx, dw, db], n, left, params: [eps] }) => {
    const [p, pw, pg, pdx, pdw, pdb] = [c.local(I32), c.local(I32), c.local(I32), c.local(I32), c.local(I32), c.local(I32)];
    const [acc, mu, rs, a1, a2, xh, gh, m1, m2] = Array.from({ length: 9 }, () => c.local(V128)) as number[];
    stats(c, x!, n, left, eps!, p, acc!, mu!, rs!);
    const rn = c.local(F32);
    c.localGet(n).f32ConvertI32S().localSet(rn);
    /** Sets xh and gh for the current elements. */
    const both = (l: Lanes): void => {
      xhat(c, p, l, mu!, rs!);
      c.localSet(xh!);
      ld(c, pg, l);
      if (v.weight) (ld(c, pw, l), c.f32x4Mul());
      c.localSet(gh!);
    };
    const walk: Ptr[] = [[p, 4], [pg, 4]];
    if (v.weight) walk.push([pw, 4]);
    reset(c, [[p, x!], [pg, g!], [pw, w!], [pdw, dw!], [pdb, db!]]);
    c.v128ConstF32(0, 0, 0, 0).localTee(a1!).localSet(a2!);
    eachElement(c, n, left, v.weight ? [...walk, [pdw, 8], [pdb, 8]] : walk, (l) => {
      both(l);
      if (layer) accAdd(c, a1!, l, () => c.localGet(gh!));
      accAdd(c, a2!, l, () => c.localGet(gh!).localGet(xh!).f32x4Mul());
      if (v.weight) {
        ld(c, pg, l);
        c.localGet(xh!).f32x4Mul().localSet(acc!);
        acc64(c, pdw, l, acc!);
        if (v.bias) {
          ld(c, pg, l);
          c.localSet(acc!);
          acc64(c, pdb, l, acc!);
        }
      }
    });
    for (const [a, mean] of layer ? [[a1!, m1!], [a2!, m2!]] : [[a2!, m2!]]) {
      hsum(c, a);
      c.localGet(rn).f32Div().f32x4Splat().localSet(mean);
    }
    reset(c, [[p, x!], [pg, g!], [pw, w!], [pdx, dx!]]);
    eachElement(c, n, left, [...walk, [pdx, 4]], (l) => {
      both(l);
      st(c, pdx, l, () => {
        c.localGet(gh!);
        if (layer) c.localGet(m1!).f32x4Sub();
        c.localGet(xh!).localGet(m2!).f32x4Mul().f32x4Sub().localGet(rs!).f32x4Mul();
      });
    });
    // w and the accumulators are the same for every row.
    for (const q of [w!, dw!, db!]) c.localGet(q).localGet(n).i32Const(2).i32Shl().i32Sub().localSet(q);
  });
  return m.build();
}

/** The GELU module's exports over `n` contiguous elements. */
export interface GeluExports {
  /** `out = gelu(x)`. */
  forward(x: number, out: number, n: number): void;
  /** `out = g·gelu'(x)`. */
  backward(x: number, g: number, out: number, n: number): void;
}

/**
 * The exact-GELU module. Composition replaced (`ops/arithmetic.ts`): `x·½·(1 + erf(x·√½))`, and
 * for the gradient `g·(½(1 + erf(x·√½)) + x·e^(−x²/2)/√(2π))`.
 */
export function geluModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const m = moduleWithMemory(shared);
  m.addFunction('forward', [I32, I32, I32], [], [], (c) => {
    const [x, out, n] = [0, 1, 2];
    const math = SimdMath.of(c);
    eachElement(c, n, c.local(I32), [[x, 4], [out, 4]], (l) => st(c, out, l, () => (ld(c, x, l), math.gelu())));
  });
  m.addFunction('backward', [I32, I32, I32, I32], [], [], (c) => {
    const [x, g, out, n] = [0, 1, 2, 3];
    const math = SimdMath.of(c);
    eachElement(c, n, c.local(I32), [[x, 4], [g, 4], [out, 4]], (l) =>
      st(c, out, l, () => {
        ld(c, g, l);
        ld(c, x, l);
        math.geluDerivative();
        c.f32x4Mul();
      }),
    );
  });
  return m.build();
}

/** The unary ops whose SIMD kernels come from `simd-math.ts` (approximations, unlike `SIMD_UNARY`'s exact ones). */
export const MATH_UNARY = ['exp', 'sigmoid'] as const;
/** One of {@link MATH_UNARY}. */
export type MathUnaryOp = (typeof MATH_UNARY)[number];

/**
 * The module of one {@link MATH_UNARY} op, with the export of `elementwise-kernel.ts`'s unary modules
 * (`map(x, out, n)`), so the backend runs and splits it the same way.
 */
export function mathUnaryModule(op: MathUnaryOp, shared: boolean): Uint8Array<ArrayBuffer> {
  const m = moduleWithMemory(shared);
  m.addFunction('map', [I32, I32, I32], [], [], (c) => {
    const [x, out, n] = [0, 1, 2];
    const math = SimdMath.of(c);
    eachElement(c, n, c.local(I32), [[x, 4], [out, 4]], (l) =>
      st(c, out, l, () => {
        ld(c, x, l);
        if (op === 'exp') math.exp();
        else math.sigmoid();
      }),
    );
  });
  return m.build();
}
