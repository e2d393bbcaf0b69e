/**
 * Transcendental functions on f32x4 lanes, emitted inline into generated kernels: `exp` (range reduction
 * and a polynomial), and from it the logistic sigmoid and the exact (erf) GELU and its derivative. Each
 * emitter consumes the v128 on top of the stack and leaves its result there.
 *
 * exp(x) = 2ⁿ·e^r with n = round(x·log₂e) and r = x − n·ln 2 ∈ [−ln2/2, ln2/2] (ln 2 split in two, Cody
 * and Waite, so r is nearly exact), e^r ≈ 1 + r + r²·P(r) with Cephes' degree-5 `expf` coefficients, and
 * 2ⁿ applied as two exponent-field scalings 2^⌊n/2⌋·2^(n−⌊n/2⌋), so that results round correctly into
 * the subnormal range and overflow to +∞ exactly where float32 does. Inputs are clamped to
 * [−104, 89] first (beyond, e^x is 0 or +∞ in float32), and NaN stays NaN. Measured against `Math.exp`
 * over 2²⁰ evenly spaced points of [−87, 88], the largest error is 0.98 ulp of the exact value (relative
 * 8.1e-8): the float32 result is always one of the two floats around e^x (checked in
 * `test/tensor/wasm/fused-kernels.test.ts`). A cheaper form for x ≤ 0, `expNonPositive`, serves the
 * fused kernels, whose arguments are never positive.
 *
 * erf follows Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7), the formula of the CPU kernels'
 * float32 `erfFast`, so both backends compute the same function: erf(u) = sign(u)·(1 − q) with
 * q = t·(a₁ + t·(a₂ + t·(a₃ + t·(a₄ + t·a₅))))·e^(−u²) and t = 1 / (1 + p·|u|). GELU uses `1 + erf(u)` as
 * `2 − q` for u ≥ 0 and `q` for u < 0 (no cancellation in the negative tail). Measured against double
 * precision: sigmoid within 1.5e-7 relative on [−80, 80]; GELU within 1.8e-7·max(1, |x|) and its
 * derivative within 2.9e-7 on [−10, 10] (the tests check 2e-7, 3e-7·max(1, |x|)).
 *
 * The min/max clamps use `pmin`/`pmax` (one instruction each on x64, where `f32x4.min`/`max` take several
 * for their NaN and −0 rules); no fused multiply-add is used, so results are the same on every engine.
 * @module
 */
import { type CodeBuilder, V128 } from './encoder.js';

const LOG2E = Math.LOG2E;
/** ln 2 split in two (Cody–Waite): C1 has few bits, so n·C1 is exact for the n that occur. */
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
/** Cephes `expf`: e^r ≈ 1 + r + r²·(((((P0·r + P1)·r + P2)·r + P3)·r + P4)·r + P5). */
const EXP_P = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
/** Abramowitz & Stegun 7.1.26 (as `erfFast` in `cpu/math.ts`). */
const ERF_P = 0.3275911;
const ERF_A = [1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592];
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const perBuilder = new WeakMap<CodeBuilder, SimdMath>();

/** Lanes of four equal f32 values. */
function splat(c: CodeBuilder, v: number): void {
  c.v128ConstF32(v, v, v, v);
}

/**
 * The math emitters of one generated function. Scratch locals are declared on first use and shared by
 * every later emission in the same function (emissions never nest).
 */
export class SimdMath {
  readonly #c: CodeBuilder;
  #locals: number[] = [];

  /** Emits into `c`; prefer {@link SimdMath.of}, which shares the scratch locals of one function. */
  constructor(c: CodeBuilder) {
    this.#c = c;
  }

  /** The emitters of the function `c` is building (one per builder, so its scratch locals are shared). */
  static of(c: CodeBuilder): SimdMath {
    let m = perBuilder.get(c);
    if (m === undefined) {
      m = new SimdMath(c);
      perBuilder.set(c, m);
    }
    return m;
  }

  #scratch(i: number): number {
    while (this.#locals.length <= i) this.#locals.push(this.#c.local(V128));
    return this.#locals[i]!;
  }

  /** `e^x` per lane (see the module notes for the method and its accuracy). */
  exp(): void {
    const c = this.#c;
    const [x, n, r, ni, n1] = [0, 1, 2, 3, 4].map((i) => this.#scratch(i)) as [number, number, number, number, number];
    // Clamp with pmax/pmin (one instruction each, where max/min need several for NaN and −0); a NaN x
    // passes through both (`x < lo` and `hi < x` are false), so e^NaN is NaN.
    splat(c, -104);
    c.f32x4Pmax();
    splat(c, 89);
    c.f32x4Pmin().localTee(x);
    splat(c, LOG2E);
    c.f32x4Mul().f32x4Nearest().localSet(n);
    this.#poly(x, n, r);
    // · 2^n1 · 2^(n − n1), n1 = n >> 1, each built in the exponent field: (k + 127) << 23.
    c.localGet(n).i32x4TruncSatF32x4S().localTee(ni).i32Const(1).i32x4ShrS().localTee(n1);
    c.v128ConstI32(127, 127, 127, 127).i32x4Add().i32Const(23).i32x4Shl().f32x4Mul();
    c.localGet(ni).localGet(n1).i32x4Sub();
    c.v128ConstI32(127, 127, 127, 127).i32x4Add().i32Const(23).i32x4Shl().f32x4Mul();
  }

  /**
   * `e^x` per lane for x ≤ 0 (and any x ≤ 88), the arguments of the fused kernels (`x − max`, `−u²`,
   * log-probabilities): the same reduction and polynomial as {@link SimdMath.exp}, but only a lower clamp
   * (at −88) and one exponent-field scaling 2ⁿ, so results below 2⁻¹²⁶ (x < −87.3) round into the
   * subnormals once and below x ≈ −87.68 (n = −127) are 0 — also for x = −∞. NaN stays NaN; +∞ gives NaN.
   */
  expNonPositive(): void {
    const c = this.#c;
    const [x, n, r] = [0, 1, 2].map((i) => this.#scratch(i)) as [number, number, number];
    splat(c, -88);
    c.f32x4Pmax().localTee(x);
    splat(c, LOG2E);
    c.f32x4Mul().f32x4Nearest().localSet(n);
    this.#poly(x, n, r);
    c.localGet(n).i32x4TruncSatF32x4S();
    c.v128ConstI32(127, 127, 127, 127).i32x4Add().i32Const(23).i32x4Shl().f32x4Mul();
  }

  /** Pushes e^r for r = x − n·ln 2 (Cody–Waite), given locals x and n; `r` is scratch. */
  #poly(x: number, n: number, r: number): void {
    const c = this.#c;
    // r = (x − n·C1) − n·C2
    c.localGet(x).localGet(n);
    splat(c, LN2_HI);
    c.f32x4Mul().f32x4Sub().localGet(n);
    splat(c, LN2_LO);
    c.f32x4Mul().f32x4Sub().localSet(r);
    // p = 1 + r + r²·P(r), Horner
    splat(c, EXP_P[0]!);
    for (let k = 1; k < EXP_P.length; k++) {
      c.localGet(r).f32x4Mul();
      splat(c, EXP_P[k]!);
      c.f32x4Add();
    }
    c.localGet(r).localGet(r).f32x4Mul().f32x4Mul().localGet(r).f32x4Add();
    splat(c, 1);
    c.f32x4Add();
  }

  /** `1 / (1 + e^(−x))` per lane: 0 below x ≈ −88.7 (where e^(−x) overflows), NaN for NaN. */
  sigmoid(): void {
    const c = this.#c;
    const t = this.#scratch(5);
    c.localSet(t);
    splat(c, 1);
    c.localGet(t).f32x4Neg();
    this.exp();
    splat(c, 1);
    c.f32x4Add().f32x4Div();
  }

  /**
   * Pushes `1 + erf(x/√2)` (twice Φ(x), the normal CDF) and leaves `e^(−x²/2)` in the returned local, for
   * the GELU forms. Consumes x.
   */
  #onePlusErf(): { x: number; e: number } {
    const c = this.#c;
    const [x, t, e] = [this.#scratch(5), this.#scratch(6), this.#scratch(7)];
    c.localTee(x);
    splat(c, Math.SQRT1_2);
    c.f32x4Mul().f32x4Abs().localSet(t); // t = |u| for now
    // e = exp(−u²)
    c.localGet(t).localGet(t).f32x4Mul().f32x4Neg();
    this.expNonPositive();
    c.localSet(e);
    // t = 1 / (1 + p·|u|)
    splat(c, 1);
    splat(c, 1);
    c.localGet(t);
    splat(c, ERF_P);
    c.f32x4Mul().f32x4Add().f32x4Div().localSet(t);
    // q = t·(a1 + t·(a2 + …))·e, Horner from a5
    splat(c, ERF_A[0]!);
    for (let k = 1; k < ERF_A.length; k++) {
      c.localGet(t).f32x4Mul();
      splat(c, ERF_A[k]!);
      c.f32x4Add();
    }
    c.localGet(t).f32x4Mul().localGet(e).f32x4Mul();
    // 1 + erf = x < 0 ? q : 2 − q (bitselect: first operand where the mask is set)
    const q = this.#scratch(8);
    c.localTee(q);
    splat(c, 2);
    c.localGet(q).f32x4Sub();
    c.localGet(x).v128ConstF32(0, 0, 0, 0).f32x4Lt().v128Bitselect();
    return { x, e };
  }

  /** GELU per lane: `½x·(1 + erf(x/√2))`. */
  gelu(): void {
    const c = this.#c;
    const { x } = this.#onePlusErf();
    c.localGet(x).f32x4Mul();
    splat(c, 0.5);
    c.f32x4Mul();
  }

  /** GELU's derivative per lane: `Φ(x) + x·φ(x) = ½(1 + erf(x/√2)) + x·e^(−x²/2)/√(2π)`. */
  geluDerivative(): void {
    const c = this.#c;
    const { x, e } = this.#onePlusErf();
    splat(c, 0.5);
    c.f32x4Mul().localGet(x).localGet(e).f32x4Mul();
    splat(c, INV_SQRT_2PI);
    c.f32x4Mul().f32x4Add();
  }
}
