/**
 * The assembled Being-H0.5 policy (§5): perception (ViT + projector, byte-level text embedding, state
 * and action-token encoders), the Mixture-of-Transformers backbone (§5.1) with Mixture of Flow in the
 * action expert's upper layers (§5.1.2), and the heads — the tied LM head for text (Eq. 5), the action
 * decoder for the velocity of Eq. 7, and the masked motion-token head (Eq. 8) — plus the switches:
 * ESA (Eq. 12, slot-wise IO layers, see `esa-io.ts`), MPG (Eq. 13-15, on the suffix features H) and the
 * routing context of MoF.
 *
 * One forward pass embeds every position of a {@link PolicyBatch} from its source, packs the two experts'
 * streams, and runs the backbone under the Eq. 9 mask and Eq. 10 positions. A pass may cover a range of
 * positions against a KV cache holding the ones before it: the sampler (`sample.ts`) runs the
 * vision-language prefix once and every Euler step only on the suffix.
 *
 * H and MPG (§5.3.2: "H refers to the suffix token features formed by concatenating proprioceptive state
 * embeddings and current action-token embeddings"): for each target chunk, H = [state embedding; its T
 * action-token embeddings] `[1 + T, hidden_a]`; with an anchor Z^nf (the noise-free action-token
 * embeddings: the ground truth in training, the previous prediction in refinement, Eq. 21), MPG replaces
 * H by H̃ (Eq. 13). Without an anchor, or with MPG off, H̃ = H.
 *
 * Initialisation: each part draws from its own generator seeded with `${seed}:${part}`, so two policies
 * of the same seed that differ in one switch start with bit-identical common parameters.
 * @module
 */
import { Generator, concat, formatShape, noGrad, tensor, zeros, type DType, type Tensor } from '../../tensor/index.js';
import { Embedding, Linear, Module, init, type KVCache, type MoERouting } from '../../nn/index.js';
import { UNIFIED_LAYOUT, type Embodiment, type SlotLayout } from '../action-space.js';
import { SlotwiseDecoder } from '../esa.js';
import { ManifoldPreservingGate } from '../mpg.js';
import { MaskedMotionHead } from '../masked-motion.js';
import { ActionDecoder, ActionEncoder } from './action-encoder.js';
import { MoTBackbone } from './backbone.js';
import { backboneOptions } from './backbone-options.js';
import { collatePolicyBatch, observationBatch, SLOT_KIND, type BatchSpec, type CollatePolicyOptions, type PolicyBatch } from './batch.js';
import type { Observation, PolicySample } from './samples.js';
import { validateConfig, type PolicyConfig } from './config.js';
import { SlotwiseActionEncoder, SlotwiseStateEncoder, perEmbodiment, unifiedSlotSpans } from './esa-io.js';
import { MoTLayout } from './mot-layout.js';
import { StateEncoder } from './state-encoder.js';
import { ByteTokenizer } from './tokenizer.js';
import { VisionEncoder } from './vision.js';
import { sampleActions, sampleActionsAsync, type SampleActionsOptions, type SampledActions } from './sample.js';

/** Options of {@link BeingPolicy}. */
export interface BeingPolicyOptions {
  /** Initialisation seed (default 0); see the module notes. */
  seed?: number | string;
  /** Parameter dtype (default float32). */
  dtype?: 'float32' | 'float64';
  /** The unified space (default `UNIFIED_LAYOUT`); its width must be `config.unifiedDim`. */
  layout?: SlotLayout;
}

/** The varying inputs of a pass: what the targets, motion tokens and MPG anchor are this time. */
export interface PolicyInputs {
  /** Noisy target chunks x_t `[Nt, T, D]` (Eq. 7), in `batch.targets` order. */
  xt?: Tensor;
  /** Their times: a number, `[]`, or per token `[Nt, T]` (UAC, Eq. 18). */
  t?: Tensor | number;
  /** Int32 `[Nm, T_z]` motion tokens with [MASK] on Ω_MASK (default: `batch.motion`, unmasked). */
  motion?: Tensor;
  /** Z^nf `[Nt, T', hidden_a]`: noise-free action-token embeddings anchoring MPG (omitted: H̃ = H). */
  anchor?: Tensor;
  /** MPG's random directions θ_m `[M, embedDim]` (default: fresh ones). */
  directions?: Tensor;
}

/** The range of a pass (see {@link BeingPolicy.forward}). */
export interface PolicyRunOptions {
  /** First position (default 0); > 0 needs a cache holding exactly the positions before it. */
  start?: number;
  /** One past the last position (default T). */
  end?: number;
  /** The KV cache: filled by a pass from 0 (unless frozen), read by a pass from `start`. */
  cache?: KVCache;
}

/** What {@link BeingPolicy.forward} returns. */
export interface PolicyOutput {
  /** The pass's layout over positions `[start, end)`. */
  layout: MoTLayout;
  /** `[B, Tu, hidden_u]` after the final norm. */
  understanding: Tensor;
  /** `[B, Ta, hidden_a]` after the final norm. */
  action: Tensor;
  /** Mean MoF load-balancing loss (0 without MoF layers). */
  auxLoss: Tensor;
  /** Mean MoF router z-loss. */
  zLoss: Tensor;
  /** The routing of each MoF layer. */
  routing: MoERouting[];
  /** MPG's gate g per target chunk (Eq. 15), or null when MPG did not run. */
  gate: Tensor | null;
  /** For each position b·T + p, its row in its stream flattened (`b·Tu + k` or `b·Ta + k`); −1 outside the range. */
  rowOf: Int32Array;
}

/** The suffix features of MPG (see {@link BeingPolicy.suffixFeatures}). */
export interface SuffixFeatures {
  /** H `[Nt, 1 + T, hidden_a]`: each target's state embedding and action-token embeddings. */
  raw: Tensor;
  /** H̃ (Eq. 13); the same tensor as `raw` when MPG is off or no anchor is given. */
  enhanced: Tensor;
  /** g per target (Eq. 15), or null. */
  gate: Tensor | null;
}

/**
 * The Being-H0.5 policy (see the module notes).
 *
 * @example
 * const policy = new BeingPolicy(PRESETS.tiny, { seed: 1 });
 * const batch = policy.batch([{ task: 'motion-generation', embodiment: so101, images: [img], instruction: 'pick', state, actions }]);
 * const { loss } = policyLoss(policy, batch, { seed: 'step-0' });
 * const { raw } = policy.sampleActions({ embodiment: so101, images: [img], instruction: 'pick', state });
 */
export class BeingPolicy extends Module implements BatchSpec {
  /** The validated configuration. */
  readonly config: PolicyConfig;
  /** The unified space. */
  readonly slotLayout: SlotLayout;
  /** Parameter dtype. */
  readonly dtype: 'float32' | 'float64';
  /** The text tokenizer (bytes and the special tokens). */
  readonly tokenizer: ByteTokenizer = new ByteTokenizer();
  /** ViT and projector (`vision.vit`, `vision.projector`). */
  readonly vision: VisionEncoder;
  /** The text embedding; the LM head reuses it when `text.tieEmbeddings`. */
  readonly textEmbedding: Embedding;
  /** The untied LM head, or null. */
  readonly lmHead: Linear | null;
  /** The Mixture-of-Transformers backbone. */
  readonly backbone: MoTBackbone;
  /** The state encoder (slot-wise first layer under ESA). */
  readonly stateEncoder: StateEncoder | SlotwiseStateEncoder;
  /** The action-token encoder (slot-wise W1 under ESA). */
  readonly actionEncoder: ActionEncoder | SlotwiseActionEncoder;
  /** The velocity decoder (slot-wise under ESA). */
  readonly actionDecoder: ActionDecoder | SlotwiseDecoder;
  /** Embodiment → MoF routing context (`mof.contextDim` > 0), or null. */
  readonly mofContext: Linear | null;
  /** Manifold-Preserving Gating, or null. */
  readonly mpg: ManifoldPreservingGate | null;
  /** The masked motion-token channel, or null. */
  readonly motionHead: MaskedMotionHead | null;

  /** A policy of `config`'s shape. */
  constructor(config: PolicyConfig, opts: BeingPolicyOptions = {}) {
    super();
    this.config = validateConfig(config);
    this.slotLayout = opts.layout ?? UNIFIED_LAYOUT;
    this.dtype = opts.dtype ?? 'float32';
    if (this.slotLayout.dim !== config.unifiedDim) throw new RangeError(`BeingPolicy: config.unifiedDim ${config.unifiedDim} differs from the layout's width ${this.slotLayout.dim}`);
    const seed = String(opts.seed ?? 0);
    const gen = (part: string): { generator: Generator; dtype: DType } => ({ generator: new Generator(`${seed}:${part}`), dtype: this.dtype });
    const { understanding: u, action: a, unifiedDim: D } = config;
    this.vision = this.module('vision', new VisionEncoder(config.vision, u.hidden, gen('vision')));
    this.textEmbedding = this.module('textEmbedding', new Embedding(config.text.vocabSize, u.hidden, gen('textEmbedding')));
    init.normal_(this.textEmbedding.weight, 0, 0.02, gen('textEmbedding.init'));
    this.lmHead = config.text.tieEmbeddings ? null : this.module('lmHead', new Linear(u.hidden, config.text.vocabSize, { bias: false, ...gen('lmHead') }));
    this.backbone = this.module('backbone', new MoTBackbone(backboneOptions(config, gen('backbone'))));
    const esa = config.esa;
    const periods = { minPeriod: config.timeEmbedding.minPeriod, maxPeriod: config.timeEmbedding.maxPeriod };
    this.stateEncoder = this.module(
      'stateEncoder',
      esa.enabled ? new SlotwiseStateEncoder(this.slotLayout, config.state.mlpHidden, a.hidden, { bias: esa.bias, ...gen('stateEncoder') }) : new StateEncoder(D, config.state.mlpHidden, a.hidden, gen('stateEncoder')),
    );
    this.actionEncoder = this.module(
      'actionEncoder',
      esa.enabled ? new SlotwiseActionEncoder(this.slotLayout, a.hidden, { bias: esa.bias, ...periods, ...gen('actionEncoder') }) : new ActionEncoder(D, a.hidden, { ...periods, ...gen('actionEncoder') }),
    );
    this.actionDecoder = this.module(
      'actionDecoder',
      esa.enabled
        ? new SlotwiseDecoder({ slots: unifiedSlotSpans(this.slotLayout), dim: D, features: a.hidden, bias: esa.bias, ...gen('actionDecoder') })
        : new ActionDecoder(a.hidden, D, gen('actionDecoder')),
    );
    const C = config.mof.enabled ? config.mof.contextDim : 0;
    this.mofContext = C > 0 ? this.module('mofContext', new Linear(D, C, gen('mofContext'))) : null;
    const m = config.mpg;
    this.mpg = m.enabled
      ? this.module('mpg', new ManifoldPreservingGate(a.hidden, { embedDim: m.embedDim, actionDim: a.hidden, lambda: m.lambda, tau: m.tau, numDirections: m.numDirections, ...gen('mpg') }))
      : null;
    this.motionHead = config.maskedMotion.enabled ? this.module('motionHead', new MaskedMotionHead(config.maskedMotion.numCodes, a.hidden, gen('motionHead'))) : null;
  }

  /** Tokens per image. */
  get imageTokens(): number {
    return this.vision.numTokens;
  }

  /** Collates training samples for this policy (see `collatePolicyBatch`). */
  batch(samples: readonly PolicySample[], opts: CollatePolicyOptions = {}): PolicyBatch {
    return collatePolicyBatch(this, samples, opts);
  }

  /** Collates observations to act on (see `observationBatch`). */
  observations(observations: readonly Observation[]): PolicyBatch {
    return observationBatch(this, observations);
  }

  /** Unified states `[N, D]` of the given rows' embodiments → `[N, hidden_a]`. */
  encodeStates(states: Tensor, embodiments: readonly (Embodiment | null)[]): Tensor {
    const enc = this.stateEncoder;
    return perEmbodiment(embodiments, this.config.esa.enabled, (rows, slots) => {
      const x = rows === null ? states : states.indexSelect(0, rows);
      return enc instanceof SlotwiseStateEncoder ? enc.forward(x, slots!) : enc.forward(x);
    });
  }

  /** Action chunks `[N, L, D]` at times `t` (a number or `[N, L]`) → action tokens `[N, L, hidden_a]`. */
  encodeActions(x: Tensor, t: Tensor | number, embodiments: readonly (Embodiment | null)[]): Tensor {
    const enc = this.actionEncoder;
    return perEmbodiment(embodiments, this.config.esa.enabled, (rows, slots) => {
      const xs = rows === null ? x : x.indexSelect(0, rows);
      const ts = typeof t === 'number' || t.ndim === 0 || rows === null ? t : t.indexSelect(0, rows);
      return enc instanceof SlotwiseActionEncoder ? enc.forward(xs, ts, slots!) : enc.forward(xs, ts);
    });
  }

  /** Action-expert outputs `[N, L, hidden_a]` → velocities `[N, L, D]` (under ESA, zero outside the active slots). */
  decodeActions(h: Tensor, embodiments: readonly (Embodiment | null)[]): Tensor {
    const dec = this.actionDecoder;
    return perEmbodiment(embodiments, this.config.esa.enabled, (rows, slots) => {
      const hs = rows === null ? h : h.indexSelect(0, rows);
      return dec instanceof SlotwiseDecoder ? dec.forward(hs, slots!) : dec.forward(hs);
    });
  }

  /** The target chunks' suffix features H and, with MPG and an anchor, H̃ (Eq. 13) — see the module notes. */
  suffixFeatures(batch: PolicyBatch, inputs: PolicyInputs): SuffixFeatures {
    if (batch.targets === null || batch.states === null) throw new RangeError('BeingPolicy.suffixFeatures: the batch has no target chunks');
    return this.#suffix(batch, inputs, this.encodeStates(batch.states, Array.from(batch.stateOwner, (b) => batch.embodiments[b] ?? null)));
  }

  /** {@link suffixFeatures} from the batch's encoded states `[Ns, hidden_a]`. */
  #suffix(batch: PolicyBatch, inputs: PolicyInputs, states: Tensor): SuffixFeatures {
    const { xt, t } = this.#targetInputs(batch, inputs);
    const owners = Array.from(batch.targetOwner, (b) => batch.embodiments[b]!);
    const raw = concat([states.indexSelect(0, tensor(batch.targetState, { dtype: 'int32' })).unsqueeze(1), this.encodeActions(xt, t, owners)], 1);
    if (this.mpg === null || inputs.anchor === undefined) return { raw, enhanced: raw, gate: null };
    const out = this.mpg.forward(raw, inputs.anchor, inputs.directions === undefined ? {} : { directions: inputs.directions });
    return { raw, enhanced: out.output, gate: out.gate };
  }

  /**
   * Runs positions `[start, end)` of the batch through perception and the backbone. Without a cache the
   * range must start at 0; with one, `start` must equal the cached length (the keys are the cached ones
   * and this range's).
   */
  forward(batch: PolicyBatch, inputs: PolicyInputs = {}, opts: PolicyRunOptions = {}): PolicyOutput {
    const L = batch.length;
    const B = batch.size;
    const start = opts.start ?? 0;
    const end = opts.end ?? L;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start || end > L) {
      throw new RangeError(`BeingPolicy.forward: need 0 ≤ start < end ≤ T = ${L}, got start ${start}, end ${end}`);
    }
    const cached = opts.cache?.length ?? 0;
    if (start !== cached) throw new RangeError(`BeingPolicy.forward: start ${start} must equal the cached length ${cached}`);
    const len = end - start;
    const seq = batch.sequences;
    const layout = this.#layout(batch, start, end);
    const present = new Set<number>();
    for (let b = 0; b < B; b++) for (let p = start; p < end; p++) present.add(batch.slotKind[b * L + p]!);
    const { understanding: u, action: a } = this.config;

    // Understanding sources: [tokens of the range | image tokens | zero].
    const tokens = this.textEmbedding.forward(seq.tokenIds.narrow(1, start, len).contiguous()).reshape([B * len, u.hidden]);
    const uParts = [tokens];
    if (present.has(SLOT_KIND.vision)) {
      if (batch.images === null) throw new RangeError('BeingPolicy.forward: the batch has image positions but no images');
      uParts.push(this.vision.forward(batch.images).reshape([-1, u.hidden]));
    }
    const uZero = uParts.reduce((n, x) => n + x.shape[0]!, 0);
    uParts.push(zeros([1, u.hidden], { dtype: this.dtype }));

    // Action sources: [states (H̃ rows appended under MPG) | history | targets | motion | zero].
    const aParts: Tensor[] = [];
    const base = { state: 0, history: 0, target: 0, motion: 0 };
    let stateRow = (s: number): number => base.state + s;
    let gate: Tensor | null = null;
    let at = 0;
    const add = (x: Tensor): number => {
      aParts.push(x);
      at += x.shape[0]!;
      return at - x.shape[0]!;
    };
    const needTargets = present.has(SLOT_KIND.target);
    let states: Tensor | null = null;
    if (present.has(SLOT_KIND.state) || needTargets) {
      states = this.encodeStates(batch.states!, Array.from(batch.stateOwner, (b) => batch.embodiments[b] ?? null));
      base.state = add(states);
    }
    if (present.has(SLOT_KIND.history)) {
      const owners = Array.from(batch.historyOwner, (b) => batch.embodiments[b] ?? null);
      base.history = add(this.encodeActions(batch.history!.unsqueeze(1), 1, owners).reshape([-1, a.hidden]));
    }
    if (needTargets) {
      const H = this.#suffix(batch, inputs, states!);
      gate = H.gate;
      const T = batch.targets!.shape[1]!;
      base.target = add(H.enhanced.narrow(1, 1, T).reshape([-1, a.hidden]));
      if (H.enhanced !== H.raw) {
        // The enhanced state rows H̃[:, 0] replace the states of the target chunks' samples.
        const enhancedStates = add(H.enhanced.narrow(1, 0, 1).reshape([-1, a.hidden]));
        const byState = new Map<number, number>(Array.from(batch.targetState, (s, j) => [s, j]));
        stateRow = (s) => (byState.has(s) ? enhancedStates + byState.get(s)! : base.state + s);
      }
    }
    if (present.has(SLOT_KIND.motion)) {
      if (this.motionHead === null) throw new RangeError('BeingPolicy.forward: the batch has motion tokens but maskedMotion is off');
      const ids = inputs.motion ?? batch.motion!;
      if (ids.dtype !== 'int32' || ids.ndim !== 2 || ids.shape[0] !== batch.motion!.shape[0] || ids.shape[1] !== batch.motion!.shape[1]) {
        throw new RangeError(`BeingPolicy.forward: inputs.motion must be int32 ${formatShape(batch.motion!.shape)}, got ${ids.dtype} ${formatShape(ids.shape)}`);
      }
      base.motion = add(this.motionHead.embed(ids).reshape([-1, a.hidden]));
    }
    const aZero = add(zeros([1, a.hidden], { dtype: this.dtype }));

    // Gather each stream from its sources, in the layout's order.
    const source = (b: number, p: number): number => {
      const i = b * L + p;
      const k = batch.slotKind[i]!;
      const r = batch.slotIndex[i]!;
      if (k === SLOT_KIND.token) return b * len + (p - start);
      if (k === SLOT_KIND.vision) return len * B + r;
      if (k === SLOT_KIND.state) return stateRow(r);
      if (k === SLOT_KIND.history) return base.history + r;
      if (k === SLOT_KIND.target) return base.target + r;
      if (k === SLOT_KIND.motion) return base.motion + r;
      return -1;
    };
    const rowOf = new Int32Array(B * L).fill(-1);
    const pack = (expert: 'understanding' | 'action', zero: number, table: Tensor[], width: number): Tensor | undefined => {
      const n = layout.lengthOf(expert);
      if (n === 0) return undefined;
      const host = layout.positions(expert);
      const idx = new Int32Array(B * n);
      for (let b = 0; b < B; b++) {
        for (let k = 0; k < n; k++) {
          const p = start + Number(host[(layout.rows === 1 ? 0 : b) * n + k]);
          const s = source(b, p);
          idx[b * n + k] = s < 0 ? zero : s;
          rowOf[b * L + p] = b * n + k;
        }
      }
      return concat(table, 0).indexSelect(0, tensor(idx, { dtype: 'int32' })).reshape([B, n, width]);
    };
    const streams = { understanding: pack('understanding', uZero, uParts, u.hidden), action: pack('action', aZero, aParts, a.hidden) };
    const out = this.backbone.forward(streams, {
      layout,
      mask: seq.attentionMask.narrow(2, start, len).narrow(3, 0, end),
      positionIds: seq.positionIds.narrow(1, start, len),
      ...(opts.cache ? { cache: opts.cache } : {}),
      ...(this.mofContext ? { context: this.mofContext.forward(this.#activeMasks(batch)) } : {}),
      ...(batch.groups ? { groups: batch.groups.narrow(1, start, len) } : {}),
    });
    return { layout, understanding: out.understanding, action: out.action, auxLoss: out.auxLoss, zLoss: out.zLoss, routing: out.routing, gate, rowOf };
  }

  /** The predicted velocities v_θ `[Nt, T, D]` of the target chunks (Eq. 7). */
  velocity(batch: PolicyBatch, out: PolicyOutput): Tensor {
    const T = this.config.flow.chunkLength;
    const h = this.#rows(out, out.action, batch.targetPositions, 'target').reshape([-1, T, this.config.action.hidden]);
    return this.decodeActions(h, Array.from(batch.targetOwner, (b) => batch.embodiments[b]!));
  }

  /** Logits `[N, vocab]` at the predecessors of Ω_text's tokens (Eq. 5: y_i from S_{<i}). */
  textLogits(batch: PolicyBatch, out: PolicyOutput): Tensor {
    const h = this.#rows(out, out.understanding, batch.textPositions, 'text');
    return this.lmHead ? this.lmHead.forward(h) : h.matmul(this.textEmbedding.weight.transpose());
  }

  /** Motion-code logits `[Nm, T_z, |C|]` of the MASK targets (Eq. 8). */
  motionLogits(batch: PolicyBatch, out: PolicyOutput): Tensor {
    if (this.motionHead === null) throw new RangeError('BeingPolicy.motionLogits: maskedMotion is off');
    const Tz = this.config.maskedMotion.numTokens;
    return this.motionHead.forward(this.#rows(out, out.action, batch.motionPositions, 'motion').reshape([-1, Tz, this.config.action.hidden]));
  }

  /** Samples an action chunk for one observation (see `sampleActions`). */
  sampleActions(observation: Observation, opts: SampleActionsOptions = {}): SampledActions {
    return sampleActions(this, observation, opts);
  }

  /** Samples an action chunk on any backend, webgpu included (see `sampleActionsAsync`). */
  sampleActionsAsync(observation: Observation, opts: SampleActionsOptions = {}): Promise<SampledActions> {
    return sampleActionsAsync(this, observation, opts);
  }

  /** The rows of `stream` (flattened over the batch) at sequence positions `positions`. */
  #rows(out: PolicyOutput, stream: Tensor, positions: Int32Array, what: string): Tensor {
    const idx = Int32Array.from(positions, (i) => out.rowOf[i]!);
    if (idx.some((r) => r < 0)) throw new RangeError(`BeingPolicy: some ${what} positions lie outside the pass's range`);
    return stream.reshape([-1, stream.shape[2]!]).indexSelect(0, tensor(idx, { dtype: 'int32' }));
  }

  /** `xt` and `t` for the batch's targets, checked. */
  #targetInputs(batch: PolicyBatch, inputs: PolicyInputs): { xt: Tensor; t: Tensor | number } {
    const shape = batch.targets!.shape;
    const { xt, t } = inputs;
    if (xt === undefined || t === undefined) throw new RangeError('BeingPolicy: the batch has target chunks; give inputs.xt and inputs.t');
    if (xt.ndim !== 3 || xt.shape.some((d, i) => d !== shape[i])) throw new RangeError(`BeingPolicy: inputs.xt must be ${formatShape(shape)}, got ${formatShape(xt.shape)}`);
    return { xt: xt.cast(this.dtype), t };
  }

  /**
   * The layout of positions `[start, end)`, from the host copies of the sequences' expert ownership and
   * padding (those of `batch.sequences.actionExpertMask` and `paddingMask`): nothing is read back.
   */
  #layout(batch: PolicyBatch, start: number, end: number): MoTLayout {
    const B = batch.size;
    const len = end - start;
    const act = new Uint8Array(B * len);
    const real = new Uint8Array(B * len);
    batch.sequences.sequences.forEach((s, b) => {
      for (let p = start; p < Math.min(end, s.length); p++) {
        real[b * len + p - start] = 1;
        act[b * len + p - start] = s.expert[p] === 'action' ? 1 : 0;
      }
    });
    return MoTLayout.fromExpertMask({ data: act, shape: [B, len] }, { data: real, shape: [B, len] });
  }

  /** `[B, D]` 0/1 active masks of the samples' embodiments (zeros without one): the MoF routing context's input. */
  #activeMasks(batch: PolicyBatch): Tensor {
    const D = this.config.unifiedDim;
    const host = new Float64Array(batch.size * D);
    batch.embodiments.forEach((e, b) => e?.activeMask.forEach((on, i) => (host[b * D + i] = on ? 1 : 0)));
    return noGrad(() => tensor(host, { shape: [batch.size, D], dtype: this.dtype }));
  }
}
