/**
 * One layer of the Mixture-of-Transformers backbone (§5.1): an understanding expert and an action
 * expert, each with its own norms, q/k/v/o projections and feed-forward block, coupled by one
 * self-attention over the whole sequence.
 * @module
 */
import { arange, concat, formatShape, noGrad, zeros, type DType, type Tensor } from '../../tensor/index.js';
import {
  Module,
  RotaryEmbedding,
  TransformerBlock,
  applyRotary,
  scaledDotProductAttention,
  type AttentionMaskOptions,
  type LayerKVCache,
  type Linear,
  type MoERouting,
  type RMSNorm,
  type RotaryOptions,
  type RotaryTables,
} from '../../nn/index.js';
import type { InitOptions } from '../../nn/init.js';
import { SpecializedExpertLayer, type MoFRoutingOptions } from '../mof.js';
import type { MoTLayout, routingGroupsByPart } from './mot-layout.js';

/** The routed feed-forward experts of a Mixture-of-Flow action layer (§5.1.2); expert width defaults to `actionHidden`. */
export type MoTMixtureOfFlowOptions = MoFRoutingOptions;

/** Options of {@link MoTLayer}. */
export interface MoTLayerOptions extends InitOptions {
  /** Width dU of the understanding expert's residual stream. */
  understandingDim: number;
  /** Width dA of the action expert's residual stream. */
  actionDim: number;
  /** Query heads H of the shared attention. */
  numHeads: number;
  /** Key/value heads (default `numHeads`); must divide `numHeads` (grouped-query attention). */
  numKvHeads?: number;
  /** Size of each head (default dU / H). Both experts project into the same H × headDim head space. */
  headDim?: number;
  /** Hidden width of the understanding expert's SwiGLU (default 4·dU). */
  understandingHidden?: number;
  /** Hidden width of the action expert's SwiGLU (default 4·dA). */
  actionHidden?: number;
  /** RMSNorm over each query and key head before RoPE, per expert, as Qwen3 (default true). */
  qkNorm?: boolean;
  /** Biases on every projection, attention and feed-forward (default false, as Qwen3). */
  bias?: boolean;
  /** Rotary positions: true, or their options (default true). */
  rope?: boolean | RotaryOptions;
  /** Epsilon of every RMSNorm (default 1e-6). */
  normEps?: number;
  /** Score scale (default 1/√headDim). */
  scale?: number;
  /** Dropout on the attention weights in training mode (default 0). */
  attentionDropout?: number;
  /** Dropout on each residual branch in training mode (default 0). */
  residualDropout?: number;
  /** Make the action expert's feed-forward block a Mixture of Flow (default: a plain SwiGLU). */
  mixtureOfFlow?: MoTMixtureOfFlowOptions;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** The two residual streams, packed by a {@link MoTLayout}; an expert with no positions may be omitted. */
export interface MoTStreams {
  /** `[B, Tu, dU]`: the understanding positions (vision, text). */
  understanding?: Tensor;
  /** `[B, Ta, dA]`: the action positions (state, action). */
  action?: Tensor;
}

/** Per-call options of {@link MoTLayer.forward}. Masks and positions are in sequence order. */
export interface MoTLayerCallOptions extends AttentionMaskOptions {
  /** Where each stream's tokens sit in the sequence of this call. */
  layout: MoTLayout;
  /**
   * Int32 positions `[T]` or `[B, T]` in sequence order, for RoPE (default `0…T−1`, or continuing the
   * cache). The two Eq. 10 targets share positions.
   */
  positionIds?: Tensor;
  /** Rotary tables already computed for `positionIds` (the backbone shares one set across its layers). */
  rotaryTables?: RotaryTables;
  /**
   * This layer's cache: this call's keys and values, in sequence order, are attended after the cached
   * ones (masks then cover `Tk = cached + T` keys) and appended unless the cache is frozen.
   */
  cache?: LayerKVCache;
  /** `[B, C]` (or `[1, C]`): the embodiment/task context of the Mixture-of-Flow router. */
  context?: Tensor;
  /**
   * Int32 `[B, T]` (or `[T]`) routing-unit ids in sequence order; only the action positions' ids are used
   * (see `SpecializedExpertCallOptions.groups`). Give the FM and MASK targets, the cached prefix and the
   * suffix, and padding different ids, so that no routing unit spans positions that must not see each other
   * ({@link routingGroupsByPart} does so for a collated batch). Without them, per-sample routing makes one
   * unit of all of a sample's action positions in this call, and Eq. 9 no longer holds through the router.
   */
  groups?: Tensor;
}

/** What {@link MoTLayer.forward} returns. */
export interface MoTLayerOutput {
  /** `[B, Tu, dU]` (`Tu` may be 0). */
  understanding: Tensor;
  /** `[B, Ta, dA]` (`Ta` may be 0). */
  action: Tensor;
  /** Load-balancing loss of the Mixture-of-Flow router, or null (no MoF, or no action positions). */
  auxLoss: Tensor | null;
  /** Router z-loss, or null. */
  zLoss: Tensor | null;
  /** The routing of the action tokens, or null. */
  routing: MoERouting | null;
}

/** A layer's expert: a pre-norm block whose attention module supplies only its projections. */
export type MoTExpertBlock = TransformerBlock | SpecializedExpertLayer;

function checkPositive(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`MoTLayer: ${what} must be a positive integer, got ${n}`);
}

/**
 * A Mixture-of-Transformers layer (§5.1, after BAGEL): "Both modules process a common token sequence and
 * leverage shared self-attention mechanisms across each transformer layer." With e(i) the expert owning
 * position i,
 *
 *   q_i, k_i, v_i = W^{e(i)}_{q,k,v} · RMSNorm^{e(i)}_1(x_i)        (own projections, q/k RMSNorm, RoPE at PE(i))
 *   h_i = x_i + W^{e(i)}_o · Attn(q_i, {k_j, v_j : M_ij = 1})       (one softmax over the whole sequence, mask M of Eq. 9)
 *   y_i = h_i + FFN^{e(i)}(RMSNorm^{e(i)}_2(h_i))                   (SwiGLU; Mixture of Flow in the action expert's upper layers)
 *
 * Each expert is a {@link TransformerBlock} (the action expert of a Mixture-of-Flow layer a
 * {@link SpecializedExpertLayer}), with the parameter names of one; its attention module holds the
 * expert's projections and q/k norms, and the attention itself runs here, once: the experts' q/k/v are
 * assembled in sequence order (a gather by the {@link MoTLayout}), rotated, attended under the mask
 * (through the KV cache when given), and the result is split back to the streams. The streams may have
 * different widths dU and dA; both project into the same H × headDim heads.
 *
 * @example
 * const layer = new MoTLayer({ understandingDim: 64, actionDim: 32, numHeads: 4, numKvHeads: 2, headDim: 16 });
 * const layout = MoTLayout.fromExpertMask(actionMask);             // bool [B, T]
 * const { understanding, action } = layer.forward({ understanding: u, action: a }, { layout, mask, positionIds });
 */
export class MoTLayer extends Module {
  /** The understanding expert (vision and text positions). */
  readonly understanding: TransformerBlock;
  /** The action expert (state and action positions); a {@link SpecializedExpertLayer} when Mixture of Flow. */
  readonly action: MoTExpertBlock;
  /** The rotary embedding of the shared attention, or null without positions. */
  readonly rotary: RotaryEmbedding | null;
  /** Width dU. */
  readonly understandingDim: number;
  /** Width dA. */
  readonly actionDim: number;
  /** Query heads H. */
  readonly numHeads: number;
  /** Key/value heads. */
  readonly numKvHeads: number;
  /** Size of each head. */
  readonly headDim: number;
  /** Score scale. */
  readonly scale: number;
  /** Dropout probability on the attention weights (training mode only). */
  readonly attentionDropout: number;
  readonly #generator: MoTLayerOptions['generator'];

  /** A layer with the given widths and heads. */
  constructor(opts: MoTLayerOptions) {
    super();
    const { understandingDim: dU, actionDim: dA, numHeads: H } = opts;
    checkPositive('understandingDim', dU);
    checkPositive('actionDim', dA);
    checkPositive('numHeads', H);
    const Hkv = opts.numKvHeads ?? H;
    if (!Number.isInteger(Hkv) || Hkv < 1 || H % Hkv !== 0) throw new RangeError(`MoTLayer: numKvHeads must be a positive divisor of numHeads = ${H}, got ${Hkv}`);
    if (opts.headDim === undefined && dU % H !== 0) throw new RangeError(`MoTLayer: understandingDim ${dU} is not divisible by numHeads ${H}; give headDim`);
    const hd = opts.headDim ?? dU / H;
    checkPositive('headDim', hd);
    const hU = opts.understandingHidden ?? 4 * dU;
    const hA = opts.actionHidden ?? 4 * dA;
    checkPositive('understandingHidden', hU);
    checkPositive('actionHidden', hA);
    this.attentionDropout = opts.attentionDropout ?? 0;
    if (!(this.attentionDropout >= 0 && this.attentionDropout < 1)) {
      throw new RangeError(`MoTLayer: attentionDropout must be in [0, 1), got ${this.attentionDropout}`);
    }
    [this.understandingDim, this.actionDim, this.numHeads, this.numKvHeads, this.headDim] = [dU, dA, H, Hkv, hd];
    this.scale = opts.scale ?? 1 / Math.sqrt(hd);
    this.#generator = opts.generator;
    const eps = opts.normEps ?? 1e-6;
    const block = {
      numHeads: H,
      numKvHeads: Hkv,
      headDim: hd,
      bias: opts.bias ?? false,
      qkNorm: opts.qkNorm ?? true,
      normEps: eps,
      rope: false, // positions are applied once, by the shared attention
      norm: 'rms' as const,
      blockNormEps: eps,
      mlp: 'swiglu' as const,
      residualDropout: opts.residualDropout ?? 0,
      dtype: opts.dtype,
      generator: opts.generator,
    };
    this.understanding = this.module('understanding', new TransformerBlock(dU, { ...block, mlpHidden: hU }));
    const mof = opts.mixtureOfFlow;
    this.action = this.module(
      'action',
      mof === undefined ? new TransformerBlock(dA, { ...block, mlpHidden: hA }) : new SpecializedExpertLayer(dA, { ...block, mlpHidden: hA, ...mof }),
    );
    const rope = opts.rope ?? true;
    this.rotary = rope === false ? null : this.module('rotary', new RotaryEmbedding(hd, rope === true ? {} : rope));
  }

  /** True when the action expert's feed-forward block is a Mixture of Flow. */
  get isMixtureOfFlow(): boolean {
    return this.action instanceof SpecializedExpertLayer;
  }

  /** Width C of the Mixture-of-Flow routing context (0 without one). */
  get contextDim(): number {
    return this.action instanceof SpecializedExpertLayer ? this.action.contextDim : 0;
  }

  /** Parameters one routing unit uses: everything but the N − K unchosen experts of a Mixture-of-Flow layer. */
  activeParameters(): number {
    return this.understanding.numParameters() + (this.action instanceof SpecializedExpertLayer ? this.action.activeParameters() : this.action.numParameters());
  }

  /** Runs the layer over the packed streams; see {@link MoTLayerCallOptions}. */
  forward(streams: MoTStreams, opts: MoTLayerCallOptions): MoTLayerOutput {
    const { layout } = opts;
    const xu = this.#stream(streams.understanding, 'understanding', layout);
    const xa = this.#stream(streams.action, 'action', layout);
    const B = this.#batch(xu, xa, layout);
    const T = layout.length;
    const [H, Hkv, hd] = [this.numHeads, this.numKvHeads, this.headDim];

    // Each expert projects its own tokens to [q | k | v] (q/k normed per head); one gather puts them in sequence order.
    const pu = xu && this.#project(xu, this.understanding);
    const pa = xa && this.#project(xa, this.action);
    const qkv = pu && pa ? layout.merge(pu, pa) : (pu ?? pa)!;
    const heads = (from: number, n: number): Tensor => qkv.narrow(-1, from * hd, n * hd).reshape([B, T, n, hd]).permute([0, 2, 1, 3]);
    let q = heads(0, H);
    let k = heads(H, Hkv);
    const v = heads(H + Hkv, Hkv);

    const positions = this.#positions(opts, B, T);
    if (this.rotary) {
      const tables = opts.rotaryTables ?? this.rotary.tables(positions, q.dtype);
      if (tables.cos.shape[2] !== T) throw new RangeError(`MoTLayer: rotaryTables cover ${tables.cos.shape[2]} positions, the call has T = ${T}`);
      q = applyRotary(q, tables);
      k = applyRotary(k, tables);
    }
    const kv = opts.cache ? opts.cache.update(k, v, positions) : { keys: k, values: v };
    const { output } = scaledDotProductAttention(q, kv.keys, kv.values, {
      mask: opts.mask,
      bias: opts.bias,
      causal: opts.causal,
      scale: this.scale,
      dropout: this.training ? this.attentionDropout : 0,
      generator: this.#generator,
    });
    const attended = output.permute([0, 2, 1, 3]).reshape([B, T, H * hd]);

    const understanding = xu ? this.#feedForward(this.#residual(xu, layout.select(attended, 'understanding'), this.understanding), this.understanding) : null;
    let action: Tensor | null = null;
    let routed: { auxLoss: Tensor; zLoss: Tensor; routing: MoERouting } | null = null;
    if (xa) {
      const h = this.#residual(xa, layout.select(attended, 'action'), this.action);
      if (this.action instanceof SpecializedExpertLayer) {
        const out = this.#mixtureOfFlow(h, this.action, opts, layout, B);
        action = out.output;
        routed = out;
      } else {
        action = this.#feedForward(h, this.action);
      }
    }
    const dtype = (xu ?? xa)!.dtype;
    return {
      understanding: understanding ?? zeros([B, 0, this.understandingDim], { dtype }),
      action: action ?? zeros([B, 0, this.actionDim], { dtype }),
      auxLoss: routed?.auxLoss ?? null,
      zLoss: routed?.zLoss ?? null,
      routing: routed?.routing ?? null,
    };
  }

  /** `[B, T_e, (H + 2·Hkv)·headDim]`: the expert's q, k (normed per head when qkNorm) and v of its tokens. */
  #project(x: Tensor, expert: MoTExpertBlock): Tensor {
    const [B, n] = x.shape as [number, number, number];
    const hd = this.headDim;
    const h = expert.norm1.forward(x);
    const heads = (proj: Linear, count: number, norm: RMSNorm | null): Tensor => {
      const y = proj.forward(h);
      return norm ? norm.forward(y.reshape([B, n, count, hd])).reshape([B, n, count * hd]) : y;
    };
    const { attn } = expert;
    return concat([heads(attn.qProj, this.numHeads, attn.qNorm), heads(attn.kProj, this.numKvHeads, attn.kNorm), attn.vProj.forward(h)], -1);
  }

  /** `x + W_o · attended` for one expert's tokens. */
  #residual(x: Tensor, attended: Tensor, expert: MoTExpertBlock): Tensor {
    return x.add(expert.dropout.forward(expert.attn.oProj.forward(attended)));
  }

  /** `h + SwiGLU(norm2(h))`. */
  #feedForward(h: Tensor, expert: TransformerBlock): Tensor {
    return h.add(expert.dropout.forward(expert.mlp.forward(expert.norm2.forward(h))));
  }

  /** `h + Σ_k w_k·E_k(norm2(h))`, routed on `[norm2(h); c]` (§5.1.2), as {@link SpecializedExpertLayer}. */
  #mixtureOfFlow(
    h: Tensor,
    expert: SpecializedExpertLayer,
    opts: MoTLayerCallOptions,
    layout: MoTLayout,
    B: number,
  ): { output: Tensor; auxLoss: Tensor; zLoss: Tensor; routing: MoERouting } {
    const [, Ta] = h.shape as [number, number, number];
    const u = expert.norm2.forward(h);
    const ctx = this.#context(opts.context, B, h);
    const input = ctx === null ? u : concat([u, ctx.unsqueeze(1).expand([B, Ta, ctx.shape[1]!])], -1);
    let groups: Tensor | undefined;
    if (opts.groups !== undefined) {
      const g = opts.groups;
      const rows = g.ndim === 1 ? 1 : g.shape[0]!;
      if (g.dtype !== 'int32' || g.ndim < 1 || g.ndim > 2 || g.shape[g.ndim - 1] !== layout.length || (rows !== 1 && rows !== B)) {
        throw new RangeError(`MoTLayer: groups must be int32 [${layout.length}] or [${B}, ${layout.length}] in sequence order, got ${g.dtype} ${formatShape(g.shape)}`);
      }
      groups = layout.select((g.ndim === 1 ? g.unsqueeze(0) : g).expand([B, layout.length]), 'action');
    }
    const moe = expert.moe.forward(input, groups !== undefined ? { groups } : {});
    return { output: h.add(expert.dropout.forward(moe.output)), auxLoss: moe.auxLoss, zLoss: moe.zLoss, routing: moe.routing };
  }

  /** The routing context `[B, C]` in h's dtype, or null without one; throws on a mismatch. */
  #context(context: Tensor | undefined, B: number, h: Tensor): Tensor | null {
    const C = this.contextDim;
    if (C === 0) {
      if (context !== undefined) throw new RangeError(`MoTLayer: got a context ${formatShape(context.shape)} but the layer's contextDim is 0`);
      return null;
    }
    if (context === undefined) throw new RangeError(`MoTLayer: the Mixture-of-Flow router needs a context [${B}, ${C}]`);
    if (context.ndim !== 2 || context.shape[1] !== C || (context.shape[0] !== B && context.shape[0] !== 1)) {
      throw new RangeError(`MoTLayer: context must be [${B}, ${C}] or [1, ${C}], got ${formatShape(context.shape)}`);
    }
    if (context.dtype === 'bool' || context.dtype === 'int32') throw new TypeError(`MoTLayer: context must be a float tensor, got ${context.dtype}`);
    const c = context.dtype === h.dtype ? context : context.cast(h.dtype);
    return c.shape[0] === B ? c : c.expand([B, C]);
  }

  /** The stream `x` checked against the layout, or null when the expert has no positions. */
  #stream(x: Tensor | undefined, expert: 'understanding' | 'action', layout: MoTLayout): Tensor | null {
    const n = layout.lengthOf(expert);
    const dim = expert === 'understanding' ? this.understandingDim : this.actionDim;
    if (x === undefined) {
      if (n > 0) throw new RangeError(`MoTLayer: the layout gives the ${expert} expert ${n} positions but no ${expert} stream was given`);
      return null;
    }
    if (x.ndim !== 3 || x.shape[1] !== n || x.shape[2] !== dim) {
      throw new RangeError(`MoTLayer: expected the ${expert} stream [B, ${n}, ${dim}], got ${formatShape(x.shape)}`);
    }
    return n === 0 ? null : x;
  }

  /** The common batch size of the streams, checked against the layout's rows. */
  #batch(xu: Tensor | null, xa: Tensor | null, layout: MoTLayout): number {
    if (!xu && !xa) throw new RangeError('MoTLayer: both streams are empty');
    const B = (xu ?? xa)!.shape[0]!;
    if (xu && xa && xa.shape[0] !== B) throw new RangeError(`MoTLayer: the streams have batch ${B} and ${xa.shape[0]}`);
    if (layout.rows !== 1 && layout.rows !== B) throw new RangeError(`MoTLayer: the layout has ${layout.rows} rows for a batch of ${B}`);
    return B;
  }

  /** Explicit positions, checked, or the default ones (continuing the cache). */
  #positions(opts: MoTLayerCallOptions, B: number, T: number): Tensor {
    const p = opts.positionIds;
    if (p === undefined) return opts.cache ? opts.cache.nextPositions(T) : noGrad(() => arange(T));
    const rows = p.ndim === 1 ? 1 : p.shape[0];
    if (p.dtype !== 'int32' || p.ndim < 1 || p.ndim > 2 || p.shape[p.ndim - 1] !== T || (rows !== 1 && rows !== B)) {
      throw new RangeError(`MoTLayer: positionIds must be int32 [${T}] or [${B}, ${T}], got ${p.dtype} ${formatShape(p.shape)}`);
    }
    if (!this.rotary) throw new Error('MoTLayer: positionIds were given but the layer has no rotary embedding (rope: false)');
    return p;
  }
}
