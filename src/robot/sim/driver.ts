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
 * change; `observe` gives the runtime's observation (image, instruction, unified state). The lifecycle
 * follows `SimulatedRobot`: `hold`, `stop`, `emergencyStop` freeze the command at the current state, and
 * actions are refused with a {@link DriverStateError} naming the state.
 * @module
 */
import { systemClock, type Clock } from '../clock.js';
import { DriverEvents, DriverStateError, type DriverInfo, type DriverListener, type DriverStatus, type RobotDriver, type RobotState } from '../driver.js';
import type { TabletopWorld, SimObservation } from './world.js';

/** Options of {@link SimWorldDriver}. */
export interface SimWorldDriverOptions {
  /** Time source (default `systemClock`). */
  readonly clock?: Clock;
}

/** The driver of the module doc. */
export class SimWorldDriver implements RobotDriver {
  /** `sim-tabletop`, the world's robot and Δt. */
  readonly info: DriverInfo;
  /** The world driven. */
  readonly world: TabletopWorld;
  readonly #clock: Clock;
  readonly #events = new DriverEvents();
  #status: DriverStatus = 'disconnected';
  #latched = false;
  #origin = 0;
  #stepsSinceOrigin = 0;
  #command: Float64Array;
  #previous: Float64Array;
  #commands = 0;

  /** A driver for `world` (not yet connected). */
  constructor(world: TabletopWorld, opts: SimWorldDriverOptions = {}) {
    if (world === null || typeof world !== 'object' || typeof world.step !== 'function') throw new TypeError(`SimWorldDriver: world must be a TabletopWorld, got ${String(world)}`);
    this.world = world;
    this.#clock = opts.clock ?? systemClock;
    this.info = Object.freeze({ driver: 'sim-tabletop', robot: world.robot, controlPeriod: world.dt });
    this.#command = world.state();
    this.#previous = world.state();
  }

  /** The lifecycle state (`estopped` while latched). */
  get status(): DriverStatus {
    return this.#latched ? 'estopped' : this.#status;
  }

  /** Number of commands accepted. */
  get commandsReceived(): number {
    return this.#commands;
  }

  /** The current command (raw, clamped). */
  get command(): Float64Array {
    return this.#command.slice();
  }

  /** Starts (or restarts) holding the current state; world time starts now. */
  async connect(): Promise<void> {
    this.#advance();
    this.#restartClock();
    this.#command = this.world.state();
    this.#setStatus('ready');
  }

  /** The raw state after the last whole control period. */
  async readState(): Promise<RobotState> {
    this.#checkConnected('SimWorldDriver.readState');
    this.#advance();
    const s = this.world.state();
    const dt = this.world.dt;
    return { positions: s, velocities: s.map((v, i) => (v - this.#previous[i]!) / dt), timestamp: this.#origin + this.#stepsSinceOrigin * dt };
  }

  /** The observation for the runtime: image, instruction, unified state (after advancing the world). */
  observe(): SimObservation {
    this.#checkConnected('SimWorldDriver.observe');
    this.#advance();
    return this.world.observation();
  }

  /** Sets the commanded target (raw; clamped to the limits by the world). */
  async sendAction(action: ArrayLike<number>): Promise<void> {
    const fn = 'SimWorldDriver.sendAction';
    this.#checkActive(fn);
    const a = this.world.clampAction(action, fn);
    this.#advance();
    this.#command = a;
    this.#commands++;
    if (this.#status === 'holding') this.#setStatus('ready');
  }

  /** Holds the current state. */
  async hold(): Promise<void> {
    this.#checkActive('SimWorldDriver.hold');
    this.#freeze();
    this.#setStatus('holding');
  }

  /** Holds the current state and stops; world time stops until `connect()`. */
  async stop(): Promise<void> {
    this.#freeze();
    this.#setStatus('stopped');
  }

  /** Freezes the command at the current state and latches until {@link SimWorldDriver.resetEmergencyStop}. */
  async emergencyStop(): Promise<void> {
    const previous = this.status;
    this.#freeze();
    this.#latched = true;
    if (previous !== 'estopped') this.#events.emit({ type: 'status', status: 'estopped', previous, time: this.#clock.now() });
  }

  /** Clears the latch (a no-op when not latched), holding the current state; world time restarts now. */
  async resetEmergencyStop(): Promise<void> {
    if (!this.#latched) return;
    this.#latched = false;
    this.#restartClock();
    this.#command = this.world.state();
    const status = this.#status === 'ready' || this.#status === 'holding' ? 'ready' : this.#status;
    this.#status = status;
    this.#events.emit({ type: 'status', status, previous: 'estopped', time: this.#clock.now() });
  }

  /** Subscribes to events. */
  on(listener: DriverListener): () => void {
    return this.#events.on(listener);
  }

  /** Simulates a fault: the world freezes, a `fault` event is emitted, actions throw until `connect()`. */
  injectFault(message: string): void {
    this.#freeze();
    this.#setStatus('fault');
    this.#events.emit({ type: 'fault', message: `SimWorldDriver "${this.world.robot.name}": ${message}`, time: this.#clock.now() });
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

  #freeze(): void {
    this.#advance();
    this.#command = this.world.state();
  }

  #checkConnected(fn: string): void {
    const s = this.#status;
    if (s === 'disconnected' || s === 'stopped') throw new DriverStateError(`${fn}: "${this.world.robot.name}" is ${s}; connect() first`, s);
  }

  #checkActive(fn: string): void {
    const s = this.status;
    if (s === 'ready' || s === 'holding') return;
    const why = s === 'estopped' ? 'emergency stop is latched; call resetEmergencyStop()' : s === 'fault' ? 'it is in fault; reconnect' : `it is ${s}; connect() first`;
    throw new DriverStateError(`${fn}: "${this.world.robot.name}" refuses actions: ${why}`, s);
  }

  #setStatus(status: DriverStatus): void {
    const previous = this.status;
    this.#status = status;
    if (this.status !== previous) this.#events.emit({ type: 'status', status: this.status, previous, time: this.#clock.now() });
  }
}
