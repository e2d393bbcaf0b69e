/**
 * Mixture of Flow (§5.1.2): the flow-based action expert as a two-tier stack, shared foundation
 * transformer blocks below and routed specialised experts above, the router seeing each token together
 * with an embodiment/task context.
 * @module
 */
import { concat, formatShape, zeros, type Tensor } from '../tensor/index.js';
import {
  Dropout,
  LayerNorm,
  MLP,
  MixtureOfExperts,
  Module,
  ModuleList,
  MultiHeadAttention,
  RMSNorm,
  SwiGLU,
  TransformerBlock,
  type AttentionCallOptions,
  type AttentionMaskOptions,
  type Expert,
  type GatingMode,
  type KVCache,
  type LinearOptions,
  type MLPOptions,
  type MoERouting,
  type TransformerBlockOptions,
} from '../nn/index.js';

/**
 * What one routing decision covers (§5.1.2: "For a given input state and instruction, the router
 * dynamically activates a sparse subset (e.g., Top-K) of experts"):
 * - `'sample'`: all the tokens of a sample (one row of `[B, T, dim]`) share one choice of experts, made
 *   from the mean of their router logits. Then "gradients for a specific task update only the relevant
 *   expert pathway" holds sample by sample, which is why it is the default.
 * - `'token'`: every token is routed on its own (Switch/Mixtral-style).
 * - `n`: each run of `n` consecutive tokens of a sample is one unit.
 */
export type RoutingUnit = 'sample' | 'token' | number;

/** The routing of a Mixture-of-Flow layer (§5.1.2): how many experts, how many active, and per what. */
export interface MoFRoutingOptions {
  /** Number of specialised experts, N. */
  numExperts: number;
  /** Experts active per routing unit, K (default min(2, N)). */
  topK?: number;
  /** The routing unit (default `'sample'`); per-call `groups` override it. */
  routingUnit?: RoutingUnit;
  /** Width C of the embodiment/task context the router sees beside each token (default 0: none). */
  contextDim?: number;
  /** How router logits become weights (default `'topk-softmax'`: the K weights sum to 1). */
  gating?: GatingMode;
  /** With `'softmax-topk'`, renormalise the K weights to sum to 1 (default false). */
  renormalize?: boolean;
  /** Hidden width of each expert's feed-forward block (default: the block's MLP hidden width, else 4·dim). */
  expertHidden?: number;
}

/** Options of {@link SpecializedExpertLayer}: a transformer block's, plus the routing. */
export interface SpecializedExpertLayerOptions extends TransformerBlockOptions, MoFRoutingOptions {}

/** Per-call options of {@link SpecializedExpertLayer.forward}: the attention's, plus routing inputs. */
export interface SpecializedExpertCallOptions extends AttentionCallOptions {
  /** `[B, C]` (or `[1, C]`, shared by the batch): the embodiment/task context the router sees. Required when C > 0. */
  context?: Tensor;
  /**
   * int32 `[B, T]` routing-unit ids, overriding the routing unit (see `MoEForwardOptions.groups`). Tokens
   * with the same id anywhere in the batch form one unit, so number units per sample (e.g. `3·b + segment`).
   * Under the Eq. 9 mask give the FM and MASK target segments of a sample different ids: a unit's routing is
   * the mean over its tokens, so one unit spanning both segments would let each see the other through the router.
   */
  groups?: Tensor;
}

/** What {@link SpecializedExpertLayer.forward} returns. */
export interface SpecializedExpertOutput {
  /** `[B, T, dim]`: the layer's output. */
  output: Tensor;
  /** Unweighted Switch load-balancing loss of this layer's router (1 when routing is uniform). */
  auxLoss: Tensor;
  /** Unweighted router z-loss of this layer. */
  zLoss: Tensor;
  /** Which experts each token went to, with what weights. */
  routing: MoERouting;
}

/** A GELU {@link MLP} expert that reads only the token columns of its rows, not the context appended for the router. */
class TokenMLP extends MLP {
  constructor(
    readonly tokenDim: number,
    hidden: number,
    opts: MLPOptions,
  ) {
    super(tokenDim, hidden, opts);
  }
  override forward(x: Tensor): Tensor {
    return super.forward(x.narrow(-1, 0, this.tokenDim));
  }
}

/** A {@link SwiGLU} expert that reads only the token columns of its rows. */
class TokenSwiGLU extends SwiGLU {
  constructor(
    readonly tokenDim: number,
    hidden: number,
    opts: LinearOptions,
  ) {
    super(tokenDim, hidden, opts);
  }
  override forward(x: Tensor): Tensor {
    return super.forward(x.narrow(-1, 0, this.tokenDim));
  }
}

function checkCount(what: string, n: number, min: number): void {
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${what} must be an integer ≥ ${min}, got ${n}`);
}

/**
 * One upper layer of the Mixture of Flow (§5.1.2, "Specialized Experts (Embodiment & Task Routing): The
 * upper layers utilize a suite of parallel, specialized experts managed by a learnable gating network,
 * inspired by Mixture-of-Experts (MoE) architectures [12]"). Reference [12] is Shazeer et al.'s sparsely
 * gated MoE layer, whose experts are feed-forward networks; so here an expert is the feed-forward half of
 * a pre-norm transformer block, and the attention stays shared — as the action expert's attention is
 * shared with the rest of the MoT anyway ("leverage shared self-attention mechanisms across each
 * transformer layer", §5.1), and as a KV-cached prefix needs one set of keys per layer:
 *
 *   h = x + attn(norm1(x)),   y = h + Σ_{k ∈ TopK(r)} w_k · E_k(norm2(h)),   r = W_r · [norm2(h); c]
 *
 * where c is the embodiment/task context ("For a given input state and instruction, the router
 * dynamically activates a sparse subset (e.g., Top-K) of experts") and the w_k sum to 1 (with the default
 * gating, a softmax over the K chosen logits). Experts see only the token; the router sees token and context. Unchosen experts
 * do not run: their parameters are not in the graph, so their `.grad` stays null (on backends that read
 * synchronously; on webgpu every expert runs, weighted 0 where not chosen: see `MoEDispatch`).
 *
 * @example
 * const layer = new SpecializedExpertLayer(64, { numHeads: 4, numExperts: 8, topK: 2, contextDim: 16 });
 * const { output, auxLoss } = layer.forward(x, { context, causal: true }); // x [B, T, 64], context [B, 16]
 */
export class SpecializedExpertLayer extends Module {
  /** Model width. */
  readonly dim: number;
  /** Width C of the routing context (0: the router sees the tokens only). */
  readonly contextDim: number;
  /** Norm before the attention. */
  readonly norm1: LayerNorm | RMSNorm;
  /** The shared self-attention. */
  readonly attn: MultiHeadAttention;
  /** Norm before the experts. */
  readonly norm2: LayerNorm | RMSNorm;
  /** The router (`dim + C → N`, reading `[norm2(h); c]`) and the N feed-forward experts. */
  readonly moe: MixtureOfExperts;
  /** Dropout on the branches. */
  readonly dropout: Dropout;

  /** A layer over tokens of width `dim`. */
  constructor(dim: number, opts: SpecializedExpertLayerOptions) {
    super();
    checkCount('SpecializedExpertLayer: dim', dim, 1);
    checkCount('SpecializedExpertLayer: numExperts', opts.numExperts, 1);
    const c = opts.contextDim ?? 0;
    checkCount('SpecializedExpertLayer: contextDim', c, 0);
    const unit = opts.routingUnit ?? 'sample';
    if (unit !== 'sample' && unit !== 'token' && !(Number.isInteger(unit) && unit >= 1)) {
      throw new RangeError(`SpecializedExpertLayer: routingUnit must be 'sample', 'token' or a positive integer, got ${String(unit)}`);
    }
    this.dim = dim;
    this.contextDim = c;
    const makeNorm = (): LayerNorm | RMSNorm => {
      const o = { dtype: opts.dtype, ...(opts.blockNormEps !== undefined ? { eps: opts.blockNormEps } : {}) };
      return (opts.norm ?? 'layer') === 'rms' ? new RMSNorm(dim, o) : new LayerNorm(dim, o);
    };
    // Same names and order as TransformerBlock (norm1, attn, norm2, then the feed-forward part).
    this.norm1 = this.module('norm1', makeNorm());
    this.attn = this.module('attn', new MultiHeadAttention(dim, opts));
    this.norm2 = this.module('norm2', makeNorm());
    const hidden = opts.expertHidden ?? opts.mlpHidden ?? 4 * dim;
    checkCount('SpecializedExpertLayer: expertHidden', hidden, 1);
    const ff = { dtype: opts.dtype, generator: opts.generator, ...(opts.bias !== undefined ? { bias: opts.bias } : {}) };
    const expert =
      (opts.mlp ?? 'gelu') === 'swiglu'
        ? (): Expert => new TokenSwiGLU(dim, hidden, ff)
        : (): Expert => new TokenMLP(dim, hidden, { ...ff, approximate: opts.approximate });
    this.moe = this.module(
      'moe',
      new MixtureOfExperts(dim + c, opts.numExperts, {
        ...(opts.topK !== undefined ? { topK: opts.topK } : {}),
        gating: opts.gating ?? 'topk-softmax',
        renormalize: opts.renormalize ?? false,
        groupSize: unit === 'sample' ? 'sequence' : unit === 'token' ? 1 : unit,
        expert,
        outDim: dim,
        dtype: opts.dtype,
        ...(opts.generator ? { generator: opts.generator } : {}),
      }),
    );
    this.dropout = this.module('dropout', new Dropout(opts.residualDropout ?? 0, opts.generator));
  }

  /** Number of experts, N. */
  get numExperts(): number {
    return this.moe.numExperts;
  }

  /** Experts active per routing unit, K. */
  get topK(): number {
    return this.moe.topK;
  }

  /** Parameters a routing unit uses: norms, attention, router and K experts (all experts are equal in size). */
  activeParameters(): number {
    return this.numParameters() - (this.numExperts - this.topK) * this.moe.experts.at(0).numParameters();
  }

  /** Applies the layer to `x` (`[B, T, dim]`); masks, biases, positions and the cache go to the attention. */
  forward(x: Tensor, opts: SpecializedExpertCallOptions = {}): SpecializedExpertOutput {
    if (x.ndim !== 3 || x.shape[2] !== this.dim) {
      throw new RangeError(`SpecializedExpertLayer: expected input [B, T, ${this.dim}], got ${formatShape(x.shape)}`);
    }
    const { context, groups, ...attnOpts } = opts;
    const [B, T] = x.shape as [number, number, number];
    const ctx = this.#context(context, B, x);
    const h = x.add(this.dropout.forward(this.attn.forward(this.norm1.forward(x), attnOpts)));
    const u = this.norm2.forward(h);
    // The router reads [token; context]; the experts narrow back to the token (TokenMLP / TokenSwiGLU).
    const routed = ctx === null ? u : concat([u, ctx.unsqueeze(1).expand([B, T, this.contextDim])], -1);
    const moe = this.moe.forward(routed, groups !== undefined ? { groups } : {});
    return { output: h.add(this.dropout.forward(moe.output)), auxLoss: moe.auxLoss, zLoss: moe.zLoss, routing: moe.routing };
  }

  /** The context `[B, C]` in x's dtype, or null when the layer has none; throws on a mismatch. */
  #context(context: Tensor | undefined, B: number, x: Tensor): Tensor | null {
    if (this.contextDim === 0) {
      if (context !== undefined) throw new RangeError(`SpecializedExpertLayer: got a context ${formatShape(context.shape)} but contextDim is 0`);
      return null;
    }
    if (context === undefined) throw new RangeError(`SpecializedExpertLayer: a context [${B}, ${this.contextDim}] is required (contextDim ${this.contextDim})`);
    if (context.ndim !== 2 || context.shape[1] !== this.contextDim || (context.shape[0] !== B && context.shape[0] !== 1)) {
      throw new RangeError(`SpecializedExpertLayer: context must be [${B}, ${this.contextDim}] or [1, ${this.contextDim}], got ${formatShape(context.shape)}`);
    }
    if (context.dtype === 'bool' || context.dtype === 'int32') {
      throw new TypeError(`SpecializedExpertLayer: context must be a float tensor (an embedding), got ${context.dtype}`);
    }
    const c = context.dtype === x.dtype ? context : context.cast(x.dtype);
    return c.shape[0] === B ? c : c.expand([B, this.contextDim]);
  }
}

/** Options of {@link MixtureOfFlow}: the layers' options plus the depth of each tier. */
export interface MixtureOfFlowOptions extends SpecializedExpertLayerOptions {
  /** Number of shared foundation blocks (the lower tier), ≥ 0. */
  foundationLayers: number;
  /** Number of routed specialised layers (the upper tier), ≥ 0. */
  specializedLayers: number;
}

/** Per-call options of {@link MixtureOfFlow.forward}. */
export interface MixtureOfFlowCallOptions extends AttentionMaskOptions {
  /** int32 positions `[T]` or `[B, T]` for RoPE (Eq. 10 aligned positions go here). */
  positionIds?: Tensor;
  /**
   * The KV cache: block i of the stack (foundation blocks first, then specialised layers) attends through
   * `cache.layer(i)` — layer i of the action expert shares its attention with layer i of the backbone.
   */
  cache?: KVCache;
  /** `[B, C]` (or `[1, C]`): the embodiment/task context the routers see. Required when C > 0. */
  context?: Tensor;
  /** int32 `[B, T]` routing-unit ids for every specialised layer (see {@link SpecializedExpertCallOptions.groups}). */
  groups?: Tensor;
}

/** What {@link MixtureOfFlow.forward} returns. */
export interface MixtureOfFlowOutput {
  /** `[B, T, dim]`: the stack's output. */
  output: Tensor;
  /** `[B, T, dim]`: the output of the shared foundation blocks, the input of the specialised layers. */
  foundation: Tensor;
  /** Mean over the specialised layers of their load-balancing losses (0 without them); scale it yourself. */
  auxLoss: Tensor;
  /** Mean over the specialised layers of their router z-losses (0 without them). */
  zLoss: Tensor;
  /** Each specialised layer's output, losses and routing, bottom to top. */
  layers: SpecializedExpertOutput[];
}

/**
 * The Mixture-of-Flow action expert (§5.1.2): "our flow-based action expert is structured into a
 * two-tiered hierarchy: 1) Foundation Experts (Shared Dynamics): The initial layers of the action expert
 * consist of standard transformer blocks shared across all inputs. [...] 2) Specialized Experts
 * (Embodiment & Task Routing): The upper layers utilize a suite of parallel, specialized experts managed
 * by a learnable gating network". The foundation tier is a stack of plain {@link TransformerBlock}s; the
 * specialised tier is a stack of {@link SpecializedExpertLayer}s, each with its own router over N
 * feed-forward experts, K of them active per routing unit.
 *
 * "This design decouples the total parameter count from the active parameter count":
 * {@link totalParameters} counts everything, {@link activeParameters} what one routing unit uses.
 *
 * Every layer accepts the attention options (a mask such as Eq. 9's, Eq. 10 positions, and a KV cache
 * holding a prefix), so the policy can run the stack on the action tokens against a cached
 * vision-language prefix (Eq. 20). With `'sample'` routing the choice of experts is made from all of a
 * sample's tokens: under the Eq. 9 mask pass `groups` that separate the FM and MASK target segments.
 *
 * @example
 * const mof = new MixtureOfFlow(64, {
 *   numHeads: 4, foundationLayers: 2, specializedLayers: 2, numExperts: 4, topK: 1, contextDim: 8,
 * });
 * const { output, auxLoss } = mof.forward(tokens, { context: embodimentEmbedding, mask });
 * const loss = flowLoss(output).add(auxLoss.mul(0.01));
 */
export class MixtureOfFlow extends Module {
  /** Model width. */
  readonly dim: number;
  /** The shared lower tier: plain transformer blocks. */
  readonly foundation: ModuleList<TransformerBlock>;
  /** The routed upper tier. */
  readonly specialized: ModuleList<SpecializedExpertLayer>;
  /** Experts per specialised layer, N. */
  readonly numExperts: number;
  /** Experts active per routing unit, K. */
  readonly topK: number;
  /** Width C of the routing context. */
  readonly contextDim: number;

  /** A stack over tokens of width `dim`. */
  constructor(dim: number, opts: MixtureOfFlowOptions) {
    super();
    checkCount('MixtureOfFlow: foundationLayers', opts.foundationLayers, 0);
    checkCount('MixtureOfFlow: specializedLayers', opts.specializedLayers, 0);
    if (opts.foundationLayers + opts.specializedLayers === 0) throw new RangeError('MixtureOfFlow: the stack needs at least one layer');
    checkCount('MixtureOfFlow: numExperts', opts.numExperts, 1);
    const topK = opts.topK ?? Math.min(2, opts.numExperts);
    if (!Number.isInteger(topK) || topK < 1 || topK > opts.numExperts) {
      throw new RangeError(`MixtureOfFlow: topK must be an integer in [1, ${opts.numExperts}], got ${topK}`);
    }
    this.dim = dim;
    this.numExperts = opts.numExperts;
    this.topK = topK;
    this.contextDim = opts.contextDim ?? 0;
    const blocks = Array.from({ length: opts.foundationLayers }, () => new TransformerBlock(dim, opts));
    this.foundation = this.module('foundation', new ModuleList(blocks));
    const layers = Array.from({ length: opts.specializedLayers }, () => new SpecializedExpertLayer(dim, { ...opts, topK }));
    this.specialized = this.module('specialized', new ModuleList(layers));
  }

  /** Number of layers, foundation and specialised. */
  get numLayers(): number {
    return this.foundation.length + this.specialized.length;
  }

  /** Every parameter element of the stack: the foundation blocks, and all N experts of every specialised layer. */
  totalParameters(): number {
    return this.numParameters();
  }

  /**
   * The parameters one routing unit uses: the foundation blocks, and in each specialised layer its norms,
   * attention, router and K of the N experts.
   */
  activeParameters(): number {
    let n = this.foundation.numParameters();
    for (const layer of this.specialized) n += layer.activeParameters();
    return n;
  }

  /** Runs `x` (`[B, T, dim]`) through the foundation blocks, then the specialised layers. */
  forward(x: Tensor, opts: MixtureOfFlowCallOptions = {}): MixtureOfFlowOutput {
    if (x.ndim !== 3 || x.shape[2] !== this.dim) {
      throw new RangeError(`MixtureOfFlow: expected input [B, T, ${this.dim}], got ${formatShape(x.shape)}`);
    }
    const { cache, context, groups, ...attn } = opts;
    if (this.contextDim === 0 && context !== undefined) {
      throw new RangeError(`MixtureOfFlow: got a context ${formatShape(context.shape)} but contextDim is 0`);
    }
    // Block i attends through cache.layer(i): foundation blocks first, then the specialised layers.
    const layerOpts = (i: number): AttentionCallOptions => (cache ? { ...attn, cache: cache.layer(i) } : attn);
    let h = x;
    for (let i = 0; i < this.foundation.length; i++) h = this.foundation.at(i).forward(h, layerOpts(i));
    const foundation = h;
    const layers: SpecializedExpertOutput[] = [];
    for (let j = 0; j < this.specialized.length; j++) {
      const out = this.specialized.at(j).forward(h, {
        ...layerOpts(this.foundation.length + j),
        ...(context !== undefined ? { context } : {}),
        ...(groups !== undefined ? { groups } : {}),
      });
      layers.push(out);
      h = out.output;
    }
    const mean = (pick: (l: SpecializedExpertOutput) => Tensor): Tensor =>
      layers.length === 0 ? zeros([], { dtype: x.dtype }) : layers.map(pick).reduce((a, b) => a.add(b)).div(layers.length);
    return { output: h, foundation, auxLoss: mean((l) => l.auxLoss), zLoss: mean((l) => l.zLoss), layers };
  }
}
