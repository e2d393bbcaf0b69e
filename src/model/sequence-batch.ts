/**
 * Batches of unified sequences (§5.2.1, Eq. 2-5; Eq. 9-10 for hybrid ones): right padding, one
 * attention mask per sample (causal, bidirectional inside `'full'` segments, Eq. 9 gating), padding
 * that attends to nothing and is never attended, and the loss index sets Ω_text, Ω_act flattened over
 * the batch.
 * @module
 */
import { tensor, type Tensor } from '../tensor/index.js';
import { attentionMaskBits } from './hybrid-mask.js';
import type { UnifiedSequence } from './sequence.js';
import { byteVocabulary } from './special-tokens.js';

/** Options of {@link collateSequences}. */
export interface CollateOptions {
  /** Id placed at padding and at content positions of `tokenIds` (default: {@link byteVocabulary}'s `<pad>`). */
  readonly padId?: number;
  /** Pad every row to this length (default: the longest sequence). */
  readonly length?: number;
}

/** B sequences padded to a common length T. */
export interface SequenceBatch {
  /** The sequences, in batch order. */
  readonly sequences: readonly UnifiedSequence[];
  /** T, the padded length. */
  readonly length: number;
  /** Int32 `[B, T]`: vocabulary ids, `padId` at padding and at content slots (their embeddings come from the slots). */
  readonly tokenIds: Tensor;
  /** Int32 `[B, T]`: position ids (Eq. 10); 0 at padding. */
  readonly positionIds: Tensor;
  /** Bool `[B, 1, T, T]`: true where query i of sample b may attend to key j (broadcasts over heads). */
  readonly attentionMask: Tensor;
  /** Bool `[B, T]`: true at real positions, false at padding. */
  readonly paddingMask: Tensor;
  /** Bool `[B, T]`: true where the action-generation expert owns the position. */
  readonly actionExpertMask: Tensor;
  /** Ω_text over the batch, as flat indices b·T + i. */
  readonly textLossIndices: Int32Array;
  /** Ω_act over the batch, as flat indices b·T + i. */
  readonly actionLossIndices: Int32Array;
}

/**
 * Pads sequences on the right into one batch.
 *
 * @example
 * const batch = collateSequences([buildSequence(a), buildSequence(b)]);
 * attn.forward(x, { mask: batch.attentionMask, positionIds: batch.positionIds });
 */
export function collateSequences(sequences: readonly UnifiedSequence[], opts: CollateOptions = {}): SequenceBatch {
  if (!Array.isArray(sequences) || sequences.length === 0) throw new RangeError('collateSequences: expected a non-empty array of sequences');
  const padId = opts.padId ?? byteVocabulary.specials.pad;
  if (!Number.isInteger(padId) || padId < 0) throw new RangeError(`collateSequences: padId must be a non-negative integer, got ${padId}`);
  const longest = Math.max(...sequences.map((s) => s.length));
  const T = opts.length ?? longest;
  if (!Number.isInteger(T) || T < longest) throw new RangeError(`collateSequences: length ${T} is shorter than the longest sequence (${longest})`);
  const B = sequences.length;
  const ids = new Int32Array(B * T).fill(padId);
  const pos = new Int32Array(B * T);
  const mask = new Uint8Array(B * T * T);
  const real = new Uint8Array(B * T);
  const act = new Uint8Array(B * T);
  const textLoss: number[] = [];
  const actionLoss: number[] = [];
  sequences.forEach((s, b) => {
    const o = b * T;
    for (let i = 0; i < s.length; i++) {
      if (s.tokenIds[i]! >= 0) ids[o + i] = s.tokenIds[i]!;
      pos[o + i] = s.positionIds[i]!;
      real[o + i] = 1;
      act[o + i] = s.expert[i] === 'action' ? 1 : 0;
    }
    // The spans stop at s.length, so the bits leave padding rows and columns empty.
    mask.set(attentionMaskBits(s.segments, T), b * T * T);
    for (const i of s.textLossIndices) textLoss.push(o + i);
    for (const i of s.actionLossIndices) actionLoss.push(o + i);
  });
  return {
    sequences,
    length: T,
    tokenIds: tensor(ids, { shape: [B, T] }),
    positionIds: tensor(pos, { shape: [B, T] }),
    attentionMask: tensor(mask, { shape: [B, 1, T, T], dtype: 'bool' }),
    paddingMask: tensor(real, { shape: [B, T], dtype: 'bool' }),
    actionExpertMask: tensor(act, { shape: [B, T], dtype: 'bool' }),
    textLossIndices: Int32Array.from(textLoss),
    actionLossIndices: Int32Array.from(actionLoss),
  };
}
