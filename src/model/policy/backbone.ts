/**
 * The Mixture-of-Transformers backbone of Being-H0.5 (§5.1): a stack of {@link MoTLayer}s — the
 * understanding expert and the action expert side by side in every layer, one shared attention — whose
 * action expert is a Mixture of Flow in its upper layers (§5.1.2), and analytic parameter counts.
 * @module
 */
import { arange, noGrad, zeros, type Tensor } from '../../tensor/index.js';
import { Module, ModuleList, RMSNorm, type KVCache, type MoERouting, type RotaryTables } from '../../nn/index.js';
import { MoTLayer, type MoTLayerCallOptions, type MoTLayerOptions, type MoTMixtureOfFlowOptions, type MoTStreams } from './mot-layer.js';

/** The Mixture-of-Flow tier of the action expert: its routed experts, and how many upper layers have them. */
export interface MoTBackboneMixtureOfFlowOptions extends MoTMixtureOfFlowOptions {
  /** Number of upper layers whose action feed-forward block is routed (the specialised tier); the rest are the foundation tier. */
  layers: number;
}

/** Options of {@link MoTBackbone}: a layer's, plus the depth and the Mixture-of-Flow tier. */
export interface MoTBackboneOptions extends Omit<MoTLayerOptions, 'mixtureOfFlow'> {
  /** Number of layers L (both experts have the same depth). */
  numLayers: number;
  /** Make the top `layers` action layers Mixture of Flow (default: none). */
  mixtureOfFlow?: MoTBackboneMixtureOfFlowOptions;
}

/** Per-call options of {@link MoTBackbone.forward}: a layer's, with the whole model's cache. */
export interface MoTBackboneCallOptions extends Omit<MoTLayerCallOptions, 'cache' | 'rotaryTables'> {
  /**
   * The cache: layer i attends through `cache.layer(i)`. Fill it with the prefix (the vision-language
   * context), `freeze()` it, and run any number of suffixes (the action tokens of each Euler step, Eq. 20)
   * against it; each suffix's queries attend to the cached prefix and to the suffix itself.
   */
  cache?: KVCache;
}

/** What {@link MoTBackbone.forward} returns. */
export interface MoTBackboneOutput {
  /** `[B, Tu, dU]`: the understanding stream after the final norm. */
  understanding: Tensor;
  /** `[B, Ta, dA]`: the action stream after the final norm. */
  action: Tensor;
  /** Mean of the Mixture-of-Flow load-balancing losses over the layers that routed tokens (0 without them); scale it yourself. */
  auxLoss: Tensor;
  /** Mean of the router z-losses over the same layers (0 without them). */
  zLoss: Tensor;
  /** The routing of each Mixture-of-Flow layer that routed tokens, bottom to top. */
  routing: MoERouting[];
}

/** Parameter counts of a backbone (see {@link countBackboneParameters}). */
export interface BackboneParameterCount {
  /** Every parameter element. */
  total: number;
  /** What one routing unit uses: all but the N − K unchosen experts of each Mixture-of-Flow layer. */
  active: number;
  /** The understanding expert: its blocks and final norm. */
  understanding: number;
  /** The action expert: its blocks (all experts) and final norm. */
  action: number;
  /** The action expert as one routing unit uses it. */
  activeAction: number;
}

function checkCount(what: string, n: number, min: number): void {
  if (!Number.isInteger(n) || n < min) throw new RangeError(`MoTBackbone: ${what} must be an integer ≥ ${min}, got ${n}`);
}

/**
 * The backbone (§5.1): "a specialized Mixture-of-Transformers (MoT) architecture designed to disentangle
 * high-level semantic reasoning from low-level motor control", L layers of two experts "within a unified
 * MoT backbone" that "process a common token sequence and leverage shared self-attention mechanisms across
 * each transformer layer"; then a final RMSNorm per expert. The action expert is the Mixture of Flow of
 * §5.1.2: its lower L − S layers are the shared foundation tier (plain SwiGLU), its upper S layers route
 * each unit to K of N feed-forward experts, the router reading the embodiment/task context.
 *
 * Under the Eq. 9 mask no information crosses between positions the mask separates, in either stream;
 * with a frozen {@link KVCache} holding a prefix, a suffix gets exactly the outputs it would get as the
 * tail of the full sequence.
 *
 * @example
 * const backbone = new MoTBackbone({
 *   numLayers: 4, understandingDim: 64, actionDim: 32, numHeads: 4, numKvHeads: 2, headDim: 16,
 *   mixtureOfFlow: { layers: 2, numExperts: 4, topK: 1, contextDim: 8 },
 * });
 * const layout = MoTLayout.fromBatch(batch);
 * const out = backbone.forward({ understanding: u, action: a }, {
 *   layout, mask: batch.attentionMask, positionIds: batch.positionIds, context, groups,
 * });
 */
export class MoTBackbone extends Module {
  /** The layers, bottom to top. */
  readonly layers: ModuleList<MoTLayer>;
  /** Final norm of the understanding stream. */
  readonly understandingNorm: RMSNorm;
  /** Final norm of the action stream. */
  readonly actionNorm: RMSNorm;
  /** Number of Mixture-of-Flow (specialised) layers at the top of the action expert. */
  readonly specializedLayers: number;

  /** A backbone of `numLayers` MoT layers. */
  constructor(opts: MoTBackboneOptions) {
    super();
    checkCount('numLayers', opts.numLayers, 1);
    const { mixtureOfFlow, numLayers, ...layerOpts } = opts;
    const S = mixtureOfFlow?.layers ?? 0;
    if (!Number.isInteger(S) || S < 0 || S > numLayers) {
      throw new RangeError(`MoTBackbone: mixtureOfFlow.layers must be an integer in [0, numLayers = ${numLayers}], got ${S}`);
    }
    let mof: MoTMixtureOfFlowOptions | undefined;
    if (mixtureOfFlow !== undefined) {
      const { layers: _, ...rest } = mixtureOfFlow;
      mof = rest;
    }
    this.specializedLayers = S;
    const layers = Array.from({ length: numLayers }, (_, i) => new MoTLayer(i >= numLayers - S ? { ...layerOpts, mixtureOfFlow: mof! } : layerOpts));
    this.layers = this.module('layers', new ModuleList(layers));
    const norm = { eps: opts.normEps ?? 1e-6, dtype: opts.dtype };
    this.understandingNorm = this.module('understandingNorm', new RMSNorm(opts.understandingDim, norm));
    this.actionNorm = this.module('actionNorm', new RMSNorm(opts.actionDim, norm));
  }

  /** Number of layers L. */
  get numLayers(): number {
    return this.layers.length;
  }

  /** Number of foundation (shared, unrouted) layers of the action expert. */
  get foundationLayers(): number {
    return this.layers.length - this.specializedLayers;
  }

  /** Every parameter element (all experts of every Mixture-of-Flow layer). */
  totalParameters(): number {
    return this.numParameters();
  }

  /** The parameters one routing unit uses (the analytic count is {@link countBackboneParameters}). */
  activeParameters(): number {
    let n = this.understandingNorm.numParameters() + this.actionNorm.numParameters();
    for (const layer of this.layers) n += layer.activeParameters();
    return n;
  }

  /** Runs the streams through every layer and the final norms. */
  forward(streams: MoTStreams, opts: MoTBackboneCallOptions): MoTBackboneOutput {
    const { cache, ...rest } = opts;
    const rotary = this.layers.at(0).rotary;
    const dtype = (streams.understanding ?? streams.action)?.dtype ?? 'float32';
    // Positions and rotary tables once for all layers (each layer still checks the positions).
    let positionIds = rest.positionIds;
    let rotaryTables: RotaryTables | undefined;
    if (rotary) {
      positionIds ??= cache ? cache.layer(0).nextPositions(opts.layout.length) : noGrad(() => arange(opts.layout.length));
      rotaryTables = rotary.tables(positionIds, dtype);
    }
    let cur: MoTStreams = streams;
    const aux: Tensor[] = [];
    const z: Tensor[] = [];
    const routing: MoERouting[] = [];
    for (let i = 0; i < this.layers.length; i++) {
      const out = this.layers.at(i).forward(cur, {
        ...rest,
        ...(positionIds !== undefined ? { positionIds } : {}),
        ...(rotaryTables !== undefined ? { rotaryTables } : {}),
        ...(cache ? { cache: cache.layer(i) } : {}),
      });
      if (out.auxLoss && out.zLoss && out.routing) {
        aux.push(out.auxLoss);
        z.push(out.zLoss);
        routing.push(out.routing);
      }
      cur = { understanding: out.understanding, action: out.action };
    }
    const mean = (xs: Tensor[]): Tensor => (xs.length === 0 ? zeros([], { dtype }) : xs.reduce((a, b) => a.add(b)).div(xs.length));
    return {
      understanding: this.understandingNorm.forward(cur.understanding!),
      action: this.actionNorm.forward(cur.action!),
      auxLoss: mean(aux),
      zLoss: mean(z),
      routing,
    };
  }
}

/** `3·d·h` (+ biases) for a SwiGLU `d → h → d`. */
function swigluCount(d: number, h: number, bias: boolean): number {
  return 3 * d * h + (bias ? 2 * h + d : 0);
}

/**
 * The parameter counts of {@link MoTBackbone} for `opts`, computed without building it (so the paper's
 * shapes can be counted cheaply). Per expert of width d and SwiGLU hidden h, a layer holds
 * `2d` (norms) + `d·H·hd + 2·d·Hkv·hd + H·hd·d` (q, k, v, o) + `2·hd` (q/k norms) + `3·d·h` (SwiGLU),
 * plus biases when enabled; a Mixture-of-Flow layer replaces the action SwiGLU by a router `(dA + C)·N`
 * and N SwiGLU experts, of which K are active. Each stream ends with one RMSNorm.
 */
export function countBackboneParameters(opts: MoTBackboneOptions): BackboneParameterCount {
  checkCount('numLayers', opts.numLayers, 1);
  const { understandingDim: dU, actionDim: dA, numHeads: H } = opts;
  for (const [what, n] of [['understandingDim', dU], ['actionDim', dA], ['numHeads', H]] as const) checkCount(what, n, 1);
  const Hkv = opts.numKvHeads ?? H;
  const hd = opts.headDim ?? dU / H;
  if (!Number.isInteger(Hkv) || Hkv < 1 || H % Hkv !== 0 || !Number.isInteger(hd) || hd < 1) {
    throw new RangeError(`countBackboneParameters: numKvHeads ${Hkv} must divide numHeads ${H} and headDim ${hd} must be a positive integer`);
  }
  const bias = opts.bias ?? false;
  const qk = opts.qkNorm ?? true;
  const hU = opts.understandingHidden ?? 4 * dU;
  const hA = opts.actionHidden ?? 4 * dA;
  const attention = (d: number): number =>
    d * H * hd + 2 * d * Hkv * hd + H * hd * d + (bias ? H * hd + 2 * Hkv * hd + d : 0) + (qk ? 2 * hd : 0) + 2 * d;
  const L = opts.numLayers;
  const mof = opts.mixtureOfFlow;
  const S = mof?.layers ?? 0;
  if (!Number.isInteger(S) || S < 0 || S > L) throw new RangeError(`countBackboneParameters: mixtureOfFlow.layers must be an integer in [0, ${L}], got ${S}`);
  const understanding = L * (attention(dU) + swigluCount(dU, hU, bias)) + dU;
  let action = L * attention(dA) + (L - S) * swigluCount(dA, hA, bias) + dA;
  let activeAction = action;
  if (mof !== undefined && S > 0) {
    const N = mof.numExperts;
    const K = mof.topK ?? Math.min(2, N);
    const C = mof.contextDim ?? 0;
    const eh = mof.expertHidden ?? hA;
    if (!Number.isInteger(N) || N < 1 || !Number.isInteger(K) || K < 1 || K > N || !Number.isInteger(C) || C < 0 || !Number.isInteger(eh) || eh < 1) {
      throw new RangeError(`countBackboneParameters: need numExperts ≥ 1, topK in [1, numExperts], contextDim ≥ 0 and expertHidden ≥ 1, got ${N}, ${K}, ${C}, ${eh}`);
    }
    const expert = swigluCount(dA, eh, bias);
    action += S * ((dA + C) * N + N * expert);
    activeAction += S * ((dA + C) * N + K * expert);
  }
  return { total: understanding + action, active: understanding + activeAction, understanding, action, activeAction };
}
