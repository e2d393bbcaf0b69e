/**
 * Expert demonstrations and the training samples made from them (§5.2.2's motion generation: vision,
 * text and state → the next action chunk). States and actions are stored in the unified space (Eq. 1:
 * s = Φ_e(s⁽ᵉ⁾), a = Φ_e(a⁽ᵉ⁾)), so demonstrations of every embodiment share one layout.
 *
 * Frames keep the expert's actions as the world executes them: absolute targets (`Φ_e` of the raw
 * command). Training samples follow §5.1.1 instead — "all end-effector actions are expressed as relative
 * delta displacements in a unified world coordinate frame": a sample's target chunk holds, in the
 * `*_eef_pos` / `*_eef_rot` slots, the displacement of each row from the sample's own (absolute) state
 * (`toDeltaActions`: a − s, and R(a)·R(s)ᵀ as axis-angle — for the planar bodies, the wrapped yaw
 * difference), while gripper widths and finger curls stay absolute.
 *
 * Recording runs the scripted expert in closed loop until the world is done; each frame holds the image
 * and unified state seen, and the expert's clean action. With `noise` > 0 the executed action is the
 * expert's plus Gaussian position noise (seeded from the world seed) while the recorded action stays the
 * clean one (DART-style: the data visits perturbed states, labelled with the correction).
 * @module
 */
import { Generator, tensor, type Tensor } from '../../tensor/index.js';
import { toDeltaActions, type ActionTaskSample } from '../../model/index.js';
import { SIM_EMBODIMENTS, simRobot, type SimEmbodimentName } from './bodies.js';
import { expertAction } from './expert.js';
import type { SimTask, SimTaskKind, SimTaskSpec } from './tasks.js';
import { TabletopWorld } from './world.js';

/** One step of a demonstration. */
export interface DemoFrame {
  /** The `[3, S, S]` image seen, row-major, in [0, 1]. */
  readonly image: Float32Array;
  /** The unified state Φ_e(s⁽ᵉ⁾) seen (length 200). */
  readonly state: Float64Array;
  /** The expert's unified action Φ_e(a⁽ᵉ⁾), clamped to the robot's limits (length 200): absolute, as executed. */
  readonly action: Float64Array;
}

/** An expert demonstration. */
export interface Demonstration {
  /** The embodiment. */
  readonly embodiment: SimEmbodimentName;
  /** The world seed. */
  readonly seed: number | string;
  /** The task. */
  readonly task: SimTask;
  /** Side of the images, pixels. */
  readonly imageSize: 32 | 64;
  /** One frame per control step, in order. */
  readonly frames: readonly DemoFrame[];
  /** Whether the world's success criterion held at the end. */
  readonly success: boolean;
  /** Control steps taken (= frames.length). */
  readonly steps: number;
}

/** Options of {@link recordDemonstration}. */
export interface RecordDemonstrationOptions {
  /** The embodiment. */
  readonly embodiment: SimEmbodimentName;
  /** The world seed. */
  readonly seed: number | string;
  /** The task (default drawn from the seed). */
  readonly task?: SimTaskKind | SimTaskSpec;
  /** Image side (default 32). */
  readonly imageSize?: 32 | 64;
  /** σ of the executed position noise in metres (default 0: the clean expert). */
  readonly noise?: number;
  /** Episode length (default the task's). */
  readonly maxSteps?: number;
}

/** Runs the expert in a fresh world until it is done, recording every frame (see the module doc). */
export function recordDemonstration(opts: RecordDemonstrationOptions): Demonstration {
  const fn = 'recordDemonstration';
  if (opts === null || typeof opts !== 'object') throw new TypeError(`${fn}: options must be an object, got ${String(opts)}`);
  if (!SIM_EMBODIMENTS.includes(opts.embodiment)) throw new RangeError(`${fn}: unknown embodiment ${JSON.stringify(opts.embodiment)}; choose one of ${SIM_EMBODIMENTS.join(', ')}`);
  const noise = opts.noise ?? 0;
  if (!Number.isFinite(noise) || noise < 0) throw new RangeError(`${fn}: noise must be a finite number ≥ 0, got ${noise}`);
  const world = new TabletopWorld({
    embodiment: opts.embodiment,
    seed: opts.seed,
    ...(opts.task === undefined ? {} : { task: opts.task }),
    ...(opts.imageSize === undefined ? {} : { imageSize: opts.imageSize }),
    ...(opts.maxSteps === undefined ? {} : { maxSteps: opts.maxSteps }),
  });
  const rng = noise > 0 ? new Generator(`demo-noise:${typeof opts.seed}:${String(opts.seed)}`) : undefined;
  const phi = world.robot.embodiment;
  const frames: DemoFrame[] = [];
  while (!world.done()) {
    const clean = world.clampAction(expertAction(world), fn);
    frames.push({ image: world.render(), state: world.unifiedState(), action: phi.toUnified(clean) });
    world.step(rng === undefined ? clean : expertActionWithNoise(world, clean, rng, noise));
  }
  return { embodiment: opts.embodiment, seed: opts.seed, task: world.task, imageSize: world.imageSize, frames, success: world.success(), steps: frames.length };
}

/** The clean action with N(0, σ²) added to its commanded position (x, y). */
function expertActionWithNoise(world: TabletopWorld, clean: Float64Array, rng: Generator, sigma: number): Float64Array {
  const a = clean.slice();
  a[0] = a[0]! + sigma * rng.normal();
  a[1] = a[1]! + sigma * rng.normal();
  return world.clampAction(a);
}

/** Options of {@link demonstrationSamples}. */
export interface DemonstrationSampleOptions {
  /** T, rows of each target chunk (an integer ≥ 1). */
  readonly chunkLength: number;
  /** Frames between consecutive samples (an integer ≥ 1; default 1). */
  readonly stride?: number;
}

/**
 * Motion-generation samples from a demonstration: one per `stride` frames, each with the frame's image
 * (a float32 `[3, S, S]` tensor), the instruction, the unified state (absolute), and as target the next
 * `chunkLength` unified actions (rows i … i + T − 1, the last action repeated past the end) with their
 * end-effector entries made deltas relative to frame i's state (§5.1.1, `toDeltaActions`; every row
 * against the same state, the chunk's start), a float32 `[T, 200]` tensor. `fromDeltaActions(chunk,
 * state)` gives the executed absolute actions back (to float32 rounding). The sample's embodiment is the
 * robot's Φ_e and its timing the robot's control period and latency budget (for UAC's d_max, Eq. 17).
 */
export function demonstrationSamples(demo: Demonstration, opts: DemonstrationSampleOptions): ActionTaskSample[] {
  const fn = 'demonstrationSamples';
  if (demo === null || typeof demo !== 'object' || !Array.isArray(demo.frames)) throw new TypeError(`${fn}: expected a Demonstration (recordDemonstration), got ${String(demo)}`);
  const T = opts?.chunkLength;
  const stride = opts?.stride ?? 1;
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`${fn}: chunkLength must be an integer ≥ 1, got ${T}`);
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`${fn}: stride must be an integer ≥ 1, got ${stride}`);
  const robot = simRobot(demo.embodiment);
  const D = robot.embodiment.dim;
  const S = demo.imageSize;
  const n = demo.frames.length;
  const timing = { controlPeriod: robot.controlPeriod, latencyBudget: robot.latencyBudget };
  const out: ActionTaskSample[] = [];
  for (let i = 0; i < n; i += stride) {
    const f = demo.frames[i]!;
    if (f.image.length !== 3 * S * S || f.state.length !== D || f.action.length !== D) {
      throw new RangeError(`${fn}: frame ${i} has image ${f.image.length} (want ${3 * S * S}), state ${f.state.length}, action ${f.action.length} (want ${D})`);
    }
    const absolute = Array.from({ length: T }, (_, t) => demo.frames[Math.min(i + t, n - 1)]!.action);
    const chunk = new Float32Array(T * D);
    toDeltaActions(absolute, f.state, robot.embodiment.layout).forEach((row, t) => chunk.set(row, t * D));
    const image: Tensor = tensor(f.image, { shape: [3, S, S] });
    out.push({
      task: 'motion-generation',
      embodiment: robot.embodiment,
      images: [image],
      instruction: demo.task.instruction,
      state: f.state,
      actions: tensor(chunk, { shape: [T, D] }),
      timing,
    });
  }
  return out;
}
