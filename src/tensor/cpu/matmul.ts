/**
 * CPU matrix multiply: operands are packed into 4-row and 4-column panels (which also makes any strides,
 * transposed or broadcast, cost one pass), then each 4×4 block of the output is accumulated in
 * registers over the whole inner dimension.
 * @module
 */
import type { TypedArray } from '../dtype.js';
import { outerOffsets, type Layout } from './strided.js';

const R = 4;

/** Packs rows of A (M×K, strides sm/sk) into panels: `p[(panel·K + k)·4 + r] = A[panel·4 + r, k]`. */
function packRows(x: TypedArray, off: number, sm: number, sk: number, M: number, K: number, p: Float64Array): void {
  const panels = Math.ceil(M / R);
  p.fill(0);
  for (let ip = 0; ip < panels; ip++) {
    const rows = Math.min(R, M - ip * R);
    for (let r = 0; r < rows; r++) {
      let src = off + (ip * R + r) * sm;
      let dst = ip * K * R + r;
      for (let k = 0; k < K; k++, src += sk, dst += R) p[dst] = x[src]!;
    }
  }
}

/**
 * `out[b] = A[b] @ B[b]` for every batch index; A is `[...batch, M, K]`, B `[...batch, K, N]` (any strides),
 * out is contiguous `[...batch, M, N]`.
 */
export function matmulKernel(
  a: TypedArray,
  al: Layout,
  b: TypedArray,
  bl: Layout,
  batchShape: readonly number[],
  M: number,
  K: number,
  N: number,
  out: TypedArray,
): void {
  const nb = batchShape.length;
  const aStarts = outerOffsets(batchShape, al.strides.slice(0, nb), al.offset);
  const bStarts = outerOffsets(batchShape, bl.strides.slice(0, nb), bl.offset);
  const [sam, sak] = [al.strides[nb]!, al.strides[nb + 1]!];
  const [sbk, sbn] = [bl.strides[nb]!, bl.strides[nb + 1]!];
  // One pack type for every dtype: float32 widens exactly, and a single array type keeps the inner
  // loop's loads monomorphic (mixing Float32Array and Float64Array packs slowed it by about 20%).
  const Pack = Float64Array;
  const mp = Math.ceil(M / R);
  const np = Math.ceil(N / R);
  const ap = new Pack(mp * K * R);
  const bp = new Pack(np * K * R);
  let lastB = -1;
  for (let bi = 0; bi < aStarts.length; bi++) {
    packRows(a, aStarts[bi]!, sam, sak, M, K, ap);
    // Columns of B are rows of Bᵀ: the same packing with the strides swapped. Skip when B is broadcast.
    if (bStarts[bi] !== lastB || bi === 0) packRows(b, bStarts[bi]!, sbn, sbk, N, K, bp);
    lastB = bStarts[bi]!;
    const ob = bi * M * N;
    for (let ip = 0; ip < mp; ip++) {
      const rows = Math.min(R, M - ip * R);
      const abase = ip * K * R;
      for (let jp = 0; jp < np; jp++) {
        const cols = Math.min(R, N - jp * R);
        const bbase = jp * K * R;
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let k = 0, ia = abase, ib = bbase; k < K; k++, ia += R, ib += R) {
          const a0 = ap[ia]!, a1 = ap[ia + 1]!, a2 = ap[ia + 2]!, a3 = ap[ia + 3]!;
          const b0 = bp[ib]!, b1 = bp[ib + 1]!, b2 = bp[ib + 2]!, b3 = bp[ib + 3]!;
          c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
          c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
          c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
          c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        }
        const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
        for (let r = 0; r < rows; r++) {
          const o = ob + (ip * R + r) * N + jp * R;
          for (let c = 0; c < cols; c++) out[o + c] = tile[r * R + c]!;
        }
      }
    }
  }
}
