/**
 * Structured-loop helpers over the {@link CodeBuilder}, shared by the kernel generators: counted loops,
 * `min`, and pointer bumps, so that generated code reads close to the C it stands for.
 * @module
 */
import type { CodeBuilder } from './encoder.js';

/** Pushes an i32 value: a local's index as `{ local }`, a constant as a number, or any emitter. */
export type I32Value = number | { readonly local: number } | ((c: CodeBuilder) => void);

/** Emits the code that pushes `v`. */
export function push(c: CodeBuilder, v: I32Value): void {
  if (typeof v === 'number') c.i32Const(v);
  else if (typeof v === 'function') v(c);
  else c.localGet(v.local);
}

/** `{ local: i }`: refers to local `i` as an {@link I32Value}. */
export function loc(i: number): { readonly local: number } {
  return { local: i };
}

/**
 * `for (i = from; i < to; i += step) body()` on signed i32s. `body` must not branch out of the loop
 * (its own blocks are fine).
 */
export function forRange(c: CodeBuilder, i: number, from: I32Value, to: I32Value, step: number, body: () => void): void {
  push(c, from);
  c.localSet(i);
  c.block().loop();
  c.localGet(i);
  push(c, to);
  c.i32GeS().brIf(1);
  body();
  c.localGet(i).i32Const(step).i32Add().localSet(i);
  c.br(0).end().end();
}

/** `while (cond) body()`: `cond` pushes an i32. `body` must not branch out of the loop. */
export function whileLoop(c: CodeBuilder, cond: (c: CodeBuilder) => void, body: () => void): void {
  c.block().loop();
  cond(c);
  c.i32Eqz().brIf(1);
  body();
  c.br(0).end().end();
}

/** `while (n >= step) { body(); n -= step }`, for a counter local `n`. */
export function whileAtLeast(c: CodeBuilder, n: number, step: number, body: () => void): void {
  c.block().loop();
  c.localGet(n).i32Const(step).i32LtS().brIf(1);
  body();
  c.localGet(n).i32Const(step).i32Sub().localSet(n);
  c.br(0).end().end();
}

/** `x += by` for an i32 local. */
export function bump(c: CodeBuilder, x: number, by: I32Value): void {
  c.localGet(x);
  push(c, by);
  c.i32Add().localSet(x);
}

/** Pushes `min(a, b)` of two signed i32s. */
export function minI32(c: CodeBuilder, a: I32Value, b: I32Value): void {
  push(c, a);
  push(c, b);
  push(c, a);
  push(c, b);
  c.i32LtS().select();
}
