/**
 * Emitters shared by the fused kernels' generators: walking rows of float32 elements four lanes at a
 * time with a one-element tail, loads and stores for either, masked accumulation, float64 accumulators,
 * horizontal sums and maxima, and functions over `rows` rows of `n` contiguous elements.
 * @module
 */
import { CodeBuilder, I32, ModuleBuilder, type ValType } from './encoder.js';
import { bump, forRange, loc, whileAtLeast } from './emit.js';

/** Whether a step handles four lanes (`vec`) or the one element of a row's tail (`tail`, in lane 0). */
export type Lanes = 'vec' | 'tail';
/** A pointer local and the bytes one element takes at it (4 for float32, 8 for float64 accumulators). */
export type Ptr = readonly [local: number, bytes: number];

export function moduleWithMemory(shared: boolean): ModuleBuilder {
  return new ModuleBuilder().importMemory(shared ? { initial: 1, maximum: 65536, shared: true } : { initial: 1 });
}

/** Pushes the elements at `ptr`: four, or one splatted over the lanes in the tail. */
export function ld(c: CodeBuilder, ptr: number, l: Lanes): void {
  c.localGet(ptr);
  if (l === 'tail') c.v128Load32Splat(0, 2);
  else c.v128Load(0, 2);
}

/** Stores the v128 `value` pushes at `ptr`: four lanes, or lane 0 in the tail. */
export function st(c: CodeBuilder, ptr: number, l: Lanes, value: () => void): void {
  c.localGet(ptr);
  value();
  if (l === 'tail') c.f32x4ExtractLane(0).f32Store();
  else c.v128Store(0, 2);
}

/** `acc += value`, only lane 0 of the value in the tail (its other lanes hold copies). */
export function accAdd(c: CodeBuilder, acc: number, l: Lanes, value: () => void): void {
  c.localGet(acc);
  value();
  if (l === 'tail') c.v128ConstI32(-1, 0, 0, 0).v128And();
  c.f32x4Add().localSet(acc);
}

/** Adds the float32 lanes in local `v` to the float64 accumulators at `ptr` (two f64x2 in a vector step). */
export function acc64(c: CodeBuilder, ptr: number, l: Lanes, v: number): void {
  if (l === 'vec') {
    c.localGet(ptr).localGet(ptr).v128Load(0, 3).localGet(v).f64x2PromoteLowF32x4().f64x2Add().v128Store(0, 3);
    c.localGet(ptr).localGet(ptr).v128Load(16, 3).localGet(v).localGet(v);
    c.i8x16Shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]).f64x2PromoteLowF32x4().f64x2Add().v128Store(16, 3);
  } else {
    c.localGet(ptr).localGet(ptr).f64Load().localGet(v).f32x4ExtractLane(0).f64PromoteF32().f64Add().f64Store();
  }
}

/** Pushes the f32 sum of the four lanes of `v`: (v0 + v1) + (v2 + v3). */
export function hsum(c: CodeBuilder, v: number): void {
  c.localGet(v).f32x4ExtractLane(0).localGet(v).f32x4ExtractLane(1).f32Add();
  c.localGet(v).f32x4ExtractLane(2).localGet(v).f32x4ExtractLane(3).f32Add().f32Add();
}

/** Pushes the largest of the four lanes of `v` (NaN if any is NaN). */
export function hmax(c: CodeBuilder, v: number): void {
  c.localGet(v).f32x4ExtractLane(0).localGet(v).f32x4ExtractLane(1).f32Max();
  c.localGet(v).f32x4ExtractLane(2).localGet(v).f32x4ExtractLane(3).f32Max().f32Max();
}

/**
 * Walks `count` elements: `body` per four lanes, then per remaining element (the tail), bumping each
 * pointer past what was handled. `left` is a scratch i32 local. (Unrolling by 2 or 4 vectors was
 * measured no faster here, even around exp, and makes the modules larger.)
 */
export function eachElement(c: CodeBuilder, count: number, left: number, ptrs: readonly Ptr[], body: (l: Lanes) => void): void {
  c.localGet(count).localSet(left);
  whileAtLeast(c, left, 4, () => {
    body('vec');
    for (const [p, bytes] of ptrs) bump(c, p, 4 * bytes);
  });
  whileAtLeast(c, left, 1, () => {
    body('tail');
    for (const [p, bytes] of ptrs) bump(c, p, bytes);
  });
}

/** Sets each `[dst, src]` pointer local pair: dst = src. */
export function reset(c: CodeBuilder, pairs: readonly (readonly [number, number])[]): void {
  for (const [d, s] of pairs) c.localGet(s).localSet(d);
}

/**
 * Adds a function over `rows` rows of `n` contiguous float32 elements: the parameters are the row
 * pointers `ptrs` (byte addresses, advanced by one row of `n` elements per row), then `rows`, `n`, then
 * `extra`. `row` emits one row's code given the locals.
 */
export function rowFunction(
  m: ModuleBuilder,
  name: string,
  rowPtrs: number,
  extra: ValType[],
  row: (c: CodeBuilder, k: { ptrs: number[]; n: number; left: number; params: number[]; r: number }) => void,
): void {
  const params: ValType[] = [...Array.from({ length: rowPtrs }, (): ValType => I32), I32, I32, ...extra];
  m.addFunction(name, params, [], [], (c) => {
    const ptrs = Array.from({ length: rowPtrs }, (_, i) => i);
    const [rows, n] = [rowPtrs, rowPtrs + 1];
    const extras = extra.map((_, i) => rowPtrs + 2 + i);
    const [r, left, rowBytes] = [c.local(I32), c.local(I32), c.local(I32)];
    c.localGet(n).i32Const(2).i32Shl().localSet(rowBytes);
    forRange(c, r, 0, loc(rows), 1, () => {
      row(c, { ptrs, n, left, params: extras, r });
      for (const p of ptrs) bump(c, p, loc(rowBytes));
    });
  });
}
