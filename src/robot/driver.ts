/**
 * The robot driver contract: what every robot — the Feetech STS3215 bus, the simulated robot, the 2-D
 * world — offers the real-time runtime of §6. A driver speaks in the embodiment's raw layout: the
 * vector `a⁽ᵉ⁾` of Eq. 1 (`a = Φ_e(a⁽ᵉ⁾)`), entry r in the unit of the robot's joint r (rad or m).
 * Mapping to and from the unified space is the embodiment's job (`Robot.embodiment`), not the driver's.
 *
 * Safety does not live in each driver: `SafeDriver` wraps any driver and puts joint-limit and
 * velocity clamping, NaN rejection, a watchdog and a latching emergency stop in the common path.
 * @module
 */
import type { Robot } from './embodiments/robot.js';

/** A measured state in the embodiment's raw layout. */
export interface RobotState {
  /** Joint positions, one per raw entry (rad for revolute joints, m for prismatic joints and gripper widths). */
  readonly positions: Float64Array;
  /** Joint velocities (rad/s, m/s), when the hardware reports them. */
  readonly velocities?: Float64Array;
  /** When the state was measured, in seconds on the driver's clock. */
  readonly timestamp: number;
}

/**
 * A driver's lifecycle:
 * - `disconnected`: before {@link RobotDriver.connect} (or after a failed one);
 * - `ready`: connected and accepting actions;
 * - `holding`: connected, holding position (after a watchdog timeout or {@link RobotDriver.hold}); the next action resumes `ready`;
 * - `stopped`: after {@link RobotDriver.stop}; {@link RobotDriver.connect} starts again;
 * - `estopped`: emergency stop latched; actions throw until {@link RobotDriver.resetEmergencyStop};
 * - `fault`: a hardware or communication fault (see the `fault` event); actions throw until reconnected.
 */
export type DriverStatus = 'disconnected' | 'ready' | 'holding' | 'stopped' | 'estopped' | 'fault';

/** What a driver drives and how often it expects actions. */
export interface DriverInfo {
  /** The driver kind, e.g. `simulated`, `feetech-sts3215`. */
  readonly driver: string;
  /** The robot: embodiment (Eq. 1 mapping), joint limits, timing and UAC delay settings. */
  readonly robot: Robot;
  /** Δt, the period at which actions are expected, in seconds (usually `robot.controlPeriod`). */
  readonly controlPeriod: number;
}

/** A clamp applied by `SafeDriver` to one joint of one command. */
export interface ClampRecord {
  /** Raw index of the joint. */
  readonly index: number;
  /** The joint's name. */
  readonly joint: string;
  /** The commanded value. */
  readonly requested: number;
  /** The value sent. */
  readonly sent: number;
  /** Which limit applied. */
  readonly reason: 'position' | 'velocity';
}

/** The driver's status changed. */
export interface StatusEvent {
  /** Discriminator. */
  readonly type: 'status';
  /** The new status. */
  readonly status: DriverStatus;
  /** The status before. */
  readonly previous: DriverStatus;
  /** When, in seconds on the driver's clock. */
  readonly time: number;
}

/** A hardware or communication fault. */
export interface FaultEvent {
  /** Discriminator. */
  readonly type: 'fault';
  /** What went wrong, naming the driver. */
  readonly message: string;
  /** The underlying error, if any. */
  readonly error?: unknown;
  /** When, in seconds on the driver's clock. */
  readonly time: number;
}

/** A command was clamped before it was sent. */
export interface ClampedEvent {
  /** Discriminator. */
  readonly type: 'clamped';
  /** One record per clamped joint. */
  readonly clamps: readonly ClampRecord[];
  /** When, in seconds on the driver's clock. */
  readonly time: number;
}

/** The watchdog held position because commands stopped arriving. */
export interface WatchdogEvent {
  /** Discriminator. */
  readonly type: 'watchdog';
  /** Seconds since the last accepted command. */
  readonly silence: number;
  /** The position held (the last safe command). */
  readonly held: Float64Array;
  /** When, in seconds on the driver's clock. */
  readonly time: number;
}

/** What a driver reports to its listeners. */
export type DriverEvent = StatusEvent | FaultEvent | ClampedEvent | WatchdogEvent;

/** A listener of {@link DriverEvent}s. */
export type DriverListener = (event: DriverEvent) => void;

/**
 * A robot driver. All methods are async (serial buses and sockets are); a method that fails rejects
 * with an error naming the driver and what went wrong, and a hardware fault is also reported as a
 * `fault` event.
 */
export interface RobotDriver {
  /** The driver kind, the robot and the control period. */
  readonly info: DriverInfo;
  /** The current lifecycle state. */
  readonly status: DriverStatus;
  /** Opens the connection (port, socket, simulation) and enables the actuators; status becomes `ready`. */
  connect(): Promise<void>;
  /** The latest measured state, in the raw layout. */
  readState(): Promise<RobotState>;
  /** Commands target positions, one per raw entry (length `info.robot.dof`). */
  sendAction(action: ArrayLike<number>): Promise<void>;
  /** Holds the current (or last commanded) position; status becomes `holding` until the next action. */
  hold(): Promise<void>;
  /** Orderly shutdown: holds position, then releases the connection; status becomes `stopped`. */
  stop(): Promise<void>;
  /** Stops all motion at once (torque off or brakes, as the hardware allows) and latches: actions throw until reset. */
  emergencyStop(): Promise<void>;
  /** Clears a latched emergency stop; the driver holds its current position and becomes `ready`. */
  resetEmergencyStop(): Promise<void>;
  /** Subscribes to events; returns the function that unsubscribes. */
  on(listener: DriverListener): () => void;
}

/**
 * A small event fan-out for drivers (no Node `events`, so it runs in browsers): a listener that throws
 * is reported on the console and does not stop the others.
 */
export class DriverEvents {
  readonly #listeners = new Set<DriverListener>();

  /** Adds a listener; returns the function that removes it. */
  on(listener: DriverListener): () => void {
    if (typeof listener !== 'function') throw new TypeError(`DriverEvents.on: listener must be a function, got ${typeof listener}`);
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Delivers `event` to every listener. */
  emit(event: DriverEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch (e) {
        console.error(`DriverEvents: a listener of "${event.type}" threw`, e);
      }
    }
  }

  /** Number of listeners. */
  get size(): number {
    return this.#listeners.size;
  }
}

/** The error thrown for an action refused because of the driver's state (emergency stop, fault, not connected). */
export class DriverStateError extends Error {
  /** The status that refused the action. */
  readonly status: DriverStatus;

  /** An error saying what `operation` was refused in `status`. */
  constructor(message: string, status: DriverStatus) {
    super(message);
    this.name = 'DriverStateError';
    this.status = status;
  }
}
