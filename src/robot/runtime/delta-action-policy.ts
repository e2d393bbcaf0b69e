/**
 * Delta end-effector actions for the real-time runtime (§5.1.1: "all end-effector actions are expressed as
 * relative delta displacements in a unified world coordinate frame"). The runtime and the driver deal in
 * absolute raw rows (a robot is commanded with targets); a policy trained on delta actions predicts, in the
 * `*_eef_pos` / `*_eef_rot` slots, displacements from the state its observation holds. This adapter sits
 * between the two, for any embodiment and any inner {@link PolicyLike} whose raw rows are Φ_e⁻¹ of
 * such unified delta rows (Eq. 1; e.g. `BeingPolicyRunner`):
 *
 * - the committed prefix 𝓑_{<d} (absolute raw rows, Eq. 23) goes in as deltas: raw → Φ_e → `toDeltaActions`
 *   against the observation's unified state → Φ_e⁻¹;
 * - the chunk comes back absolute: raw → Φ_e → `fromDeltaActions` against the same state → Φ_e⁻¹;
 * - rows i < d of the result are the committed prefix itself, bit for bit (Eq. 23 asks for that; the round
 *   trip through float32 deltas would otherwise move them by rounding), so the runtime's stitch (Eq. 24)
 *   sees exactly what it committed.
 *
 * The reference is the observation's state: the state the policy is conditioned on, read when the chunk is
 * requested. Gripper widths, joints and finger articulations pass through unchanged. An embodiment that
 * writes only part of an axis-angle slot must keep its rotations in the subgroup those components span
 * (yaw alone is one), or the delta gets components Φ_e⁻¹ drops.
 * @module
 */
import { fromDeltaActions, toDeltaActions, type Embodiment, type UnifiedVector } from '../../model/index.js';
import { Tensor } from '../../tensor/index.js';
import type { PolicyLike, SampleActionsOptions } from './policy.js';

/** An observation that carries the unified state s = Φ_e(s⁽ᵉ⁾) (Eq. 1), the reference of the deltas. */
export interface StatefulObservation {
  /** The unified state `[D]`, absolute. */
  readonly state: UnifiedVector;
}

/**
 * A {@link PolicyLike} in absolute raw rows around an inner one whose unified end-effector actions are
 * deltas (see the module doc).
 *
 * @example
 * const runner = new BeingPolicyRunner(policy, { embodiment: robot.embodiment });
 * const absolute = new DeltaActionPolicy(runner, robot.embodiment); // hand this one to RealtimeRuntime
 */
export class DeltaActionPolicy<O extends StatefulObservation> implements PolicyLike<O> {
  /** T, rows per chunk (the inner policy's). */
  readonly chunkLength: number;
  /** The embodiment's raw action size (the inner policy's). */
  readonly actionDim: number;
  /** The largest delay the inner policy was trained with. */
  readonly trainedMaxDelay: number;
  /** The embodiment whose Φ_e maps raw rows to the unified space. */
  readonly embodiment: Embodiment;
  readonly #inner: PolicyLike<O>;

  /** Wraps `inner`, whose rows are raw rows of `embodiment` with delta end-effector entries. */
  constructor(inner: PolicyLike<O>, embodiment: Embodiment) {
    const fn = 'DeltaActionPolicy';
    if (inner === null || typeof inner !== 'object' || typeof inner.sampleActions !== 'function') throw new TypeError(`${fn}: inner must be a PolicyLike, got ${String(inner)}`);
    if (embodiment === null || typeof embodiment !== 'object' || typeof embodiment.toUnified !== 'function') throw new TypeError(`${fn}: embodiment must be an Embodiment, got ${String(embodiment)}`);
    if (inner.actionDim !== embodiment.rawDim) throw new RangeError(`${fn}: the inner policy's rows have ${inner.actionDim} entries, embodiment "${embodiment.name}" has ${embodiment.rawDim} raw dims`);
    this.#inner = inner;
    this.embodiment = embodiment;
    this.chunkLength = inner.chunkLength;
    this.actionDim = inner.actionDim;
    this.trainedMaxDelay = inner.trainedMaxDelay;
  }

  /** A chunk of absolute raw rows continuing the (absolute) committed prefix, rows i < d equal to it (Eq. 23). */
  async sampleActions(observation: O, options: SampleActionsOptions): Promise<Float32Array> {
    const fn = 'DeltaActionPolicy.sampleActions';
    const e = this.embodiment;
    const n = e.rawDim;
    const d = options.delay;
    const state = observation?.state instanceof Tensor ? await observation.state.data() : observation?.state;
    if (state === null || state === undefined || typeof state !== 'object' || state.length !== e.dim) {
      throw new RangeError(`${fn}: the observation's state must hold ${e.dim} unified values, got ${state?.length ?? String(state)}`);
    }
    const prefix = options.committedPrefix;
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`${fn}: delay must be an integer ≥ 0, got ${d}`);
    if (d > 0 && (prefix === null || prefix.length < d * n)) throw new RangeError(`${fn}: delay ${d} needs ${d}×${n} committed values, got ${prefix?.length ?? 0}`);
    const rows = (flat: Float32Array, count: number): Float64Array[] => Array.from({ length: count }, (_, i) => e.toUnified(Float64Array.from(flat.subarray(i * n, (i + 1) * n))));
    let deltaPrefix: Float32Array | null = null;
    if (d > 0) {
      deltaPrefix = new Float32Array(d * n);
      toDeltaActions(rows(prefix!, d), state, e.layout).forEach((row, i) => deltaPrefix!.set(e.fromUnified(row), i * n));
    }
    const out = await this.#inner.sampleActions(observation, { ...options, committedPrefix: deltaPrefix });
    const T = this.chunkLength;
    if (!(out instanceof Float32Array) || out.length !== T * n) throw new RangeError(`${fn}: the inner policy returned ${out?.length} values, not ${T}×${n}`);
    const absolute = new Float32Array(T * n);
    fromDeltaActions(rows(out, T), state, e.layout).forEach((row, i) => absolute.set(e.fromUnified(row), i * n));
    // Eq. 23: the committed rows are returned as committed, bit for bit.
    if (d > 0) absolute.set(prefix!.subarray(0, d * n));
    return absolute;
  }
}
