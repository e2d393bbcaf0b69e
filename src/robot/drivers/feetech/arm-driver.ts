/**
 * A {@link RobotDriver} for arms of STS3215 servos on one Feetech bus — the SO-100/SO-101 by default.
 * It speaks the robot's raw layout (Eq. 1: a⁽ᵉ⁾, one entry per joint, rad or m) and converts with the
 * calibration (θ = direction · (ticks − zeroTicks) · 2π/4096, or a linear gripper width):
 *
 * - `connect`: opens the transport, pings every servo (naming those that do not answer), checks the
 *   model number and any Homing_Offset register the calibration depends on, sets each goal to the
 *   present position and only then enables torque, so the arm does not jump;
 * - `readState`: one SYNC_READ of present position, velocity, load, voltage and temperature (56…63);
 * - `sendAction`: one SYNC_WRITE of goal positions, each clamped to the calibration's tick range;
 * - `hold`: goal := present position; `stop`: hold, then close the transport (torque stays on unless
 *   `releaseTorqueOnStop`); `emergencyStop`: a broadcast torque-off (the arm goes limp), latched.
 *
 * Joint-limit and velocity clamping, the watchdog and command validation live in `SafeDriver`; wrap
 * this driver in it. A bus failure (timeout, corrupt replies, a servo reporting overload…) rejects
 * the call, emits a `fault` event and puts the driver in `fault` until it reconnects.
 * @module
 */
import { systemClock, type Clock } from '../../clock.js';
import { DriverEvents, DriverStateError, type DriverInfo, type DriverListener, type DriverStatus, type RobotDriver, type RobotState } from '../../driver.js';
import { getRobot } from '../../embodiments/registry.js';
import type { Robot } from '../../embodiments/robot.js';
import { validateAction } from '../../safety.js';
import { FeetechBus, type FeetechBusOptions } from './bus.js';
import { clampTicks, jointUnit, positionToTicks, ticksToPosition, type Calibration, type JointCalibration } from './calibration.js';
import { STS3215_MODEL_NUMBER, decodeRegister, encodeRegister, registerSpec } from './control-table.js';
import { BROADCAST_ID } from './protocol.js';
import type { ByteTransport } from './transport.js';

/** Options of {@link FeetechArmDriver}. */
export interface FeetechArmOptions {
  /** Opens the transport; called by every `connect()` (e.g. `() => openSerialPortTransport('/dev/ttyACM0')`). */
  readonly transport: () => ByteTransport | Promise<ByteTransport>;
  /** Per-joint calibration; must cover every joint of the robot with the joint's unit. */
  readonly calibration: Calibration;
  /** The robot (default: the registered `so101`). */
  readonly robot?: Robot;
  /** Bus timeouts, retries and status-error policy. */
  readonly bus?: FeetechBusOptions;
  /** Time source for timestamps (default the system clock). */
  readonly clock?: Clock;
  /** Δt reported in `info` (default `robot.controlPeriod`). */
  readonly controlPeriod?: number;
  /** Check that every servo reports the STS3215 model number (default true). */
  readonly checkModel?: boolean;
  /** Disable torque on `stop()` (default false: the arm keeps holding its pose). */
  readonly releaseTorqueOnStop?: boolean;
}

/** What the servos reported with the last state, per joint in raw order. */
export interface ArmTelemetry {
  /** Present position in ticks. */
  readonly ticks: Int32Array;
  /** Load in 0.1 % of the maximum torque (signed by direction). */
  readonly load: Float64Array;
  /** Supply voltage in volts. */
  readonly voltage: Float64Array;
  /** Temperature in °C. */
  readonly temperature: Float64Array;
}

const STATE_START = registerSpec('presentPosition').address; // 56…63: position, velocity, load, voltage, temperature
const STATE_LENGTH = registerSpec('presentTemperature').address + 1 - STATE_START;

/** The Feetech arm driver of the module comment. */
export class FeetechArmDriver implements RobotDriver {
  /** `feetech-sts3215`, the robot and the control period. */
  readonly info: DriverInfo;
  /** The calibration of each joint, in raw order. */
  readonly joints: readonly JointCalibration[];
  readonly #ids: number[];
  readonly #options: FeetechArmOptions;
  readonly #clock: Clock;
  readonly #events = new DriverEvents();
  #bus: FeetechBus | undefined;
  #status: DriverStatus = 'disconnected';
  #latched = false;
  #telemetry: ArmTelemetry | undefined;

  /** A driver for `options.robot` (default SO-101); nothing is opened until `connect()`. */
  constructor(options: FeetechArmOptions) {
    const fn = 'FeetechArmDriver';
    if (typeof options?.transport !== 'function') throw new TypeError(`${fn}: options.transport must be a function that opens a ByteTransport`);
    const robot = options.robot ?? getRobot('so101');
    const cal = options.calibration;
    if (!(cal?.joints instanceof Map)) throw new TypeError(`${fn}: options.calibration must come from parseCalibration (or fromLeRobotCalibration)`);
    const extra = [...cal.joints.keys()].filter((n) => !robot.jointNames.includes(n));
    if (extra.length > 0) throw new RangeError(`${fn}: the calibration has joints "${extra.join('", "')}" that robot "${robot.name}" does not (${robot.jointNames.join(', ')})`);
    this.joints = Object.freeze(
      robot.jointNames.map((name, i) => {
        const j = cal.joints.get(name);
        if (j === undefined) throw new RangeError(`${fn}: the calibration has no joint "${name}" of robot "${robot.name}"`);
        const unit = robot.spec.joints[i]!.unit;
        if (jointUnit(j) !== unit) throw new RangeError(`${fn}: joint "${name}" is in ${unit} on robot "${robot.name}" but its calibration maps to ${jointUnit(j)}${unit === 'm' ? ' (give it a width map)' : ''}`);
        return j;
      }),
    );
    this.#ids = this.joints.map((j) => j.id);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const controlPeriod = options.controlPeriod ?? robot.controlPeriod;
    if (!Number.isFinite(controlPeriod) || controlPeriod <= 0) throw new RangeError(`${fn}: controlPeriod must be a finite number of seconds > 0, got ${controlPeriod}`);
    this.info = Object.freeze({ driver: 'feetech-sts3215', robot, controlPeriod });
  }

  /** The lifecycle state (`estopped` while latched). */
  get status(): DriverStatus {
    return this.#latched ? 'estopped' : this.#status;
  }

  /** The bus while connected (for diagnostics: stats, raw register access). */
  get bus(): FeetechBus | undefined {
    return this.#bus;
  }

  /** What the servos reported with the last `readState`, or undefined before it. */
  get telemetry(): ArmTelemetry | undefined {
    return this.#telemetry;
  }

  /** Opens the bus, checks every servo, holds the present pose and enables torque. */
  async connect(): Promise<void> {
    const fn = 'FeetechArmDriver.connect';
    await this.#closeBus();
    const bus = new FeetechBus(await this.#options.transport(), this.#options.bus);
    this.#bus = bus;
    try {
      const missing: string[] = [];
      for (let i = 0; i < this.#ids.length; i++) {
        try {
          await bus.ping(this.#ids[i]!);
        } catch (e) {
          missing.push(`${this.info.robot.jointNames[i]} (id ${this.#ids[i]}: ${e instanceof Error ? e.message : String(e)})`);
        }
      }
      if (missing.length > 0) throw new Error(`${fn}: servos not answering: ${missing.join('; ')}`);
      if (this.#options.checkModel ?? true) {
        const models = await bus.syncReadRegister(this.#ids, 'modelNumber');
        for (const [id, m] of models) if (m !== STS3215_MODEL_NUMBER) throw new Error(`${fn}: servo ${id} reports model ${m}, not the STS3215 (${STS3215_MODEL_NUMBER})`);
      }
      const checked = this.joints.filter((j) => j.homingOffsetRegister !== undefined);
      if (checked.length > 0) {
        const offsets = await bus.syncReadRegister(checked.map((j) => j.id), 'homingOffset');
        for (const j of checked) {
          const got = offsets.get(j.id)!;
          if (got !== j.homingOffsetRegister) throw new Error(`${fn}: servo ${j.id} has Homing_Offset ${got} but the calibration was made with ${j.homingOffsetRegister}; recalibrate or restore the register`);
        }
      }
      await this.#holdPresent(bus);
      if (!this.#latched) await bus.setTorque(this.#ids, true);
    } catch (e) {
      await this.#closeBus();
      this.#setStatus('disconnected');
      throw e;
    }
    this.#setStatus('ready');
  }

  /** One SYNC_READ of positions and velocities (plus load, voltage and temperature in {@link FeetechArmDriver.telemetry}). */
  async readState(): Promise<RobotState> {
    const fn = 'FeetechArmDriver.readState';
    const bus = this.#connected(fn);
    const raw = await this.#guard(fn, () => bus.syncRead(this.#ids, STATE_START, STATE_LENGTH));
    const n = this.joints.length;
    const positions = new Float64Array(n);
    const velocities = new Float64Array(n);
    const t: ArmTelemetry = { ticks: new Int32Array(n), load: new Float64Array(n), voltage: new Float64Array(n), temperature: new Float64Array(n) };
    this.joints.forEach((j, i) => {
      const b = raw.get(j.id)!;
      const ticks = decodeRegister('presentPosition', b, 0);
      const speed = decodeRegister('presentVelocity', b, 2);
      positions[i] = ticksToPosition(j, ticks);
      velocities[i] = ticksToPosition(j, ticks + speed) - positions[i]!; // the map is affine, so this is the rate
      t.ticks[i] = ticks;
      t.load[i] = decodeRegister('presentLoad', b, 4);
      t.voltage[i] = decodeRegister('presentVoltage', b, 6) / 10;
      t.temperature[i] = decodeRegister('presentTemperature', b, 7);
    });
    this.#telemetry = t;
    return { positions, velocities, timestamp: this.#clock.now() };
  }

  /** Converts `action` to ticks (clamped to each joint's tick range) and sends it with one SYNC_WRITE. */
  async sendAction(action: ArrayLike<number>): Promise<void> {
    const fn = 'FeetechArmDriver.sendAction';
    const bus = this.#active(fn);
    validateAction(this.info.robot, action, fn);
    const goals = this.joints.map((j, i) => [j.id, clampTicks(j, positionToTicks(j, action[i]!))] as const);
    await this.#guard(fn, () => bus.syncWriteRegister('goalPosition', goals));
    if (this.#status === 'holding') this.#setStatus('ready');
  }

  /** Holds the present position (goal := present); status `holding` until the next action. */
  async hold(): Promise<void> {
    const fn = 'FeetechArmDriver.hold';
    const bus = this.#active(fn);
    await this.#guard(fn, () => this.#holdPresent(bus));
    this.#setStatus('holding');
  }

  /** Holds, optionally releases torque, and closes the transport; status `stopped`. */
  async stop(): Promise<void> {
    const bus = this.#bus;
    try {
      if (bus && (this.#status === 'ready' || this.#status === 'holding') && !this.#latched) {
        await this.#holdPresent(bus);
        if (this.#options.releaseTorqueOnStop) await bus.setTorque(this.#ids, false);
      }
    } finally {
      await this.#closeBus();
      this.#setStatus('stopped');
    }
  }

  /** Broadcast torque-off (no reply awaited, so a silent servo cannot delay it), then latch. */
  async emergencyStop(): Promise<void> {
    const previous = this.status;
    this.#latched = true;
    if (previous !== 'estopped') this.#events.emit({ type: 'status', status: 'estopped', previous, time: this.#clock.now() });
    const bus = this.#bus;
    if (bus === undefined || bus.closed) return;
    const { address } = registerSpec('torqueEnable');
    await this.#guard('FeetechArmDriver.emergencyStop', () => bus.write(BROADCAST_ID, address, encodeRegister('torqueEnable', 0)));
  }

  /** Clears the latch: holds the present pose and re-enables torque when connected. */
  async resetEmergencyStop(): Promise<void> {
    if (!this.#latched) return;
    const bus = this.#bus;
    const connected = bus !== undefined && (this.#status === 'ready' || this.#status === 'holding');
    if (connected) {
      await this.#guard('FeetechArmDriver.resetEmergencyStop', async () => {
        await this.#holdPresent(bus);
        await bus.setTorque(this.#ids, true);
      });
      this.#status = 'ready';
    }
    this.#latched = false;
    this.#events.emit({ type: 'status', status: this.#status, previous: 'estopped', time: this.#clock.now() });
  }

  /** Subscribes to events. */
  on(listener: DriverListener): () => void {
    return this.#events.on(listener);
  }

  async #holdPresent(bus: FeetechBus): Promise<void> {
    const present = await bus.syncReadRegister(this.#ids, 'presentPosition');
    await bus.syncWriteRegister('goalPosition', this.joints.map((j) => [j.id, clampTicks(j, present.get(j.id)!)] as const));
  }

  /** Runs a bus call; a failure becomes a `fault` event and status (unless latched) and is rethrown. */
  async #guard<T>(fn: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const message = `${fn}: ${error instanceof Error ? error.message : String(error)}`;
      this.#events.emit({ type: 'fault', message, error, time: this.#clock.now() });
      this.#setStatus('fault');
      throw error;
    }
  }

  #connected(fn: string): FeetechBus {
    const s = this.#status;
    if (this.#bus === undefined || s === 'disconnected' || s === 'stopped') throw new DriverStateError(`${fn}: "${this.info.robot.name}" is ${s}; connect() first`, s);
    return this.#bus;
  }

  #active(fn: string): FeetechBus {
    const s = this.status;
    if (s === 'estopped') throw new DriverStateError(`${fn}: emergency stop is latched on "${this.info.robot.name}"; call resetEmergencyStop() first`, s);
    if (s === 'fault') throw new DriverStateError(`${fn}: "${this.info.robot.name}" is in fault; reconnect first`, s);
    const bus = this.#connected(fn);
    if (s !== 'ready' && s !== 'holding') throw new DriverStateError(`${fn}: "${this.info.robot.name}" is ${s}; connect() first`, s);
    return bus;
  }

  #setStatus(status: DriverStatus): void {
    const previous = this.status;
    this.#status = status;
    if (this.status !== previous) this.#events.emit({ type: 'status', status: this.status, previous, time: this.#clock.now() });
  }

  async #closeBus(): Promise<void> {
    const bus = this.#bus;
    this.#bus = undefined;
    if (bus) await bus.close().catch(() => undefined);
  }
}
