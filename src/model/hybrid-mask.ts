/**
 * Attention masks and position ids of the unified sequence: the plain mask of a Query-Answer sequence
 * `[S_Q; S_A]` (§5.2.1), and the hybrid mask and aligned positions of `[S_Q; S_A^FM; S_A^MASK]`:
 *
 * Eq. 9: G = [[1, 0, 0], [1, 1, 0], [1, 0, 1]] for [S_Q; S_A^FM; S_A^MASK] — the gating applied onto
 * the original mask, so both targets see the context and never each other, and the context sees neither.
 *
 * Eq. 10: PE(j) = j for j ∈ S_Q, and PE(j) = p0 + r(j) for j ∈ S_A^FM and for j ∈ S_A^MASK, with
 * p0 = max_{j ∈ S_Q}(j + 1) and r(j) the index of j relative to the start of its target.
 *
 * The "original mask" is the one of the paper's public code (BAGEL-style splits): causal across the
 * sequence, and bidirectional inside a segment whose attention kind is `'full'` (an image, a state, an
 * action chunk, including the segment's begin/end tokens); text is causal.
 * @module
 */
import { tensor, type Tensor } from '../tensor/index.js';

/** How a segment's positions attend to each other: causally, or all to all (bidirectional). */
export type AttentionKind = 'causal' | 'full';

/**
 * The part of the sequence a position belongs to: the context `query` (S_Q), the single response
 * `answer` (S_A) of a plain Query-Answer sequence, or one of the two hybrid targets `fm` (S_A^FM,
 * continuous actions) and `mask` (S_A^MASK, discrete motion tokens) of Eq. 9.
 */
export type SequencePart = 'query' | 'answer' | 'fm' | 'mask';

/** A run of positions `[start, end)` with one attention kind, in one part of the sequence. */
export interface MaskSpan {
  /** First position. */
  readonly start: number;
  /** One past the last position. */
  readonly end: number;
  /** Attention inside the span. */
  readonly attention: AttentionKind;
  /** The part the span belongs to. */
  readonly part: SequencePart;
}

/** Eq. 9's gating matrix G, rows and columns in the order [S_Q; S_A^FM; S_A^MASK] (1 = may attend). */
export const HYBRID_GATING: readonly (readonly number[])[] = Object.freeze([
  Object.freeze([1, 0, 0]),
  Object.freeze([1, 1, 0]),
  Object.freeze([1, 0, 1]),
]);

/**
 * Eq. 9, as a rule: a position in part `from` may attend to a key in part `to` when the key is in the
 * context S_Q or in the same part. For [S_Q; S_A^FM; S_A^MASK] this is G; for [S_Q; S_A] it is all ones
 * below the diagonal, so the plain mask is the original one.
 */
export function hybridGate(from: SequencePart, to: SequencePart): boolean {
  return to === 'query' || to === from;
}

/**
 * Throws unless the spans lie in order, without overlap, inside `[0, length)`, the context comes first
 * and each other part is one contiguous run. Positions no span covers are padding.
 */
export function checkSpans(spans: readonly MaskSpan[], length: number, where: string): void {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`${where}: length must be a non-negative integer, got ${length}`);
  let prev = 0;
  let prevPart: SequencePart | null = null;
  const closed = new Set<SequencePart>();
  spans.forEach((s, i) => {
    if (!Number.isInteger(s.start) || !Number.isInteger(s.end) || s.start < prev || s.end < s.start || s.end > length) {
      throw new RangeError(`${where}: span ${i} [${s.start}, ${s.end}) must be ordered, disjoint and inside [0, ${length}) (previous end ${prev})`);
    }
    if (s.attention !== 'causal' && s.attention !== 'full') throw new RangeError(`${where}: span ${i} has attention '${String(s.attention)}'`);
    if (!['query', 'answer', 'fm', 'mask'].includes(s.part)) throw new RangeError(`${where}: span ${i} has part '${String(s.part)}'`);
    if (s.part !== prevPart) {
      if (closed.has(s.part)) throw new RangeError(`${where}: part '${s.part}' is split around span ${i}; each part must be contiguous`);
      if (s.part === 'query' && prevPart !== null) throw new RangeError(`${where}: the context (query) must come first, but span ${i} follows '${prevPart}'`);
      if (prevPart !== null) closed.add(prevPart);
      prevPart = s.part;
    }
    prev = s.end;
  });
}

/** For each position, the index of the span covering it, or −1 (padding). */
function spanIndexOf(spans: readonly MaskSpan[], length: number): Int32Array {
  const owner = new Int32Array(length).fill(-1);
  spans.forEach((s, k) => owner.fill(k, s.start, s.end));
  return owner;
}

/**
 * The mask as row-major bits `[T, T]` (1 = query row i may attend to key column j): the original mask
 * (j ≤ i, or i and j in the same `'full'` span) gated by Eq. 9 ({@link hybridGate}). Padding positions attend
 * to nothing and are attended by nothing.
 */
export function attentionMaskBits(spans: readonly MaskSpan[], length: number): Uint8Array {
  checkSpans(spans, length, 'attentionMaskBits');
  const owner = spanIndexOf(spans, length);
  const bits = new Uint8Array(length * length);
  for (let i = 0; i < length; i++) {
    const si = owner[i]!;
    if (si < 0) continue;
    const own = spans[si]!;
    for (let j = 0; j < length; j++) {
      const sj = owner[j]!;
      if (sj < 0) continue;
      const original = j <= i || (sj === si && own.attention === 'full');
      if (original && hybridGate(own.part, spans[sj]!.part)) bits[i * length + j] = 1;
    }
  }
  return bits;
}

/**
 * The attention mask of a sequence as a bool tensor `[T, T]` (true = may attend), the convention of
 * `MultiHeadAttention` and `scaledDotProductAttention`; see {@link attentionMaskBits}.
 *
 * @example
 * // [S_Q (3 text tokens); S_A^FM (2 action steps); S_A^MASK (2 motion tokens)]
 * const spans = [
 *   { start: 0, end: 3, attention: 'causal', part: 'query' },
 *   { start: 3, end: 5, attention: 'full', part: 'fm' },
 *   { start: 5, end: 7, attention: 'full', part: 'mask' },
 * ] as const;
 * const y = attn.forward(x, { mask: attentionMask(spans, 7), positionIds: positionIdTensor(spans, 7) });
 */
export function attentionMask(spans: readonly MaskSpan[], length: number): Tensor {
  return tensor(attentionMaskBits(spans, length), { shape: [length, length], dtype: 'bool' });
}

/**
 * Eq. 10: PE(j) = j in the context and in a plain answer; p0 + r(j) in each hybrid target (`fm`,
 * `mask`), where p0 = max_{j ∈ S_Q}(PE(j)) + 1 (0 without context) and r(j) counts from the start of
 * the target, so S_A^FM and S_A^MASK share their positions. Padding gets position 0.
 */
export function alignedPositionIds(spans: readonly MaskSpan[], length: number): Int32Array {
  checkSpans(spans, length, 'alignedPositionIds');
  const pos = new Int32Array(length);
  let p0 = 0;
  const targetStart = new Map<SequencePart, number>();
  for (const s of spans) {
    for (let j = s.start; j < s.end; j++) {
      if (s.part === 'query' || s.part === 'answer') {
        pos[j] = j; // Eq. 10: PE(j) = j
        if (s.part === 'query') p0 = Math.max(p0, j + 1);
      } else {
        if (!targetStart.has(s.part)) targetStart.set(s.part, j);
        pos[j] = p0 + (j - targetStart.get(s.part)!); // Eq. 10: p0 + r(j)
      }
    }
  }
  return pos;
}

/** {@link alignedPositionIds} as an int32 tensor `[T]`, the `positionIds` of `MultiHeadAttention`. */
export function positionIdTensor(spans: readonly MaskSpan[], length: number): Tensor {
  return tensor(alignedPositionIds(spans, length), { shape: [length] });
}
