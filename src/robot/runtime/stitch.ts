/**
 * Hard stitching, the buffer update rule of §6.2:
 *
 *   Eq. 24: a_exec^(n) = a_{<d}^(n−1) ⊕ a_{≥d}^(n).
 *
 * The new chunk a^(n) (T rows, denoised with the prefix locked to the committed rows, Eq. 23) gives
 * only its postfix; the prefix written back is the committed rows themselves, whatever the policy
 * returned there. Padding rows of a short prefix (see `RingSnapshot.committed`) are not written back.
 * @module
 */
import type { RingSnapshot } from './ring-buffer.js';

/**
 * Eq. 24: the rows to post after `snapshot` — its m real committed rows, then `chunk[d…T)` — as an
 * (m + T − d) × D Float32Array. `chunk` is the policy's T × D output.
 *
 * @example
 * const rows = stitchChunk(snap, await policy.sampleActions(obs, { committedPrefix: snap.prefix, delay: snap.delay }), T);
 */
export function stitchChunk(snapshot: RingSnapshot, chunk: Float32Array, chunkLength: number): Float32Array {
  const fn = 'stitchChunk';
  const { delay: d, committed: m, prefix } = snapshot;
  const T = chunkLength;
  if (!Number.isInteger(T) || T < 1 || d >= T) throw new RangeError(`${fn}: chunkLength must be an integer > delay ${d}, got ${T}`);
  const D = d > 0 ? prefix.length / d : chunk.length / T;
  if (!(chunk instanceof Float32Array) || chunk.length !== T * D) {
    throw new RangeError(`${fn}: chunk must be a Float32Array of ${T} × ${D} = ${T * D} entries, got ${chunk?.length}`);
  }
  const out = new Float32Array((m + T - d) * D);
  out.set(prefix.subarray(0, m * D), 0);
  out.set(chunk.subarray(d * D), m * D);
  return out;
}

/**
 * Eq. 23 check: the number of prefix rows (i < d) where `chunk` differs from the committed rows. A
 * policy that locks its prefix returns 0; whatever it returns, {@link stitchChunk} keeps the committed rows.
 */
export function prefixEdits(snapshot: RingSnapshot, chunk: Float32Array): number {
  const { delay: d, prefix } = snapshot;
  if (d === 0) return 0;
  const D = prefix.length / d;
  let edited = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < D; j++) {
      if (chunk[i * D + j] !== prefix[i * D + j]) {
        edited++;
        break;
      }
    }
  }
  return edited;
}
