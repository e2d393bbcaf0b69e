/**
 * The unified state-action space (§5.1.1) and the slot assignment of Eq. 1:
 *
 *   `s = Φ_e(s⁽ᵉ⁾),   a = Φ_e(a⁽ᵉ⁾)`   (Eq. 1)
 *
 * "The mapping function Φ_e routes these signals to relevant slots within the global vector, leaving
 * unused slots as zeros." A {@link SlotLayout} names the semantically isolated subspaces (slots) of the
 * d-dimensional unified vector; an {@link Embodiment} says which raw dimension of a robot's (or a human
 * hand's) state/action vector goes to which slot and index, and implements Φ_e and its inverse on plain
 * arrays and, differentiably, on tensors. Its active index set I_e (the dimensions Φ_e writes) is what
 * the embodiment-specific adapters of Eq. 12 select.
 *
 * Values are kept in raw physical units (no [-1, 1] normalisation, §5.1.1): Φ_e only routes numbers, so
 * a raw vector must already be in the slot's units (metres, radians, axis-angle) — converting a vendor's
 * encoder counts or Euler angles is the data pipeline's or the driver's job (`model/rotations`).
 * @module
 */
import { Tensor, formatShape, indexSelect, scatterAdd, tensor, zeros, type DType } from '../tensor/index.js';

/** What kind of quantity a slot holds; `axis-angle` slots hold consecutive 3-vectors θ·n. */
export type SlotQuantity = 'position' | 'axis-angle' | 'joint' | 'width' | 'velocity' | 'angle';

/** A slot as given to {@link SlotLayout}: a named subspace of the unified vector. */
export interface SlotSpec {
  /** Unique name, e.g. `right_eef_pos`. */
  readonly name: string;
  /** Number of dimensions (≥ 1). */
  readonly size: number;
  /** Index of the first dimension; omitted: right after the previous slot (0 for the first). */
  readonly offset?: number;
  /** What kind of quantity the slot holds. */
  readonly quantity: SlotQuantity;
  /** Physical units of the components, e.g. `"m"`, `"rad"`, `"m/s (vx, vy), rad/s (ω)"`. */
  readonly unit: string;
  /** What the slot holds, for people. */
  readonly description: string;
}

/** A placed slot: the dimensions `[offset, offset + size)` of the unified vector. */
export interface Slot extends SlotSpec {
  /** Index of the first dimension. */
  readonly offset: number;
}

/** Where a unified dimension lies: its slot and the index within that slot. */
export interface SlotPosition {
  /** The slot holding the dimension. */
  readonly slot: Slot;
  /** The index within the slot. */
  readonly index: number;
}

/** Options of {@link SlotLayout}. */
export interface SlotLayoutOptions {
  /** The unified dimension d, padded past the last slot with reserved (always zero) dimensions; default: the end of the last slot. */
  readonly dim?: number;
}

/**
 * Named, disjoint slots of the d-dimensional unified vector (§5.1.1: "we partition the vector space into
 * semantically isolated subspaces where every dimension corresponds to a grounded physical quantity").
 * Dimensions outside every slot are reserved: no embodiment writes them, so they stay zero.
 */
export class SlotLayout {
  /** The slots in the order given, each placed. */
  readonly slots: readonly Slot[];
  /** The unified dimension d, reserved padding included. */
  readonly dim: number;
  /** Indices that belong to no slot (reserved, always zero), ascending. */
  readonly reserved: readonly number[];
  readonly #byName = new Map<string, number>();
  readonly #owner: Int32Array;

  /** Places the slots (packing those without an offset) and checks that they are disjoint and fit in `dim`. */
  constructor(slots: readonly SlotSpec[], opts: SlotLayoutOptions = {}) {
    if (slots.length === 0) throw new RangeError('SlotLayout: needs at least one slot');
    let next = 0;
    const placed = slots.map((s, k): Slot => {
      if (typeof s.name !== 'string' || s.name === '') throw new TypeError(`SlotLayout: slot ${k} needs a non-empty name, got ${JSON.stringify(s.name)}`);
      if (this.#byName.has(s.name)) throw new RangeError(`SlotLayout: two slots are named "${s.name}" (slots ${this.#byName.get(s.name)} and ${k})`);
      if (!Number.isInteger(s.size) || s.size < 1) throw new RangeError(`SlotLayout: slot "${s.name}" needs an integer size ≥ 1, got ${s.size}`);
      const offset = s.offset ?? next;
      if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`SlotLayout: slot "${s.name}" needs an integer offset ≥ 0, got ${offset}`);
      this.#byName.set(s.name, k);
      next = offset + s.size;
      return Object.freeze({ ...s, offset });
    });
    const end = Math.max(...placed.map((s) => s.offset + s.size));
    const dim = opts.dim ?? end;
    if (!Number.isInteger(dim) || dim < end) {
      const last = placed.find((s) => s.offset + s.size === end)!;
      throw new RangeError(`SlotLayout: dim ${dim} is too small: slot "${last.name}" ends at ${end}`);
    }
    this.#owner = new Int32Array(dim).fill(-1);
    placed.forEach((s, k) => {
      for (let i = s.offset; i < s.offset + s.size; i++) {
        const other = this.#owner[i]!;
        if (other >= 0) {
          const o = placed[other]!;
          throw new RangeError(
            `SlotLayout: slots "${o.name}" [${o.offset}, ${o.offset + o.size}) and "${s.name}" [${s.offset}, ${s.offset + s.size}) overlap at dimension ${i}`,
          );
        }
        this.#owner[i] = k;
      }
    });
    this.slots = Object.freeze(placed);
    this.dim = dim;
    this.reserved = Object.freeze(Array.from(this.#owner.keys()).filter((i) => this.#owner[i]! < 0));
  }

  /** True when a slot is named `name`. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The slot named `name` (throws, listing the names, when there is none). */
  slot(name: string): Slot {
    return this.slots[this.slotIndex(name)]!;
  }

  /** The position of slot `name` in {@link SlotLayout.slots}. */
  slotIndex(name: string): number {
    const k = this.#byName.get(name);
    if (k === undefined) throw new RangeError(`SlotLayout: no slot "${name}"; slots are ${this.slots.map((s) => s.name).join(', ')}`);
    return k;
  }

  /** The slot holding unified dimension `index` and the index within it, or `null` for a reserved dimension. */
  slotAt(index: number): SlotPosition | null {
    if (!Number.isInteger(index) || index < 0 || index >= this.dim) throw new RangeError(`SlotLayout.slotAt: index ${index} is outside [0, ${this.dim})`);
    const k = this.#owner[index]!;
    return k < 0 ? null : { slot: this.slots[k]!, index: index - this.slots[k]!.offset };
  }

  /** One line per slot: name, range, quantity and unit, then the reserved count. */
  toString(): string {
    const lines = this.slots.map((s) => `${s.name.padEnd(18)} [${s.offset}, ${s.offset + s.size})  ${s.quantity}, ${s.unit}`);
    return `SlotLayout(dim ${this.dim})\n${lines.join('\n')}\nreserved: ${this.reserved.length}`;
  }
}

const side = (s: 'right' | 'left'): SlotSpec[] => [
  { name: `${s}_eef_pos`, size: 3, quantity: 'position', unit: 'm', description: `${s} end-effector (or wrist) position xyz in the unified world frame: absolute in states, the delta in actions` },
  { name: `${s}_eef_rot`, size: 3, quantity: 'axis-angle', unit: 'rad', description: `${s} end-effector (or wrist) orientation as axis-angle θ·n: absolute in states, the world-frame delta in actions` },
];

/**
 * The default layout (d = 200, 167 dimensions in 16 slots, 33 reserved at the end for later slots):
 *
 * | slot | dims | units | holds |
 * |---|---|---|---|
 * | `right_eef_pos`, `left_eef_pos` | 3 + 3 | m | end-effector / MANO wrist position (delta in actions) |
 * | `right_eef_rot`, `left_eef_rot` | 3 + 3 | rad | end-effector / MANO wrist orientation, axis-angle |
 * | `right_gripper`, `left_gripper` | 1 + 1 | m | parallel-gripper opening width |
 * | `right_arm_joints`, `left_arm_joints` | 7 + 7 | rad | absolute arm joint positions (≤ 7-DoF arms) |
 * | `right_dexhand`, `left_dexhand` | 20 + 20 | rad | robot dexterous-hand joint positions |
 * | `head` | 2 | rad | head pan, tilt |
 * | `waist` | 3 | rad | waist yaw, pitch, roll |
 * | `base_velocity` | 3 | m/s, rad/s | mobile-base vx, vy (base frame) and yaw rate ω |
 * | `base_heading` | 1 | rad | mobile-base heading (yaw in the world frame) |
 * | `right_fingers`, `left_fingers` | 45 + 45 | rad | human finger articulation: MANO θ, 15 joints × axis-angle |
 *
 * Sizes: the robot hands of Table 2 (Inspire, LinkerBot O6, the D1 and Adam-U hands) have 6 DoF; 20
 * dimensions also hold 16-DoF hands (Allegro, LEAP) and the 20 actuated DoF of a Shadow-class hand. The
 * "fine-manipulation" slots reserved for human fingers (§5.1.1: "finger articulations are mapped to
 * reserved fine-manipulation slots") take MANO's pose parameters directly: 15 finger joints, each an
 * axis-angle, 45 numbers — the form the paper asks rotations to take. Robot hands do not share them: a
 * 6-DoF hand's thumb-rotation angle and the x-component of a MANO joint's axis-angle are different
 * quantities, and "distinct degrees of freedom do not conflict" (§5.1.1). The public release of the paper's
 * code makes the same split (a 45-dimensional θ per hand beside separate robot-hand slots) in its
 * 200-dimensional space. Single-arm robots use the right-side slots by convention; the MANO wrist pose
 * goes to the end-effector slots, so human and robot wrists share them.
 */
export const UNIFIED_LAYOUT: SlotLayout = new SlotLayout(
  [
    ...side('right'),
    ...side('left'),
    { name: 'right_gripper', size: 1, quantity: 'width', unit: 'm', description: 'right parallel-gripper opening width' },
    { name: 'left_gripper', size: 1, quantity: 'width', unit: 'm', description: 'left parallel-gripper opening width' },
    { name: 'right_arm_joints', size: 7, quantity: 'joint', unit: 'rad', description: 'right (or single) arm joint positions, absolute, base to wrist' },
    { name: 'left_arm_joints', size: 7, quantity: 'joint', unit: 'rad', description: 'left arm joint positions, absolute, base to wrist' },
    { name: 'right_dexhand', size: 20, quantity: 'joint', unit: 'rad', description: 'right robot dexterous-hand joint positions, in the hand family’s joint order' },
    { name: 'left_dexhand', size: 20, quantity: 'joint', unit: 'rad', description: 'left robot dexterous-hand joint positions, in the hand family’s joint order' },
    { name: 'head', size: 2, quantity: 'joint', unit: 'rad', description: 'head pan, tilt' },
    { name: 'waist', size: 3, quantity: 'joint', unit: 'rad', description: 'waist yaw, pitch, roll' },
    { name: 'base_velocity', size: 3, quantity: 'velocity', unit: 'm/s (vx, vy), rad/s (ω)', description: 'mobile-base velocity command in the base frame' },
    { name: 'base_heading', size: 1, quantity: 'angle', unit: 'rad', description: 'mobile-base heading, yaw in the world frame' },
    { name: 'right_fingers', size: 45, quantity: 'axis-angle', unit: 'rad', description: 'right human finger articulation: MANO pose θ, 15 joints × axis-angle' },
    { name: 'left_fingers', size: 45, quantity: 'axis-angle', unit: 'rad', description: 'left human finger articulation: MANO pose θ, 15 joints × axis-angle' },
  ],
  { dim: 200 },
);

/** A run of consecutive raw dimensions and where they go. */
export interface RawComponent {
  /** What the entries are, e.g. `shoulder_pan` or `right_wrist_translation`. */
  readonly name: string;
  /** The slot they go to. */
  readonly slot: string;
  /** How many consecutive raw entries (default 1). */
  readonly size?: number;
  /** First index within the slot; omitted: right after the previous component sent to the same slot (0 for the first). */
  readonly at?: number;
}

/**
 * An embodiment as plain data: its name and its raw vector, component by component in raw order. The
 * same description serves its state and its action vector (Eq. 1 applies one Φ_e to both).
 */
export interface EmbodimentSpec {
  /** Unique name, e.g. `so101`. */
  readonly name: string;
  /** What it is, for people. */
  readonly description?: string;
  /** The raw vector, in order: the first component is raw entries `[0, size)`, and so on. */
  readonly components: readonly RawComponent[];
}

/** Where a component of an {@link Embodiment} lives in the raw and the unified vector. */
export interface PlacedComponent {
  /** The component's name. */
  readonly name: string;
  /** Its slot. */
  readonly slot: string;
  /** Its first raw index. */
  readonly rawOffset: number;
  /** Its first index within the slot. */
  readonly at: number;
  /** Its number of entries. */
  readonly size: number;
}

type FloatArray = Float32Array | Float64Array;

/**
 * Φ_e of Eq. 1 for one embodiment over a {@link SlotLayout}: raw entry r goes to unified dimension
 * `unifiedIndex[r]`; the active set I_e is the image of that map and every other dimension is zero.
 *
 * @example
 * const so101 = new Embodiment(SO101_ARM);
 * const u = so101.toUnified([0.1, -0.4, 0.9, 0.2, 0, 0.03]); // Float64Array(200), zeros off I_e
 * so101.fromUnified(u); // Float64Array [0.1, -0.4, 0.9, 0.2, 0, 0.03]
 */
export class Embodiment {
  /** The embodiment's name. */
  readonly name: string;
  /** The description it was built from (frozen copy). */
  readonly spec: EmbodimentSpec;
  /** The layout of the unified space. */
  readonly layout: SlotLayout;
  /** Length of the raw vector. */
  readonly rawDim: number;
  /** The components, placed. */
  readonly components: readonly PlacedComponent[];
  /** For each raw index, the unified index it goes to. */
  readonly unifiedIndex: readonly number[];
  /** The active index set I_e: the unified indices Φ_e writes, ascending. */
  readonly activeIndices: readonly number[];
  /** `activeMask[i]` ⇔ i ∈ I_e, over all d unified dimensions. */
  readonly activeMask: readonly boolean[];
  /** Positions in `layout.slots` of the slots Φ_e writes (the active slots of Eq. 12), ascending. */
  readonly activeSlots: readonly number[];

  /** Checks the description against the layout: known slots, in-range indices, no two raw entries on one dimension. */
  constructor(spec: EmbodimentSpec, layout: SlotLayout = UNIFIED_LAYOUT) {
    const who = `Embodiment "${spec.name}"`;
    if (typeof spec.name !== 'string' || spec.name === '') throw new TypeError(`Embodiment: needs a non-empty name, got ${JSON.stringify(spec.name)}`);
    if (spec.components.length === 0) throw new RangeError(`${who}: needs at least one component`);
    const nextAt = new Map<string, number>();
    const target = new Map<number, string>();
    const unified: number[] = [];
    const placed = spec.components.map((c): PlacedComponent => {
      if (!layout.has(c.slot)) throw new RangeError(`${who}: component "${c.name}" names slot "${c.slot}", which the layout lacks; slots are ${layout.slots.map((s) => s.name).join(', ')}`);
      const slot = layout.slot(c.slot);
      const size = c.size ?? 1;
      const at = c.at ?? nextAt.get(c.slot) ?? 0;
      if (!Number.isInteger(size) || size < 1) throw new RangeError(`${who}: component "${c.name}" needs an integer size ≥ 1, got ${size}`);
      if (!Number.isInteger(at) || at < 0 || at + size > slot.size) {
        throw new RangeError(`${who}: component "${c.name}" (${size} entries at ${at}) does not fit slot "${slot.name}" of size ${slot.size}`);
      }
      for (let j = 0; j < size; j++) {
        const u = slot.offset + at + j;
        const other = target.get(u);
        if (other !== undefined) throw new RangeError(`${who}: components "${other}" and "${c.name}" both write index ${at + j} of slot "${slot.name}"`);
        target.set(u, c.name);
        unified.push(u);
      }
      nextAt.set(c.slot, at + size);
      return Object.freeze({ name: c.name, slot: c.slot, rawOffset: unified.length - size, at, size });
    });
    this.name = spec.name;
    this.spec = Object.freeze({ ...spec, components: Object.freeze(spec.components.map((c) => Object.freeze({ ...c }))) });
    this.layout = layout;
    this.rawDim = unified.length;
    this.components = Object.freeze(placed);
    this.unifiedIndex = Object.freeze(unified);
    this.activeIndices = Object.freeze([...unified].sort((a, b) => a - b));
    const mask = new Array<boolean>(layout.dim).fill(false);
    for (const u of unified) mask[u] = true;
    this.activeMask = Object.freeze(mask);
    const slots = new Set(placed.map((c) => layout.slotIndex(c.slot)));
    this.activeSlots = Object.freeze([...slots].sort((a, b) => a - b));
  }

  /** The unified dimension d. */
  get dim(): number {
    return this.layout.dim;
  }

  /**
   * Eq. 1, Φ_e: `[..., rawDim]` → `[..., d]` with raw entry r at `unifiedIndex[r]` and exact zeros
   * elsewhere. Differentiable (a scatter-add into zeros): the gradient reaching the raw tensor is the
   * output gradient read back at I_e.
   */
  toUnified(raw: Tensor): Tensor;
  /** Eq. 1, Φ_e on Float32 rows laid end to end (`rows · rawDim` values → `rows · d`). */
  toUnified(raw: Float32Array): Float32Array;
  /** Eq. 1, Φ_e on rows laid end to end (`rows · rawDim` values → `rows · d`), as float64. */
  toUnified(raw: ArrayLike<number>): Float64Array;
  toUnified(raw: Tensor | ArrayLike<number>): Tensor | FloatArray {
    if (raw instanceof Tensor) {
      const lead = this.#checkTensor('toUnified', raw, this.rawDim);
      const index = this.#indexTensor(lead);
      return scatterAdd(zeros([...lead, this.dim], { dtype: raw.dtype }), -1, index, raw);
    }
    const rows = this.#rows('toUnified', raw.length, this.rawDim);
    const out = raw instanceof Float32Array ? new Float32Array(rows * this.dim) : new Float64Array(rows * this.dim);
    for (let n = 0; n < rows; n++) {
      for (let r = 0; r < this.rawDim; r++) out[n * this.dim + this.unifiedIndex[r]!] = raw[n * this.rawDim + r]!;
    }
    return out;
  }

  /**
   * The inverse of Φ_e: `[..., d]` → `[..., rawDim]`, reading the unified vector at `unifiedIndex`.
   * Dimensions outside I_e are ignored (a model's prediction there is discarded). Differentiable (a
   * gather): the gradient reaching the unified tensor is zero off I_e.
   */
  fromUnified(unified: Tensor): Tensor;
  /** The inverse of Φ_e on Float32 rows laid end to end (`rows · d` values → `rows · rawDim`). */
  fromUnified(unified: Float32Array): Float32Array;
  /** The inverse of Φ_e on rows laid end to end (`rows · d` values → `rows · rawDim`), as float64. */
  fromUnified(unified: ArrayLike<number>): Float64Array;
  fromUnified(unified: Tensor | ArrayLike<number>): Tensor | FloatArray {
    if (unified instanceof Tensor) {
      this.#checkTensor('fromUnified', unified, this.dim);
      return indexSelect(unified, -1, tensor(Int32Array.from(this.unifiedIndex), { dtype: 'int32' }));
    }
    const rows = this.#rows('fromUnified', unified.length, this.dim);
    const out = unified instanceof Float32Array ? new Float32Array(rows * this.rawDim) : new Float64Array(rows * this.rawDim);
    for (let n = 0; n < rows; n++) {
      for (let r = 0; r < this.rawDim; r++) out[n * this.rawDim + r] = unified[n * this.dim + this.unifiedIndex[r]!]!;
    }
    return out;
  }

  /** {@link Embodiment.activeMask} as a `[d]` tensor: bool by default, or 0/1 floats. */
  activeMaskTensor(dtype: DType = 'bool'): Tensor {
    return tensor(Uint8Array.from(this.activeMask, (b) => (b ? 1 : 0)), { dtype });
  }

  /** The component named `name` (throws when there is none). */
  component(name: string): PlacedComponent {
    const c = this.components.find((p) => p.name === name);
    if (c === undefined) throw new RangeError(`Embodiment "${this.name}": no component "${name}"; components are ${this.components.map((p) => p.name).join(', ')}`);
    return c;
  }

  #checkTensor(fn: string, t: Tensor, last: number): number[] {
    if (t.ndim === 0 || t.shape[t.ndim - 1] !== last) {
      throw new RangeError(`Embodiment.${fn} ("${this.name}"): expected a tensor of shape [..., ${last}], got ${formatShape(t.shape)}`);
    }
    if (t.dtype === 'bool') throw new TypeError(`Embodiment.${fn} ("${this.name}"): expected a numeric tensor, got bool`);
    return t.shape.slice(0, -1);
  }

  #rows(fn: string, length: number, width: number): number {
    if (length % width !== 0) throw new RangeError(`Embodiment.${fn} ("${this.name}"): ${length} values are not whole rows of ${width}`);
    return length / width;
  }

  /** `unifiedIndex` as an int32 tensor broadcast to `[...lead, rawDim]` (scatter needs the full shape). */
  #indexTensor(lead: readonly number[]): Tensor {
    const flat = tensor(Int32Array.from(this.unifiedIndex), { dtype: 'int32' });
    return flat.reshape([...lead.map(() => 1), this.rawDim]).expand([...lead, this.rawDim]);
  }
}
