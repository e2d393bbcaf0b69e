/**
 * A robot as data: its embodiment (Φ_e of Eq. 1), per-joint limits, and the timing that sets its UAC
 * delay settings (§5.3.3, Eq. 17; §6.2, Eq. 22).
 *
 *   Eq. 1:  a = Φ_e(a⁽ᵉ⁾) — the robot's raw vector a⁽ᵉ⁾ has one entry per joint, in {@link RobotSpec.joints} order;
 *   Eq. 17: d ~ π^(e)(d), d ∈ {0, …, d_max^(e) − 1}, with d_max^(e) = min(T, max(1, ⌈L^(e)/Δt^(e)⌉));
 *   Eq. 22: d ≥ ⌈t_inference / t_control^(e)⌉ + ε_safety.
 *
 * {@link defineRobot} validates a {@link RobotSpec} and derives the arrays the safety layer uses.
 * @module
 */
import { DelayDistribution, Embodiment, UNIFIED_LAYOUT, maxDelay, type DelayWeighting, type EmbodimentSpec } from '../../model/index.js';

/**
 * Where a joint's limits come from: `published` — the manufacturer's datasheet or URDF; `conservative` —
 * a documented safe value chosen here, inside the plausible range, because no figure was at hand.
 */
export type LimitSource = 'published' | 'conservative';

/** One raw entry of the robot's state/action vector: a joint (or gripper width, or MANO parameter). */
export interface JointSpec {
  /** Unique name within the robot, e.g. `shoulder_pan`. */
  readonly name: string;
  /** Lowest commandable position (rad or m). */
  readonly min: number;
  /** Highest commandable position (rad or m), > min. */
  readonly max: number;
  /** Highest speed (rad/s or m/s), > 0. */
  readonly maxVelocity: number;
  /** Unit of position; it must match the unit of the slot the entry goes to. */
  readonly unit: 'rad' | 'm';
  /** A safe resting position inside [min, max]; default: 0 clamped into the range. */
  readonly home?: number;
  /** Where the position limits come from. */
  readonly source: LimitSource;
  /** Where the speed limit comes from (default: `source`). */
  readonly velocitySource?: LimitSource;
}

/** Optional fields of {@link joint}. */
export interface JointOptions {
  /** Unit (default `'rad'`). */
  readonly unit?: 'rad' | 'm';
  /** Home position (default: 0 clamped into the range). */
  readonly home?: number;
  /** Where the speed limit comes from (default: the position limits' source). */
  readonly velocitySource?: LimitSource;
}

/** Shorthand for a {@link JointSpec}: `joint('elbow', [-1.69, 1.69], 3, 'published')`. */
export function joint(name: string, range: readonly [number, number], maxVelocity: number, source: LimitSource, opts: JointOptions = {}): JointSpec {
  return { name, min: range[0], max: range[1], maxVelocity, unit: opts.unit ?? 'rad', source, ...(opts.home === undefined ? {} : { home: opts.home }), ...(opts.velocitySource === undefined ? {} : { velocitySource: opts.velocitySource }) };
}

/** A robot as given to {@link defineRobot}. */
export interface RobotSpec {
  /** Unique registry name, e.g. `so101`; the embodiment keeps its own name. */
  readonly name: string;
  /** What it is, for people. */
  readonly description: string;
  /** Φ_e: which raw entry goes to which slot (Eq. 1). */
  readonly embodiment: EmbodimentSpec;
  /** One per raw entry, in raw order. */
  readonly joints: readonly JointSpec[];
  /** Δt^(e): control period in seconds. */
  readonly controlPeriod: number;
  /** L^(e): expected inference latency budget in seconds (sets d_max, Eq. 17). */
  readonly latencyBudget: number;
  /** T: action chunk length (caps d_max). */
  readonly chunkLength: number;
  /** π^(e): how delays are weighted in training (default `'exponential'`). */
  readonly delayWeighting?: DelayWeighting;
  /** ε_safety of Eq. 22 in control steps (an integer ≥ 0). */
  readonly safetyMargin: number;
  /** Where the timing and limits come from, for people (datasheets, the paper, or "assumed"). */
  readonly notes?: string;
}

/**
 * A validated robot: its spec plus the derived embodiment, limit arrays and delay distribution. The
 * typed arrays are shared: treat them as read-only (the safety layer reads them on every command).
 */
export interface Robot {
  /** The registry name. */
  readonly name: string;
  /** The spec it was built from (frozen). */
  readonly spec: RobotSpec;
  /** Φ_e over `UNIFIED_LAYOUT`. */
  readonly embodiment: Embodiment;
  /** Number of raw entries (Table 2's DoF for the robots). */
  readonly dof: number;
  /** Joint names in raw order. */
  readonly jointNames: readonly string[];
  /** Lower position limits, raw order. */
  readonly lower: Float64Array;
  /** Upper position limits, raw order. */
  readonly upper: Float64Array;
  /** Speed limits (per second), raw order. */
  readonly maxVelocity: Float64Array;
  /** Largest change per control period: maxVelocity · Δt. */
  readonly maxStep: Float64Array;
  /** Home positions, raw order, inside the limits. */
  readonly home: Float64Array;
  /** Δt^(e) in seconds. */
  readonly controlPeriod: number;
  /** L^(e) in seconds. */
  readonly latencyBudget: number;
  /** T. */
  readonly chunkLength: number;
  /** ε_safety of Eq. 22, in control steps. */
  readonly safetyMargin: number;
  /** d_max^(e) = min(T, max(1, ⌈L/Δt⌉)) (§5.3.3), via `maxDelay`. */
  readonly dMax: number;
  /** π^(e) of Eq. 17 over {0, …, d_max − 1}. */
  readonly delays: DelayDistribution;
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * Validates `spec` and builds the {@link Robot}. Throws (naming the robot and the joint) when a joint
 * count does not match the embodiment, names repeat, a limit is not finite, min ≥ max, a speed is not
 * > 0, a home lies outside its range, a unit differs from its slot's, or the timing is invalid.
 */
export function defineRobot(spec: RobotSpec): Robot {
  const fn = `defineRobot("${spec?.name}")`;
  if (typeof spec !== 'object' || spec === null) throw new TypeError(`defineRobot: spec must be an object, got ${spec}`);
  if (typeof spec.name !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/.test(spec.name)) throw new RangeError(`${fn}: name must be lowercase letters, digits, "-" or "_", got ${JSON.stringify(spec.name)}`);
  let embodiment: Embodiment;
  try {
    embodiment = new Embodiment(spec.embodiment, UNIFIED_LAYOUT);
  } catch (e) {
    throw new RangeError(`${fn}: invalid embodiment: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const joints = spec.joints;
  if (!Array.isArray(joints) || joints.length !== embodiment.rawDim) {
    throw new RangeError(`${fn}: embodiment "${embodiment.name}" has ${embodiment.rawDim} raw entries but ${Array.isArray(joints) ? joints.length : 'no'} joints are given`);
  }
  const n = joints.length;
  const lower = new Float64Array(n);
  const upper = new Float64Array(n);
  const maxVelocity = new Float64Array(n);
  const home = new Float64Array(n);
  const seen = new Map<string, number>();
  joints.forEach((j, r) => {
    const where = `joint ${r} "${j?.name}"`;
    if (typeof j?.name !== 'string' || j.name === '') throw new TypeError(`${fn}: joint ${r} needs a non-empty name`);
    if (seen.has(j.name)) throw new RangeError(`${fn}: joints ${seen.get(j.name)} and ${r} are both named "${j.name}"`);
    seen.set(j.name, r);
    if (!finite(j.min) || !finite(j.max)) throw new RangeError(`${fn}: ${where} needs finite limits, got min ${j.min}, max ${j.max}`);
    if (!(j.min < j.max)) throw new RangeError(`${fn}: ${where} needs min < max, got min ${j.min}, max ${j.max}`);
    if (!finite(j.maxVelocity) || j.maxVelocity <= 0) throw new RangeError(`${fn}: ${where} needs a finite maxVelocity > 0, got ${j.maxVelocity}`);
    for (const key of ['source', 'velocitySource'] as const) {
      const v = j[key];
      if (v !== 'published' && v !== 'conservative' && !(key === 'velocitySource' && v === undefined)) throw new RangeError(`${fn}: ${where} needs ${key} 'published' or 'conservative', got ${JSON.stringify(v)}`);
    }
    const slot = UNIFIED_LAYOUT.slotAt(embodiment.unifiedIndex[r]!)!.slot;
    if (j.unit !== slot.unit) throw new RangeError(`${fn}: ${where} is in ${JSON.stringify(j.unit)} but goes to slot "${slot.name}" in ${JSON.stringify(slot.unit)}`);
    const h = j.home ?? Math.min(j.max, Math.max(j.min, 0));
    if (!finite(h) || h < j.min || h > j.max) throw new RangeError(`${fn}: ${where} has home ${h} outside [${j.min}, ${j.max}]`);
    lower[r] = j.min;
    upper[r] = j.max;
    maxVelocity[r] = j.maxVelocity;
    home[r] = h;
  });
  const { controlPeriod, latencyBudget, chunkLength, safetyMargin } = spec;
  if (!finite(controlPeriod) || controlPeriod <= 0) throw new RangeError(`${fn}: controlPeriod must be a finite number of seconds > 0, got ${controlPeriod}`);
  if (!finite(latencyBudget) || latencyBudget < 0) throw new RangeError(`${fn}: latencyBudget must be a finite number of seconds ≥ 0, got ${latencyBudget}`);
  if (!Number.isInteger(chunkLength) || chunkLength < 1) throw new RangeError(`${fn}: chunkLength must be an integer ≥ 1, got ${chunkLength}`);
  if (!Number.isInteger(safetyMargin) || safetyMargin < 0) throw new RangeError(`${fn}: safetyMargin must be an integer number of steps ≥ 0, got ${safetyMargin}`);
  const dMax = maxDelay({ controlPeriod, latencyBudget, chunkLength });
  const delays = new DelayDistribution(dMax, spec.delayWeighting ?? 'exponential');
  const maxStep = maxVelocity.map((v) => v * controlPeriod);
  return Object.freeze({
    name: spec.name,
    spec: Object.freeze({ ...spec, joints: Object.freeze(joints.map((j) => Object.freeze({ ...j }))) }),
    embodiment,
    dof: n,
    jointNames: Object.freeze(joints.map((j) => j.name)),
    lower,
    upper,
    maxVelocity,
    maxStep,
    home,
    controlPeriod,
    latencyBudget,
    chunkLength,
    safetyMargin,
    dMax,
    delays,
  });
}
