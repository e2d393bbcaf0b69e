/**
 * Where the two experts' tokens sit in the unified sequence (§5.1: "Both modules process a common token
 * sequence"): the Mixture-of-Transformers keeps one residual stream per expert, of its own width —
 * understanding positions (vision, text) packed as `[B, Tu, dU]`, action positions (state, action) as
 * `[B, Ta, dA]` — and a layout maps between those packed streams and the sequence order `[B, T, ·]` in
 * which the shared attention, the masks of Eq. 9 and the positions of Eq. 10 are stated.
 * @module
 */
import { Tensor, concat, formatShape, gather, tensor } from '../../tensor/index.js';
import type { SequencePart } from '../hybrid-mask.js';
import type { Expert } from '../sequence.js';
import type { SequenceBatch } from '../sequence-batch.js';

/**
 * Host values of a mask or an index, `[T]` or `[rows, T]` in row-major order. A layout decides the streams'
 * shapes, so it is built on the host: from these, nothing is read back from the device (a tensor given
 * instead is read with `dataSync`, which asynchronous backends such as webgpu cannot do).
 */
export interface HostArray {
  /** The values (booleans or 0/1 for masks, integers for indices). */
  readonly data: ArrayLike<number | boolean>;
  /** `[T]` or `[rows, T]`. */
  readonly shape: readonly number[];
}

function rowsOf(what: string, t: Tensor | HostArray, dtype: 'bool' | 'int32'): { rows: number; length: number; data: ArrayLike<number | boolean> } {
  const host = !(t instanceof Tensor);
  if ((!host && t.dtype !== dtype) || (t.shape.length !== 1 && t.shape.length !== 2)) {
    throw new RangeError(`MoTLayout: ${what} must be ${dtype} [T] or [B, T], got ${host ? 'host values' : t.dtype} ${formatShape(t.shape)}`);
  }
  const [rows, length] = t.shape.length === 1 ? [1, t.shape[0]!] : [t.shape[0]!, t.shape[1]!];
  const data = host ? t.data : t.dataSync();
  if (data.length !== rows * length) throw new RangeError(`MoTLayout: ${what} holds ${data.length} values for shape ${formatShape(t.shape)}`);
  return { rows, length, data };
}

/**
 * The layout of a batch: for every row, which positions of the sequence each expert owns. Every
 * position belongs to exactly one expert, so the packed streams hold `Tu + Ta = T` tokens in all: the
 * layout is a permutation of the sequence, the same for both directions ({@link select} and
 * {@link merge} are each other's inverse) and differentiable (a gather each way). Within a stream the
 * positions keep their sequence order. A layout of one row serves a batch of any size.
 *
 * Padding positions (which attend to nothing and are attended by nothing) may sit in either stream:
 * {@link MoTLayout.fromExpertMask} uses them to give every row the same `Tu` and `Ta`.
 *
 * @example
 * const layout = MoTLayout.fromBatch(batch);           // batch = collateSequences(...)
 * const u = layout.select(textAndPatchEmbeddings, 'understanding'); // [B, T, dU] → [B, Tu, dU]
 * const a = layout.select(stateAndActionEmbeddings, 'action');      // [B, T, dA] → [B, Ta, dA]
 */
export class MoTLayout {
  /** Number of positions T of the sequence. */
  readonly length: number;
  /** Number of rows (1: one layout shared by every sample of a batch). */
  readonly rows: number;
  /** Int32 `[rows, Tu]`: the sequence position of each understanding token, increasing along a row. */
  readonly understandingIndex: Tensor;
  /** Int32 `[rows, Ta]`: the sequence position of each action token, increasing along a row. */
  readonly actionIndex: Tensor;
  /** Int32 `[rows, T]`: for each position, its index in the packed streams concatenated, `[U; A]`. */
  readonly order: Tensor;
  /** True when every row is `[U…; A…]` already, so merging is a concatenation and selecting a slice. */
  readonly contiguous: boolean;
  readonly #positions: { understanding: Int32Array; action: Int32Array };

  /**
   * A layout from the understanding and action positions of each row (int32 `[rows, Tu]` and
   * `[rows, Ta]`, or `[Tu]` and `[Ta]` for one row, each row increasing): together they must cover
   * `0…length−1` exactly once per row. Tensors are read back (see {@link HostArray}).
   */
  constructor(understandingIndex: Tensor | HostArray, actionIndex: Tensor | HostArray, length: number) {
    if (!Number.isInteger(length) || length < 1) throw new RangeError(`MoTLayout: length must be a positive integer, got ${length}`);
    const u = rowsOf('understandingIndex', understandingIndex, 'int32');
    const a = rowsOf('actionIndex', actionIndex, 'int32');
    if (u.rows !== a.rows || u.length + a.length !== length) {
      const got = `${formatShape(understandingIndex.shape)} and ${formatShape(actionIndex.shape)}`;
      throw new RangeError(`MoTLayout: understanding and action indices ${got} must have equal rows and Tu + Ta = T = ${length}`);
    }
    const [rows, tu, ta] = [u.rows, u.length, a.length];
    const order = new Int32Array(rows * length).fill(-1);
    let contiguous = true;
    for (let b = 0; b < rows; b++) {
      const place = (data: ArrayLike<number | boolean>, n: number, offset: number, expert: Expert): void => {
        let prev = -1;
        for (let k = 0; k < n; k++) {
          const p = Number(data[b * n + k]);
          if (!Number.isInteger(p) || p <= prev || p >= length) {
            throw new RangeError(`MoTLayout: row ${b} of the ${expert} positions must increase inside [0, ${length}), got ${p} after ${prev}`);
          }
          if (order[b * length + p] !== -1) throw new RangeError(`MoTLayout: row ${b} gives position ${p} to both experts`);
          order[b * length + p] = offset + k;
          if (p !== offset + k) contiguous = false;
          prev = p;
        }
      };
      place(u.data, tu, 0, 'understanding');
      place(a.data, ta, tu, 'action');
    }
    this.length = length;
    this.rows = rows;
    this.#positions = { understanding: Int32Array.from(u.data, Number), action: Int32Array.from(a.data, Number) };
    const asTensor = (given: Tensor | HostArray, host: Int32Array, n: number): Tensor =>
      given instanceof Tensor ? given.reshape([rows, n]) : tensor(host, { shape: [rows, n], dtype: 'int32' });
    this.understandingIndex = asTensor(understandingIndex, this.#positions.understanding, tu);
    this.actionIndex = asTensor(actionIndex, this.#positions.action, ta);
    this.order = tensor(order, { shape: [rows, length], dtype: 'int32' });
    this.contiguous = contiguous;
  }

  /** The sequence positions of `expert`'s tokens on the host, `[rows, T_e]` in row-major order (a copy). */
  positions(expert: Expert): Int32Array {
    if (expert !== 'understanding' && expert !== 'action') throw new RangeError(`MoTLayout.positions: unknown expert '${String(expert)}'`);
    return this.#positions[expert].slice();
  }

  /**
   * The layout of sequences whose action-expert positions are `actionMask` (bool `[T]` or `[B, T]`, as
   * `SequenceBatch.actionExpertMask`). Without `paddingMask` every row must own the same number of
   * action positions. With it (bool, true at real positions), padding positions fill each row's shorter
   * stream: `Ta` is the most action positions of any row and `Tu = T − Ta`; this throws when some row
   * has more than `Tu` understanding positions (collate to a longer length then). Masks given as tensors
   * are read back; {@link HostArray}s are not.
   */
  static fromExpertMask(actionMask: Tensor | HostArray, paddingMask?: Tensor | HostArray): MoTLayout {
    const m = rowsOf('actionMask', actionMask, 'bool');
    const pad = paddingMask === undefined ? null : rowsOf('paddingMask', paddingMask, 'bool');
    if (pad !== null && (pad.rows !== m.rows || pad.length !== m.length)) {
      throw new RangeError(`MoTLayout.fromExpertMask: paddingMask ${formatShape(paddingMask!.shape)} does not match actionMask ${formatShape(actionMask.shape)}`);
    }
    const { rows, length: T } = m;
    const real = (b: number, p: number): boolean => pad === null || Boolean(pad.data[b * T + p]);
    const isAction = (b: number, p: number): boolean => Boolean(m.data[b * T + p]);
    let ta = 0;
    let tuNeeded = 0;
    const counts: [number, number][] = [];
    for (let b = 0; b < rows; b++) {
      let na = 0;
      let nu = 0;
      for (let p = 0; p < T; p++) if (real(b, p)) isAction(b, p) ? na++ : nu++;
      counts.push([nu, na]);
      ta = Math.max(ta, na);
      tuNeeded = Math.max(tuNeeded, nu);
    }
    if (pad === null && counts.some(([, na]) => na !== ta)) {
      const per = counts.map(([, na]) => na).join(', ');
      throw new RangeError(`MoTLayout.fromExpertMask: rows own different numbers of action positions (${per}); give a paddingMask`);
    }
    const tu = T - ta;
    if (tuNeeded > tu) {
      throw new RangeError(
        `MoTLayout.fromExpertMask: a row needs ${tuNeeded} understanding and another ${ta} action positions, ` +
          `${tuNeeded + ta} > T = ${T}; pad the sequences to length ≥ ${tuNeeded + ta}`,
      );
    }
    const uIdx = new Int32Array(rows * tu);
    const aIdx = new Int32Array(rows * ta);
    for (let b = 0; b < rows; b++) {
      // Padding goes to the understanding stream until it is full, then to the action stream.
      let spareU = tu - counts[b]![0];
      let [ku, ka] = [0, 0];
      for (let p = 0; p < T; p++) {
        const toU = real(b, p) ? !isAction(b, p) : spareU-- > 0;
        if (toU) uIdx[b * tu + ku++] = p;
        else aIdx[b * ta + ka++] = p;
      }
    }
    return new MoTLayout({ data: uIdx, shape: [rows, tu] }, { data: aIdx, shape: [rows, ta] }, T);
  }

  /** The layout of a collated batch: its action-expert mask, with padding filling the streams. */
  static fromBatch(batch: SequenceBatch): MoTLayout {
    return MoTLayout.fromExpertMask(batch.actionExpertMask, batch.paddingMask);
  }

  /** Tu: understanding tokens per row. */
  get understandingLength(): number {
    return this.understandingIndex.shape[1]!;
  }

  /** Ta: action tokens per row. */
  get actionLength(): number {
    return this.actionIndex.shape[1]!;
  }

  /** The number of tokens of `expert`'s stream. */
  lengthOf(expert: Expert): number {
    return expert === 'understanding' ? this.understandingLength : this.actionLength;
  }

  /**
   * The positions `expert` owns, picked from `x` `[B, T, ...]` (any trailing axes, any dtype), in stream
   * order: `[B, T_e, ...]`. Differentiable.
   */
  select(x: Tensor, expert: Expert): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.length) {
      throw new RangeError(`MoTLayout.select: expected [B, ${this.length}, ...], got ${formatShape(x.shape)}`);
    }
    if (expert !== 'understanding' && expert !== 'action') throw new RangeError(`MoTLayout.select: unknown expert '${String(expert)}'`);
    const n = this.lengthOf(expert);
    if (this.contiguous) return x.narrow(1, expert === 'understanding' ? 0 : this.understandingLength, n);
    return this.#gather(x, expert === 'understanding' ? this.understandingIndex : this.actionIndex, 'select');
  }

  /**
   * The sequence `[B, T, ...]` from the two packed streams `u` `[B, Tu, ...]` and `a` `[B, Ta, ...]`
   * (same trailing axes): the inverse of {@link select}. Differentiable.
   */
  merge(u: Tensor, a: Tensor): Tensor {
    const [tu, ta] = [this.understandingLength, this.actionLength];
    if (u.ndim < 2 || a.ndim !== u.ndim || u.shape[1] !== tu || a.shape[1] !== ta || u.shape.slice(2).some((d, i) => d !== a.shape[2 + i])) {
      throw new RangeError(`MoTLayout.merge: expected [B, ${tu}, ...] and [B, ${ta}, ...] with the same trailing axes, got ${formatShape(u.shape)} and ${formatShape(a.shape)}`);
    }
    const batch = Math.max(u.shape[0]!, a.shape[0]!);
    const widen = (t: Tensor): Tensor => (t.shape[0] === batch ? t : t.expand([batch, ...t.shape.slice(1)]));
    const both = tu === 0 ? a : ta === 0 ? u : concat([widen(u), widen(a)], 1);
    return this.contiguous ? both : this.#gather(both, this.order, 'merge');
  }

  /** Gathers along axis 1 of `x` by `index` (`[rows, n]`), broadcasting rows and the trailing axes. */
  #gather(x: Tensor, index: Tensor, op: string): Tensor {
    const batch = x.shape[0]!;
    if (this.rows !== 1 && batch !== this.rows) {
      throw new RangeError(`MoTLayout.${op}: the layout has ${this.rows} rows but the input ${formatShape(x.shape)} has batch ${batch}`);
    }
    const rest = x.shape.slice(2);
    const n = index.shape[1]!;
    const idx = index.reshape([this.rows, n, ...rest.map(() => 1)]).expand([batch, n, ...rest]);
    return gather(x, 1, idx);
  }
}

const PARTS: readonly SequencePart[] = ['query', 'answer', 'fm', 'mask'];

/**
 * Routing-unit ids for the Mixture-of-Flow layers of a collated batch, int32 `[B, T]` in sequence order:
 * one unit per sample and part — the context S_Q, the answer S_A, and each Eq. 9 target S_A^FM and
 * S_A^MASK — and one for the sample's padding. With per-sample routing (a unit's experts are chosen from
 * the mean of its tokens' router logits), a unit spanning two parts would let each part see the other
 * through the router; with these ids the routing respects Eq. 9 (targets never see each other, the context
 * sees neither), and a cached context routes as it does inside the full sequence.
 */
export function routingGroupsByPart(batch: SequenceBatch): Tensor {
  const T = batch.length;
  const per = PARTS.length + 1;
  const ids = new Int32Array(batch.sequences.length * T);
  batch.sequences.forEach((s, b) => {
    for (let p = 0; p < T; p++) ids[b * T + p] = per * b + (p < s.length ? PARTS.indexOf(s.part[p]!) : PARTS.length);
  });
  return tensor(ids, { shape: [batch.sequences.length, T], dtype: 'int32' });
}
