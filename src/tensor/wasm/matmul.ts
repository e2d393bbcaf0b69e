/**
 * The float32 matrix product on the wasm backend: per batch entry, pack A and B into panels inside wasm
 * memory (skipped when a broadcast operand repeats the previous entry's matrix) and run the generated
 * GEMM (see `matmul-kernel.ts`). Transposed and broadcast operands are handled by the packing's strides.
 * @module
 */
import type { Operand } from '../backend.js';
import { outerOffsets } from '../cpu/strided.js';
import type { MatmulExports, MatmulTile } from './matmul-kernel.js';
import type { WasmBuffer, WasmHeap } from './memory.js';

export type { MatmulTile };

/**
 * The default register tile, measured best with Node 20's V8 on x86-64 (4×8 keeps 8 accumulators in
 * registers, ≈ 50 GFLOP/s with relaxed SIMD, where 6×8 spills and halves that). Newer V8 versions
 * (Deno 2.9) allocate registers differently and prefer 6×8 with the k loop unrolled twice (≈ 15% faster
 * there); {@link WasmBackendOptions.matmulTile} picks another.
 */
export const MATMUL_TILE: MatmulTile = { rows: 4, vectors: 2, unroll: 1 };
/** K block: a 256×NR B panel (8 KiB for NR = 8) stays in L1 while A panels stream past it. */
export const KC = 256;
/** M block, in panels of MR rows: a 128×256 block of A (128 KiB for MR = 4) stays in L2. */
export const MC_PANELS = 32;

/**
 * `out[b] = A[b] @ B[b]` for float32 operands `[...batch, M, K]` and `[...batch, K, N]` (any strides,
 * broadcast batches as stride 0) into the contiguous `[...batch, M, N]` float32 `out`.
 */
export function matmulF32(
  heap: WasmHeap,
  ex: MatmulExports,
  tile: MatmulTile,
  a: Operand & { buffer: WasmBuffer },
  b: Operand & { buffer: WasmBuffer },
  batch: readonly number[],
  M: number,
  K: number,
  N: number,
  out: WasmBuffer,
): void {
  const count = out.size;
  if (count === 0) return;
  if (K === 0) {
    out.data.fill(0);
    return;
  }
  const MR = tile.rows;
  const NR = 4 * tile.vectors;
  const nb = batch.length;
  const aStarts = outerOffsets(batch, a.strides.slice(0, nb), a.offset);
  const bStarts = outerOffsets(batch, b.strides.slice(0, nb), b.offset);
  const [sam, sak] = [a.strides[nb]! * 4, a.strides[nb + 1]! * 4];
  const [sbk, sbn] = [b.strides[nb]! * 4, b.strides[nb + 1]! * 4];
  const mp = Math.ceil(M / MR);
  const np = Math.ceil(N / NR);
  const ap = heap.alloc(mp * MR * K * 4);
  const bp = heap.alloc(np * NR * K * 4);
  const scratch = heap.alloc(MR * NR * 4);
  try {
    for (let bi = 0; bi < aStarts.length; bi++) {
      if (bi === 0 || aStarts[bi] !== aStarts[bi - 1]) ex.packA(ap, a.buffer.ptr + aStarts[bi]! * 4, sam, sak, M, K);
      if (bi === 0 || bStarts[bi] !== bStarts[bi - 1]) ex.packB(bp, b.buffer.ptr + bStarts[bi]! * 4, sbn, sbk, N, K);
      ex.gemm(ap, bp, out.ptr + bi * M * N * 4, M, N, K, mp, np, KC, MC_PANELS, scratch);
    }
  } finally {
    heap.free(scratch);
    heap.free(bp);
    heap.free(ap);
  }
}
