/**
 * The float32 elementwise and reduction modules, generated at run time: binary ops over two contiguous
 * arrays or an array and a scalar, unary ops over a contiguous array, and sum / max over the rows of a
 * matrix with contiguous rows. One small module per op (each well under the 4 KiB that older Chrome
 * versions allow to compile synchronously on the main thread), compiled when first used. Loops take two f32x4 vectors per step (measured faster than four or eight here), then one, then scalars.
 *
 * The results equal the plain-TS kernels': f32 add/sub/mul/div/sqrt are correctly rounded, as are the
 * double-precision JS operations rounded to float32; `f32x4.max`/`min` propagate NaN as the TS kernels
 * do. Row sums add four f32x4 partial sums over blocks of 1024 elements and accumulate the blocks in
 * float64, so the rounding error stays near that of the TS kernel's float64 sum.
 * @module
 */
import { CodeBuilder, F64, I32, ModuleBuilder, V128, type ValType } from './encoder.js';
import { bump, forRange, loc, minI32, whileAtLeast } from './emit.js';

/** The binary ops with a SIMD kernel. */
export const SIMD_BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;
/** One of {@link SIMD_BINARY}. */
export type SimdBinaryOp = (typeof SIMD_BINARY)[number];
/** The unary ops with a SIMD kernel. */
export const SIMD_UNARY = ['neg', 'abs', 'sqrt', 'relu'] as const;
/** One of {@link SIMD_UNARY}. */
export type SimdUnaryOp = (typeof SIMD_UNARY)[number];
/** Which operand of a binary kernel is one scalar broadcast over the other: neither, `a` or `b`. */
export type BinaryForm = 'vv' | 'sv' | 'vs';

/** A binary op module's exports: `out = op(a, b)` over n elements, a scalar side read once (byte addresses). */
export interface BinaryExports {
  /** Both operands are arrays. */
  vv(a: number, b: number, out: number, n: number): void;
  /** `a` is one scalar. */
  sv(a: number, b: number, out: number, n: number): void;
  /** `b` is one scalar. */
  vs(a: number, b: number, out: number, n: number): void;
}

/** A unary op module's export: `out = op(x)` over n elements. */
export interface UnaryExports {
  /** The map. */
  map(x: number, out: number, n: number): void;
}

/** The reduction module's exports: one result per row of `n` contiguous elements, rows `rowStride` bytes apart. */
export interface ReductionExports {
  /** Row sums. */
  sumRows(x: number, rowStride: number, rows: number, n: number, out: number): void;
  /** Row maxima (NaN if any element is NaN; −∞ for empty rows). */
  maxRows(x: number, rowStride: number, rows: number, n: number, out: number): void;
}

const BINARY: Record<SimdBinaryOp, { vec: (c: CodeBuilder) => void; scalar: (c: CodeBuilder) => void }> = {
  add: { vec: (c) => c.f32x4Add(), scalar: (c) => c.f32Add() },
  sub: { vec: (c) => c.f32x4Sub(), scalar: (c) => c.f32Sub() },
  mul: { vec: (c) => c.f32x4Mul(), scalar: (c) => c.f32Mul() },
  div: { vec: (c) => c.f32x4Div(), scalar: (c) => c.f32Div() },
  maximum: { vec: (c) => c.f32x4Max(), scalar: (c) => c.f32Max() },
  minimum: { vec: (c) => c.f32x4Min(), scalar: (c) => c.f32Min() },
};

const UNARY: Record<SimdUnaryOp, { vec: (c: CodeBuilder) => void; scalar: (c: CodeBuilder) => void }> = {
  neg: { vec: (c) => c.f32x4Neg(), scalar: (c) => c.f32Neg() },
  abs: { vec: (c) => c.f32x4Abs(), scalar: (c) => c.f32Abs() },
  sqrt: { vec: (c) => c.f32x4Sqrt(), scalar: (c) => c.f32Sqrt() },
  // max(x, 0): NaN stays NaN and −0 becomes +0, as `x > 0 || x !== x ? x : 0` does.
  relu: { vec: (c) => c.v128ConstF32(0, 0, 0, 0).f32x4Max(), scalar: (c) => c.f32Const(0).f32Max() },
};

/**
 * `out[i] = op(a[i], b[i])` over `n` elements, where a scalar operand (form `sv` or `vs`) is read once and
 * broadcast. Parameters: (a, b, out, n) for binary ops, (x, out, n) for unary ones.
 */
function emitMap(
  m: ModuleBuilder,
  name: string,
  inputs: 1 | 2,
  form: BinaryForm,
  vec: (c: CodeBuilder) => void,
  scalar: (c: CodeBuilder) => void,
): void {
  const params: ValType[] = inputs === 2 ? [I32, I32, I32, I32] : [I32, I32, I32];
  m.addFunction(name, params, [], [], (c) => {
    const ins = inputs === 2 ? [0, 1] : [0];
    const [out, n] = inputs === 2 ? [2, 3] : [1, 2];
    const splat = c.local(V128);
    const scalarIn = form === 'sv' ? 0 : form === 'vs' ? 1 : -1;
    if (scalarIn >= 0) c.localGet(scalarIn).v128Load32Splat(0, 2).localSet(splat);
    const step = (vectors: number): void => {
      for (let v = 0; v < vectors; v++) {
        c.localGet(out);
        for (const p of ins) {
          if (p === scalarIn) c.localGet(splat);
          else c.localGet(p).v128Load(16 * v, 2);
        }
        vec(c);
        c.v128Store(16 * v, 2);
      }
      for (const p of [...ins, out]) if (p !== scalarIn) bump(c, p, 16 * vectors);
    };
    whileAtLeast(c, n, 8, () => step(2));
    whileAtLeast(c, n, 4, () => step(1));
    whileAtLeast(c, n, 1, () => {
      c.localGet(out);
      for (const p of ins) {
        if (p === scalarIn) c.localGet(splat).f32x4ExtractLane(0);
        else c.localGet(p).f32Load();
      }
      scalar(c);
      c.f32Store();
      for (const p of [...ins, out]) if (p !== scalarIn) bump(c, p, 4);
    });
  });
}

/**
 * sumRows(x, rowStride, rows, n, out): `out[r] = Σ_j x[r·rowStride + j]` (float32 in, float32 out) for
 * `rows` rows of `n` contiguous elements.
 */
function emitSumRows(m: ModuleBuilder): void {
  m.addFunction('sumRows', [I32, I32, I32, I32, I32], [], [], (c) => {
    const [x, rowStride, rows, n, out] = [0, 1, 2, 3, 4];
    const [r, p, left, blk] = [c.local(I32), c.local(I32), c.local(I32), c.local(I32)];
    const acc = [c.local(V128), c.local(V128), c.local(V128), c.local(V128)];
    const total = c.local(V128);
    const tail = c.local(F64);
    forRange(c, r, 0, loc(rows), 1, () => {
      c.localGet(x).localGet(r).localGet(rowStride).i32Mul().i32Add().localSet(p);
      c.localGet(n).localSet(left);
      c.v128ConstF32(0, 0, 0, 0).localSet(total);
      c.f64Const(0).localSet(tail);
      // Blocks of up to 64 steps of 16 elements, summed in f32, then added to a float64 pair.
      c.block().loop();
      c.localGet(left).i32Const(16).i32LtS().brIf(1);
      minI32(c, (cc) => cc.localGet(left).i32Const(4).i32ShrU(), 64);
      c.localSet(blk);
      c.localGet(left).localGet(blk).i32Const(4).i32Shl().i32Sub().localSet(left);
      for (const a of acc) c.v128ConstF32(0, 0, 0, 0).localSet(a);
      whileAtLeast(c, blk, 1, () => {
        acc.forEach((a, v) => c.localGet(a).localGet(p).v128Load(16 * v, 2).f32x4Add().localSet(a));
        bump(c, p, 64);
      });
      c.localGet(acc[0]!).localGet(acc[1]!).f32x4Add().localGet(acc[2]!).localGet(acc[3]!).f32x4Add().f32x4Add().localSet(acc[0]!);
      c.localGet(total).localGet(acc[0]!).f64x2PromoteLowF32x4().f64x2Add();
      c.localGet(acc[0]!).localGet(acc[0]!).i8x16Shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]);
      c.f64x2PromoteLowF32x4().f64x2Add().localSet(total);
      c.br(0).end().end();
      whileAtLeast(c, left, 1, () => {
        c.localGet(tail).localGet(p).f32Load().f64PromoteF32().f64Add().localSet(tail);
        bump(c, p, 4);
      });
      c.localGet(out).localGet(r).i32Const(2).i32Shl().i32Add();
      c.localGet(total).f64x2ExtractLane(0).localGet(total).f64x2ExtractLane(1).f64Add().localGet(tail).f64Add();
      c.f32DemoteF64().f32Store();
    });
  });
}

/** maxRows(x, rowStride, rows, n, out): `out[r] = max_j x[r·rowStride + j]`, NaN if any is NaN, −∞ for n = 0. */
function emitMaxRows(m: ModuleBuilder): void {
  m.addFunction('maxRows', [I32, I32, I32, I32, I32], [], [], (c) => {
    const [x, rowStride, rows, n, out] = [0, 1, 2, 3, 4];
    const [r, p, left] = [c.local(I32), c.local(I32), c.local(I32)];
    const acc = [c.local(V128), c.local(V128), c.local(V128), c.local(V128)];
    forRange(c, r, 0, loc(rows), 1, () => {
      c.localGet(x).localGet(r).localGet(rowStride).i32Mul().i32Add().localSet(p);
      c.localGet(n).localSet(left);
      for (const a of acc) c.v128ConstF32(-Infinity, -Infinity, -Infinity, -Infinity).localSet(a);
      whileAtLeast(c, left, 16, () => {
        acc.forEach((a, v) => c.localGet(a).localGet(p).v128Load(16 * v, 2).f32x4Max().localSet(a));
        bump(c, p, 64);
      });
      whileAtLeast(c, left, 4, () => {
        c.localGet(acc[0]!).localGet(p).v128Load(0, 2).f32x4Max().localSet(acc[0]!);
        bump(c, p, 16);
      });
      c.localGet(acc[0]!).localGet(acc[1]!).f32x4Max().localGet(acc[2]!).localGet(acc[3]!).f32x4Max().f32x4Max().localSet(acc[0]!);
      // Fold the four lanes, then the scalar tail into lane 0.
      c.localGet(acc[0]!).f32x4ExtractLane(0).localGet(acc[0]!).f32x4ExtractLane(1).f32Max();
      c.localGet(acc[0]!).f32x4ExtractLane(2).localGet(acc[0]!).f32x4ExtractLane(3).f32Max().f32Max();
      c.f32x4Splat().localSet(acc[0]!);
      whileAtLeast(c, left, 1, () => {
        c.localGet(acc[0]!).localGet(p).v128Load32Splat(0, 2).f32x4Max().localSet(acc[0]!);
        bump(c, p, 4);
      });
      c.localGet(out).localGet(r).i32Const(2).i32Shl().i32Add().localGet(acc[0]!).f32x4ExtractLane(0).f32Store();
    });
  });
}

function moduleWithMemory(shared: boolean): ModuleBuilder {
  return new ModuleBuilder().importMemory(shared ? { initial: 1, maximum: 65536, shared: true } : { initial: 1 });
}

/** The bytes of the module for one binary op ({@link BinaryExports}), importing `env.memory`. */
export function binaryModule(op: SimdBinaryOp, shared: boolean): Uint8Array<ArrayBuffer> {
  const m = moduleWithMemory(shared);
  for (const form of ['vv', 'sv', 'vs'] as const) emitMap(m, form, 2, form, BINARY[op].vec, BINARY[op].scalar);
  return m.build();
}

/** The bytes of the module for one unary op ({@link UnaryExports}). */
export function unaryModule(op: SimdUnaryOp, shared: boolean): Uint8Array<ArrayBuffer> {
  const m = moduleWithMemory(shared);
  emitMap(m, 'map', 1, 'vv', UNARY[op].vec, UNARY[op].scalar);
  return m.build();
}

/** The bytes of the reduction module ({@link ReductionExports}). */
export function reductionModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const m = moduleWithMemory(shared);
  emitSumRows(m);
  emitMaxRows(m);
  return m.build();
}
