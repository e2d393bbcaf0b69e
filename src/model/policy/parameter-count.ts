/**
 * Parameter counts computed from a config alone, so that `paper2b` can be sized without allocating it.
 * Each count is the closed form of a module's `numParameters()`:
 *
 * - perception — {@link VisionTransformer} (`vit`), {@link VisionProjector} (`projector`),
 *   {@link StateEncoder}, {@link ActionEncoder}, {@link ActionDecoder};
 * - text — the embedding `vocabSize × hidden_u` and, unless tied, an LM head of the same size (no bias);
 * - the two experts of the MoT backbone — `countBackboneParameters` of `backbone.ts` on
 *   {@link backboneOptions}: Qwen3-style layers (RMSNorms, q/k/v/o without biases into the shared head
 *   space, q/k norms, SwiGLU; a router and N SwiGLU experts in the specialised MoF layers) and one final
 *   RMSNorm per expert;
 * - the switches' modules — the masked-motion channel (`MaskedMotionHead(numCodes, hidden_a)`) and MPG
 *   (`ManifoldPreservingGate(hidden_a, { embedDim })`), when enabled. ESA's slot-wise adapters depend on
 *   where the policy places them and are counted by the assembled policy.
 * @module
 */
import { countBackboneParameters } from './backbone.js';
import { backboneOptions } from './backbone-options.js';
import { validateConfig, type PolicyConfig } from './config.js';

/** A policy's parameters, component by component (see the module notes). */
export interface ParameterCounts {
  /** The ViT. */
  vit: number;
  /** The projector from ViT features to the understanding expert. */
  projector: number;
  /** The text embedding. */
  textEmbedding: number;
  /** The LM head (0 when tied to the embedding). */
  lmHead: number;
  /** The understanding expert's layers and final norm. */
  understanding: number;
  /** The action expert's layers (every MoF expert) and final norm. */
  action: number;
  /** The action expert's parameters one routing unit uses (K of the N experts in each specialised layer). */
  actionActive: number;
  /** The state encoder. */
  stateEncoder: number;
  /** The action-token encoder. */
  actionEncoder: number;
  /** The action decoder. */
  actionDecoder: number;
  /** The masked motion-token channel: embedding and head (0 when off). */
  maskedMotion: number;
  /** MPG's E_obs, E_act and P_MPG (0 when off). */
  mpg: number;
  /** Everything above except `actionActive`. */
  total: number;
  /** `total` with the action expert counted as `actionActive`. */
  active: number;
}

const linear = (inF: number, outF: number, bias = true): number => inF * outF + (bias ? outF : 0);
const layerNorm = (d: number): number => 2 * d;

/** A ViT block: LayerNorms, attention with biases (all heads of width/numHeads), GELU MLP with biases. */
function vitBlock(width: number, mlpHidden: number): number {
  return 2 * layerNorm(width) + 4 * linear(width, width) + linear(width, mlpHidden) + linear(mlpHidden, width);
}

/** Parameters of the ViT of `config.vision`. */
export function vitParameters(config: PolicyConfig): number {
  const v = config.vision;
  const grid = v.imageSize / v.patchSize;
  return linear(v.channels * v.patchSize ** 2, v.width) + grid * grid * v.width + v.depth * vitBlock(v.width, v.mlpHidden) + layerNorm(v.width);
}

/** Parameters of the projector of `config.vision` into the understanding expert's width. */
export function projectorParameters(config: PolicyConfig): number {
  const merged = config.vision.tokenMerge ** 2 * config.vision.width;
  const u = config.understanding.hidden;
  return layerNorm(merged) + linear(merged, u) + linear(u, u);
}

/**
 * Every component's parameter count (see {@link ParameterCounts}), from the config alone; validates it
 * first.
 *
 * @example
 * const n = countParameters(PRESETS.paper2b);
 * n.understanding + n.textEmbedding; // ≈ 1.7e9 (Qwen3-1.7B)
 */
export function countParameters(config: PolicyConfig): ParameterCounts {
  validateConfig(config);
  const u = config.understanding;
  const a = config.action;
  const D = config.unifiedDim;
  const backbone = countBackboneParameters(backboneOptions(config));
  const understanding = backbone.understanding;
  const action = backbone.action;
  const actionActive = backbone.activeAction;

  const mm = config.maskedMotion;
  const maskedMotion = mm.enabled ? (mm.numCodes + 1) * a.hidden + linear(a.hidden, mm.numCodes) : 0;
  const e = config.mpg.embedDim;
  const mpg = config.mpg.enabled ? 2 * linear(a.hidden, e) + linear(e, a.hidden) : 0;

  const counts = {
    vit: vitParameters(config),
    projector: projectorParameters(config),
    textEmbedding: config.text.vocabSize * u.hidden,
    lmHead: config.text.tieEmbeddings ? 0 : config.text.vocabSize * u.hidden,
    understanding,
    action,
    actionActive,
    stateEncoder: linear(D, config.state.mlpHidden) + linear(config.state.mlpHidden, a.hidden),
    actionEncoder: linear(D, a.hidden) + linear(2 * a.hidden, a.hidden) + linear(a.hidden, a.hidden),
    actionDecoder: linear(a.hidden, D),
    maskedMotion,
    mpg,
  };
  const total =
    counts.vit + counts.projector + counts.textEmbedding + counts.lmHead + counts.understanding + counts.action +
    counts.stateEncoder + counts.actionEncoder + counts.actionDecoder + counts.maskedMotion + counts.mpg;
  return { ...counts, total, active: total - action + actionActive };
}
