/**
 * How the wasm backend splits elementwise ops and reductions across its threads (see `threads.ts`):
 * contiguous ranges of the output, one per thread, each cut into {@link TASKS_PER_THREAD} tasks.
 *
 * - Elementwise maps: the output's `rows × len` elements are cut into equal ranges on 16-element
 *   (64-byte) boundaries, so no two threads write the same cache line; each range becomes one kernel call
 *   per row piece it covers.
 * - Row reductions (`sum`/`max` over a contiguous trailing run): whole rows per task.
 * - A reduction of one long run: each thread reduces an equal piece into a partial result, and the calling
 *   thread combines the partials — sums in float64, rounded once to float32 (so the result may differ
 *   from the one-thread kernel's in the last bit), maxima exactly (NaN if any partial is NaN).
 * @module
 */
import type { ThreadCall } from './threads.js';

/**
 * `parts + 1` boundaries cutting `[0, total)` into `parts` near-equal ranges whose inner boundaries are
 * multiples of `align` (the first is 0, the last `total`; a range may be empty when `total` is small).
 */
export function splitRange(total: number, parts: number, align: number): number[] {
  if (!Number.isInteger(total) || total < 0 || !Number.isInteger(parts) || parts < 1 || !Number.isInteger(align) || align < 1) {
    throw new RangeError(`splitRange: bad arguments total=${total}, parts=${parts}, align=${align}`);
  }
  const bounds = [0];
  for (let t = 1; t < parts; t++) bounds.push(Math.min(total, Math.max(bounds[t - 1]!, Math.round((total * t) / parts / align) * align)));
  bounds.push(total);
  return bounds;
}

/**
 * Tasks per thread: a thread's share is cut into this many tasks, so that the calling thread can take
 * over part of a late worker's share (see `threads.ts`).
 */
export const TASKS_PER_THREAD = 4;

/** Groups `tasks` (in order) into `threads` consecutive shares of `perThread` tasks. */
function shares(tasks: ThreadCall[][], threads: number, perThread: number): ThreadCall[][][] {
  return Array.from({ length: threads }, (_, t) => tasks.slice(t * perThread, (t + 1) * perThread).filter((task) => task.length > 0));
}

/** One input of an elementwise kernel: its buffer's byte address, each row's first element, and the step along a row (1, or 0 for a broadcast scalar). */
export interface MapOperand {
  /** Byte address of the buffer's element 0. */
  readonly ptr: number;
  /** Element offset of each row's first element. */
  readonly starts: ArrayLike<number>;
  /** Elements between neighbours along a row: 1 (contiguous) or 0 (one scalar). */
  readonly step: number;
}

/**
 * The per-thread tasks of an elementwise kernel `fn(...inputs, out, n)` over `rows` rows of `len`
 * float32 elements, written contiguously at byte address `out`.
 */
export function mapShares(fn: string, inputs: readonly MapOperand[], out: number, rows: number, len: number, threads: number): ThreadCall[][][] {
  const P = TASKS_PER_THREAD;
  const bounds = splitRange(rows * len, threads * P, 16);
  const tasks = Array.from({ length: threads * P }, (_, k) => {
    const calls: ThreadCall[] = [];
    for (let i = bounds[k]!; i < bounds[k + 1]!; ) {
      const r = Math.floor(i / len);
      const o = i - r * len;
      const n = Math.min(len - o, bounds[k + 1]! - i);
      calls.push([fn, ...inputs.map((x) => x.ptr + (x.starts[r]! + o * x.step) * 4), out + i * 4, n]);
      i += n;
    }
    return calls;
  });
  return shares(tasks, threads, P);
}

/**
 * The per-thread tasks of a row reduction `fn(x, rowStride, rows, n, out)` over `rows` rows of `n`
 * float32 elements, the first at byte address `x` and the others `rowStride` bytes apart: whole rows per task.
 */
export function rowShares(fn: string, x: number, rowStride: number, rows: number, n: number, out: number, threads: number): ThreadCall[][][] {
  const P = TASKS_PER_THREAD;
  const bounds = splitRange(rows, threads * P, 1);
  const tasks = Array.from({ length: threads * P }, (_, k): ThreadCall[] => {
    const [r0, r1] = [bounds[k]!, bounds[k + 1]!];
    return r1 > r0 ? [[fn, x + r0 * rowStride, rowStride, r1 - r0, n, out + r0 * 4]] : [];
  });
  return shares(tasks, threads, P);
}

/** As {@link rowShares}, for rows at arbitrary element offsets `starts` from byte address `x` (one call per row). */
export function rowListShares(fn: string, x: number, starts: ArrayLike<number>, n: number, out: number, threads: number): ThreadCall[][][] {
  const P = TASKS_PER_THREAD;
  const bounds = splitRange(starts.length, threads * P, 1);
  const tasks = Array.from({ length: threads * P }, (_, k) => {
    const calls: ThreadCall[] = [];
    for (let r = bounds[k]!; r < bounds[k + 1]!; r++) calls.push([fn, x + starts[r]! * 4, 0, 1, n, out + r * 4]);
    return calls;
  });
  return shares(tasks, threads, P);
}

/**
 * The per-thread tasks reducing one run of `n` float32 elements at byte address `x` into
 * `threads · TASKS_PER_THREAD` partial results at `partials` (one float32 each): pieces cut on
 * 16-element boundaries.
 */
export function partialShares(fn: string, x: number, n: number, partials: number, threads: number): ThreadCall[][][] {
  const P = TASKS_PER_THREAD;
  const bounds = splitRange(n, threads * P, 16);
  const tasks = Array.from({ length: threads * P }, (_, k): ThreadCall[] => [[fn, x + bounds[k]! * 4, 0, 1, bounds[k + 1]! - bounds[k]!, partials + k * 4]]);
  return shares(tasks, threads, P);
}

/** Combines partial results of a sum (in float64, rounded once) or a max (NaN if any is NaN). */
export function combinePartials(op: 'sum' | 'max', partials: ArrayLike<number>): number {
  let acc = op === 'sum' ? 0 : -Infinity;
  for (let i = 0; i < partials.length; i++) {
    const v = partials[i]!;
    if (op === 'sum') acc += v;
    else if (Number.isNaN(v) || v > acc) acc = Number.isNaN(acc) ? acc : v;
  }
  return Math.fround(acc);
}
