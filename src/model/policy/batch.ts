/**
 * From training samples and robot observations to the policy's inputs: each sample becomes a unified
 * Query-Answer sequence (§5.2.1, Eq. 2-5; the hybrid sequence of §5.2.3, Eq. 9-10), the sequences are
 * collated, and every position is tied to what fills it — a text or special token, an image token, a
 * state vector, an action step (clean history, or a target to be noised, Eq. 7), or a motion token (Eq. 8).
 *
 * Task kinds (§5.2.2): motion generation (vision, text, state → action chunk), motion continuation (the
 * same with a past action chunk in the context), hybrid (the chunk as two targets, continuous and motion
 * tokens, under Eq. 9), motion description (vision, state and an action trace → text), and VQA (vision,
 * text → text). Every context that carries a state ends with it, so a sampler can cache everything before
 * the state (the vision-language prefix) and rerun only the suffix — `<state_begin> s <state_end>
 * <action_begin> a₁…a_T <action_end>` — at each Euler step (Eq. 20). The prefix never ends with
 * `<action_begin>`: that token sits inside the action chunk's bidirectional span and sees the noisy actions.
 * @module
 */
import { Tensor, concat, formatShape, hostValues, stack, tensor, zeros, type DType } from '../../tensor/index.js';
import type { Embodiment, SlotLayout } from '../action-space.js';
import type { ActionTaskSample, ControlTiming, Observation, PolicySample, PolicyTask, UnifiedChunk, UnifiedVector } from './samples.js';
import { buildHybridSequence, buildSequence, type Segment, type UnifiedSequence } from '../sequence.js';
import { collateSequences, type SequenceBatch } from '../sequence-batch.js';
import type { MotionTokenizer } from '../motion-tokens.js';
import type { SequencePart } from '../hybrid-mask.js';
import type { PolicyConfig } from './config.js';
import type { ByteTokenizer } from './tokenizer.js';

/** What fills a position: see {@link PolicyBatch.slotKind}. */
export const SLOT_KIND = Object.freeze({
  /** A text or special token (the text embedding). */
  token: 0,
  /** An image token (the vision encoder). */
  vision: 1,
  /** A state vector (the state encoder). */
  state: 2,
  /** A clean action row of the context (the action encoder at t = 1). */
  history: 3,
  /** A step of a target chunk (the action encoder at x_t, t). */
  target: 4,
  /** A motion token (the motion head's embedding). */
  motion: 5,
  /** Padding. */
  pad: 6,
} as const);

/** What the collator needs to know of the policy (a `BeingPolicy` is one). */
export interface BatchSpec {
  /** The configuration. */
  readonly config: PolicyConfig;
  /** The unified space's layout. */
  readonly slotLayout: SlotLayout;
  /** Tokens per image (the vision encoder's output length). */
  readonly imageTokens: number;
  /** The text tokenizer. */
  readonly tokenizer: ByteTokenizer;
  /** Parameter dtype, which the numeric inputs take. */
  readonly dtype: DType;
}

/** Options of {@link collatePolicyBatch}. */
export interface CollatePolicyOptions {
  /** Makes the motion tokens of hybrid samples that bring none (Eq. 8's pretrained tokenizer). */
  motionTokenizer?: MotionTokenizer;
}

/** Model inputs of a batch of B samples (see the module notes). Index arrays are flat over `[B, T]`. */
export interface PolicyBatch {
  /** B. */
  readonly size: number;
  /** Each sample's task. */
  readonly tasks: readonly PolicyTask[];
  /** Each sample's embodiment (null for VQA). */
  readonly embodiments: readonly (Embodiment | null)[];
  /** The collated sequences: token ids, Eq. 10 positions, Eq. 9 masks, padding, expert ownership. */
  readonly sequences: SequenceBatch;
  /** T, the padded length. */
  readonly length: number;
  /** Per position (b·T + p), what fills it ({@link SLOT_KIND}). */
  readonly slotKind: Uint8Array;
  /** Per position, the row of its source: image token, state, history row, target step, motion token. */
  readonly slotIndex: Int32Array;
  /** Per sample, where the suffix starts (the state segment of an action task; T when there is none). */
  readonly suffixStart: Int32Array;
  /** Routing-unit ids for Mixture of Flow, int32 `[B, T]`, or null (MoF off, or per-token routing). */
  readonly groups: Tensor | null;
  /** `[N, C, S, S]` images, or null. */
  readonly images: Tensor | null;
  /** `[Ns, D]` states, or null; `stateOwner[s]` is the sample. */
  readonly states: Tensor | null;
  /** The sample of each state. */
  readonly stateOwner: Int32Array;
  /** `[Nh, D]` clean action rows of the contexts (history, traces), or null. */
  readonly history: Tensor | null;
  /** The sample of each history row. */
  readonly historyOwner: Int32Array;
  /** `[Nt, T, D]` target chunks (clean; zeros for observations), or null. */
  readonly targets: Tensor | null;
  /** The sample of each target chunk. */
  readonly targetOwner: Int32Array;
  /** The state row of each target's sample (the suffix features H of MPG, Eq. 13). */
  readonly targetState: Int32Array;
  /** Position b·T + p of each target step, `[Nt·T]`. */
  readonly targetPositions: Int32Array;
  /** Each target's UAC timing (null: `uac.maxDelay`). */
  readonly targetTiming: readonly (ControlTiming | null)[];
  /** Int32 `[Nm, T_z]` motion tokens of the MASK targets, or null. */
  readonly motion: Tensor | null;
  /** The sample of each motion chunk. */
  readonly motionOwner: Int32Array;
  /** Position b·T + p of each motion token, `[Nm·T_z]`. */
  readonly motionPositions: Int32Array;
  /** Ω_text (Eq. 5): the predecessor position b·T + i − 1 of each answer text token i. */
  readonly textPositions: Int32Array;
  /** The text token y_i to predict at each of {@link textPositions}. */
  readonly textTargets: Int32Array;
  /** The sample of each text target. */
  readonly textOwner: Int32Array;
}

const ROUTING_PARTS = 6; // prefix, suffix, answer, fm, mask, padding

function vectorOf(x: UnifiedVector, D: number, dtype: DType, what: string): Tensor {
  const t = x instanceof Tensor ? x : tensor(Float64Array.from(x as ArrayLike<number>), { dtype });
  if (t.size !== D || (t.ndim !== 1 && !(t.ndim === 2 && t.shape[0] === 1))) throw new RangeError(`collatePolicyBatch: ${what} must be a unified vector [${D}], got ${formatShape(t.shape)}`);
  return t.reshape([D]).cast(dtype);
}

function chunkOf(x: UnifiedChunk, D: number, dtype: DType, what: string, rows?: number): Tensor {
  let t: Tensor;
  if (x instanceof Tensor) t = x;
  else if (Array.isArray(x) && x.length > 0 && typeof x[0] === 'object') {
    const r = x as readonly ArrayLike<number>[];
    if (r.some((row) => row.length !== D)) throw new RangeError(`collatePolicyBatch: ${what} rows must each hold D = ${D} numbers`);
    t = tensor(Float64Array.from(r.flatMap((row) => Array.from(row))), { shape: [r.length, D], dtype });
  } else {
    const flat = x as ArrayLike<number>;
    if (flat.length === 0 || flat.length % D !== 0) throw new RangeError(`collatePolicyBatch: ${what} holds ${flat.length} numbers, not whole rows of D = ${D}`);
    t = tensor(Float64Array.from(flat), { shape: [flat.length / D, D], dtype });
  }
  if (t.ndim !== 2 || t.shape[1] !== D || t.shape[0]! < 1 || (rows !== undefined && t.shape[0] !== rows)) {
    throw new RangeError(`collatePolicyBatch: ${what} must be [${rows ?? 'L'}, ${D}], got ${formatShape(t.shape)}`);
  }
  return t.cast(dtype);
}

function imageOf(x: Tensor, spec: BatchSpec, what: string): Tensor {
  const { channels: C, imageSize: S } = spec.config.vision;
  const t = x.ndim === 4 && x.shape[0] === 1 ? x.reshape(x.shape.slice(1)) : x;
  if (t.ndim !== 3 || t.shape[0] !== C || t.shape[1] !== S || t.shape[2] !== S) throw new RangeError(`collatePolicyBatch: ${what} must be [${C}, ${S}, ${S}], got ${formatShape(x.shape)}`);
  return t.cast(spec.dtype);
}

/** A sample of any kind, or an observation to act on (no target values: zeros stand in). */
type Item = PolicySample | (Observation & { readonly task: 'observation' });

/** Collates samples into model inputs (see the module notes); throws naming the sample and field on bad input. */
export function collatePolicyBatch(spec: BatchSpec, samples: readonly PolicySample[], opts: CollatePolicyOptions = {}): PolicyBatch {
  return collate(spec, samples, opts);
}

/** The model inputs to act on observations: motion-generation sequences whose target chunks are filled in by the sampler. */
export function observationBatch(spec: BatchSpec, observations: readonly Observation[]): PolicyBatch {
  return collate(spec, observations.map((o) => ({ ...o, task: 'observation' as const })), {});
}

function collate(spec: BatchSpec, items: readonly Item[], opts: CollatePolicyOptions): PolicyBatch {
  const { config, slotLayout } = spec;
  const D = config.unifiedDim;
  const T = config.flow.chunkLength;
  const Tz = config.maskedMotion.numTokens;
  const masked = config.maskedMotion.enabled;
  if (!Array.isArray(items) || items.length === 0) throw new RangeError('collatePolicyBatch: expected a non-empty array of samples');
  const images: Tensor[] = [];
  const states: Tensor[] = [];
  const stateOwner: number[] = [];
  const history: Tensor[] = [];
  const historyOwner: number[] = [];
  const targets: Tensor[] = [];
  const targetOwner: number[] = [];
  const targetState: number[] = [];
  const targetTiming: PolicyBatch['targetTiming'][number][] = [];
  const motion: Tensor[] = [];
  const motionOwner: number[] = [];
  const seqs: UnifiedSequence[] = [];
  const bases: { image: number; state: number; history: number; target: number; motion: number }[] = [];
  const embodiments: (Embodiment | null)[] = [];

  items.forEach((s, b) => {
    const at = `sample ${b} (${String(s?.task)})`;
    const kinds = ['motion-generation', 'motion-continuation', 'hybrid', 'vqa', 'motion-description', 'observation'];
    if (s === null || typeof s !== 'object' || !kinds.includes(s.task)) throw new RangeError(`collatePolicyBatch: ${at}: task must be one of ${kinds.slice(0, 5).join(', ')}`);
    const emb = 'embodiment' in s && s.embodiment !== undefined ? s.embodiment : null;
    if (emb !== null && emb.layout.dim !== slotLayout.dim) throw new RangeError(`collatePolicyBatch: ${at}: embodiment "${emb.name}" has a ${emb.layout.dim}-dim space, the policy ${slotLayout.dim}`);
    embodiments.push(emb);
    bases.push({ image: images.length, state: states.length, history: historyOwner.length, target: targets.length, motion: motion.length });
    const query: Segment[] = [];
    for (const [i, img] of (s.images ?? []).entries()) {
      images.push(imageOf(img, spec, `${at}: images[${i}]`));
      query.push({ modality: 'vision', patches: spec.imageTokens });
    }
    const text = s.task === 'vqa' || s.task === 'motion-description' ? s.prompt : s.instruction;
    if (text !== undefined && text !== '') query.push({ modality: 'text', text: spec.tokenizer.tokenize(text) });
    const addHistory = (c: UnifiedChunk): void => {
      const h = chunkOf(c, D, spec.dtype, `${at}: ${s.task === 'motion-description' ? 'actions' : 'history'}`);
      for (let r = 0; r < h.shape[0]!; r++) historyOwner.push(b);
      history.push(h);
      query.push({ modality: 'action', steps: h.shape[0]! });
    };
    if (s.task === 'vqa' || s.task === 'motion-description') {
      if (typeof s.answer !== 'string' || s.answer === '') throw new RangeError(`collatePolicyBatch: ${at}: answer must be a non-empty string`);
      if (s.task === 'motion-description') {
        if (emb === null) throw new RangeError(`collatePolicyBatch: ${at}: needs the embodiment of its trace`);
        if (s.state !== undefined) {
          states.push(vectorOf(s.state, D, spec.dtype, `${at}: state`));
          stateOwner.push(b);
          query.push({ modality: 'state' });
        }
        if (s.actions !== undefined) addHistory(s.actions);
      }
      if (query.length === 0) throw new RangeError(`collatePolicyBatch: ${at}: a text answer needs a context (images, a prompt or a trace)`);
      seqs.push(buildSequence({ query, answer: [{ modality: 'text', text: spec.tokenizer.tokenize(s.answer) }] }, { specials: spec.tokenizer.specials }));
      return;
    }
    if (emb === null) throw new RangeError(`collatePolicyBatch: ${at}: needs an embodiment`);
    if (s.task === 'motion-continuation' && s.history === undefined) throw new RangeError(`collatePolicyBatch: ${at}: motion continuation needs a history chunk`);
    if (s.history !== undefined) addHistory(s.history);
    const state = s.state === undefined ? null : vectorOf(s.state, D, spec.dtype, `${at}: state`);
    if (state === null) throw new RangeError(`collatePolicyBatch: ${at}: needs a state`);
    targetState.push(states.length);
    states.push(state);
    stateOwner.push(b);
    query.push({ modality: 'state' });
    targets.push(s.task === 'observation' ? zeros([T, D], { dtype: spec.dtype }) : chunkOf(s.actions, D, spec.dtype, `${at}: actions`, T));
    targetOwner.push(b);
    targetTiming.push(s.task !== 'observation' && s.timing !== undefined ? s.timing : null);
    if (s.task === 'hybrid' && masked) {
      let ids: Tensor;
      // Codes given as numbers are checked on the host; as a tensor, only where reading it costs no wait (see hostValues).
      let codes: ArrayLike<number> | null = null;
      if (s.motionTokens !== undefined) {
        const m = s.motionTokens;
        if (!(m instanceof Tensor)) codes = Int32Array.from(m as ArrayLike<number>);
        ids = m instanceof Tensor ? m.cast('int32').reshape([-1]) : tensor(codes!, { dtype: 'int32' });
      } else if (opts.motionTokenizer !== undefined) {
        ids = opts.motionTokenizer.tokenize(targets[targets.length - 1]!.unsqueeze(0).cast(opts.motionTokenizer.quantizer.codebook.dtype)).reshape([-1]);
      } else throw new RangeError(`collatePolicyBatch: ${at}: a hybrid sample needs motionTokens or a motionTokenizer`);
      const v = codes ?? hostValues(ids);
      if (ids.size !== Tz || (v !== null && Array.from(v).some((x) => !Number.isInteger(x) || x < 0 || x >= config.maskedMotion.numCodes))) {
        throw new RangeError(`collatePolicyBatch: ${at}: motionTokens must be T_z = ${Tz} codes in [0, ${config.maskedMotion.numCodes}), got ${formatShape(ids.shape)} [${Array.from(v ?? []).join(', ')}]`);
      }
      motion.push(ids);
      motionOwner.push(b);
      seqs.push(buildHybridSequence({ query, flowSteps: T, motionTokens: Tz }, { specials: spec.tokenizer.specials }));
    } else {
      seqs.push(buildSequence({ query, answer: [{ modality: 'action', steps: T }] }, { specials: spec.tokenizer.specials }));
    }
  });

  // The MoT layout packs each row's understanding and action positions into streams of common lengths,
  // so the rows are padded to the most understanding plus the most action positions of any row.
  const count = (q: UnifiedSequence, e: 'understanding' | 'action'): number => q.expert.filter((x) => x === e).length;
  const width = Math.max(...seqs.map((q) => count(q, 'understanding'))) + Math.max(...seqs.map((q) => count(q, 'action')));
  const sequences = collateSequences(seqs, { padId: spec.tokenizer.specials.pad, length: Math.max(width, ...seqs.map((q) => q.length)) });
  const L = sequences.length;
  const B = items.length;
  const P = spec.imageTokens;
  const slotKind = new Uint8Array(B * L).fill(SLOT_KIND.pad);
  const slotIndex = new Int32Array(B * L);
  const suffixStart = new Int32Array(B).fill(L);
  const targetPositions = new Int32Array(targets.length * T);
  const motionPositions = new Int32Array(motion.length * Tz);
  const textPositions: number[] = [];
  const textTargets: number[] = [];
  const textOwner: number[] = [];
  const groupIds = new Int32Array(B * L);
  const unit = config.mof.routingUnit;
  seqs.forEach((seq, b) => {
    const base = bases[b]!;
    const o = b * L;
    const state = seq.segments.find((g) => g.modality === 'state' && g.part === 'query');
    const hasTarget = seq.part.some((p) => p !== 'query');
    if (state !== undefined && hasTarget && items[b]!.task !== 'motion-description') suffixStart[b] = state.start;
    let historyRow = base.history;
    seq.slots.forEach((slot, p) => {
      const i = o + p;
      if (slot.kind === 'token') slotKind[i] = SLOT_KIND.token;
      else if (slot.kind === 'vision') [slotKind[i], slotIndex[i]] = [SLOT_KIND.vision, (base.image + slot.segment) * P + slot.item];
      else if (slot.kind === 'state') [slotKind[i], slotIndex[i]] = [SLOT_KIND.state, base.state + slot.segment];
      else if (slot.kind === 'motion') {
        [slotKind[i], slotIndex[i]] = [SLOT_KIND.motion, base.motion * Tz + slot.item];
        motionPositions[base.motion * Tz + slot.item] = i;
      } else if (seq.part[p] === 'query') [slotKind[i], slotIndex[i]] = [SLOT_KIND.history, historyRow++];
      else {
        [slotKind[i], slotIndex[i]] = [SLOT_KIND.target, base.target * T + slot.item];
        targetPositions[base.target * T + slot.item] = i;
      }
    });
    for (const y of seq.textLossIndices) {
      textPositions.push(o + y - 1);
      textTargets.push(seq.tokenIds[y]!);
      textOwner.push(b);
    }
    // Routing units (§5.1.2): one per sample and part, the query split at the suffix, so a cached prefix routes as in the full sequence.
    const counts = new Map<number, number>();
    for (let p = 0; p < L; p++) {
      const part: SequencePart | 'pad' = p < seq.length ? seq.part[p]! : 'pad';
      const k = part === 'query' ? (p < suffixStart[b]! ? 0 : 1) : part === 'pad' ? 5 : ['answer', 'fm', 'mask'].indexOf(part) + 2;
      let id = ROUTING_PARTS * b + k;
      if (typeof unit === 'number') {
        const r = counts.get(k) ?? 0;
        if (p < seq.length && seq.expert[p] === 'action') counts.set(k, r + 1);
        id = (ROUTING_PARTS * b + k) * L + Math.floor(r / unit);
      }
      groupIds[o + p] = id;
    }
  });
  const mofGroups = config.mof.enabled && unit !== 'token';
  const stackOr = (xs: Tensor[], axis = 0): Tensor | null => (xs.length === 0 ? null : stack(xs, axis));
  return {
    size: B,
    tasks: items.map((s) => (s.task === 'observation' ? 'motion-generation' : s.task)),
    embodiments,
    sequences,
    length: L,
    slotKind,
    slotIndex,
    suffixStart,
    groups: mofGroups ? tensor(groupIds, { shape: [B, L], dtype: 'int32' }) : null,
    images: stackOr(images),
    states: stackOr(states),
    stateOwner: Int32Array.from(stateOwner),
    history: history.length === 0 ? null : concat(history, 0),
    historyOwner: Int32Array.from(historyOwner),
    targets: stackOr(targets),
    targetOwner: Int32Array.from(targetOwner),
    targetState: Int32Array.from(targetState),
    targetPositions,
    targetTiming,
    motion: stackOr(motion),
    motionOwner: Int32Array.from(motionOwner),
    motionPositions,
    textPositions: Int32Array.from(textPositions),
    textTargets: Int32Array.from(textTargets),
    textOwner: Int32Array.from(textOwner),
  };
}
