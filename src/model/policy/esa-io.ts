/**
 * The action expert's way in and out of the unified space with Embodiment-Specific Adaptation (ESA,
 * §5.3.1, Eq. 12): the layers that touch the unified vector — the state encoder's first layer, the
 * action-token encoder's W1 and the action decoder — become slot-wise banks, one adapter per slot of the
 * {@link SlotLayout}, of which an embodiment e reads (and so trains) only its active slots I_e:
 *
 *   Eq. 12: W_ESA^(e) ≜ {W_ESA[k] : k ∈ I_e},   ΔW_ESA[k] = 0  ∀ k ∉ I_e.
 *
 * Without ESA these layers are the dense `StateEncoder`, `ActionEncoder` and `ActionDecoder`; a dense
 * `Linear` over the unified vector is itself a sum over slots (`W·x = Σ_k W[:, slot k]·x_k`), so ESA keeps
 * the function class and changes only what an update can touch: a dense weight's inactive columns get
 * zero gradients that AdamW's decay and moments still act on, while an inactive slot's adapter is not in
 * the graph at all. The rest of each module (the time MLP, the state MLP's second layer) is shared, with
 * the same parameter names as the dense modules.
 * @module
 */
import { concat, formatShape, tensor, type DType, type Tensor } from '../../tensor/index.js';
import { Linear, Module, type init } from '../../nn/index.js';
import type { Embodiment, SlotLayout } from '../action-space.js';
import { SlotwiseEncoder, type SlotSpan } from '../esa.js';
import { sinusoidalTimeEmbedding } from './action-encoder.js';

/** The slots of a layout as ESA spans, slot k at index k (the order of `Embodiment.activeSlots`). */
export function unifiedSlotSpans(layout: SlotLayout): SlotSpan[] {
  return layout.slots.map((s) => ({ offset: s.offset, size: s.size }));
}

/** Options of the slot-wise encoders. */
export interface SlotwiseIOOptions extends init.InitOptions {
  /** Give each slot's adapter a bias (default false: Eq. 12's adapters are matrices alone). */
  bias?: boolean;
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/**
 * The state encoder under ESA: `fc2(swish(fc1(s)))` with `fc1` a slot-wise bank (Eq. 12) from the unified
 * state to `mlpHidden`, and `fc2` a shared `mlpHidden → hidden` layer (as `StateEncoder`'s `fc2`).
 *
 * @example
 * const enc = new SlotwiseStateEncoder(UNIFIED_LAYOUT, 64, 32);
 * enc.forward(states, so101.activeSlots); // [N, 200] → [N, 32]
 */
export class SlotwiseStateEncoder extends Module {
  /** The slot-wise first layer. */
  readonly fc1: SlotwiseEncoder;
  /** `mlpHidden → hidden`, shared by every embodiment. */
  readonly fc2: Linear;

  /** An encoder over `layout`'s slots into `hidden`-wide tokens through `mlpHidden`. */
  constructor(layout: SlotLayout, mlpHidden: number, hidden: number, opts: SlotwiseIOOptions = {}) {
    super();
    const lin = { dtype: opts.dtype, generator: opts.generator };
    this.fc1 = this.module('fc1', new SlotwiseEncoder({ slots: unifiedSlotSpans(layout), dim: layout.dim, features: mlpHidden, bias: opts.bias ?? false, ...lin }));
    this.fc2 = this.module('fc2', new Linear(mlpHidden, hidden, lin));
  }

  /** Encodes unified states `[..., D]` of one embodiment (active slots `activeSlots`) into `[..., hidden]`. */
  forward(state: Tensor, activeSlots: readonly number[]): Tensor {
    return this.fc2.forward(this.fc1.forward(state, activeSlots).silu());
  }
}

/**
 * The action-token encoder under ESA: `e_i = W3·swish(W2·[W1·x_i ; φ(t_i)])` as `ActionEncoder`, with W1 a
 * slot-wise bank (Eq. 12) and W2, W3 (`mlpIn`, `mlpOut`) shared.
 *
 * @example
 * const enc = new SlotwiseActionEncoder(UNIFIED_LAYOUT, 32);
 * enc.forward(xt, t, so101.activeSlots); // xt [B, 16, 200], t [B, 16] → [B, 16, 32]
 */
export class SlotwiseActionEncoder extends Module {
  /** W1, slot-wise: the unified action → `hidden`. */
  readonly inProj: SlotwiseEncoder;
  /** W2: `2·hidden → hidden`. */
  readonly mlpIn: Linear;
  /** W3: `hidden → hidden`. */
  readonly mlpOut: Linear;
  /** Shortest period of φ. */
  readonly minPeriod: number;
  /** Longest period of φ. */
  readonly maxPeriod: number;

  /** An encoder over `layout`'s slots into `hidden`-wide (even) tokens; φ's periods as `ActionEncoder`'s. */
  constructor(
    layout: SlotLayout,
    /** Width of the action expert (even). */
    readonly hidden: number,
    opts: SlotwiseIOOptions & { minPeriod?: number; maxPeriod?: number } = {},
  ) {
    super();
    if (!Number.isInteger(hidden) || hidden < 2 || hidden % 2 !== 0) throw new RangeError(`SlotwiseActionEncoder: hidden must be an even integer ≥ 2, got ${hidden}`);
    this.minPeriod = opts.minPeriod ?? 4e-3;
    this.maxPeriod = opts.maxPeriod ?? 4;
    const lin = { dtype: opts.dtype, generator: opts.generator };
    this.inProj = this.module('inProj', new SlotwiseEncoder({ slots: unifiedSlotSpans(layout), dim: layout.dim, features: hidden, bias: opts.bias ?? false, ...lin }));
    this.mlpIn = this.module('mlpIn', new Linear(2 * hidden, hidden, lin));
    this.mlpOut = this.module('mlpOut', new Linear(hidden, hidden, lin));
  }

  /** Encodes actions `x` `[B, T, D]` of one embodiment at times `t` (a number, `[]`, or `[B, T]`). */
  forward(x: Tensor, t: Tensor | number, activeSlots: readonly number[]): Tensor {
    if (x.ndim !== 3) throw new RangeError(`SlotwiseActionEncoder: expected actions [B, T, D], got ${formatShape(x.shape)}`);
    const p = this.inProj.forward(x, activeSlots);
    const [B, T] = p.shape as [number, number, number];
    const times = typeof t === 'number' || t.ndim === 0 ? t : t.ndim === 2 && t.shape[0] === B && t.shape[1] === T ? t : null;
    if (times === null) throw new RangeError(`SlotwiseActionEncoder: t must be a number, [] or [${B}, ${T}], got ${formatShape((t as Tensor).shape)}`);
    const phi = sinusoidalTimeEmbedding(times, this.hidden, { minPeriod: this.minPeriod, maxPeriod: this.maxPeriod, dtype: p.dtype });
    const phiFull = phi.ndim === 1 ? phi.reshape([1, 1, this.hidden]).expand([B, T, this.hidden]) : phi;
    return this.mlpOut.forward(this.mlpIn.forward(concat([p, phiFull], -1)).silu());
  }
}

/**
 * Runs `fn` on the rows of each embodiment and puts the results back in row order (esa.ts: "a batch is one
 * embodiment per call"); without ESA, on all rows at once (`rows` null). `fn` gets the rows' indices (null
 * for all of them) and the embodiment's active slots I_e (null without ESA).
 */
export function perEmbodiment(embs: readonly (Embodiment | null)[], esa: boolean, fn: (rows: Tensor | null, slots: readonly number[] | null) => Tensor): Tensor {
  if (!esa) return fn(null, null);
  const groups = new Map<string, { slots: readonly number[]; rows: number[] }>();
  embs.forEach((e, r) => {
    if (e === null) throw new RangeError(`perEmbodiment: row ${r} has no embodiment, which ESA needs (Eq. 12: the active slots I_e)`);
    const key = e.activeSlots.join(',');
    if (!groups.has(key)) groups.set(key, { slots: e.activeSlots, rows: [] });
    groups.get(key)!.rows.push(r);
  });
  const list = [...groups.values()];
  if (list.length === 1) return fn(null, list[0]!.slots);
  const outs = list.map((g) => fn(tensor(Int32Array.from(g.rows), { dtype: 'int32' }), g.slots));
  const order = list.flatMap((g) => g.rows);
  const inverse = new Int32Array(order.length);
  order.forEach((r, i) => (inverse[r] = i));
  return concat(outs, 0).indexSelect(0, tensor(inverse, { dtype: 'int32' }));
}
