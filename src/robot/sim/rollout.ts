/**
 * Closed-loop evaluation of a chunking policy with inference latency, in pure simulation (no wall
 * clock, deterministic): the Universal Async Chunking setting of §5.3.3 / §6 (Eq. 22-24) in steps.
 *
 * Schedule, with E = `executeSteps` and d = `latencySteps` (0 ≤ d ≤ E):
 * - at step 0 the first chunk is computed before the episode starts (no latency; `delay` 0, empty prefix);
 * - at steps k·E (k ≥ 1) a new chunk is requested from the observation at that moment. The inference
 *   takes d control steps, during which the robot keeps executing the current chunk; those d actions
 *   are the committed prefix passed to the policy (Eq. 23: they are fixed, the policy must continue
 *   them). When it arrives, the robot switches to the new chunk at its row d (rows 0 … d − 1 stand for
 *   the time that passed);
 * - past the end of a chunk the robot holds its last row.
 * The episode ends when the world is done (success or its step limit).
 *
 * Delta actions (§5.1.1: "all end-effector actions are expressed as relative delta displacements in a
 * unified world coordinate frame"): the policy's rows hold, in the `*_eef_pos` / `*_eef_rot` slots, the
 * displacement from the unified state at the moment the chunk was requested (`fromDeltaActions` turns
 * them into the absolute targets the world executes; for the planar bodies the rotation delta is the
 * wrapped yaw difference); gripper widths and finger curls are absolute. The committed prefix is handed
 * over in the same form, relative to the new request's state. The reference is the TRUE state, not the
 * noisy one the policy sees: the observation noise probes the policy's robustness to a perturbed input,
 * while the robot's own controller anchors the deltas on its encoders, which are exact in this world (the
 * real-time deployment through `DeltaActionPolicy` anchors on the observed state, which there is the true
 * one). Chunks are kept as absolute rows from the moment they arrive, so the prefix that runs during an
 * inference is exactly what the previous chunk commanded.
 *
 * Observation noise: N(0, σ²) added to the active dimensions of the unified state handed to the policy
 * (the inactive dimensions stay zero). The smoothness metric of Fig. 13 is the step-to-step L2 change of
 * the executed action ({@link actionJumps}): `positionJumps` over the end-effector positions alone
 * (metres; what the demo reports), `jumps` over the whole raw vector (mixed units).
 * @module
 */
import { Generator, type Tensor } from '../../tensor/index.js';
import { deltaActionSlots, fromDeltaActions, toDeltaActions } from '../../model/index.js';
import type { SceneSnapshot } from './scene.js';
import type { TabletopWorld } from './world.js';

/** What a chunk policy sees. */
export interface ChunkPolicyObservation {
  /** One `[3, S, S]` float32 image. */
  readonly images: Tensor[];
  /** The instruction. */
  readonly instruction: string;
  /** The unified state (length 200), possibly noisy. */
  readonly state: Float64Array;
}

/** The inference context: the committed prefix and the delay d. */
export interface ChunkPolicyContext {
  /**
   * The d unified actions that will run while this inference is in flight (length = `delay`), in the
   * policy's own form: end-effector entries as deltas relative to the true unified state at this
   * request (the reference of the chunk to return), every other entry absolute.
   */
  readonly committedPrefix: Float64Array[];
  /** d, in control steps. */
  readonly delay: number;
}

/**
 * A policy that maps an observation to a chunk of unified action rows (each of length 200). Row i is the
 * action for the i-th step after the request; its `*_eef_pos` / `*_eef_rot` entries are deltas relative
 * to the unified state at the request (§5.1.1, `toDeltaActions`: a − s and R(a)·R(s)ᵀ; every row against
 * that one state), its other entries (gripper width, finger curls) absolute — the form of the targets
 * `demonstrationSamples` trains on.
 */
export type ChunkPolicy = (obs: ChunkPolicyObservation, ctx: ChunkPolicyContext) => readonly ArrayLike<number>[];

/** Options of {@link rolloutPolicy}. */
export interface RolloutOptions {
  /** E, steps between requests (an integer ≥ 1). */
  readonly executeSteps: number;
  /** d, the inference latency in control steps (an integer in [0, E]; default 0). */
  readonly latencySteps?: number;
  /** σ of the Gaussian noise on the unified state given to the policy (default 0). */
  readonly observationNoise?: number;
  /** The noise source (default: seeded from the world's seed). */
  readonly rng?: Generator;
}

/** The mean and largest step-to-step action change, in the units of the entries compared. */
export interface ActionJumps {
  /** Mean of ‖a_t − a_{t−1}‖₂ over t ≥ 1 (0 for fewer than two actions). */
  readonly mean: number;
  /** Largest ‖a_t − a_{t−1}‖₂ (0 for fewer than two actions). */
  readonly max: number;
}

/** The outcome of {@link rolloutPolicy}. */
export interface RolloutResult {
  /** Whether the world's success criterion held at the end. */
  readonly success: boolean;
  /** Control steps executed. */
  readonly steps: number;
  /** The raw actions executed (absolute targets, clamped to the robot's limits), one per step. */
  readonly actions: Float64Array[];
  /** The same actions in the unified space (Φ_e, Eq. 1): absolute, as states are, not deltas. */
  readonly unifiedActions: Float64Array[];
  /** Snapshots: the initial scene, then one after each step. */
  readonly trace: SceneSnapshot[];
  /** Smoothness of the whole executed raw action vector (mixed units: metres, radians, finger radians). */
  readonly jumps: ActionJumps;
  /**
   * Smoothness of the commanded end-effector positions alone (the `*_eef_pos` slots of the executed
   * unified actions; here x and y), in metres: the Fig. 13-style measure the demo reports.
   */
  readonly positionJumps: ActionJumps;
  /** Number of chunks requested. */
  readonly requests: number;
}

/**
 * The step-to-step L2 change ‖a_t − a_{t−1}‖₂ of an action sequence: mean and max over t ≥ 1. With
 * `indices`, only those entries are compared (e.g. the end-effector positions, to keep one unit).
 */
export function actionJumps(actions: readonly ArrayLike<number>[], indices?: readonly number[]): ActionJumps {
  let sum = 0;
  let max = 0;
  for (let t = 1; t < actions.length; t++) {
    const a = actions[t]!;
    const b = actions[t - 1]!;
    if (a.length !== b.length) throw new RangeError(`actionJumps: actions ${t - 1} and ${t} differ in length (${b.length} vs ${a.length})`);
    if (indices !== undefined && t === 1) {
      const bad = indices.filter((i) => !Number.isInteger(i) || i < 0 || i >= a.length);
      if (bad.length > 0) throw new RangeError(`actionJumps: indices ${JSON.stringify(bad)} are outside actions of length ${a.length}`);
    }
    let s = 0;
    if (indices === undefined) for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
    else for (const i of indices) s += (a[i]! - b[i]!) ** 2;
    const j = Math.sqrt(s);
    sum += j;
    max = Math.max(max, j);
  }
  return { mean: actions.length > 1 ? sum / (actions.length - 1) : 0, max };
}

/** Runs `policy` in `world` (from its current state) until the world is done, as the module doc says. */
export function rolloutPolicy(world: TabletopWorld, policy: ChunkPolicy, opts: RolloutOptions): RolloutResult {
  const fn = 'rolloutPolicy';
  if (typeof policy !== 'function') throw new TypeError(`${fn}: policy must be a function (obs, ctx) => rows, got ${typeof policy}`);
  const E = opts?.executeSteps;
  const d = opts?.latencySteps ?? 0;
  const sigma = opts?.observationNoise ?? 0;
  if (!Number.isInteger(E) || E < 1) throw new RangeError(`${fn}: executeSteps must be an integer ≥ 1, got ${E}`);
  if (!Number.isInteger(d) || d < 0 || d > E) throw new RangeError(`${fn}: latencySteps must be an integer in [0, executeSteps = ${E}], got ${d}`);
  if (!Number.isFinite(sigma) || sigma < 0) throw new RangeError(`${fn}: observationNoise must be a finite number ≥ 0, got ${sigma}`);
  const rng = opts.rng ?? new Generator(`rollout:${typeof world.seed}:${String(world.seed)}`);
  const phi = world.robot.embodiment;
  const D = phi.dim;
  const active = phi.activeIndices;
  const positions = deltaActionSlots(phi.layout).positions.flatMap((s) => Array.from({ length: s.size }, (_, i) => s.offset + i));

  const observe = (): ChunkPolicyObservation => {
    const o = world.observation();
    if (sigma > 0) for (const i of active) o.state[i] = o.state[i]! + sigma * rng.normal();
    return o;
  };
  let requests = 0;
  /** Asks for a chunk now: the prefix (absolute rows) goes out as deltas, the answer comes back absolute. */
  const request = (prefix: Float64Array[]): Float64Array[] => {
    // The reference of this chunk's deltas: the true unified state now (see the module doc).
    const reference = world.unifiedState();
    const rows = policy(observe(), { committedPrefix: toDeltaActions(prefix, reference, phi.layout), delay: prefix.length });
    requests++;
    if (!Array.isArray(rows) || rows.length === 0) throw new RangeError(`${fn}: the policy must return a non-empty array of unified rows, got ${Array.isArray(rows) ? 'an empty array' : typeof rows}`);
    const checked = rows.map((r, i) => {
      if (r === null || typeof r !== 'object' || r.length !== D) throw new RangeError(`${fn}: chunk row ${i} must have ${D} unified values, got ${r?.length}`);
      const row = Float64Array.from(r);
      for (let k = 0; k < D; k++) if (!Number.isFinite(row[k]!)) throw new RangeError(`${fn}: chunk row ${i} has a non-finite value ${row[k]} at unified index ${k}`);
      return row;
    });
    return fromDeltaActions(checked, reference, phi.layout);
  };
  const rowAt = (chunk: Float64Array[], i: number) => chunk[Math.min(i, chunk.length - 1)]!;

  const actions: Float64Array[] = [];
  const unifiedActions: Float64Array[] = [];
  const trace: SceneSnapshot[] = [world.snapshot()];
  const execute = (row: Float64Array): void => {
    const raw = world.clampAction(phi.fromUnified(row), fn);
    world.step(raw);
    actions.push(raw);
    unifiedActions.push(phi.toUnified(raw));
    trace.push(world.snapshot());
  };

  let chunk = request([]);
  let index = 0;
  let sinceRequest = 0;
  while (!world.done()) {
    if (sinceRequest === E) {
      const prefix = Array.from({ length: d }, (_, k) => rowAt(chunk, index + k));
      const next = request(prefix);
      for (const row of prefix) {
        if (world.done()) break;
        execute(row);
      }
      chunk = next;
      index = d;
      sinceRequest = d;
      continue;
    }
    execute(rowAt(chunk, index));
    index++;
    sinceRequest++;
  }
  return { success: world.success(), steps: actions.length, actions, unifiedActions, trace, jumps: actionJumps(actions), positionJumps: actionJumps(unifiedActions, positions), requests };
}
