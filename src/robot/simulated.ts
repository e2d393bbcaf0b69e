/**
 * A kinematic simulated robot: a {@link RobotDriver} whose joints follow the commanded positions with a
 * first-order lag and a speed limit, exactly integrated, so a run is a pure function of the commands and
 * the clock. The runtime of §6 (Eq. 22-24) and the tests drive it with a `ManualClock`.
 *
 * Per joint, with target g (the command clamped to [min, max]), lag τ and speed limit v_max:
 *
 *   dq/dt = clamp((g − q)/τ, −v_max, v_max).
 *
 * While |g − q| > v_max·τ the joint moves at v_max; then the error decays as exp(−t/τ) (τ = 0: it moves at
 * v_max until it reaches g). The state is integrated in closed form from the last update to `clock.now()`
 * whenever it is read or commanded, so the result does not depend on how often it is polled, and q never
 * leaves [min, max].
 * @module
 */
import { systemClock, type Clock } from './clock.js';
import type { DriverInfo, RobotDriver, RobotState } from './driver.js';
import { SimulatedLifecycle } from './simulated-lifecycle.js';
import type { Robot } from './embodiments/robot.js';
import { validateAction } from './safety.js';

/** Options of {@link SimulatedRobot}. */
export interface SimulatedRobotOptions {
  /** Time source (default `systemClock`). */
  readonly clock?: Clock;
  /** τ, the lag time constant in seconds (≥ 0; default: one control period). */
  readonly timeConstant?: number;
  /** Starting joint positions, inside the limits (default `robot.home`). */
  readonly initial?: ArrayLike<number>;
  /** Δt reported in `info` (default `robot.controlPeriod`). */
  readonly controlPeriod?: number;
}

/** The simulated robot of the module doc. */
export class SimulatedRobot extends SimulatedLifecycle implements RobotDriver {
  /** `simulated`, the robot and the control period. */
  readonly info: DriverInfo;
  /** τ in seconds. */
  readonly timeConstant: number;
  readonly #robot: Robot;
  readonly #clock: Clock;
  readonly #q: Float64Array;
  readonly #target: Float64Array;
  #t: number;
  #lastCommand: Float64Array | null = null;

  /** A simulated `robot` at rest at `opts.initial` (default its home). */
  constructor(robot: Robot, opts: SimulatedRobotOptions = {}) {
    super('SimulatedRobot');
    const fn = `SimulatedRobot("${robot?.name}")`;
    if (robot === null || typeof robot !== 'object' || !(robot.lower instanceof Float64Array)) throw new TypeError(`SimulatedRobot: robot must be a Robot (see defineRobot / getRobot), got ${robot}`);
    this.#robot = robot;
    this.#clock = opts.clock ?? systemClock;
    this.timeConstant = opts.timeConstant ?? robot.controlPeriod;
    if (typeof this.timeConstant !== 'number' || !Number.isFinite(this.timeConstant) || this.timeConstant < 0) throw new RangeError(`${fn}: timeConstant must be a finite number of seconds ≥ 0, got ${this.timeConstant}`);
    const controlPeriod = opts.controlPeriod ?? robot.controlPeriod;
    if (typeof controlPeriod !== 'number' || !Number.isFinite(controlPeriod) || controlPeriod <= 0) throw new RangeError(`${fn}: controlPeriod must be a finite number of seconds > 0, got ${controlPeriod}`);
    const initial = opts.initial ?? robot.home;
    validateAction(robot, initial, `${fn} initial`);
    for (let i = 0; i < robot.dof; i++) {
      if (initial[i]! < robot.lower[i]! || initial[i]! > robot.upper[i]!) throw new RangeError(`${fn}: initial joint "${robot.jointNames[i]}" (index ${i}) is ${initial[i]}, outside [${robot.lower[i]}, ${robot.upper[i]}]`);
    }
    this.#q = Float64Array.from(initial);
    this.#target = Float64Array.from(initial);
    this.#t = this.#clock.now();
    this.info = Object.freeze({ driver: 'simulated', robot, controlPeriod });
  }

  /** The last accepted command as received (before the simulated stops clamp it), or null. */
  get lastCommand(): Float64Array | null {
    return this.#lastCommand === null ? null : this.#lastCommand.slice();
  }

  /** The current target positions (commands clamped to the limits). */
  get target(): Float64Array {
    return this.#target.slice();
  }

  /** The state at `clock.now()`: positions, velocities, timestamp. */
  async readState(): Promise<RobotState> {
    this.checkConnected('SimulatedRobot.readState');
    this.#advance();
    const v = new Float64Array(this.#robot.dof);
    for (let i = 0; i < v.length; i++) v[i] = this.#speed(i);
    return { positions: this.#q.slice(), velocities: v, timestamp: this.#t };
  }

  /** Sets new targets (each clamped to the joint's limits, as hardware stops would). */
  async sendAction(action: ArrayLike<number>): Promise<void> {
    const fn = 'SimulatedRobot.sendAction';
    this.checkActive(fn);
    validateAction(this.#robot, action, fn);
    this.#advance();
    const { lower, upper } = this.#robot;
    for (let i = 0; i < this.#robot.dof; i++) this.#target[i] = Math.min(upper[i]!, Math.max(lower[i]!, action[i]!));
    this.#lastCommand = Float64Array.from(action);
    this.accepted();
  }

  /** The robot's name, for messages. */
  protected robotName(): string {
    return this.#robot.name;
  }

  /** The time of the last integration (events are stamped with it). */
  protected now(): number {
    return this.#t;
  }

  /** Integrates to now and holds every joint where it is. */
  protected freeze(): void {
    this.#advance();
    this.#target.set(this.#q);
  }

  /** Holding the current position is all that resuming takes. */
  protected resume(): void {
    this.freeze();
  }

  /** dq/dt of joint i now. */
  #speed(i: number): number {
    const e = this.#target[i]! - this.#q[i]!;
    const vmax = this.#robot.maxVelocity[i]!;
    if (e === 0) return 0;
    if (this.timeConstant === 0) return Math.sign(e) * vmax;
    return Math.max(-vmax, Math.min(vmax, e / this.timeConstant));
  }

  /** Integrates every joint in closed form from the last update to now. */
  #advance(): void {
    const now = this.#clock.now();
    const dt = now - this.#t;
    this.#t = Math.max(this.#t, now);
    if (!(dt > 0)) return;
    const tau = this.timeConstant;
    for (let i = 0; i < this.#q.length; i++) {
      const g = this.#target[i]!;
      const e = g - this.#q[i]!;
      if (e === 0) continue;
      const vmax = this.#robot.maxVelocity[i]!;
      const s = Math.sign(e);
      const band = vmax * tau; // below this error the lag, not the speed limit, binds
      const tLinear = (Math.abs(e) - band) / vmax; // time spent at v_max (≤ 0: none)
      let q: number;
      if (tLinear >= dt) q = this.#q[i]! + s * vmax * dt;
      else if (tau === 0) q = g;
      else {
        const e0 = tLinear > 0 ? s * band : e;
        q = g - e0 * Math.exp(-(dt - Math.max(0, tLinear)) / tau);
      }
      // Monotone towards g, so q stays between its start and g, inside [min, max].
      this.#q[i] = s > 0 ? Math.min(q, g) : Math.max(q, g);
    }
  }
}
