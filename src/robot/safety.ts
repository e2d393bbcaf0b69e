/**
 * Safety in the common path of every {@link RobotDriver}: command validation, joint-limit and velocity
 * clamping, a watchdog that holds position when commands stop, and a latching emergency stop.
 *
 * A command a⁽ᵉ⁾ (the raw vector of Eq. 1) is checked and clamped joint by joint against the robot's
 * limits: with r the reference (the last commanded position, or the measured one after connect, hold or
 * reset) and δ = maxVelocity · Δt the largest change per control period,
 *
 *   a_safe = clamp(clamp(a, r − δ, r + δ), min, max).
 *
 * Position limits are applied last, so every command sent lies inside [min, max]; when r itself is
 * inside them (always, once one command has been sent) the change is also at most δ.
 * @module
 */
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { DriverEvents, DriverStateError, type ClampRecord, type DriverInfo, type DriverListener, type DriverStatus, type RobotDriver, type RobotState } from './driver.js';
import type { Robot } from './embodiments/robot.js';

/**
 * Throws (naming `fn`, the robot, and the joint and value) unless `action` has `robot.dof` finite
 * numbers.
 */
export function validateAction(robot: Robot, action: ArrayLike<number>, fn = 'validateAction'): void {
  if (action === null || typeof action !== 'object' || typeof action.length !== 'number') throw new TypeError(`${fn}: action for "${robot.name}" must be an array of ${robot.dof} numbers, got ${action === null ? 'null' : typeof action}`);
  if (action.length !== robot.dof) throw new RangeError(`${fn}: action for "${robot.name}" needs ${robot.dof} values (one per joint), got ${action.length}`);
  for (let i = 0; i < robot.dof; i++) {
    const v = action[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${fn}: joint "${robot.jointNames[i]}" (index ${i}) of "${robot.name}" is ${String(v)}; every value must be a finite number`);
  }
}

/** What {@link clampAction} returns: the safe command and the clamps applied. */
export interface ClampResult {
  /** The command to send. */
  readonly action: Float64Array;
  /** One record per clamped joint (empty when nothing was clamped). */
  readonly clamps: ClampRecord[];
}

/**
 * a_safe = clamp(clamp(a, r − δ, r + δ), min, max) joint by joint (see the module doc), with δ =
 * `robot.maxStep` (scaled by `stepScale`, default 1). `reference` omitted: no velocity clamp. The action
 * must be valid ({@link validateAction}); the records say which limit bound each clamped joint.
 */
export function clampAction(robot: Robot, action: ArrayLike<number>, reference?: ArrayLike<number>, stepScale = 1): ClampResult {
  if (reference !== undefined && reference.length !== robot.dof) throw new RangeError(`clampAction: reference for "${robot.name}" needs ${robot.dof} values, got ${reference.length}`);
  if (!(stepScale > 0) || !Number.isFinite(stepScale)) throw new RangeError(`clampAction: stepScale must be finite and > 0, got ${stepScale}`);
  const out = new Float64Array(robot.dof);
  const clamps: ClampRecord[] = [];
  for (let i = 0; i < robot.dof; i++) {
    const requested = action[i]!;
    let v = requested;
    let reason: 'position' | 'velocity' | null = null;
    if (reference !== undefined) {
      const r = reference[i]!;
      const d = robot.maxStep[i]! * stepScale;
      if (v > r + d) (v = r + d), (reason = 'velocity');
      else if (v < r - d) (v = r - d), (reason = 'velocity');
    }
    if (v > robot.upper[i]!) (v = robot.upper[i]!), (reason = 'position');
    else if (v < robot.lower[i]!) (v = robot.lower[i]!), (reason = 'position');
    out[i] = v;
    if (reason !== null) clamps.push({ index: i, joint: robot.jointNames[i]!, requested, sent: v, reason });
  }
  return { action: out, clamps };
}

/** Options of {@link SafeDriver}. */
export interface SafeDriverOptions {
  /** Time source for the watchdog and timestamps (default `systemClock`). */
  readonly clock?: Clock;
  /**
   * Seconds without an accepted command after which the watchdog holds position (default: 5 control
   * periods); `Infinity` disables the watchdog.
   */
  readonly watchdogTimeout?: number;
  /**
   * How the watchdog holds: `'driver'` (default) calls the wrapped driver's `hold()`; `'resend'` sends
   * the last safe command again.
   */
  readonly holdMode?: 'driver' | 'resend';
  /** Multiplies the per-period step δ (default 1); e.g. 2 tolerates one late command at full speed. */
  readonly stepScale?: number;
}

/**
 * Wraps a {@link RobotDriver} with the safety of the module doc. Every command is validated (length,
 * NaN, ±∞ — a bad one is rejected whole with an error naming the joint and value) and clamped; a
 * watchdog, re-armed by each accepted command, holds position once no command arrived for
 * `watchdogTimeout` seconds (and not before); {@link SafeDriver.emergencyStop} latches — commands throw
 * until {@link SafeDriver.resetEmergencyStop}, through `stop()` and `connect()` too. Events of the wrapped
 * driver are forwarded; clamps and watchdog holds are reported as `clamped` and `watchdog` events.
 */
export class SafeDriver implements RobotDriver {
  /** The wrapped driver. */
  readonly inner: RobotDriver;
  /** The info of the wrapped driver. */
  readonly info: DriverInfo;
  /** The watchdog timeout in seconds (`Infinity`: disabled). */
  readonly watchdogTimeout: number;
  readonly #clock: Clock;
  readonly #holdMode: 'driver' | 'resend';
  readonly #stepScale: number;
  readonly #events = new DriverEvents();
  #status: DriverStatus = 'disconnected';
  #latched = false;
  #reference: Float64Array | null = null;
  #lastSent: Float64Array | null = null;
  #lastCommandTime = -Infinity;
  #timer: TimerHandle | null = null;
  #watchdogTrips = 0;

  /** Wraps `inner`; see {@link SafeDriverOptions}. */
  constructor(inner: RobotDriver, opts: SafeDriverOptions = {}) {
    if (inner === null || typeof inner !== 'object' || typeof inner.sendAction !== 'function') throw new TypeError('SafeDriver: inner must be a RobotDriver');
    this.inner = inner;
    this.info = inner.info;
    this.#clock = opts.clock ?? systemClock;
    this.watchdogTimeout = opts.watchdogTimeout ?? 5 * inner.info.controlPeriod;
    if (typeof this.watchdogTimeout !== 'number' || Number.isNaN(this.watchdogTimeout) || this.watchdogTimeout <= 0) throw new RangeError(`SafeDriver: watchdogTimeout must be > 0 seconds (or Infinity), got ${this.watchdogTimeout}`);
    this.#holdMode = opts.holdMode ?? 'driver';
    if (this.#holdMode !== 'driver' && this.#holdMode !== 'resend') throw new RangeError(`SafeDriver: holdMode must be 'driver' or 'resend', got ${JSON.stringify(this.#holdMode)}`);
    this.#stepScale = opts.stepScale ?? 1;
    if (!(this.#stepScale > 0) || !Number.isFinite(this.#stepScale)) throw new RangeError(`SafeDriver: stepScale must be finite and > 0, got ${this.#stepScale}`);
    inner.on((e) => {
      if (e.type === 'fault') {
        this.#disarm();
        if (!this.#latched) this.#setStatus('fault');
      }
      if (e.type !== 'status') this.#events.emit(e);
    });
  }

  /** `estopped` while the emergency stop is latched; otherwise the lifecycle state. */
  get status(): DriverStatus {
    return this.#latched ? 'estopped' : this.#status;
  }

  /** True while the emergency stop is latched. */
  get latched(): boolean {
    return this.#latched;
  }

  /** The last command sent to the wrapped driver (after clamping), or null. */
  get lastCommand(): Float64Array | null {
    return this.#lastSent === null ? null : this.#lastSent.slice();
  }

  /** How many times the watchdog has held position. */
  get watchdogTrips(): number {
    return this.#watchdogTrips;
  }

  /** Connects the wrapped driver and takes its measured position as the velocity reference. */
  async connect(): Promise<void> {
    await this.inner.connect();
    const state = await this.#read('SafeDriver.connect');
    this.#reference = state.positions.slice();
    this.#lastSent = null;
    this.#setStatus('ready');
  }

  /** The wrapped driver's state, checked to have one finite position per joint. */
  async readState(): Promise<RobotState> {
    return this.#read('SafeDriver.readState');
  }

  /** Validates, clamps and sends `action`; re-arms the watchdog. Throws while latched, faulted or not connected. */
  async sendAction(action: ArrayLike<number>): Promise<void> {
    const fn = 'SafeDriver.sendAction';
    this.#checkActive(fn);
    const robot = this.info.robot;
    validateAction(robot, action, fn);
    const { action: safe, clamps } = clampAction(robot, action, this.#reference ?? undefined, this.#stepScale);
    const now = this.#clock.now();
    if (clamps.length > 0) this.#events.emit({ type: 'clamped', clamps, time: now });
    this.#reference = safe;
    this.#lastSent = safe;
    this.#lastCommandTime = now;
    if (this.#status === 'holding') this.#setStatus('ready');
    this.#arm();
    await this.inner.sendAction(safe);
  }

  /** Holds position through the wrapped driver; the watchdog is disarmed until the next command. */
  async hold(): Promise<void> {
    this.#checkActive('SafeDriver.hold');
    this.#disarm();
    this.#setStatus('holding');
    await this.inner.hold();
  }

  /** Disarms the watchdog and stops the wrapped driver. A latched emergency stop stays latched. */
  async stop(): Promise<void> {
    this.#disarm();
    await this.inner.stop();
    this.#setStatus('stopped');
  }

  /** Latches at once (before the wrapped driver is even told), disarms the watchdog, then stops the wrapped driver. */
  async emergencyStop(): Promise<void> {
    const previous = this.status;
    this.#latched = true;
    this.#disarm();
    if (previous !== 'estopped') this.#events.emit({ type: 'status', status: 'estopped', previous, time: this.#clock.now() });
    await this.inner.emergencyStop();
  }

  /** Clears the latch (a no-op when not latched): resets the wrapped driver and re-reads the measured position as the reference. */
  async resetEmergencyStop(): Promise<void> {
    const fn = 'SafeDriver.resetEmergencyStop';
    if (!this.#latched) return;
    if (this.#status === 'disconnected' || this.#status === 'stopped') throw new DriverStateError(`${fn}: the driver is ${this.#status}; connect() first`, this.#status);
    await this.inner.resetEmergencyStop();
    const state = await this.#read(fn);
    this.#reference = state.positions.slice();
    this.#lastSent = null;
    this.#latched = false;
    this.#status = 'ready';
    this.#events.emit({ type: 'status', status: 'ready', previous: 'estopped', time: this.#clock.now() });
  }

  /** Subscribes to events (the wrapped driver's, plus status, clamp and watchdog events). */
  on(listener: DriverListener): () => void {
    return this.#events.on(listener);
  }

  /** Seconds since the last accepted command (`Infinity` before the first). */
  silence(): number {
    return this.#clock.now() - this.#lastCommandTime;
  }

  #checkActive(fn: string): void {
    const s = this.status;
    if (s === 'estopped') throw new DriverStateError(`${fn}: emergency stop is latched on "${this.info.robot.name}"; call resetEmergencyStop() first`, s);
    if (s === 'fault') throw new DriverStateError(`${fn}: "${this.info.robot.name}" is in fault; reconnect first`, s);
    if (s !== 'ready' && s !== 'holding') throw new DriverStateError(`${fn}: "${this.info.robot.name}" is ${s}; connect() first`, s);
  }

  async #read(fn: string): Promise<RobotState> {
    const state = await this.inner.readState();
    const robot = this.info.robot;
    const p = state?.positions;
    if (!(p instanceof Float64Array) || p.length !== robot.dof) throw new RangeError(`${fn}: the driver returned ${p instanceof Float64Array ? p.length : 'no'} positions for "${robot.name}", expected ${robot.dof}`);
    for (let i = 0; i < p.length; i++) if (!Number.isFinite(p[i]!)) throw new RangeError(`${fn}: measured joint "${robot.jointNames[i]}" (index ${i}) is ${p[i]}`);
    return state;
  }

  #setStatus(status: DriverStatus): void {
    const previous = this.status;
    this.#status = status;
    const now = this.status;
    if (now !== previous) this.#events.emit({ type: 'status', status: now, previous, time: this.#clock.now() });
  }

  #arm(): void {
    this.#disarm();
    if (this.watchdogTimeout === Infinity) return;
    this.#timer = this.#clock.setTimer(() => this.#trip(), this.watchdogTimeout);
  }

  #disarm(): void {
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
  }

  #trip(): void {
    this.#timer = null;
    if (this.status !== 'ready') return;
    this.#watchdogTrips++;
    const held = this.#lastSent ?? this.#reference ?? new Float64Array(this.info.robot.dof);
    this.#setStatus('holding');
    this.#events.emit({ type: 'watchdog', silence: this.silence(), held: held.slice(), time: this.#clock.now() });
    const done = this.#holdMode === 'resend' && this.#lastSent !== null ? this.inner.sendAction(this.#lastSent) : this.inner.hold();
    done.catch((error: unknown) => {
      this.#events.emit({ type: 'fault', message: `SafeDriver watchdog: holding "${this.info.robot.name}" failed: ${error instanceof Error ? error.message : String(error)}`, error, time: this.#clock.now() });
      if (!this.#latched) this.#setStatus('fault');
    });
  }
}
