/**
 * The policy's configuration (§5): the Mixture-of-Transformers backbone (§5.1) and its two experts, the
 * Mixture-of-Flow upper layers (§5.1.2), perception (vision encoder, projector, byte-level text, state and
 * action encoders), the flow-matching settings (Eq. 7, 20), and the switches of the paper's techniques —
 * UAC (Eq. 17-19), ESA (Eq. 12), MPG (Eq. 13-15, 21), MoF (§5.1.2) and masked motion tokens (Eq. 8) —
 * with the loss weights of Eq. 4 and 6. {@link validateConfig} checks a config; {@link policyConfig}
 * derives one from a preset with overrides.
 *
 * Shared attention with different expert widths: in the MoT every layer runs one attention over the
 * whole sequence, but each expert has its own q/k/v/o projections. Both experts project into the same
 * head space — `numHeads` query heads and `numKvHeads` key/value heads of `headDim` each — so the keys of
 * vision and text tokens and those of state and action tokens can be attended to together. The head
 * geometry therefore lives in {@link BackboneConfig} (shared), the widths in
 * {@link ExpertConfig} (per expert): the understanding expert maps `hidden_u → numHeads·headDim` and back,
 * the action expert `hidden_a → numHeads·headDim` and back, and `numHeads·headDim` need equal neither
 * (Qwen3-0.6B itself has hidden 1024 and 16 × 128 = 2048 head features). Both experts have the same depth.
 * @module
 */
import type { DelayWeighting } from '../uac.js';
import type { TimeSampling } from '../flow.js';
import type { RoutingUnit } from '../mof.js';
import { BYTE_TOKENIZER_VOCAB_SIZE } from './tokenizer.js';

/** The MoT backbone's depth and its shared attention geometry (§5.1: "shared self-attention mechanisms across each transformer layer"). */
export interface BackboneConfig {
  /** Number of MoT layers; each holds one understanding-expert and one action-expert layer (same depth). */
  readonly layers: number;
  /** Query heads of the shared attention. */
  readonly numHeads: number;
  /** Key/value heads (grouped-query attention); must divide `numHeads`. */
  readonly numKvHeads: number;
  /** Size of each head (even, for RoPE). Both experts project into `numHeads·headDim` features. */
  readonly headDim: number;
  /** RoPE base θ (Qwen3: 1,000,000). */
  readonly ropeBase: number;
  /** RMSNorm over each query and key head before RoPE (Qwen3: true). */
  readonly qkNorm: boolean;
  /** Epsilon of every RMSNorm in the backbone. */
  readonly normEps: number;
}

/** One expert's widths: its residual stream and its SwiGLU feed-forward block. */
export interface ExpertConfig {
  /** Residual width of the expert's tokens. */
  readonly hidden: number;
  /** Hidden width of the expert's SwiGLU feed-forward block (dense layers). */
  readonly mlpHidden: number;
}

/** Mixture of Flow (§5.1.2): the action expert's upper layers route each unit to K of N feed-forward experts. */
export interface MixtureOfFlowConfig {
  /** Switch: off, every action-expert layer is a dense (foundation) layer. */
  readonly enabled: boolean;
  /** Number of upper action-expert layers that are specialised (routed); the lower `layers − specializedLayers` are foundation layers. */
  readonly specializedLayers: number;
  /** N, experts per specialised layer. */
  readonly numExperts: number;
  /** K, experts active per routing unit. */
  readonly topK: number;
  /** What one routing decision covers (see {@link RoutingUnit}). */
  readonly routingUnit: RoutingUnit;
  /** Hidden width of each expert's SwiGLU block. */
  readonly expertHidden: number;
  /** Width of the embodiment/task context the router sees beside each token (0: tokens only). */
  readonly contextDim: number;
  /** Weight of the routers' load-balancing loss in the total loss. */
  readonly auxLossWeight: number;
  /** Weight of the routers' z-loss in the total loss. */
  readonly zLossWeight: number;
}

/**
 * The ViT image encoder and its projector (the three parts Table 6 freezes separately are the
 * understanding expert, this ViT, and this projector).
 */
export interface VisionConfig {
  /** Square input images of `imageSize × imageSize` pixels. */
  readonly imageSize: number;
  /** Square patches of `patchSize × patchSize` pixels; must divide `imageSize`. */
  readonly patchSize: number;
  /** Image channels C (3 for RGB). */
  readonly channels: number;
  /** ViT width. */
  readonly width: number;
  /** Number of ViT blocks. */
  readonly depth: number;
  /** Attention heads of the ViT; must divide `width`. */
  readonly numHeads: number;
  /** Hidden width of each ViT block's GELU MLP. */
  readonly mlpHidden: number;
  /** Epsilon of the ViT's LayerNorms. */
  readonly normEps: number;
  /**
   * s: the projector merges each s × s block of neighbouring patch features into one token (InternVL's
   * pixel shuffle with scale 1/s), so an image yields (grid/s)² tokens. Must divide the patch grid.
   */
  readonly tokenMerge: number;
  /** Per-channel mean subtracted from [0, 1] pixels, or null when images arrive already normalised. */
  readonly pixelMean: readonly number[] | null;
  /** Per-channel standard deviation dividing [0, 1] pixels (null exactly when `pixelMean` is null). */
  readonly pixelStd: readonly number[] | null;
}

/** The text side: byte-level tokens and special tokens embedded by the understanding expert. */
export interface TextConfig {
  /**
   * Rows of the text embedding and of the LM head. At least the byte tokenizer's 265 ids; more rows
   * (as `paper2b` keeps Qwen3's 151,936 for counting) are reserved and never produced by the tokenizer.
   */
  readonly vocabSize: number;
  /** The LM head reuses the text embedding (Qwen3-0.6B/1.7B: true). */
  readonly tieEmbeddings: boolean;
}

/** The state encoder: an MLP from the unified state to the action expert's width. */
export interface StateEncoderConfig {
  /** Hidden width of the MLP. */
  readonly mlpHidden: number;
}

/** The sinusoidal time embedding of the action encoder: periods spaced geometrically in [minPeriod, maxPeriod]. */
export interface TimeEmbeddingConfig {
  /** Shortest period (openpi: 4e-3). */
  readonly minPeriod: number;
  /** Longest period (openpi: 4). */
  readonly maxPeriod: number;
}

/** Rectified flow matching (Eq. 7) and the Euler sampler (Eq. 20). */
export interface FlowConfig {
  /** T, the action chunk length. */
  readonly chunkLength: number;
  /** K, Euler steps at inference. */
  readonly steps: number;
  /** How training times t are drawn. */
  readonly timeSampling: TimeSampling;
}

/** Universal Async Chunking (Eq. 17-19): train with committed prefixes of random delay. */
export interface UACConfig {
  /** Switch. */
  readonly enabled: boolean;
  /** d_max used for embodiments that give no timing (an integer in [1, chunkLength]). */
  readonly maxDelay: number;
  /** π(d) over d ∈ {0, …, d_max − 1}: `'exponential'` (∝ exp(d_max − 1 − d)), `'uniform'`, or weights. */
  readonly delayWeighting: DelayWeighting;
}

/** Embodiment-Specific Adaptation (Eq. 12): slot-wise adapters trained only on the active slots. */
export interface ESAConfig {
  /** Switch. */
  readonly enabled: boolean;
  /** Give each slot's adapter a bias (Eq. 12's adapters are matrices alone: false). */
  readonly bias: boolean;
}

/** Manifold-Preserving Gating (Eq. 13-15) and the two-stage refinement (Eq. 21). */
export interface MPGConfig {
  /** Switch. */
  readonly enabled: boolean;
  /** λ of Eq. 13 (0.1). */
  readonly lambda: number;
  /** τ of Eq. 15 (1). */
  readonly tau: number;
  /** M, random directions of Eq. 14 (32). */
  readonly numDirections: number;
  /** Width of the common embedding space of E_obs and E_act. */
  readonly embedDim: number;
  /** N_ref, refinement rounds at inference (Eq. 21). */
  readonly refineRounds: number;
}

/** Masked motion-token prediction (Eq. 8) and the motion tokenizer that makes the tokens. */
export interface MaskedMotionConfig {
  /** Switch. */
  readonly enabled: boolean;
  /** |C|, the codebook size. */
  readonly numCodes: number;
  /** T_z, motion tokens per chunk. */
  readonly numTokens: number;
  /** Width of each code of the tokenizer. */
  readonly codeDim: number;
  /** Hidden width of the tokenizer's encoder and decoder MLPs. */
  readonly tokenizerHidden: number;
  /** ρ ∈ (0, 1], the fraction of tokens masked. */
  readonly maskRatio: number;
}

/** Weights of the joint objective: Eq. 4 `L = λ_text·L_text + λ_act·L_act`, Eq. 6 `L_act = λ₁·L_FM + λ₂·L_MASK`. */
export interface LossWeights {
  /** λ_text. */
  readonly text: number;
  /** λ_act. */
  readonly action: number;
  /** λ₁, flow matching. */
  readonly flowMatching: number;
  /** λ₂, masked motion tokens. */
  readonly maskedMotion: number;
}

/** Everything that shapes a Being-H0.5 policy. See the module notes for how the two experts share attention. */
export interface PolicyConfig {
  /** A name for printing and checkpoints. */
  readonly name: string;
  /** Depth and shared attention geometry. */
  readonly backbone: BackboneConfig;
  /** The multimodal understanding expert (vision, text and special tokens). */
  readonly understanding: ExpertConfig;
  /** The action generation expert (state, action steps, motion tokens). */
  readonly action: ExpertConfig;
  /** Mixture of Flow in the action expert's upper layers. */
  readonly mof: MixtureOfFlowConfig;
  /** Image encoder and projector. */
  readonly vision: VisionConfig;
  /** Text vocabulary. */
  readonly text: TextConfig;
  /** State encoder. */
  readonly state: StateEncoderConfig;
  /** The action encoder's time embedding. */
  readonly timeEmbedding: TimeEmbeddingConfig;
  /** d, the width of the unified state-action space (Eq. 1; 200 for `UNIFIED_LAYOUT`). */
  readonly unifiedDim: number;
  /** Flow matching and sampling. */
  readonly flow: FlowConfig;
  /** Universal Async Chunking. */
  readonly uac: UACConfig;
  /** Embodiment-Specific Adaptation. */
  readonly esa: ESAConfig;
  /** Manifold-Preserving Gating. */
  readonly mpg: MPGConfig;
  /** Masked motion tokens. */
  readonly maskedMotion: MaskedMotionConfig;
  /** Loss weights of Eq. 4 and 6. */
  readonly loss: LossWeights;
}

// --- validation ------------------------------------------------------------------------------------

type Check = (path: string, value: unknown) => string | null;

const int = (min: number): Check => (_p, v) => (typeof v === 'number' && Number.isInteger(v) && v >= min ? null : `must be an integer ≥ ${min}`);
const positive: Check = (_p, v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'must be a finite number > 0');
const nonNegative: Check = (_p, v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? null : 'must be a finite number ≥ 0');
const bool: Check = (_p, v) => (typeof v === 'boolean' ? null : 'must be true or false');

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? `[${v.map(show).join(', ')}]` : String(v));

/**
 * Every problem of `config`, one line each (`'backbone.numKvHeads must divide backbone.numHeads = 16, got 6'`);
 * empty when the config is valid.
 */
export function configProblems(config: PolicyConfig): string[] {
  const problems: string[] = [];
  const get = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), config);
  const check = (path: string, ...checks: Check[]): boolean => {
    const v = get(path);
    for (const c of checks) {
      const msg = c(path, v);
      if (msg !== null) {
        problems.push(`${path} ${msg}, got ${show(v)}`);
        return false;
      }
    }
    return true;
  };
  const rule = (ok: boolean, path: string, msg: string): void => {
    if (!ok) problems.push(`${path} ${msg}, got ${show(get(path))}`);
  };
  if (config === null || typeof config !== 'object') return [`config must be an object, got ${show(config)}`];
  for (const section of ['backbone', 'understanding', 'action', 'mof', 'vision', 'text', 'state', 'timeEmbedding', 'flow', 'uac', 'esa', 'mpg', 'maskedMotion', 'loss']) {
    const v = get(section);
    if (v === null || typeof v !== 'object') return [`${section} must be an object, got ${show(v)}`];
  }
  if (typeof config.name !== 'string' || config.name === '') problems.push(`name must be a non-empty string, got ${show(config.name)}`);

  const b = config.backbone;
  check('backbone.layers', int(1));
  const heads = check('backbone.numHeads', int(1));
  if (check('backbone.numKvHeads', int(1)) && heads) rule(b.numHeads % b.numKvHeads === 0, 'backbone.numKvHeads', `must divide backbone.numHeads = ${b.numHeads}`);
  if (check('backbone.headDim', int(2))) rule(b.headDim % 2 === 0, 'backbone.headDim', 'must be even (RoPE rotates pairs of features)');
  check('backbone.ropeBase', positive);
  check('backbone.qkNorm', bool);
  check('backbone.normEps', positive);

  check('understanding.hidden', int(1));
  check('understanding.mlpHidden', int(1));
  if (check('action.hidden', int(2))) rule(config.action.hidden % 2 === 0, 'action.hidden', 'must be even (the time embedding is half sines, half cosines)');
  check('action.mlpHidden', int(1));

  const m = config.mof;
  if (check('mof.enabled', bool) && m.enabled) {
    if (check('mof.specializedLayers', int(1)) && Number.isInteger(b.layers)) {
      rule(m.specializedLayers <= b.layers, 'mof.specializedLayers', `must be at most backbone.layers = ${b.layers}`);
    }
    if (check('mof.numExperts', int(1)) && check('mof.topK', int(1))) rule(m.topK <= m.numExperts, 'mof.topK', `must be at most mof.numExperts = ${m.numExperts}`);
    const u = m.routingUnit;
    rule(u === 'sample' || u === 'token' || (typeof u === 'number' && Number.isInteger(u) && u >= 1), 'mof.routingUnit', "must be 'sample', 'token' or an integer ≥ 1");
    check('mof.expertHidden', int(1));
    check('mof.contextDim', int(0));
    check('mof.auxLossWeight', nonNegative);
    check('mof.zLossWeight', nonNegative);
  }

  const v = config.vision;
  const size = check('vision.imageSize', int(1));
  if (check('vision.patchSize', int(1)) && size) {
    rule(v.imageSize % v.patchSize === 0, 'vision.patchSize', `must divide vision.imageSize = ${v.imageSize}`);
    if (v.imageSize % v.patchSize === 0 && check('vision.tokenMerge', int(1))) {
      const grid = v.imageSize / v.patchSize;
      rule(grid % v.tokenMerge === 0, 'vision.tokenMerge', `must divide the patch grid vision.imageSize / vision.patchSize = ${grid}`);
    }
  }
  const channels = check('vision.channels', int(1));
  if (check('vision.width', int(1)) && check('vision.numHeads', int(1))) rule(v.width % v.numHeads === 0, 'vision.numHeads', `must divide vision.width = ${v.width}`);
  check('vision.depth', int(1));
  check('vision.mlpHidden', int(1));
  check('vision.normEps', positive);
  if ((v.pixelMean === null) !== (v.pixelStd === null)) problems.push(`vision.pixelMean and vision.pixelStd must both be null or both be arrays, got ${show(v.pixelMean)} and ${show(v.pixelStd)}`);
  for (const key of ['pixelMean', 'pixelStd'] as const) {
    const arr = v[key];
    if (arr === null) continue;
    const ok = Array.isArray(arr) && (!channels || arr.length === v.channels) && arr.every((x) => Number.isFinite(x) && (key === 'pixelMean' || x > 0));
    rule(ok, `vision.${key}`, `must hold vision.channels = ${v.channels} finite numbers${key === 'pixelStd' ? ' > 0' : ''}`);
  }

  check('text.vocabSize', int(BYTE_TOKENIZER_VOCAB_SIZE));
  check('text.tieEmbeddings', bool);
  check('state.mlpHidden', int(1));
  if (check('timeEmbedding.minPeriod', positive) && check('timeEmbedding.maxPeriod', positive)) {
    rule(config.timeEmbedding.maxPeriod > config.timeEmbedding.minPeriod, 'timeEmbedding.maxPeriod', `must exceed timeEmbedding.minPeriod = ${config.timeEmbedding.minPeriod}`);
  }
  check('unifiedDim', int(1));

  const chunk = check('flow.chunkLength', int(1));
  check('flow.steps', int(1));
  const ts = config.flow.timeSampling as { kind?: unknown; alpha?: unknown; beta?: unknown; s?: unknown } | null;
  if (ts === null || typeof ts !== 'object' || (ts.kind !== 'uniform' && ts.kind !== 'beta')) {
    problems.push(`flow.timeSampling.kind must be 'uniform' or 'beta', got ${show(ts === null || typeof ts !== 'object' ? ts : ts.kind)}`);
  } else if (ts.kind === 'beta') {
    for (const k of ['alpha', 'beta'] as const) if (ts[k] !== undefined) check(`flow.timeSampling.${k}`, positive);
    if (ts.s !== undefined) rule(typeof ts.s === 'number' && ts.s > 0 && ts.s <= 1, 'flow.timeSampling.s', 'must lie in (0, 1]');
  }

  const uac = config.uac;
  if (check('uac.enabled', bool) && uac.enabled) {
    if (check('uac.maxDelay', int(1)) && chunk) rule(uac.maxDelay <= config.flow.chunkLength, 'uac.maxDelay', `must be at most flow.chunkLength = ${config.flow.chunkLength}`);
    const w = uac.delayWeighting;
    const okWeights = Array.isArray(w) && w.length === uac.maxDelay && w.every((x) => Number.isFinite(x) && x >= 0) && w.some((x) => x > 0);
    rule(w === 'uniform' || w === 'exponential' || okWeights, 'uac.delayWeighting', `must be 'uniform', 'exponential' or uac.maxDelay = ${uac.maxDelay} non-negative weights, not all zero`);
  }
  if (check('esa.enabled', bool) && config.esa.enabled) check('esa.bias', bool);
  if (check('mpg.enabled', bool) && config.mpg.enabled) {
    check('mpg.lambda', nonNegative);
    check('mpg.tau', positive);
    check('mpg.numDirections', int(1));
    check('mpg.embedDim', int(1));
    check('mpg.refineRounds', int(0));
  }
  const mm = config.maskedMotion;
  if (check('maskedMotion.enabled', bool) && mm.enabled) {
    check('maskedMotion.numCodes', int(1));
    check('maskedMotion.numTokens', int(1));
    check('maskedMotion.codeDim', int(1));
    check('maskedMotion.tokenizerHidden', int(1));
    rule(typeof mm.maskRatio === 'number' && mm.maskRatio > 0 && mm.maskRatio <= 1, 'maskedMotion.maskRatio', 'must lie in (0, 1]');
  }
  for (const k of ['text', 'action', 'flowMatching', 'maskedMotion'] as const) check(`loss.${k}`, nonNegative);
  return problems;
}

/**
 * Throws a RangeError naming every invalid field and its value (`validateConfig(tiny): vision.patchSize
 * must divide vision.imageSize = 32, got 5`); returns the config otherwise.
 */
export function validateConfig(config: PolicyConfig): PolicyConfig {
  const problems = configProblems(config);
  if (problems.length > 0) {
    const name = config !== null && typeof config === 'object' && typeof config.name === 'string' ? config.name : '?';
    throw new RangeError(`validateConfig(${name}): ${problems.join('; ')}`);
  }
  return config;
}

// --- overrides -------------------------------------------------------------------------------------

/** A partial config: any field at any depth; arrays, unions and `flow.timeSampling` replace the base's whole. */
export type PolicyConfigOverrides = {
  readonly [K in keyof PolicyConfig]?: PolicyConfig[K] extends string | number ? PolicyConfig[K] : { readonly [J in keyof PolicyConfig[K]]?: PolicyConfig[K][J] };
};

const isPlain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function merge(base: unknown, over: unknown, path: string): unknown {
  if (!isPlain(base) || !isPlain(over) || path === 'flow.timeSampling') return structuredClone(over);
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(over)) {
    const p = path ? `${path}.${k}` : k;
    if (!(k in base)) throw new RangeError(`policyConfig: unknown field ${p} (fields here: ${Object.keys(base).join(', ')})`);
    if (v !== undefined) out[k] = merge(base[k], v, p);
  }
  return out;
}

/**
 * A validated, frozen config: `base` with `overrides` merged in field by field.
 *
 * @example
 * const cfg = policyConfig(PRESETS.tiny, { mpg: { enabled: false }, flow: { steps: 8 } });
 */
export function policyConfig(base: PolicyConfig, overrides: PolicyConfigOverrides = {}): PolicyConfig {
  return deepFreeze(validateConfig(merge(base, overrides, '') as PolicyConfig));
}
