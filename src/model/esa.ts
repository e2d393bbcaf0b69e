/**
 * Embodiment-Specific Adaptation (ESA, §5.3.1): a slot-wise bank of lightweight adapters over the
 * unified action space, of which embodiment e uses, and trains, only the slots it activates.
 *
 * Eq. 11 is the embodiment-conditioned flow-matching objective
 * `min_θ E_e E_{(a₀,H)∼D_e} E_t ‖v_θ(a_t; H, e) − v*(a_t, a₀)‖²`, whose per-embodiment gradients
 * interfere when the embodiments' optimal fields differ. Eq. 12 localises the embodiment-specific part:
 * with the K semantic slots S = {1, …, K} of the unified space, the active slots I_e ⊆ S of embodiment e
 * and the bank W_ESA ∈ R^{K×d_out×d_in},
 *
 *   `W_ESA^(e) ≜ {W_ESA[k] : k ∈ I_e},   ΔW_ESA[k] = 0  ∀ k ∉ I_e`.   (Eq. 12)
 *
 * What a slot is, and where the bank sits (the paper leaves both open; this is our reading): a slot is a
 * semantic group of dimensions of the unified vector (arm joints, gripper, finger joints, base velocity),
 * i.e. one slot of the action-space layout, given here as a span `{ offset, size }`. The bank replaces a
 * per-robot projection head (which the paper explicitly eschews) with per-slot projections between the
 * unified space and the action expert's feature width: {@link SlotwiseEncoder} maps a unified vector to
 * features, `Σ_{k∈I_e} W_k·x_k`, and {@link SlotwiseDecoder} maps features back to the unified space,
 * slot k of the output being `W_k·h` for k ∈ I_e and zero otherwise (Φ_e's convention, Eq. 1). Slots of
 * different widths n_k make the paper's bank ragged: slot k's adapter is stored as exactly its used block
 * (`[d_out, n_k]` for the encoder, `[n_k, d_in]` for the decoder); {@link SlotwiseAdapters.bank} returns the
 * zero-padded `[K, d_out, d_in]` tensor of the paper. Storing padded blocks would leave columns that never
 * affect the output but still receive zero gradients, which weight decay would then act on.
 *
 * Why ΔW[k] = 0 holds by construction, under any optimiser of `nn/optim`: every slot's adapter is its own
 * parameter tensor, and the forward pass never reads an inactive slot's tensor (it is not multiplied by
 * zero, not sliced, not stacked), so an inactive adapter is not in the autograd graph and its `.grad`
 * stays `null` after `zeroGrad()`. `Optimizer.step` skips parameters whose gradient is null before it
 * touches their state, so neither SGD's momentum and weight decay nor AdamW's decoupled decay and stale
 * moments (left over from steps on another embodiment) can move them. A mask that multiplied inactive
 * slots by zero would instead give them zero gradients, and decay or momentum would still change them.
 *
 * A batch is one embodiment per call; for a batch that mixes embodiments, run each embodiment's rows
 * separately (or pass the union of their active slots, which is then what gets trained).
 * @module
 */
import { concat, formatShape, noGrad, stack, zeros, type DType, type Tensor } from '../tensor/index.js';
import { Linear, Module, ModuleList, type init } from '../nn/index.js';

/** One slot of the unified space: the dimensions `[offset, offset + size)` of the unified vector. */
export interface SlotSpan {
  /** Index of the slot's first dimension in the unified vector. */
  readonly offset: number;
  /** Number of dimensions n_k of the slot (≥ 1). */
  readonly size: number;
}

/** Slots laid out back to back from dimension 0, with the given sizes. */
export function contiguousSlots(sizes: readonly number[]): SlotSpan[] {
  let offset = 0;
  return sizes.map((size) => {
    const span = { offset, size };
    offset += size;
    return span;
  });
}

/** Options of {@link SlotwiseEncoder} and {@link SlotwiseDecoder}. */
export interface SlotwiseAdapterOptions extends init.InitOptions {
  /** The K semantic slots of the unified space, in slot-index order (disjoint spans). */
  slots: readonly SlotSpan[];
  /** Width D of the unified vector (default: the end of the last slot); dimensions in no slot are allowed. */
  dim?: number;
  /** Width of the feature side (the action expert's hidden size). */
  features: number;
  /** Give each slot's adapter a bias (default false: Eq. 12's adapters are the matrices W_ESA[k] alone). */
  bias?: boolean;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/** Checks the slot spans against the unified width and returns that width. */
function checkSlots(where: string, slots: readonly SlotSpan[], dim: number | undefined): number {
  if (!Array.isArray(slots) || slots.length === 0) throw new RangeError(`${where}: needs at least one slot, got ${JSON.stringify(slots)}`);
  slots.forEach((s, k) => {
    if (!Number.isInteger(s?.offset) || !Number.isInteger(s?.size) || s.offset < 0 || s.size < 1) {
      throw new RangeError(`${where}: slot ${k} must have an integer offset ≥ 0 and size ≥ 1, got ${JSON.stringify(s)}`);
    }
  });
  const end = Math.max(...slots.map((s) => s.offset + s.size));
  const d = dim ?? end;
  if (!Number.isInteger(d) || d < end) throw new RangeError(`${where}: dim ${dim} is smaller than the end of the slots (${end})`);
  const order = slots.map((_, k) => k).sort((a, b) => slots[a]!.offset - slots[b]!.offset);
  for (let i = 1; i < order.length; i++) {
    const prev = slots[order[i - 1]!]!;
    const cur = slots[order[i]!]!;
    if (prev.offset + prev.size > cur.offset) {
      throw new RangeError(`${where}: slots ${order[i - 1]} ${JSON.stringify(prev)} and ${order[i]} ${JSON.stringify(cur)} overlap`);
    }
  }
  return d;
}

/**
 * Checks an active-slot list I_e (distinct integers in [0, K), at least one) and returns it ordered by
 * the slots' offsets, so that the result does not depend on the order the list was given in.
 */
function orderActive(where: string, activeSlots: readonly number[], slots: readonly SlotSpan[]): number[] {
  const K = slots.length;
  if (!Array.isArray(activeSlots) || activeSlots.length === 0) {
    throw new RangeError(`${where}: the active slots I_e must list at least one slot, got ${JSON.stringify(activeSlots)}`);
  }
  const seen = new Set<number>();
  for (const k of activeSlots) {
    if (!Number.isInteger(k) || k < 0 || k >= K) throw new RangeError(`${where}: active slot ${k} is not an index in [0, ${K})`);
    if (seen.has(k)) throw new RangeError(`${where}: active slot ${k} is listed twice in ${JSON.stringify(activeSlots)}`);
    seen.add(k);
  }
  return [...activeSlots].sort((a, b) => slots[a]!.offset - slots[b]!.offset);
}

function checkParams(where: string, weights: readonly Tensor[], biases: readonly Tensor[] | undefined, K: number): void {
  if (weights.length !== K) throw new RangeError(`${where}: got ${weights.length} weights for ${K} slots`);
  if (biases !== undefined && biases.length !== K) throw new RangeError(`${where}: got ${biases.length} biases for ${K} slots`);
}

/**
 * Eq. 12, unified space → features: `y = Σ_{k∈I_e} (W_k·x_k + b_k)`, with x_k = x[..., offset_k : offset_k + n_k]
 * the slots of `x` ([..., D]) and `weights[k]` of shape `[features, n_k]`. Only the active slots' inputs,
 * weights and biases are read; the others get no gradient (not even a zero one).
 */
export function slotwiseEncode(
  x: Tensor,
  weights: readonly Tensor[],
  slots: readonly SlotSpan[],
  activeSlots: readonly number[],
  biases?: readonly Tensor[],
): Tensor {
  const where = 'slotwiseEncode';
  checkParams(where, weights, biases, slots.length);
  const active = orderActive(where, activeSlots, slots);
  const D = x.shape[x.ndim - 1];
  if (x.ndim === 0 || D! < Math.max(...active.map((k) => slots[k]!.offset + slots[k]!.size))) {
    throw new RangeError(`${where}: input ${formatShape(x.shape)} does not hold the active slots ${JSON.stringify(active.map((k) => slots[k]))}`);
  }
  for (const k of active) {
    const w = weights[k]!;
    if (w.ndim !== 2 || w.shape[1] !== slots[k]!.size || w.shape[0] !== weights[active[0]!]!.shape[0]) {
      throw new RangeError(`${where}: weight of slot ${k} is ${formatShape(w.shape)}, expected [features, ${slots[k]!.size}] like the other active slots`);
    }
  }
  // Gather the active slots into one [..., Σn_k] input and one [features, Σn_k] matrix: one matmul.
  const xs = concat(active.map((k) => x.narrow(-1, slots[k]!.offset, slots[k]!.size)), -1);
  const w = concat(active.map((k) => weights[k]!), 1);
  let y = xs.matmul(w.transpose());
  if (biases !== undefined) for (const k of active) y = y.add(biases[k]!);
  return y;
}

/**
 * Eq. 12, features → unified space: slot k of the output ([..., D]) is `W_k·h + b_k` for k ∈ I_e and
 * zero for every other dimension, with `h` of shape [..., features] and `weights[k]` of shape
 * `[n_k, features]`. Only the active slots' weights and biases are read.
 */
export function slotwiseDecode(
  h: Tensor,
  weights: readonly Tensor[],
  slots: readonly SlotSpan[],
  activeSlots: readonly number[],
  dim: number,
  biases?: readonly Tensor[],
): Tensor {
  const where = 'slotwiseDecode';
  checkParams(where, weights, biases, slots.length);
  const active = orderActive(where, activeSlots, slots);
  const F = h.shape[h.ndim - 1];
  for (const k of active) {
    const w = weights[k]!;
    if (w.ndim !== 2 || w.shape[0] !== slots[k]!.size || w.shape[1] !== F) {
      throw new RangeError(`${where}: weight of slot ${k} is ${formatShape(w.shape)}, expected [${slots[k]!.size}, ${F}] for input ${formatShape(h.shape)}`);
    }
  }
  const last = slots[active[active.length - 1]!]!;
  if (!Number.isInteger(dim) || dim < last.offset + last.size) throw new RangeError(`${where}: dim ${dim} cannot hold slot ${JSON.stringify(last)}`);
  const w = concat(active.map((k) => weights[k]!), 0);
  let ys = h.matmul(w.transpose());
  if (biases !== undefined) ys = ys.add(concat(active.map((k) => biases[k]!), 0));
  // Place each active slot's block at its offset; the gaps (inactive slots, unused dimensions) are zeros.
  const lead = h.shape.slice(0, -1);
  const gap = (n: number): Tensor => zeros([...lead, n], { dtype: ys.dtype });
  const pieces: Tensor[] = [];
  let at = 0;
  let col = 0;
  for (const k of active) {
    const { offset, size } = slots[k]!;
    if (offset > at) pieces.push(gap(offset - at));
    pieces.push(ys.narrow(-1, col, size));
    col += size;
    at = offset + size;
  }
  if (dim > at) pieces.push(gap(dim - at));
  return pieces.length === 1 ? pieces[0]! : concat(pieces, -1);
}

/**
 * The slot-wise bank W_ESA of Eq. 12: one {@link Linear} adapter per slot (parameters `adapters.<k>.weight`
 * and, with `bias`, `adapters.<k>.bias`), each its own tensor so that an embodiment's step leaves the other
 * slots' adapters bit-identical. Subclasses fix the direction.
 */
export abstract class SlotwiseAdapters extends Module {
  /** The K slots of the unified space. */
  readonly slots: readonly SlotSpan[];
  /** Width D of the unified vector. */
  readonly dim: number;
  /** Width of the feature side. */
  readonly features: number;
  /** The per-slot adapters, slot k at index k. */
  readonly adapters: ModuleList<Linear>;

  /** Builds one adapter per slot; `make` gives slot k's [in, out] widths. */
  protected constructor(where: string, opts: SlotwiseAdapterOptions, make: (size: number) => [number, number]) {
    super();
    this.dim = checkSlots(where, opts.slots, opts.dim);
    if (!Number.isInteger(opts.features) || opts.features < 1) throw new RangeError(`${where}: features must be a positive integer, got ${opts.features}`);
    this.slots = opts.slots.map((s) => ({ offset: s.offset, size: s.size }));
    this.features = opts.features;
    const linearOpts = { bias: opts.bias ?? false, dtype: opts.dtype ?? 'float32', ...(opts.generator ? { generator: opts.generator } : {}) };
    this.adapters = this.module('adapters', new ModuleList(this.slots.map((s) => new Linear(...make(s.size), linearOpts))));
  }

  /** The number K of slots. */
  get numSlots(): number {
    return this.slots.length;
  }

  /** The adapters' weights, slot k at index k. */
  protected weights(): Tensor[] {
    return [...this.adapters].map((l) => l.weight);
  }

  /** The adapters' biases, or undefined when they have none. */
  protected biases(): Tensor[] | undefined {
    const bs = [...this.adapters].map((l) => l.bias);
    return bs.every((b): b is Tensor => b !== null) ? bs : undefined;
  }

  /** The parameters of the listed slots (W_ESA^(e) of Eq. 12 for `slotIndices` = I_e). */
  slotParameters(slotIndices: readonly number[]): Tensor[] {
    return orderActive(`${this.constructor.name}.slotParameters`, slotIndices, this.slots).flatMap((k) => this.adapters.at(k).parameters());
  }

  /**
   * The bank as the paper writes it, `[K, d_out, d_in]`, a detached copy with each slot's block
   * zero-padded to the widest slot (rows for the decoder, columns for the encoder).
   */
  bank(): Tensor {
    return noGrad(() => {
      const ws = this.weights().map((w) => w.detach());
      const rows = Math.max(...ws.map((w) => w.shape[0]!));
      const cols = Math.max(...ws.map((w) => w.shape[1]!));
      const padded = ws.map((w) => {
        let p = w;
        if (p.shape[1]! < cols) p = concat([p, zeros([p.shape[0]!, cols - p.shape[1]!], { dtype: p.dtype })], 1);
        if (p.shape[0]! < rows) p = concat([p, zeros([rows - p.shape[0]!, cols], { dtype: p.dtype })], 0);
        return p === w ? w.clone() : p;
      });
      return stack(padded, 0);
    });
  }
}

/**
 * ESA into the action expert (Eq. 12): a unified vector x ∈ R^D ([..., D]) becomes features
 * `Σ_{k∈I_e} W_ESA[k]·x_k` ([..., features]), with W_ESA[k] ∈ R^{features×n_k}; only the active slots'
 * adapters are read, so only they are trained.
 *
 * @example
 * const enc = new SlotwiseEncoder({ slots: contiguousSlots([7, 1, 6]), features: 64 });
 * const h = enc.forward(state, [0, 1]);   // an arm with a gripper: slots 0 and 1
 */
export class SlotwiseEncoder extends SlotwiseAdapters {
  /** A bank of K adapters mapping each slot's n_k values to `features`. */
  constructor(opts: SlotwiseAdapterOptions) {
    super('SlotwiseEncoder', opts, (size) => [size, opts.features]);
  }

  /** Features [..., features] of unified vectors `x` [..., D] for the active slots I_e = `activeSlots`. */
  forward(x: Tensor, activeSlots: readonly number[]): Tensor {
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.dim) {
      throw new RangeError(`SlotwiseEncoder: expected input [..., ${this.dim}], got ${formatShape(x.shape)}`);
    }
    return slotwiseEncode(x, this.weights(), this.slots, activeSlots, this.biases());
  }
}

/**
 * ESA out of the action expert (Eq. 12): features h ([..., features]) become a unified vector
 * ([..., D]) whose slot k is `W_ESA[k]·h` for k ∈ I_e (W_ESA[k] ∈ R^{n_k×features}) and whose other
 * dimensions are zero, as Φ_e leaves them; only the active slots' adapters are read, so only they are
 * trained.
 *
 * @example
 * const dec = new SlotwiseDecoder({ slots: contiguousSlots([7, 1, 6]), features: 64 });
 * const v = dec.forward(h, [0, 2]);   // the same arm with a dexterous hand: slots 0 and 2
 */
export class SlotwiseDecoder extends SlotwiseAdapters {
  /** A bank of K adapters mapping `features` to each slot's n_k values. */
  constructor(opts: SlotwiseAdapterOptions) {
    super('SlotwiseDecoder', opts, (size) => [opts.features, size]);
  }

  /** Unified vectors [..., D] from features `h` [..., features] for the active slots I_e = `activeSlots`. */
  forward(h: Tensor, activeSlots: readonly number[]): Tensor {
    if (h.ndim === 0 || h.shape[h.ndim - 1] !== this.features) {
      throw new RangeError(`SlotwiseDecoder: expected input [..., ${this.features}], got ${formatShape(h.shape)}`);
    }
    return slotwiseDecode(h, this.weights(), this.slots, activeSlots, this.dim, this.biases());
  }
}
