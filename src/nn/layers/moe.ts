/**
 * Sparse top-K mixture of experts: a learned router picks K experts per routing unit (a token, or a group
 * of tokens such as a whole sequence), and only those experts run, each on just the tokens sent to it.
 * The Switch-Transformer load-balancing loss and the ST-MoE router z-loss come back with the output.
 * This is the layer the paper's Mixture of Flow (§5.1.2, "Specialized Experts") routes through.
 * @module
 */
import { arange, concat, eq, formatShape, indexSelect, lt, maximum, ones, scatterAdd, softmax, tensor, zeros, type DType, type Tensor } from '../../tensor/index.js';
import { Module, ModuleList } from '../module.js';
import type { InitOptions } from '../init.js';
import { Linear } from './linear.js';
import { MLP, SwiGLU } from './mlp.js';

/** An expert: any module mapping `[n, dim]` rows to `[n, outDim]` rows, row by row. */
export type Expert = Module & {
  /** Maps each row of `x` independently. */
  forward(x: Tensor): Tensor;
};

/**
 * How router logits become expert weights:
 * - `'topk-softmax'`: take the K largest logits, then softmax over just those (Mixtral); weights sum to 1.
 * - `'softmax-topk'`: softmax over all experts, then take the K largest probabilities (Switch,
 *   DeepSeek); they sum to 1 only with `renormalize`.
 */
export type GatingMode = 'topk-softmax' | 'softmax-topk';

/**
 * How tokens reach their experts:
 * - `'sparse'`: the chosen experts are read back to the host and each expert runs once, on just its rows;
 *   experts chosen by no unit do not run (their parameters are not in the graph, `.grad` stays null).
 *   Routing units given as `groups` are ranked on the host too.
 * - `'dense'`: nothing is read back (no host synchronisation, for asynchronous backends such as webgpu):
 *   every expert runs on every row and its output is weighted by the token's routing weight for it, 0
 *   when not chosen, so the output and the gradients of the router and of the chosen experts are those of
 *   `'sparse'` (up to rounding), and experts chosen by no unit get zero gradients instead of none. It
 *   costs N/K times the expert compute of `'sparse'`.
 * - `'auto'` (default): `'sparse'` on backends that read synchronously (cpu, wasm), `'dense'` otherwise.
 */
export type MoEDispatch = 'auto' | 'sparse' | 'dense';

/** Options of {@link MixtureOfExperts}. */
export interface MixtureOfExpertsOptions extends InitOptions {
  /** Experts per routing unit, K (default min(2, numExperts)). */
  topK?: number;
  /** How logits become weights (default `'topk-softmax'`). */
  gating?: GatingMode;
  /**
   * With `'softmax-topk'`, divide the K selected probabilities by their sum (default false: with K = 1 a
   * renormalised weight is always 1 and the task loss would no longer reach the router).
   */
  renormalize?: boolean;
  /**
   * The routing unit: `1` (default) routes every token on its own; `n` routes each run of `n` consecutive
   * tokens of a sequence together (the last run of a sequence may be shorter); `'sequence'` routes each
   * sequence (`[B, T, D]` input) or the whole `[N, D]` input as one unit. Per-call `groups` override it.
   */
  groupSize?: number | 'sequence';
  /** The experts: `'mlp'` (default, GELU {@link MLP}), `'swiglu'` ({@link SwiGLU}), or a factory. */
  expert?: 'mlp' | 'swiglu' | ((index: number) => Expert);
  /** Hidden width of the default experts (default 4·dim). */
  hidden?: number;
  /** Output width of the experts (default dim); a factory's experts must produce it. */
  outDim?: number;
  /** Give the router a bias (default false). */
  routerBias?: boolean;
  /** Parameter dtype of the router and the default experts (float32 by default). */
  dtype?: DType;
  /** How tokens reach their experts (default `'auto'`; see {@link MoEDispatch}). */
  dispatch?: MoEDispatch;
}

/** Per-call options of {@link MixtureOfExperts.forward}. */
export interface MoEForwardOptions {
  /**
   * int32 group ids with the shape of the input without its last axis (`[B, T]` or `[N]`). Tokens with the
   * same id, anywhere in the batch, form one routing unit; units are numbered in increasing id order.
   * Overrides the layer's `groupSize`. With `'dense'` dispatch the ids are not read back: the units are
   * ranked on the device, and the per-unit tensors of the routing get one row per token (see
   * {@link MoERouting.units}).
   */
  groups?: Tensor;
}

/** Which experts each token went to, and with what weight. */
export interface MoERouting {
  /** `[..., K]` int32: the chosen experts of each token (its unit's), best first. */
  indices: Tensor;
  /** `[..., K]`: their weights (differentiable; the router's gradient flows through them). */
  weights: Tensor;
  /** `[...]` int32: the routing unit of each token. */
  unitOf: Tensor;
  /** `[units, numExperts]`: router logits per unit (a group's are the mean of its tokens' logits). */
  logits: Tensor;
  /** `[units, numExperts]`: softmax of the logits, the router probabilities. */
  probs: Tensor;
  /**
   * Bool `[rows]`, present only when the number of units was not known on the host (`groups` with
   * `'dense'` dispatch): then `logits` and `probs` have one row per token, the first `units` rows hold the
   * units (in increasing id order, as otherwise) and the rest are empty; this marks the unit rows.
   */
  units?: Tensor;
}

/** What {@link MixtureOfExperts.forward} returns. */
export interface MoEOutput {
  /** `[..., outDim]`: Σ_k w_k·expert_k(x) for each token. */
  output: Tensor;
  /** Unweighted Switch load-balancing loss (see {@link loadBalancingLoss}); scale it yourself (Switch: 1e-2). */
  auxLoss: Tensor;
  /** Unweighted router z-loss (see {@link routerZLoss}); scale it yourself (ST-MoE: 1e-3). */
  zLoss: Tensor;
  /** The routing decisions. */
  routing: MoERouting;
}

/** What {@link topKGating} returns. */
export interface Gating {
  /** `[units, K]` int32, best first. */
  indices: Tensor;
  /** `[units, K]` weights of the chosen experts. */
  weights: Tensor;
  /** `[units, numExperts]` softmax of the logits over all experts. */
  probs: Tensor;
}

/**
 * Top-K gating of router `logits` `[units, numExperts]`: the K chosen experts per unit and their weights
 * (see {@link GatingMode}). Ties go to the lower expert index.
 */
export function topKGating(logits: Tensor, k: number, mode: GatingMode = 'topk-softmax', renormalize = false): Gating {
  if (logits.ndim !== 2) throw new RangeError(`topKGating: logits must be [units, numExperts], got ${formatShape(logits.shape)}`);
  const probs = softmax(logits, -1);
  if (mode === 'topk-softmax') {
    const top = logits.topk(k, -1);
    return { indices: top.indices, weights: softmax(top.values, -1), probs };
  }
  if (mode !== 'softmax-topk') throw new RangeError(`topKGating: unknown gating mode '${String(mode)}'`);
  const top = probs.topk(k, -1);
  const weights = renormalize ? top.values.div(top.values.sum(-1, true)) : top.values;
  return { indices: top.indices, weights, probs };
}

/**
 * The Switch-Transformer load-balancing loss `N·Σ_i f_i·P_i` over N experts, where `f_i` is the fraction
 * of the `units·K` assignments in `indices` (`[units, K]` int32) that went to expert i (a constant: the
 * choice is not differentiable) and `P_i` the mean router probability of expert i over the units
 * (`probs`, `[units, N]`; the gradient flows through it). It is 1 when routing is uniform (f = P = 1/N),
 * the minimum of `N·Σ P_i²` that it approximates, and grows to N when everything goes to one expert.
 * The counts are taken on the device (a scatter-add), so nothing is read back. `rows` (bool `[units]`,
 * see {@link MoERouting.units}) restricts both means to the rows it marks.
 */
export function loadBalancingLoss(probs: Tensor, indices: Tensor, rows?: Tensor): Tensor {
  if (probs.ndim !== 2 || indices.ndim !== 2 || indices.shape[0] !== probs.shape[0]) {
    const got = `${formatShape(probs.shape)} and ${formatShape(indices.shape)}`;
    throw new RangeError(`loadBalancingLoss: expected probs [units, N] and indices [units, K], got ${got}`);
  }
  const [units, n] = probs.shape as [number, number];
  if (rows !== undefined) checkRows('loadBalancingLoss', rows, units);
  if (units === 0) return zeros([], { dtype: probs.dtype });
  const k = indices.shape[1]!;
  const dtype = probs.dtype;
  const w = rows?.cast(dtype);
  const count = w === undefined ? units : w.sum();
  const src = w === undefined ? ones([units * k], { dtype }) : w.unsqueeze(1).expand([units, k]).reshape([units * k]);
  const f = scatterAdd(zeros([n], { dtype }), 0, indices.reshape([units * k]), src).div(typeof count === 'number' ? count * k : count.mul(k));
  const p = w === undefined ? probs.mean(0) : probs.mul(w.unsqueeze(1)).sum(0).div(count);
  return f.mul(p).sum().mul(n);
}

function checkRows(fn: string, rows: Tensor, units: number): void {
  if (rows.dtype !== 'bool' || rows.ndim !== 1 || rows.shape[0] !== units) {
    throw new RangeError(`${fn}: rows must be bool [${units}], got ${rows.dtype} ${formatShape(rows.shape)}`);
  }
}

/**
 * The ST-MoE router z-loss: the mean over units of `logsumexp(logits)²` (`logits` `[units, N]`). It keeps
 * router logits small, which keeps the softmax out of its saturated, round-off-prone range. `rows` (bool
 * `[units]`, see {@link MoERouting.units}) restricts the mean to the rows it marks.
 */
export function routerZLoss(logits: Tensor, rows?: Tensor): Tensor {
  if (logits.ndim !== 2) throw new RangeError(`routerZLoss: logits must be [units, N], got ${formatShape(logits.shape)}`);
  if (rows !== undefined) checkRows('routerZLoss', rows, logits.shape[0]!);
  if (logits.shape[0] === 0) return zeros([], { dtype: logits.dtype });
  const sq = logits.logsumexp(-1).pow(2);
  if (rows === undefined) return sq.mean();
  const w = rows.cast(logits.dtype);
  return sq.mul(w).sum().div(w.sum());
}

/**
 * A sparse mixture of experts with a learned top-K router. For input `[B, T, dim]` or `[N, dim]`:
 *
 * 1. the router (`Linear(dim → numExperts)`, no bias by default) gives each token logits; a routing unit
 *    of several tokens (see `groupSize` and `groups`) takes the mean of its tokens' logits, so that every
 *    token of the unit gets the same experts and weights, and each token counts equally in the choice;
 * 2. {@link topKGating} picks K experts per unit and their weights;
 * 3. with `'sparse'` dispatch each chosen expert runs once, on just the rows routed to it (gathered with
 *    `indexSelect`); its output is scaled by the routing weight and scatter-added back. Experts chosen by
 *    no unit do not run, so their parameters are not in the graph and their `.grad` stays null after
 *    `backward()`. This reads the chosen indices back to the host. With `'dense'` dispatch (the default on
 *    asynchronous backends such as webgpu) nothing is read back: every expert runs on every row, weighted
 *    by the token's routing weight for it (0 when not chosen). See {@link MoEDispatch}.
 *
 * The losses are per routing unit: {@link loadBalancingLoss} counts each unit once (whatever its size)
 * and {@link routerZLoss} uses the unit's logits. No capacity limit: no token is ever dropped.
 *
 * @example
 * const moe = new MixtureOfExperts(64, 8, { topK: 2 });
 * const { output, auxLoss } = moe.forward(x); // x: [B, T, 64]
 * const loss = taskLoss(output).add(auxLoss.mul(0.01));
 */
export class MixtureOfExperts extends Module {
  /** `dim → numExperts` logits. */
  readonly router: Linear;
  /** The experts, `experts.at(i)` being expert i. */
  readonly experts: ModuleList<Expert>;
  /** Experts chosen per routing unit. */
  readonly topK: number;
  /** Width of the expert outputs. */
  readonly outDim: number;
  readonly #gating: GatingMode;
  readonly #renormalize: boolean;
  readonly #groupSize: number | 'sequence';
  readonly #dispatch: MoEDispatch;

  /** A layer of `numExperts` experts on vectors of size `dim`. */
  constructor(
    /** Size of each input vector. */
    readonly dim: number,
    /** Number of experts, N. */
    readonly numExperts: number,
    opts: MixtureOfExpertsOptions = {},
  ) {
    super();
    if (!Number.isInteger(numExperts) || numExperts < 1) {
      throw new RangeError(`MixtureOfExperts: numExperts must be a positive integer, got ${numExperts}`);
    }
    this.topK = opts.topK ?? Math.min(2, numExperts);
    if (!Number.isInteger(this.topK) || this.topK < 1 || this.topK > numExperts) {
      throw new RangeError(`MixtureOfExperts: topK must be an integer in [1, ${numExperts}], got ${this.topK}`);
    }
    const gs = opts.groupSize ?? 1;
    if (gs !== 'sequence' && (!Number.isInteger(gs) || gs < 1)) {
      throw new RangeError(`MixtureOfExperts: groupSize must be a positive integer or 'sequence', got ${String(gs)}`);
    }
    this.#groupSize = gs;
    this.#gating = opts.gating ?? 'topk-softmax';
    if (this.#gating !== 'topk-softmax' && this.#gating !== 'softmax-topk') {
      throw new RangeError(`MixtureOfExperts: unknown gating mode '${String(this.#gating)}'`);
    }
    this.#renormalize = opts.renormalize ?? false;
    this.#dispatch = opts.dispatch ?? 'auto';
    if (this.#dispatch !== 'auto' && this.#dispatch !== 'sparse' && this.#dispatch !== 'dense') {
      throw new RangeError(`MixtureOfExperts: dispatch must be 'auto', 'sparse' or 'dense', got '${String(this.#dispatch)}'`);
    }
    this.outDim = opts.outDim ?? dim;
    const lin = { dtype: opts.dtype, ...(opts.generator ? { generator: opts.generator } : {}) };
    this.router = this.module('router', new Linear(dim, numExperts, { ...lin, bias: opts.routerBias ?? false }));
    const hidden = opts.hidden ?? 4 * dim;
    const kind = opts.expert ?? 'mlp';
    const make =
      typeof kind === 'function'
        ? kind
        : kind === 'swiglu'
          ? (): Expert => new SwiGLU(dim, hidden, { ...lin, outDim: this.outDim })
          : (): Expert => new MLP(dim, hidden, { ...lin, outDim: this.outDim });
    if (typeof kind !== 'function' && kind !== 'mlp' && kind !== 'swiglu') {
      throw new RangeError(`MixtureOfExperts: unknown expert kind '${String(kind)}'`);
    }
    this.experts = this.module('experts', new ModuleList(Array.from({ length: numExperts }, (_, i) => make(i))));
  }

  /** Routes `x` (`[B, T, dim]` or `[N, dim]`) through the top-K experts. */
  forward(x: Tensor, opts: MoEForwardOptions = {}): MoEOutput {
    if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[x.ndim - 1] !== this.dim) {
      throw new RangeError(`MixtureOfExperts: expected input [B, T, ${this.dim}] or [N, ${this.dim}], got ${formatShape(x.shape)}`);
    }
    const lead = x.shape.slice(0, -1);
    const n = lead.reduce((p, d) => p * d, 1);
    const rows = x.reshape([n, this.dim]);
    const dense = this.#dispatch === 'dense' || (this.#dispatch === 'auto' && x.backend.readSync === undefined);
    const tokenLogits = this.router.forward(rows); // [n, N]
    const { unitIndex, logits, units } = this.#unitLogits(tokenLogits, lead, opts.groups, dense);
    const gate = topKGating(logits, this.topK, this.#gating, this.#renormalize);
    const k = this.topK;
    const tokIdx = logits === tokenLogits ? gate.indices : indexSelect(gate.indices, 0, unitIndex); // [n, K]
    const tokW = logits === tokenLogits ? gate.weights : indexSelect(gate.weights, 0, unitIndex); // [n, K]
    const out = dense ? this.#dense(rows, tokIdx, tokW) : this.#sparse(rows, tokIdx, tokW, x.dtype);
    return {
      output: out.reshape([...lead, this.outDim]),
      auxLoss: loadBalancingLoss(gate.probs, gate.indices, units),
      zLoss: routerZLoss(logits, units),
      routing: {
        indices: tokIdx.reshape([...lead, k]),
        weights: tokW.reshape([...lead, k]),
        unitOf: unitIndex.reshape(lead),
        logits,
        probs: gate.probs,
        ...(units !== undefined ? { units } : {}),
      },
    };
  }

  /**
   * Each token's unit (int32 `[n]`) and the units' logits, the mean of their tokens' (the token logits
   * themselves when every token is its own unit). Without `groups`, or with `groups` under sparse
   * dispatch (read back), the units are counted on the host; with `groups` under dense dispatch they are
   * ranked on the device and `units` marks which of the n rows of logits are units.
   */
  #unitLogits(tokenLogits: Tensor, lead: readonly number[], groups: Tensor | undefined, dense: boolean): { unitIndex: Tensor; logits: Tensor; units?: Tensor } {
    const n = tokenLogits.shape[0]!;
    const N = this.numExperts;
    const dtype = tokenLogits.dtype;
    // A unit's logits are its tokens' mean logits: scatter-add the rows into their unit, divide by the count.
    const mean = (unitIndex: Tensor, slots: number, counts: Tensor): Tensor => {
      const into = unitIndex.reshape([n, 1]).expand([n, N]);
      return scatterAdd(zeros([slots, N], { dtype }), 0, into, tokenLogits).div(counts.reshape([slots, 1]));
    };
    if (groups !== undefined && dense && n > 0) {
      const g = this.#checkGroups(groups, lead).reshape([n]);
      // Ranks without a read-back: token i opens a unit when no earlier token shares its id (the first
      // maximum of its row of `same`), and its unit's rank is the number of units with a smaller id.
      const same = eq(g.unsqueeze(1), g.unsqueeze(0)).cast('float32'); // [n, n]
      const opens = eq(same.argmax(-1), arange(0, n, 1, { dtype: 'int32' })).cast('float32'); // [n]
      const rank = lt(g.unsqueeze(0), g.unsqueeze(1)).cast('float32').matmul(opens.unsqueeze(1)).reshape([n]).cast('int32');
      const counts = scatterAdd(zeros([n], { dtype }), 0, rank, ones([n], { dtype }));
      const units = lt(arange(0, n, 1, { dtype: 'float32' }), opens.sum()); // the first U rows
      return { unitIndex: rank, logits: mean(rank, n, maximum(counts, 1)), units };
    }
    const { unitOf, units } = this.#units(lead, groups);
    const unitIndex = tensor(unitOf, { dtype: 'int32' });
    if (units === n && unitOf.every((u, i) => u === i)) return { unitIndex, logits: tokenLogits };
    const counts = new Float64Array(units);
    for (const u of unitOf) counts[u]! += 1;
    return { unitIndex, logits: mean(unitIndex, units, tensor(counts, { dtype })) };
  }

  /** Each chosen expert on just its rows (read back to the host), weighted and scatter-added into place. */
  #sparse(rows: Tensor, tokIdx: Tensor, tokW: Tensor, dtype: DType): Tensor {
    const n = rows.shape[0]!;
    const k = this.topK;
    // Dispatch: for each expert the token rows routed to it and the slot (row·K + k) holding its weight.
    const chosen = tokIdx.dataSync();
    const perRows: number[][] = Array.from({ length: this.numExperts }, () => []);
    const perSlots: number[][] = Array.from({ length: this.numExperts }, () => []);
    for (let i = 0; i < n * k; i++) {
      perRows[chosen[i]!]!.push(Math.floor(i / k));
      perSlots[chosen[i]!]!.push(i);
    }
    const flatW = tokW.reshape([n * k]);
    const parts: Tensor[] = [];
    const targets: number[] = [];
    for (let e = 0; e < this.numExperts; e++) {
      const r = perRows[e]!;
      if (r.length === 0) continue;
      const y = this.#expert(e, indexSelect(rows, 0, tensor(Int32Array.from(r), { dtype: 'int32' })));
      const w = indexSelect(flatW, 0, tensor(Int32Array.from(perSlots[e]!), { dtype: 'int32' }));
      parts.push(y.mul(w.unsqueeze(-1)));
      for (const t of r) targets.push(t); // no spread: it overflows the call stack for very many rows
    }
    if (parts.length === 0) return zeros([n, this.outDim], { dtype });
    const contrib = concat(parts, 0);
    const m = targets.length;
    const index = tensor(Int32Array.from(targets), { shape: [m, 1], dtype: 'int32' }).expand([m, this.outDim]);
    return scatterAdd(zeros([n, this.outDim], { dtype: contrib.dtype }), 0, index, contrib);
  }

  /**
   * Every expert on every row, weighted by the token's routing weight for it (0 when not chosen), summed
   * in expert order as the sparse scatter-add sums: nothing is read back.
   */
  #dense(rows: Tensor, tokIdx: Tensor, tokW: Tensor): Tensor {
    const n = rows.shape[0]!;
    const weights = scatterAdd(zeros([n, this.numExperts], { dtype: tokW.dtype }), 1, tokIdx, tokW); // [n, N]
    let out: Tensor | null = null;
    for (let e = 0; e < this.numExperts; e++) {
      const term = this.#expert(e, rows).mul(weights.narrow(1, e, 1));
      out = out === null ? term : out.add(term);
    }
    return out!;
  }

  /** Expert `e` on `x` `[m, dim]`, its output shape checked. */
  #expert(e: number, x: Tensor): Tensor {
    const m = x.shape[0]!;
    const y = this.experts.at(e).forward(x);
    if (y.ndim !== 2 || y.shape[0] !== m || y.shape[1] !== this.outDim) {
      throw new RangeError(`MixtureOfExperts: expert ${e} mapped [${m}, ${this.dim}] to ${formatShape(y.shape)}, expected [${m}, ${this.outDim}]`);
    }
    return y;
  }

  /** `groups` checked against the input's leading shape. */
  #checkGroups(groups: Tensor, lead: readonly number[]): Tensor {
    if (groups.dtype !== 'int32') throw new TypeError(`MixtureOfExperts: groups must be int32, got ${groups.dtype}`);
    if (groups.ndim !== lead.length || groups.shape.some((d, i) => d !== lead[i])) {
      throw new RangeError(`MixtureOfExperts: groups ${formatShape(groups.shape)} must have the input's leading shape ${formatShape(lead)}`);
    }
    return groups;
  }

  /** The routing unit of each token (flattened) and the number of units, on the host (reads `groups` back). */
  #units(lead: readonly number[], groups: Tensor | undefined): { unitOf: Int32Array; units: number } {
    const n = lead.reduce((p, d) => p * d, 1);
    const unitOf = new Int32Array(n);
    if (groups !== undefined) {
      const checked = this.#checkGroups(groups, lead);
      if (n === 0) return { unitOf, units: 0 };
      const ids = checked.dataSync();
      const distinct = [...new Set(ids)].sort((a, b) => a - b);
      const rank = new Map(distinct.map((id, u) => [id, u]));
      for (let i = 0; i < n; i++) unitOf[i] = rank.get(ids[i]!)!;
      return { unitOf, units: distinct.length };
    }
    // Runs of groupSize consecutive tokens within each sequence ([N, D] input: one sequence of N).
    const t = lead[lead.length - 1]!;
    const size = this.#groupSize === 'sequence' ? Math.max(t, 1) : this.#groupSize;
    const perSeq = Math.ceil(t / size);
    for (let i = 0; i < n; i++) unitOf[i] = Math.floor(i / t) * perSeq + Math.floor((i % t) / size);
    return { unitOf, units: (n / Math.max(t, 1)) * perSeq };
  }
}
