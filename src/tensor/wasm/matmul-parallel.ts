/**
 * The float32 matrix product of the wasm backend on several threads (see `threads.ts` and `matmul.ts`).
 * Two ways to split `out[b] = A[b] @ B[b]`, chosen by shape:
 *
 * - By batch entries, when there are at least as many entries as threads (and they divide evenly, or are
 *   many): each task packs and multiplies a run of entries in panels of its own; one hand-off in all.
 * - By rows of the output, when each matrix has enough row panels (`⌈M/MR⌉ ≥ 2·threads`): the calling
 *   thread packs B (O(K·N) work against the product's O(M·K·N)), then each task packs its own rows of A
 *   and multiplies them by all of B; one hand-off per entry. Entries that reuse the previous B (a
 *   broadcast B) join the same hand-off: packing and multiplying a task's rows touch only its own rows.
 *
 * Otherwise (a few short matrices) the product runs on one thread. Results equal the one-thread kernel's
 * exactly: every output element is computed by the same sequence of operations, whichever thread runs it.
 * @module
 */
import type { Operand } from '../backend.js';
import { outerOffsets } from '../cpu/strided.js';
import { KC, MC_PANELS, type MatmulTile } from './matmul.js';
import type { WasmBuffer, WasmHeap } from './memory.js';
import { splitRange, TASKS_PER_THREAD } from './parallel.js';
import type { ThreadCall, ThreadModule, WasmThreads } from './threads.js';

/** How {@link matmulSplit} splits a product. */
export type MatmulSplit = 'batch' | 'rows' | 'none';

/** Which split suits `batchCount` entries of `M` rows on `threads` threads with `MR`-row panels. */
export function matmulSplit(batchCount: number, M: number, MR: number, threads: number): MatmulSplit {
  if (threads < 2) return 'none';
  if (batchCount >= threads && (batchCount % threads === 0 || batchCount >= 4 * threads)) return 'batch';
  if (Math.ceil(M / MR) >= 2 * threads) return 'rows';
  return batchCount >= threads ? 'batch' : 'none';
}

/** Bytes of packed panels a batch split may take per task before it uses one task per thread. */
const BATCH_TASK_BYTES = 8 * 2 ** 20;

/** Groups `pieces` (in order) into `threads` shares of consecutive tasks, leaving out empty ones. */
function group(pieces: readonly ThreadCall[][], threads: number): ThreadCall[][][] {
  const per = pieces.length / threads;
  return Array.from({ length: threads }, (_, t) => pieces.slice(t * per, (t + 1) * per).filter((task) => task.length > 0));
}

/**
 * `out[b] = A[b] @ B[b]` as `matmulF32` computes it, split across `threads.running` threads; false (and
 * nothing done) when the shape does not split, so the caller runs the one-thread kernel.
 */
export function matmulF32Parallel(
  heap: WasmHeap,
  threads: WasmThreads,
  mod: ThreadModule,
  tile: MatmulTile,
  a: Operand & { buffer: WasmBuffer },
  b: Operand & { buffer: WasmBuffer },
  batch: readonly number[],
  M: number,
  K: number,
  N: number,
  out: WasmBuffer,
): boolean {
  const T = threads.running;
  const MR = tile.rows;
  const NR = 4 * tile.vectors;
  const nb = batch.length;
  const aStarts = outerOffsets(batch, a.strides.slice(0, nb), a.offset);
  const bStarts = outerOffsets(batch, b.strides.slice(0, nb), b.offset);
  const split = out.size === 0 || K === 0 ? 'none' : matmulSplit(aStarts.length, M, MR, T);
  if (split === 'none') return false;
  const [sam, sak] = [a.strides[nb]! * 4, a.strides[nb + 1]! * 4];
  const [sbk, sbn] = [b.strides[nb]! * 4, b.strides[nb + 1]! * 4];
  const mp = Math.ceil(M / MR);
  const np = Math.ceil(N / NR);
  const [aBytes, bBytes] = [mp * MR * K * 4, np * NR * K * 4];
  const aSrc = (bi: number): number => a.buffer.ptr + aStarts[bi]! * 4;
  const bSrc = (bi: number): number => b.buffer.ptr + bStarts[bi]! * 4;
  const cAt = (bi: number): number => out.ptr + bi * M * N * 4;
  const blocks: number[] = [];
  const alloc = (bytes: number): number => {
    const p = heap.alloc(bytes);
    blocks.push(p);
    return p;
  };
  try {
    if (split === 'batch') {
      // Each task packs and multiplies a run of entries in panels of its own.
      const count = aStarts.length;
      const P = aBytes + bBytes <= BATCH_TASK_BYTES ? Math.min(TASKS_PER_THREAD, Math.floor(count / T)) : 1;
      const bounds = splitRange(count, T * P, 1);
      const pieces = Array.from({ length: T * P }, (_, k) => {
        const calls: ThreadCall[] = [];
        if (bounds[k + 1]! === bounds[k]!) return calls;
        const [ap, bp, scratch] = [alloc(aBytes), alloc(bBytes), alloc(MR * NR * 4)];
        for (let bi = bounds[k]!; bi < bounds[k + 1]!; bi++) {
          const first = bi === bounds[k]!;
          if (first || aStarts[bi] !== aStarts[bi - 1]) calls.push(['packA', ap, aSrc(bi), sam, sak, M, K]);
          if (first || bStarts[bi] !== bStarts[bi - 1]) calls.push(['packB', bp, bSrc(bi), sbn, sbk, N, K]);
          calls.push(['gemm', ap, bp, cAt(bi), M, N, K, mp, np, KC, MC_PANELS, scratch]);
        }
        return calls;
      });
      threads.run(mod, group(pieces, T));
      return true;
    }
    // By rows: this thread packs each new B whole (O(K·N) against the product's O(M·K·N)), then task k
    // packs and multiplies row panels [rb[k], rb[k+1]) of A.
    const P = Math.min(TASKS_PER_THREAD, Math.floor(mp / T));
    const [ap, bp] = [alloc(aBytes), alloc(bBytes)];
    const pack = mod.exports['packB'] as (dst: number, src: number, sCol: number, sK: number, cols: number, K: number) => void;
    const rb = splitRange(mp, T * P, 1);
    const scratch = Array.from({ length: T * P }, () => alloc(MR * NR * 4));
    let pending: ThreadCall[][] = Array.from({ length: T * P }, () => []);
    const flush = (): void => {
      if (pending.some((s) => s.length > 0)) threads.run(mod, group(pending, T));
      pending = Array.from({ length: T * P }, () => []);
    };
    for (let bi = 0; bi < aStarts.length; bi++) {
      const newA = bi === 0 || aStarts[bi] !== aStarts[bi - 1];
      if (bi === 0 || bStarts[bi] !== bStarts[bi - 1]) {
        // Every multiply by the previous B must be done before it is overwritten.
        flush();
        pack(bp, bSrc(bi), sbn, sbk, N, K);
      }
      for (let k = 0; k < T * P; k++) {
        const [p0, p1] = [rb[k]!, rb[k + 1]!];
        if (p1 === p0) continue;
        const rows = Math.min(M, p1 * MR) - p0 * MR;
        if (newA) pending[k]!.push(['packA', ap + p0 * K * MR * 4, aSrc(bi) + p0 * MR * sam, sam, sak, rows, K]);
        pending[k]!.push(['gemm', ap + p0 * K * MR * 4, bp, cAt(bi) + p0 * MR * N * 4, rows, N, K, p1 - p0, np, KC, MC_PANELS, scratch[k]!]);
      }
    }
    flush();
    return true;
  } finally {
    for (const p of blocks) heap.free(p);
  }
}
