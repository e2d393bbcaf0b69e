/**
 * The unified sequence of §5.2.1: every sample is serialised into modality segments and organised in
 * Query-Answer form, the context conditioning a response on which alone the losses fall.
 *
 * Eq. 2: S = [x_1, x_2, …, x_K], each segment x_k = ⟨m_k, C_k⟩ a modality tag and its content.
 * Eq. 3: M = {vision, text, state, action}; each non-text segment is wrapped in two special tokens.
 * Eq. 4: L = λ_text·L_text + λ_act·L_act, the index sets Ω_text and Ω_act picking the positions of each.
 * Eq. 5: L_text = −Σ_{i ∈ Ω_text} log p_θ(y_i | S_{<i}).
 *
 * Layout, as in the paper's public code: text and every special token are vocabulary tokens, embedded
 * by the text embedding and owned by the multimodal-understanding expert; image patches are owned by
 * the understanding expert too; state vectors, action steps and motion tokens belong to the
 * action-generation expert. The begin/end tokens of a state or action segment are therefore
 * understanding-expert positions — the action expert sees only the content between them. Loss follows
 * the public code as well: Ω_text holds the answer's text tokens and Ω_act its action positions; the
 * begin/end tokens of answer segments are given, not predicted, and carry no loss.
 * @module
 */
import { alignedPositionIds, attentionMask, type AttentionKind, type MaskSpan, type SequencePart } from './hybrid-mask.js';
import { byteVocabulary, checkSpecialTokens, specialTokenName, type SpecialTokens } from './special-tokens.js';
import type { Tensor } from '../tensor/index.js';

/** Eq. 3: the modality set M. */
export type Modality = 'vision' | 'text' | 'state' | 'action';

/** The two experts of the Mixture-of-Transformers backbone (§5.1). */
export type Expert = 'understanding' | 'action';

/** A text segment: a string for the tokenizer, or ready token ids. */
export interface TextSegment {
  /** m_k = text. */
  readonly modality: 'text';
  /** The text, or its token ids. */
  readonly text: string | readonly number[];
}

/** An image: its patch embeddings fill `patches` slots between `<img_begin>` and `<img_end>`. */
export interface VisionSegment {
  /** m_k = vision. */
  readonly modality: 'vision';
  /** Number of patch embeddings. */
  readonly patches: number;
}

/** Proprioceptive state s = Φ_e(s^(e)) (Eq. 1) between `<state_begin>` and `<state_end>`. */
export interface StateSegment {
  /** m_k = state. */
  readonly modality: 'state';
  /** Number of state vectors (default 1). */
  readonly vectors?: number;
}

/**
 * An action chunk: continuous steps a_i (Eq. 7) between `<action_begin>` and `<action_end>`, or, when
 * `discrete`, motion tokens z (Eq. 8) between `<motion_begin>` and `<motion_end>`.
 */
export interface ActionSegment {
  /** m_k = action. */
  readonly modality: 'action';
  /** Number of steps (or motion tokens T_z). */
  readonly steps: number;
  /** The steps are discrete motion tokens (default false). */
  readonly discrete?: boolean;
}

/**
 * One segment x_k = ⟨m_k, C_k⟩ of Eq. 2. Non-text content is a count of embedding slots filled later:
 * image patches, state vectors, action steps (continuous, Eq. 7) or motion tokens (`discrete`, Eq. 8).
 */
export type Segment = TextSegment | VisionSegment | StateSegment | ActionSegment;

/** A training sample in the Query-Answer format [S_Q; S_A] of Physical Instruction Tuning. */
export interface QASample {
  /** The context S_Q. */
  readonly query: readonly Segment[];
  /** The response S_A: text and action segments only (the two loss terms of Eq. 4). */
  readonly answer: readonly Segment[];
}

/** What fills a position: a vocabulary token, or a slot of a non-text segment's content. */
export type SlotKind = 'token' | 'vision' | 'state' | 'action' | 'motion';

/**
 * Where a position's embedding comes from. For content slots, `segment` counts the segments of that
 * kind in the sequence (the 2nd image is 1) and `item` the patch / vector / step / token inside it; for
 * tokens, `segment` is the index in {@link UnifiedSequence.segments} and `item` the offset in its span.
 */
export interface EmbeddingSlot {
  /** What fills the position. */
  readonly kind: SlotKind;
  /** Which segment of that kind. */
  readonly segment: number;
  /** Which item inside the segment. */
  readonly item: number;
}

/** A segment's place in the sequence: its span (begin/end tokens included) and content. */
export interface SegmentSpan extends MaskSpan {
  /** m_k. */
  readonly modality: Modality;
  /** What fills the content positions (`token` for text). */
  readonly content: SlotKind;
  /** First content position (after the begin token). */
  readonly contentStart: number;
  /** One past the last content position (the end token's position). */
  readonly contentEnd: number;
}

/** A serialised sample: per-position tokens, slots, modalities, experts, parts, positions and loss sets. */
export interface UnifiedSequence {
  /** Number of positions T. */
  readonly length: number;
  /** Vocabulary id per position; −1 where a content slot (patch, state, action step, motion token) sits. */
  readonly tokenIds: Int32Array;
  /** Position ids (Eq. 10). */
  readonly positionIds: Int32Array;
  /** Modality per position (begin/end tokens take their segment's modality). */
  readonly modality: readonly Modality[];
  /** The expert that processes each position. */
  readonly expert: readonly Expert[];
  /** The embedding source of each position. */
  readonly slots: readonly EmbeddingSlot[];
  /** The part (context, answer, hybrid target) of each position. */
  readonly part: readonly SequencePart[];
  /** The segments in order. */
  readonly segments: readonly SegmentSpan[];
  /** Ω_text (Eq. 4-5): positions i of the answer's text tokens y_i, predicted from S_{<i}. */
  readonly textLossIndices: Int32Array;
  /** Ω_act (Eq. 4, 6): positions of the answer's action steps and motion tokens. */
  readonly actionLossIndices: Int32Array;
}

/** Attention kinds of the non-text segments (text is always causal). */
export interface SegmentAttention {
  /** Default `'full'`. */
  readonly vision?: AttentionKind;
  /** Default `'full'`. */
  readonly state?: AttentionKind;
  /** Default `'full'` (continuous chunks and motion-token chunks). */
  readonly action?: AttentionKind;
}

/** Options of {@link buildSequence} and {@link buildHybridSequence}. */
export interface SequenceOptions {
  /** Text → vocabulary ids (default: {@link byteVocabulary}'s UTF-8 bytes). */
  readonly tokenize?: (text: string) => number[];
  /** Special-token ids (default: {@link byteVocabulary}'s). */
  readonly specials?: SpecialTokens;
  /** Attention inside non-text segments. */
  readonly attention?: SegmentAttention;
}

/** The expert that owns a slot kind: understanding for tokens and patches, action for the rest. */
export function expertOf(kind: SlotKind): Expert {
  return kind === 'token' || kind === 'vision' ? 'understanding' : 'action';
}

interface Placed {
  readonly segment: Segment;
  readonly part: SequencePart;
}

function countOf(seg: Segment, where: string, at: string): number {
  const n = seg.modality === 'vision' ? seg.patches : seg.modality === 'state' ? (seg.vectors ?? 1) : seg.modality === 'action' ? seg.steps : 0;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${where}: ${at} (${seg.modality}) needs a positive integer count, got ${n}`);
  return n;
}

function textIds(seg: TextSegment, tokenize: (s: string) => number[], specials: SpecialTokens, where: string, at: string): readonly number[] {
  const ids = typeof seg.text === 'string' ? tokenize(seg.text) : seg.text;
  if (!Array.isArray(ids) && !ArrayBuffer.isView(ids)) throw new TypeError(`${where}: ${at}: tokenize must return an array of ids`);
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0) throw new RangeError(`${where}: ${at}: token ids must be non-negative integers, got ${id}`);
    const name = specialTokenName(specials, id);
    if (name !== undefined) throw new RangeError(`${where}: ${at}: text holds the special token ${name} (id ${id}); special tokens only wrap non-text segments`);
  }
  return ids;
}

/** Serialises placed segments; positions come from Eq. 10 over the resulting spans. */
function assemble(placed: readonly Placed[], opts: SequenceOptions, where: string): UnifiedSequence {
  const tokenize = opts.tokenize ?? byteVocabulary.tokenize;
  const specials = opts.specials ?? byteVocabulary.specials;
  if (typeof tokenize !== 'function') throw new TypeError(`${where}: tokenize must be a function`);
  checkSpecialTokens(specials, where);
  const kinds = { vision: 'full', state: 'full', action: 'full', ...opts.attention } as Required<SegmentAttention>;
  for (const [m, k] of Object.entries(kinds)) {
    if (k !== 'causal' && k !== 'full') throw new RangeError(`${where}: attention.${m} must be 'causal' or 'full', got '${String(k)}'`);
  }

  const tokenIds: number[] = [];
  const modality: Modality[] = [];
  const slots: EmbeddingSlot[] = [];
  const part: SequencePart[] = [];
  const segments: SegmentSpan[] = [];
  const textLoss: number[] = [];
  const actionLoss: number[] = [];
  const ordinal: Record<SlotKind, number> = { token: 0, vision: 0, state: 0, action: 0, motion: 0 };

  const inPart = new Map<SequencePart, number>();
  placed.forEach(({ segment: seg, part: p }) => {
    const k = inPart.get(p) ?? 0;
    inPart.set(p, k + 1);
    const at = `${p} segment ${k}`;
    const start = tokenIds.length;
    const index = segments.length;
    const push = (id: number, slot: EmbeddingSlot): void => {
      tokenIds.push(id);
      modality.push(seg.modality);
      slots.push(slot);
      part.push(p);
    };
    const token = (id: number): void => push(id, { kind: 'token', segment: index, item: tokenIds.length - start });
    if (seg.modality === 'text') {
      for (const id of textIds(seg, tokenize, specials, where, at)) {
        if (p !== 'query') textLoss.push(tokenIds.length); // Ω_text: answer text only
        token(id);
      }
      const end = tokenIds.length;
      segments.push({ start, end, attention: 'causal', part: p, modality: 'text', content: 'token', contentStart: start, contentEnd: end });
      return;
    }
    const n = countOf(seg, where, at);
    const content: SlotKind = seg.modality === 'action' && seg.discrete === true ? 'motion' : seg.modality;
    const [begin, end] =
      content === 'vision' ? [specials.imageBegin, specials.imageEnd]
      : content === 'state' ? [specials.stateBegin, specials.stateEnd]
      : content === 'action' ? [specials.actionBegin, specials.actionEnd]
      : [specials.motionBegin, specials.motionEnd];
    token(begin); // Eq. 3: each non-text modality is encapsulated within two special tokens
    const contentStart = tokenIds.length;
    const ord = ordinal[content]++;
    for (let item = 0; item < n; item++) {
      if (p !== 'query') actionLoss.push(tokenIds.length); // Ω_act: answer action steps / motion tokens
      push(-1, { kind: content, segment: ord, item });
    }
    const contentEnd = tokenIds.length;
    token(end);
    segments.push({ start, end: tokenIds.length, attention: kinds[seg.modality], part: p, modality: seg.modality, content, contentStart, contentEnd });
  });

  const length = tokenIds.length;
  return {
    length,
    tokenIds: Int32Array.from(tokenIds),
    positionIds: alignedPositionIds(segments, length),
    modality,
    expert: slots.map((s) => expertOf(s.kind)),
    slots,
    part,
    segments,
    textLossIndices: Int32Array.from(textLoss),
    actionLossIndices: Int32Array.from(actionLoss),
  };
}

function checkSegments(list: unknown, what: string, where: string): readonly Segment[] {
  if (!Array.isArray(list)) throw new TypeError(`${where}: ${what} must be an array of segments`);
  list.forEach((s: { modality?: unknown } | null, i) => {
    if (s === null || typeof s !== 'object' || !['vision', 'text', 'state', 'action'].includes(s.modality as string)) {
      throw new RangeError(`${where}: ${what} segment ${i} must have a modality in {vision, text, state, action}, got ${JSON.stringify(s)}`);
    }
  });
  return list as readonly Segment[];
}

/**
 * Serialises a Query-Answer sample [S_Q; S_A] (Eq. 2-5): each non-text segment between its begin/end
 * tokens, text tokenized, positions 0…T−1, Ω_text and Ω_act over the answer. The answer may hold only
 * text and action segments, the two loss terms of Eq. 4.
 *
 * @example
 * const seq = buildSequence({
 *   query: [{ modality: 'vision', patches: 4 }, { modality: 'text', text: 'pick the cup' }, { modality: 'state' }],
 *   answer: [{ modality: 'action', steps: 16 }],
 * });
 * seq.actionLossIndices; // the 16 action positions (Ω_act)
 */
export function buildSequence(sample: QASample, opts: SequenceOptions = {}): UnifiedSequence {
  const where = 'buildSequence';
  const query = checkSegments(sample?.query, 'query', where);
  const answer = checkSegments(sample?.answer, 'answer', where);
  answer.forEach((s, i) => {
    if (s.modality !== 'text' && s.modality !== 'action') {
      throw new RangeError(`${where}: answer segment ${i} is ${s.modality}; the answer holds only text and action (Eq. 4: L_text, L_act)`);
    }
  });
  return assemble([...query.map((segment) => ({ segment, part: 'query' as const })), ...answer.map((segment) => ({ segment, part: 'answer' as const }))], opts, where);
}

/** A sample with the two hybrid targets of §5.2.3: a continuous action chunk and its motion tokens. */
export interface HybridSample {
  /** The shared context S_Q. */
  readonly query: readonly Segment[];
  /** Steps of the continuous action chunk S_A^FM (Eq. 7). */
  readonly flowSteps: number;
  /** Number T_z of discrete motion tokens in S_A^MASK (Eq. 8). */
  readonly motionTokens: number;
}

/**
 * Serialises [S_Q; S_A^FM; S_A^MASK] (§5.2.3, Joint Serialization): the context, then the continuous
 * chunk between `<action_begin>`/`<action_end>`, then the motion tokens between
 * `<motion_begin>`/`<motion_end>`. Positions follow Eq. 10 (both targets start at p0), the mask
 * ({@link sequenceMask}) follows Eq. 9, and Ω_act holds both targets' content positions.
 */
export function buildHybridSequence(sample: HybridSample, opts: SequenceOptions = {}): UnifiedSequence {
  const where = 'buildHybridSequence';
  const query = checkSegments(sample?.query, 'query', where);
  for (const [name, n] of [['flowSteps', sample.flowSteps], ['motionTokens', sample.motionTokens]] as const) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${where}: ${name} must be a positive integer, got ${n}`);
  }
  return assemble(
    [
      ...query.map((segment) => ({ segment, part: 'query' as const })),
      { segment: { modality: 'action', steps: sample.flowSteps }, part: 'fm' },
      { segment: { modality: 'action', steps: sample.motionTokens, discrete: true }, part: 'mask' },
    ],
    opts,
    where,
  );
}

/**
 * The sequence's attention mask, bool `[T, T]` (true = may attend): causal, bidirectional inside `'full'`
 * segments, and for a hybrid sequence gated by Eq. 9.
 */
export function sequenceMask(seq: UnifiedSequence): Tensor {
  return attentionMask(seq.segments, seq.length);
}

/** The positions holding a slot kind, in order (so patches, steps… come out segment by segment). */
export function slotPositions(seq: UnifiedSequence, kind: SlotKind): Int32Array {
  const out: number[] = [];
  seq.slots.forEach((s, i) => {
    if (s.kind === kind) out.push(i);
  });
  return Int32Array.from(out);
}
