/**
 * The tabletop world as a {@link RobotDriver}, so the real-time runtime of §6 (Eq. 22-24) can drive it.
 * World time follows the driver's clock: whenever the driver is called, the world is advanced by the
 * whole control periods Δt that have passed since the last world step (each under the command current
 * at that time), so the simulation is a pure function of the commands and the clock, whatever the
 * polling rate. Time does not run for the world while it is disconnected, stopped, emergency-stopped or
 * in fault; on (re)connecting or clearing the stop, the step grid restarts at that moment.
 *
 * `sendAction` sets the commanded target (raw, clamped to the limits by the world); `readState` returns
 * the raw state after the last whole step (timestamped at that step) with velocities from the last step's
 * change; `observe` gives the runtime's observation (image, instruction, unified state). The lifecycle is
 * {@link SimulatedLifecycle}'s, shared with `SimulatedRobot`: `hold`, `stop`, `emergencyStop` freeze the
 * command at the current state, and actions are refused with a `DriverStateError` naming the state.
 * @module
 */
import { systemClock, type Clock } from '../clock.js';
import type { DriverInfo, RobotDriver, RobotState } from '../driver.js';
import { SimulatedLifecycle } from '../simulated-lifecycle.js';
import type { TabletopWorld, SimObservation } from './world.js';

/** Options of {@link SimWorldDriver}. */
export interface SimWorldDriverOptions {
  /** Time source (default `systemClock`). */
  readonly clock?: Clock;
}

/** The driver of the module doc. */
export class SimWorldDriver extends SimulatedLifecycle implements RobotDriver {
  /** `sim-tabletop`, the world's robot and Δt. */
  readonly info: DriverInfo;
  /** The world driven. */
  readonly world: TabletopWorld;
  readonly #clock: Clock;
  #origin = 0;
  #stepsSinceOrigin = 0;
  #command: Float64Array;
  #previous: Float64Array;

  /** A driver for `world` (not yet connected). */
  constructor(world: TabletopWorld, opts: SimWorldDriverOptions = {}) {
    super('SimWorldDriver');
    if (world === null || typeof world !== 'object' || typeof world.step !== 'function') throw new TypeError(`SimWorldDriver: world must be a TabletopWorld, got ${String(world)}`);
    this.world = world;
    this.#clock = opts.clock ?? systemClock;
    this.info = Object.freeze({ driver: 'sim-tabletop', robot: world.robot, controlPeriod: world.dt });
    this.#command = world.state();
    this.#previous = world.state();
  }

  /** The current command (raw, clamped). */
  get command(): Float64Array {
    return this.#command.slice();
  }

  /** The raw state after the last whole control period. */
  async readState(): Promise<RobotState> {
    this.checkConnected('SimWorldDriver.readState');
    this.#advance();
    const s = this.world.state();
    const dt = this.world.dt;
    return { positions: s, velocities: s.map((v, i) => (v - this.#previous[i]!) / dt), timestamp: this.#origin + this.#stepsSinceOrigin * dt };
  }

  /** The observation for the runtime: image, instruction, unified state (after advancing the world). */
  observe(): SimObservation {
    this.checkConnected('SimWorldDriver.observe');
    this.#advance();
    return this.world.observation();
  }

  /** Sets the commanded target (raw; clamped to the limits by the world). */
  async sendAction(action: ArrayLike<number>): Promise<void> {
    const fn = 'SimWorldDriver.sendAction';
    this.checkActive(fn);
    const a = this.world.clampAction(action, fn);
    this.#advance();
    this.#command = a;
    this.accepted();
  }

  /** The robot's name, for messages. */
  protected robotName(): string {
    return this.world.robot.name;
  }

  /** The driver's clock. */
  protected now(): number {
    return this.#clock.now();
  }

  /** Steps the world up to now and makes its current state the command. */
  protected freeze(): void {
    this.#advance();
    this.#command = this.world.state();
  }

  /** World time restarts now, holding the current state (called before the status changes to running). */
  protected resume(): void {
    this.#advance();
    this.#restartClock();
    this.#command = this.world.state();
  }

  #running(): boolean {
    const s = this.status;
    return s === 'ready' || s === 'holding';
  }

  #restartClock(): void {
    this.#origin = this.#clock.now();
    this.#stepsSinceOrigin = 0;
  }

  /** Steps the world through every whole control period elapsed since the last step (only while running). */
  #advance(): void {
    if (!this.#running()) return;
    const due = Math.floor((this.#clock.now() - this.#origin) / this.world.dt + 1e-9);
    while (this.#stepsSinceOrigin < due) {
      this.#previous = this.world.state();
      this.world.step(this.#command);
      this.#stepsSinceOrigin++;
    }
  }
}
