/**
 * The 2-D cross-embodiment tabletop world: deterministic from a seed, with coloured blocks and targets,
 * four embodiments in the unified space (Eq. 1, `s = Φ_e(s⁽ᵉ⁾)`, `a = Φ_e(a⁽ᵉ⁾)`), rendered observations
 * and explicit success criteria.
 *
 * One control step (`step`, Δt = 0.1 s) runs four substeps; in each:
 * 1. the gripper width (finger curls) moves toward the command at its speed limit;
 * 2. the end effector moves toward the commanded position at most `speed·h` (norm) and, for embodiments
 *    that command it, its heading toward the commanded yaw at most `yawSpeed·h`; an arm follows through
 *    its inverse kinematics (warm-started, within joint limits), so an unreachable target leaves it where
 *    it gets closest; the hand's wrist goes where it is told (within the table);
 * 3. a gripper that becomes closed in this substep grasps the nearest free block within GRASP_DISTANCE
 *    of the end effector (the block is lifted and keeps its offset to the end effector); a gripper that
 *    opens releases its block, which is set down (other blocks make room; if none can be made, the block
 *    stays held);
 * 4. a closed, empty gripper pushes blocks (see `contacts`).
 *
 * Raw commands are clamped to the robot's limits (as hardware stops would). No wall clock and no
 * `Math.random`: a run is a pure function of the seed and the commands.
 * @module
 */
import { tensor, type Tensor } from '../../tensor/index.js';
import type { Robot } from '../embodiments/robot.js';
import { GRIPPER_CLOSED_BELOW, HAND_CLOSED_ABOVE, simBody, simRobot, SIM_EMBODIMENTS, type SimBody, type SimEmbodimentName } from './bodies.js';
import { pushBlocks, resolveBlocks, type MutablePoint } from './contacts.js';
import { chainPoints, forwardKinematics, solveIK, wrapAngle, type PlanarPose } from './kinematics.js';
import { renderScene } from './render.js';
import { BLOCK_COLOURS, BLOCK_HALF, GRASP_DISTANCE, REACH_TOLERANCE, TARGET_SIDES, type BlockColour, type Point2, type SceneSnapshot, type TargetSide, type TargetSnapshot } from './scene.js';
import { DEFAULT_MAX_STEPS, sceneLayout, type SimTask, type SimTaskKind, type SimTaskSpec } from './tasks.js';

/** Options of {@link TabletopWorld}. */
export interface TabletopWorldOptions {
  /** Which embodiment acts. */
  readonly embodiment: SimEmbodimentName;
  /** The scene's seed (layout, and the task unless given). */
  readonly seed: number | string;
  /** The task: a kind (block and target drawn from the seed) or a full task; default drawn from the seed. */
  readonly task?: SimTaskKind | SimTaskSpec;
  /** Side of the rendered image in pixels (default 32). */
  readonly imageSize?: 32 | 64;
  /** Episode length in control steps (default per task kind: reach 60, push 100, pick-place 120). */
  readonly maxSteps?: number;
}

/** What the policy sees: the rendered image, the instruction and the unified state. */
export interface SimObservation {
  /** One `[3, S, S]` float32 image in [0, 1]. */
  readonly images: Tensor[];
  /** The task's instruction. */
  readonly instruction: string;
  /** The unified state Φ_e(s⁽ᵉ⁾) (Eq. 1), length 200. */
  readonly state: Float64Array;
}

/** The world's control period Δt, seconds. */
export const SIM_CONTROL_PERIOD = 0.1;
/** Substeps per control step. */
export const SIM_SUBSTEPS = 4;

/** The tabletop world of the module doc. */
export class TabletopWorld {
  /** The embodiment's robot: Φ_e, limits, timing. */
  readonly robot: Robot;
  /** The embodiment's body: kinematics, speeds, colour. */
  readonly body: SimBody;
  /** The embodiment's name. */
  readonly embodiment: SimEmbodimentName;
  /** Δt, seconds per {@link TabletopWorld.step}. */
  readonly dt = SIM_CONTROL_PERIOD;
  /** Side of the rendered image, pixels. */
  readonly imageSize: 32 | 64;
  readonly #opts: TabletopWorldOptions;
  #seed: number | string;
  #task!: SimTask;
  #maxSteps!: number;
  #steps = 0;
  #pose = { x: 0, y: 0, yaw: 0 };
  #q: Float64Array = new Float64Array(0);
  #effector: Float64Array = new Float64Array(0);
  #command: Float64Array = new Float64Array(0);
  #blocks: MutablePoint[] = [];
  #targets: TargetSnapshot[] = [];
  #held = -1;
  #offset = { x: 0, y: 0 };

  /** A world at the seed's scene, the robot at home with the gripper open. */
  constructor(opts: TabletopWorldOptions) {
    const fn = 'TabletopWorld';
    if (opts === null || typeof opts !== 'object') throw new TypeError(`${fn}: options must be an object, got ${String(opts)}`);
    if (!SIM_EMBODIMENTS.includes(opts.embodiment)) throw new RangeError(`${fn}: unknown embodiment ${JSON.stringify(opts.embodiment)}; choose one of ${SIM_EMBODIMENTS.join(', ')}`);
    const size = opts.imageSize ?? 32;
    if (size !== 32 && size !== 64) throw new RangeError(`${fn}: imageSize must be 32 or 64, got ${String(size)}`);
    if (opts.maxSteps !== undefined && (!Number.isInteger(opts.maxSteps) || opts.maxSteps < 1)) throw new RangeError(`${fn}: maxSteps must be an integer ≥ 1, got ${opts.maxSteps}`);
    this.#opts = { ...opts };
    this.embodiment = opts.embodiment;
    this.robot = simRobot(opts.embodiment);
    this.body = simBody(opts.embodiment);
    this.imageSize = size;
    this.#seed = opts.seed;
    this.#reset(opts.seed, fn);
  }

  /** The task of the current episode. */
  get task(): SimTask {
    return this.#task;
  }

  /** The episode length in control steps. */
  get maxSteps(): number {
    return this.#maxSteps;
  }

  /** Control steps since the last reset. */
  get stepCount(): number {
    return this.#steps;
  }

  /** The current episode's seed. */
  get seed(): number | string {
    return this.#seed;
  }

  /** The current command (raw, clamped to the limits). */
  get command(): Float64Array {
    return this.#command.slice();
  }

  /**
   * Starts a new episode from `seed` (default: the current one): the scene is laid out again, the task
   * drawn again unless the constructor was given a full task, and the robot returns home, gripper open.
   */
  reset(seed: number | string = this.#seed): void {
    this.#reset(seed, 'TabletopWorld.reset');
  }

  #reset(seed: number | string, fn: string): void {
    const layout = sceneLayout(seed, this.#opts.task, fn);
    this.#seed = seed;
    this.#task = layout.task;
    this.#maxSteps = this.#opts.maxSteps ?? DEFAULT_MAX_STEPS[layout.task.kind];
    this.#steps = 0;
    this.#blocks = layout.blocks.map((b) => ({ x: b.x, y: b.y }));
    this.#targets = layout.targets.map((t) => ({ ...t }));
    this.#held = -1;
    this.#offset = { x: 0, y: 0 };
    this.#q = Float64Array.from(this.body.homeJoints);
    this.#pose = { ...this.body.home };
    const home = this.robot.home;
    this.#effector = home.slice(this.body.effectorOffset, this.body.effectorOffset + this.body.effectorSize);
    this.#command = this.state();
  }

  /** A copy of this world in its current state (same options, seed and task); it evolves independently. */
  clone(): TabletopWorld {
    const w = new TabletopWorld({ ...this.#opts, seed: this.#seed });
    w.#seed = this.#seed;
    w.#task = this.#task;
    w.#maxSteps = this.#maxSteps;
    w.#steps = this.#steps;
    w.#pose = { ...this.#pose };
    w.#q = this.#q.slice();
    w.#effector = this.#effector.slice();
    w.#command = this.#command.slice();
    w.#blocks = this.#blocks.map((b) => ({ ...b }));
    w.#targets = this.#targets.map((t) => ({ ...t }));
    w.#held = this.#held;
    w.#offset = { ...this.#offset };
    return w;
  }

  /** The raw state s⁽ᵉ⁾: end-effector x, y, (yaw), then gripper width or finger curls. */
  state(): Float64Array {
    const s = new Float64Array(this.robot.dof);
    s[0] = this.#pose.x;
    s[1] = this.#pose.y;
    if (this.body.commandsYaw) s[2] = this.#pose.yaw;
    s.set(this.#effector, this.body.effectorOffset);
    return s;
  }

  /** The unified state Φ_e(s⁽ᵉ⁾) of Eq. 1 (length 200, zeros off the embodiment's active dims). */
  unifiedState(): Float64Array {
    return this.robot.embodiment.toUnified(this.state());
  }

  /** Whether the gripper is closed (width below the block's side) or the hand's mean curl above {@link HAND_CLOSED_ABOVE}. */
  isClosed(): boolean {
    return closed(this.body, this.#effector);
  }

  /** The colour of the held block, or null. */
  heldBlock(): BlockColour | null {
    return this.#held < 0 ? null : BLOCK_COLOURS[this.#held]!;
  }

  /** The end effector's pose. */
  eef(): PlanarPose {
    return { ...this.#pose };
  }

  /** A block's centre. */
  blockPosition(colour: BlockColour): Point2 {
    const i = BLOCK_COLOURS.indexOf(colour);
    if (i < 0) throw new RangeError(`TabletopWorld.blockPosition: unknown block ${JSON.stringify(colour)}; blocks are ${BLOCK_COLOURS.join(', ')}`);
    return { ...this.#blocks[i]! };
  }

  /** A target. */
  target(side: TargetSide): TargetSnapshot {
    const i = TARGET_SIDES.indexOf(side);
    if (i < 0) throw new RangeError(`TabletopWorld.target: unknown target ${JSON.stringify(side)}; targets are ${TARGET_SIDES.join(', ')}`);
    return { ...this.#targets[i]! };
  }

  /** Positions of everything, as plain data (see `SceneSnapshot`). */
  snapshot(): SceneSnapshot {
    const hand = this.body.kind === 'hand';
    const curls = hand ? Array.from(this.#effector) : [];
    return {
      embodiment: this.embodiment,
      step: this.#steps,
      task: this.#task,
      eef: { ...this.#pose },
      closed: this.isClosed(),
      grip: hand ? curls.reduce((a, b) => a + b, 0) / curls.length : this.#effector[0]!,
      fingers: curls,
      links: hand ? [] : chainPoints(this.body.chain!, this.#q),
      blocks: this.#blocks.map((b, i) => ({ colour: BLOCK_COLOURS[i]!, x: b.x, y: b.y, held: i === this.#held })),
      targets: this.#targets.map((t) => ({ ...t })),
    };
  }

  /** The `[3, S, S]` row-major image (row 0 = the far edge, y = 1), values in [0, 1]: see `renderScene`. */
  render(): Float32Array {
    return renderScene(this.snapshot(), this.imageSize);
  }

  /** The observation: the image as a float32 `[3, S, S]` tensor, the instruction and the unified state. */
  observation(): SimObservation {
    const S = this.imageSize;
    return { images: [tensor(this.render(), { shape: [3, S, S] })], instruction: this.#task.instruction, state: this.unifiedState() };
  }

  /** The raw action clamped to the robot's limits (throws on a wrong length or a non-finite entry). */
  clampAction(rawAction: ArrayLike<number>, fn = 'TabletopWorld.clampAction'): Float64Array {
    const r = this.robot;
    if (rawAction === null || typeof rawAction !== 'object' || typeof rawAction.length !== 'number') throw new TypeError(`${fn}: action must be an array of ${r.dof} numbers, got ${String(rawAction)}`);
    if (rawAction.length !== r.dof) throw new RangeError(`${fn}: "${this.embodiment}" takes ${r.dof} raw values (${r.jointNames.join(', ')}), got ${rawAction.length}`);
    const a = new Float64Array(r.dof);
    for (let i = 0; i < r.dof; i++) {
      const v = rawAction[i]!;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${fn}: "${this.embodiment}" action entry ${i} (${r.jointNames[i]}) is ${String(v)}`);
      a[i] = Math.min(r.upper[i]!, Math.max(r.lower[i]!, v));
    }
    return a;
  }

  /** Runs one control period Δt toward the raw command `rawAction` (clamped to the limits). */
  step(rawAction: ArrayLike<number>): void {
    this.#command = this.clampAction(rawAction, 'TabletopWorld.step');
    const h = this.dt / SIM_SUBSTEPS;
    for (let s = 0; s < SIM_SUBSTEPS; s++) this.#substep(h);
    this.#steps++;
  }

  /**
   * Whether the task is done, as the table in `tasks` says: `reach` — end effector within 0.04 m of the
   * block's centre; `push` and `pick-place` — the block's centre inside the target circle and the block
   * not grasped.
   */
  success(): boolean {
    const k = BLOCK_COLOURS.indexOf(this.#task.block);
    const b = this.#blocks[k]!;
    if (this.#task.kind === 'reach') return Math.hypot(this.#pose.x - b.x, this.#pose.y - b.y) < REACH_TOLERANCE;
    const t = this.#targets[TARGET_SIDES.indexOf(this.#task.target!)]!;
    return this.#held !== k && Math.hypot(b.x - t.x, b.y - t.y) < t.radius;
  }

  /** Whether the episode is over: success, or {@link TabletopWorld.maxSteps} steps taken. */
  done(): boolean {
    return this.success() || this.#steps >= this.#maxSteps;
  }

  #substep(h: number): void {
    const body = this.body;
    const cmd = this.#command;
    const wasClosed = this.isClosed();
    const rate = this.robot.maxVelocity;
    for (let i = 0; i < body.effectorSize; i++) {
      const r = body.effectorOffset + i;
      const e = cmd[r]! - this.#effector[i]!;
      const m = rate[r]! * h;
      this.#effector[i] = this.#effector[i]! + Math.max(-m, Math.min(m, e));
    }
    const nowClosed = this.isClosed();
    const from = { x: this.#pose.x, y: this.#pose.y };
    const dx = cmd[0]! - from.x;
    const dy = cmd[1]! - from.y;
    const d = Math.hypot(dx, dy);
    const go = d > 0 ? Math.min(d, body.speed * h) / d : 0;
    const want = { x: from.x + dx * go, y: from.y + dy * go, yaw: this.#pose.yaw };
    if (body.commandsYaw) {
      const m = body.yawSpeed * h;
      want.yaw = wrapAngle(this.#pose.yaw + Math.max(-m, Math.min(m, wrapAngle(cmd[2]! - this.#pose.yaw))));
    }
    if (body.kind === 'arm') {
      const chain = body.chain!;
      const target = body.commandsYaw ? want : { x: want.x, y: want.y };
      this.#q = solveIK(chain, target, this.#q, { maxIterations: 12, tolerance: 1e-9, ...(body.rest ? { rest: body.rest } : {}) }).q;
      this.#pose = forwardKinematics(chain, this.#q);
    } else {
      this.#pose = { x: Math.min(1, Math.max(0, want.x)), y: Math.min(1, Math.max(0, want.y)), yaw: want.yaw };
    }
    const free = () => this.#blocks.map((_, i) => i).filter((i) => i !== this.#held);
    if (this.#held < 0 && nowClosed && !wasClosed) {
      let best = -1;
      let bestD = GRASP_DISTANCE;
      this.#blocks.forEach((b, i) => {
        const dd = Math.hypot(b.x - this.#pose.x, b.y - this.#pose.y);
        if (dd < bestD) [best, bestD] = [i, dd];
      });
      if (best >= 0) {
        this.#held = best;
        this.#offset = { x: this.#blocks[best]!.x - this.#pose.x, y: this.#blocks[best]!.y - this.#pose.y };
      }
    } else if (this.#held >= 0 && !nowClosed) {
      const k = this.#held;
      this.#held = -1;
      const before = this.#blocks.map((b) => ({ ...b }));
      if (!resolveBlocks(this.#blocks, free(), new Set([k]), before)) this.#held = k;
    }
    if (this.#held >= 0) {
      const b = this.#blocks[this.#held]!;
      b.x = Math.min(1 - BLOCK_HALF, Math.max(BLOCK_HALF, this.#pose.x + this.#offset.x));
      b.y = Math.min(1 - BLOCK_HALF, Math.max(BLOCK_HALF, this.#pose.y + this.#offset.y));
    } else if (nowClosed) {
      pushBlocks(this.#blocks, free(), from, this.#pose);
    }
  }
}

function closed(body: SimBody, effector: Float64Array): boolean {
  if (body.kind === 'arm') return effector[0]! < GRIPPER_CLOSED_BELOW;
  let s = 0;
  for (const c of effector) s += c;
  return s / effector.length > HAND_CLOSED_ABOVE;
}
