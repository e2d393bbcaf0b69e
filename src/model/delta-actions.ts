/**
 * End-effector actions as deltas (§5.1.1): "For Cartesian control, all end-effector actions are expressed
 * as relative delta displacements in a unified world coordinate frame. Rotations are uniformly
 * parameterized using Axis-Angle notation […]. For joint-space control, positions are standardized as
 * absolute radian values." States stay absolute (Eq. 1: `s = Φ_e(s⁽ᵉ⁾)`); in an action chunk
 * `a = Φ_e(a⁽ᵉ⁾)` of T rows, the end-effector slots hold the displacement from the state s at the chunk's
 * start:
 *
 * - every `*_eef_pos` slot (metres): `Δp_t = p_t − p(s)`;
 * - every `*_eef_rot` slot (axis-angle, one or more 3-vectors): the world-frame rotation delta
 *   `R(Δr_t) = R(r_t)·R(r(s))ᵀ`, i.e. `Δr_t = axisAngleDelta(r(s), r_t)`, and back `R(r_t) = R(Δr_t)·R(r(s))`;
 * - every other slot (joints, gripper widths, finger articulations, base commands, reserved dims):
 *   unchanged, absolute.
 *
 * The reference is the state of the observation the chunk is predicted from, for every row (openpi's
 * "delta actions" convention), not the previous row: the rows do not accumulate, so an error in one row
 * does not shift the next, and a chunk's positions differ from absolute targets by a constant. Which slots
 * are deltas is read off the layout by name (`deltaActionSlots`): slots named `…_eef_pos` of quantity
 * `position` and `…_eef_rot` of quantity `axis-angle`; a layout without them converts nothing.
 *
 * Rotations: the delta's angle is in [0, π] (axis-angle through a canonical quaternion), so a delta of
 * exactly π has two names ±π·n and `fromDeltaActions` gives back the same rotation, not necessarily the same
 * vector, when the action's own angle is π. Planar (yaw-only) rotations stay yaw-only: for `r = (0, 0, α)`
 * and `r(s) = (0, 0, β)` the delta is `(0, 0, wrap(α − β))` with wrap into [−π, π]. An embodiment that
 * writes only part of an axis-angle slot must keep its rotations in the subgroup those components span
 * (yaw alone is one), or the delta gets components Φ_e⁻¹ drops.
 *
 * Both functions take tensors (differentiable: built from tensor ops; chunk `[…, T, D]` with state `[…, D]`,
 * e.g. `[T, D]` with `[D]` or `[B, T, D]` with `[B, D]`) or plain rows (`ArrayLike<number>[]` with one
 * `ArrayLike<number>` state, returning `Float64Array` rows). They are exact inverses of each other up to
 * rounding: positions to a few ulps, rotations to ~1e-15 rad away from θ = π.
 * @module
 */
import { Tensor, concat, formatShape } from '../tensor/index.js';
import { UNIFIED_LAYOUT, type Slot, type SlotLayout } from './action-space.js';
import { axisAngleDelta, composeAxisAngle } from './rotations.js';

/** The slots a delta conversion changes. */
export interface DeltaActionSlots {
  /** Position slots (`…_eef_pos`, quantity `position`): `a − s`. */
  readonly positions: readonly Slot[];
  /** Rotation slots (`…_eef_rot`, quantity `axis-angle`, size a multiple of 3): `R(a)·R(s)ᵀ`. */
  readonly rotations: readonly Slot[];
}

/**
 * The end-effector slots of `layout` whose actions are deltas (see the module doc): names ending in
 * `_eef_pos` with quantity `position`, and in `_eef_rot` with quantity `axis-angle`. Throws when an
 * `_eef_rot` slot's size is not a multiple of 3.
 */
export function deltaActionSlots(layout: SlotLayout = UNIFIED_LAYOUT): DeltaActionSlots {
  const positions = layout.slots.filter((s) => s.name.endsWith('_eef_pos') && s.quantity === 'position');
  const rotations = layout.slots.filter((s) => s.name.endsWith('_eef_rot') && s.quantity === 'axis-angle');
  for (const r of rotations) {
    if (r.size % 3 !== 0) throw new RangeError(`deltaActionSlots: rotation slot "${r.name}" has size ${r.size}, not a whole number of axis-angle 3-vectors`);
  }
  return { positions, rotations };
}

type Direction = 'to' | 'from';

/**
 * The chunk with its end-effector entries made deltas relative to `state` (the module doc's rules): positions
 * `a − s`, rotations `axisAngleDelta(s, a)` (world frame, `R(a)·R(s)ᵀ`), every other entry unchanged.
 * Tensors: chunk `[…, T, D]`, state `[…, D]` with the same leading dims, float32 or float64, one dtype.
 *
 * @example
 * const s = so101State;                          // unified, absolute
 * const deltas = toDeltaActions(absoluteChunk, s); // what the policy learns (§5.1.1)
 * fromDeltaActions(deltas, s);                   // absoluteChunk again
 */
export function toDeltaActions(chunk: Tensor, state: Tensor, layout?: SlotLayout): Tensor;
/**
 * The chunk with its end-effector entries made deltas relative to `state` (the module doc's rules): positions
 * `a − s`, rotations `axisAngleDelta(s, a)` (world frame, `R(a)·R(s)ᵀ`), every other entry unchanged.
 * Plain: rows of D numbers and one state of D numbers; returns new `Float64Array` rows.
 */
export function toDeltaActions(chunk: readonly ArrayLike<number>[], state: ArrayLike<number>, layout?: SlotLayout): Float64Array[];
export function toDeltaActions(chunk: Tensor | readonly ArrayLike<number>[], state: Tensor | ArrayLike<number>, layout: SlotLayout = UNIFIED_LAYOUT): Tensor | Float64Array[] {
  return convert('toDeltaActions', 'to', chunk, state, layout);
}

/**
 * The inverse of {@link toDeltaActions}: absolute end-effector entries from deltas relative to `state` —
 * positions `Δp + s`, rotations `composeAxisAngle(Δr, s)` (`R(Δr)·R(s)`), every other entry unchanged.
 * Tensors: chunk `[…, T, D]`, state `[…, D]` with the same leading dims, float32 or float64, one dtype.
 */
export function fromDeltaActions(chunk: Tensor, state: Tensor, layout?: SlotLayout): Tensor;
/**
 * The inverse of {@link toDeltaActions}: absolute end-effector entries from deltas relative to `state` —
 * positions `Δp + s`, rotations `composeAxisAngle(Δr, s)` (`R(Δr)·R(s)`), every other entry unchanged.
 * Plain: rows of D numbers and one state of D numbers; returns new `Float64Array` rows.
 */
export function fromDeltaActions(chunk: readonly ArrayLike<number>[], state: ArrayLike<number>, layout?: SlotLayout): Float64Array[];
export function fromDeltaActions(chunk: Tensor | readonly ArrayLike<number>[], state: Tensor | ArrayLike<number>, layout: SlotLayout = UNIFIED_LAYOUT): Tensor | Float64Array[] {
  return convert('fromDeltaActions', 'from', chunk, state, layout);
}

function convert(fn: string, dir: Direction, chunk: Tensor | readonly ArrayLike<number>[], state: Tensor | ArrayLike<number>, layout: SlotLayout): Tensor | Float64Array[] {
  const slots = deltaActionSlots(layout);
  if (chunk instanceof Tensor && state instanceof Tensor) return convertTensor(fn, dir, chunk, state, layout, slots);
  if (chunk instanceof Tensor || state instanceof Tensor) throw new TypeError(`${fn}: pass a tensor chunk with a tensor state, or plain rows with a plain state`);
  if (!Array.isArray(chunk)) throw new TypeError(`${fn}: chunk must be an array of rows or a tensor, got ${String(chunk)}`);
  return convertPlain(fn, dir, chunk, state, layout, slots);
}

function convertPlain(fn: string, dir: Direction, chunk: readonly ArrayLike<number>[], state: ArrayLike<number>, layout: SlotLayout, slots: DeltaActionSlots): Float64Array[] {
  const D = layout.dim;
  if (state === null || typeof state !== 'object' || state.length !== D) throw new RangeError(`${fn}: state must hold ${D} unified values, got ${state?.length ?? String(state)}`);
  for (const { offset, size } of [...slots.positions, ...slots.rotations]) {
    for (let i = offset; i < offset + size; i++) if (!Number.isFinite(state[i]!)) throw new RangeError(`${fn}: state[${i}] is ${state[i]}`);
  }
  return chunk.map((row, t) => {
    if (row === null || typeof row !== 'object' || row.length !== D) throw new RangeError(`${fn}: row ${t} must hold ${D} unified values, got ${row?.length ?? String(row)}`);
    const out = Float64Array.from(row);
    for (const { offset, size } of slots.positions) {
      for (let i = offset; i < offset + size; i++) out[i] = dir === 'to' ? out[i]! - state[i]! : out[i]! + state[i]!;
    }
    for (const { offset, size } of slots.rotations) {
      for (let k = offset; k < offset + size; k += 3) {
        const a = [out[k]!, out[k + 1]!, out[k + 2]!];
        const s = [state[k]!, state[k + 1]!, state[k + 2]!];
        if (!a.every(Number.isFinite)) throw new RangeError(`${fn}: row ${t} has a non-finite rotation [${a.join(', ')}] at unified index ${k}`);
        const r = dir === 'to' ? axisAngleDelta(s, a) : composeAxisAngle(a, s);
        // `+ 0` turns −0 (from the quaternion's sign flip) into 0, so untouched components stay plain zeros.
        for (let j = 0; j < 3; j++) out[k + j] = r[j]! + 0;
      }
    }
    return out;
  });
}

function convertTensor(fn: string, dir: Direction, chunk: Tensor, state: Tensor, layout: SlotLayout, slots: DeltaActionSlots): Tensor {
  const D = layout.dim;
  const lead = chunk.shape.slice(0, -2);
  const ok = chunk.ndim >= 2 && chunk.shape[chunk.ndim - 1] === D && state.ndim === chunk.ndim - 1 && state.shape[state.ndim - 1] === D && lead.every((n, i) => state.shape[i] === n);
  if (!ok) throw new RangeError(`${fn}: expected chunk [..., T, ${D}] with state [..., ${D}] (same leading dims), got ${formatShape(chunk.shape)} and ${formatShape(state.shape)}`);
  if (chunk.dtype !== state.dtype || (chunk.dtype !== 'float32' && chunk.dtype !== 'float64')) {
    throw new TypeError(`${fn}: chunk and state must be float32 or float64 of one dtype, got ${chunk.dtype} and ${state.dtype}`);
  }
  // The reference broadcasts over the T rows (Eq. 1: one state per chunk).
  const s = state.unsqueeze(-2);
  const changed = [
    ...slots.positions.map((slot) => ({ slot, rotation: false })),
    ...slots.rotations.map((slot) => ({ slot, rotation: true })),
  ].sort((x, y) => x.slot.offset - y.slot.offset);
  const pieces: Tensor[] = [];
  let at = 0;
  for (const { slot, rotation } of changed) {
    if (slot.offset > at) pieces.push(chunk.narrow(-1, at, slot.offset - at));
    const a = chunk.narrow(-1, slot.offset, slot.size);
    const r = s.narrow(-1, slot.offset, slot.size);
    if (!rotation) pieces.push(dir === 'to' ? a.sub(r) : a.add(r));
    else {
      // [..., T, k·3] → [..., T, k, 3]: each 3-vector is one axis-angle.
      const k = slot.size / 3;
      const a3 = a.reshape([...a.shape.slice(0, -1), k, 3]);
      const r3 = r.reshape([...r.shape.slice(0, -1), k, 3]);
      const out = dir === 'to' ? axisAngleDelta(r3, a3) : composeAxisAngle(a3, r3);
      pieces.push(out.reshape(a.shape));
    }
    at = slot.offset + slot.size;
  }
  if (at < D) pieces.push(chunk.narrow(-1, at, D - at));
  return pieces.length === 1 ? pieces[0]! : concat(pieces, -1);
}
