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
import { DriverEvents, DriverStateError, type DriverInfo, type DriverListener, type DriverStatus, type RobotDriver, type RobotState } from './driver.js';
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
export class SimulatedRobot implements RobotDriver {
  /** `simulated`, the robot and the control period. */
  readonly info: DriverInfo;
  /** τ in seconds. */
  readonly timeConstant: number;
  readonly #robot: Robot;
  readonly #clock: Clock;
  readonly #events = new DriverEvents();
  readonly #q: Float64Array;
  readonly #target: Float64Array;
  #t: number;
  #status: DriverStatus = 'disconnected';
  #latched = false;
  #commands = 0;
  #lastCommand: Float64Array | null = null;

  /** A simulated `robot` at rest at `opts.initial` (default its home). */
  constructor(robot: Robot, opts: SimulatedRobotOptions = {}) {
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

  /** The lifecycle state (`estopped` while latched). */
  get status(): DriverStatus {
    return this.#latched ? 'estopped' : this.#status;
  }

  /** Number of commands accepted since construction. */
  get commandsReceived(): number {
    return this.#commands;
  }

  /** The last accepted command as received (before the simulated stops clamp it), or null. */
  get lastCommand(): Float64Array | null {
    return this.#lastCommand === null ? null : this.#lastCommand.slice();
  }

  /** The current target positions (commands clamped to the limits). */
  get target(): Float64Array {
    return this.#target.slice();
  }

  /** Starts (or restarts after `stop()` or a fault) holding the current position. */
  async connect(): Promise<void> {
    this.#advance();
    this.#target.set(this.#q);
    this.#setStatus('ready');
  }

  /** The state at `clock.now()`: positions, velocities, timestamp. */
  async readState(): Promise<RobotState> {
    if (this.#status === 'disconnected' || this.#status === 'stopped') throw new DriverStateError(`SimulatedRobot.readState: "${this.#robot.name}" is ${this.#status}; connect() first`, this.#status);
    this.#advance();
    const v = new Float64Array(this.#robot.dof);
    for (let i = 0; i < v.length; i++) v[i] = this.#speed(i);
    return { positions: this.#q.slice(), velocities: v, timestamp: this.#t };
  }

  /** Sets new targets (each clamped to the joint's limits, as hardware stops would). */
  async sendAction(action: ArrayLike<number>): Promise<void> {
    const fn = 'SimulatedRobot.sendAction';
    this.#checkActive(fn);
    validateAction(this.#robot, action, fn);
    this.#advance();
    const { lower, upper } = this.#robot;
    for (let i = 0; i < this.#robot.dof; i++) this.#target[i] = Math.min(upper[i]!, Math.max(lower[i]!, action[i]!));
    this.#lastCommand = Float64Array.from(action);
    this.#commands++;
    if (this.#status === 'holding') this.#setStatus('ready');
  }

  /** Holds the current position. */
  async hold(): Promise<void> {
    this.#checkActive('SimulatedRobot.hold');
    this.#freeze();
    this.#setStatus('holding');
  }

  /** Holds the current position and stops; `readState` and actions throw until `connect()`. */
  async stop(): Promise<void> {
    this.#freeze();
    this.#setStatus('stopped');
  }

  /** Freezes every joint where it is now and latches until {@link SimulatedRobot.resetEmergencyStop}. */
  async emergencyStop(): Promise<void> {
    const previous = this.status;
    this.#freeze();
    this.#latched = true;
    if (previous !== 'estopped') this.#events.emit({ type: 'status', status: 'estopped', previous, time: this.#t });
  }

  /** Clears the latch (a no-op when not latched), holding the current position. */
  async resetEmergencyStop(): Promise<void> {
    if (!this.#latched) return;
    this.#freeze();
    this.#latched = false;
    const status = this.#status === 'ready' || this.#status === 'holding' ? 'ready' : this.#status;
    this.#status = status;
    this.#events.emit({ type: 'status', status, previous: 'estopped', time: this.#t });
  }

  /** Subscribes to events. */
  on(listener: DriverListener): () => void {
    return this.#events.on(listener);
  }

  /** Simulates a hardware fault: the joints freeze, a `fault` event is emitted, actions throw until `connect()`. */
  injectFault(message: string): void {
    this.#freeze();
    this.#setStatus('fault');
    this.#events.emit({ type: 'fault', message: `SimulatedRobot "${this.#robot.name}": ${message}`, time: this.#t });
  }

  #checkActive(fn: string): void {
    const s = this.status;
    if (s === 'ready' || s === 'holding') return;
    const why = s === 'estopped' ? 'emergency stop is latched; call resetEmergencyStop()' : s === 'fault' ? 'it is in fault; reconnect' : `it is ${s}; connect() first`;
    throw new DriverStateError(`${fn}: "${this.#robot.name}" refuses actions: ${why}`, s);
  }

  #setStatus(status: DriverStatus): void {
    const previous = this.status;
    this.#status = status;
    if (this.status !== previous) this.#events.emit({ type: 'status', status: this.status, previous, time: this.#t });
  }

  #freeze(): void {
    this.#advance();
    this.#target.set(this.#q);
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
