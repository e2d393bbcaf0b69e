/**
 * The lifecycle every simulated driver shares (`SimulatedRobot`, the tabletop world's `SimWorldDriver`):
 * the {@link DriverStatus} machine, the latched emergency stop, status and fault events, and the checks
 * that refuse actions with a {@link DriverStateError} naming the state. A subclass supplies only its
 * physics: how to freeze at the current state, how to resume holding it, and its clock.
 *
 * - `connect()` resumes holding the current state and becomes `ready`;
 * - `hold()` freezes and becomes `holding` (the next accepted action makes it `ready` again);
 * - `stop()` freezes and becomes `stopped`; `emergencyStop()` freezes and latches `estopped`;
 * - `resetEmergencyStop()` resumes holding the current state and returns to `ready` (or to the state
 *   under the latch when that was not a running one);
 * - `injectFault(message)` freezes, becomes `fault` and emits a `fault` event.
 * @module
 */
import { DriverEvents, DriverStateError, type DriverListener, type DriverStatus } from './driver.js';

/** The shared lifecycle of the simulated drivers (see the module notes). */
export abstract class SimulatedLifecycle {
  readonly #events = new DriverEvents();
  #status: DriverStatus = 'disconnected';
  #latched = false;
  #commands = 0;

  /** A driver that names itself `kind` in messages (e.g. `SimulatedRobot`). */
  protected constructor(
    /** The class name used in messages. */
    protected readonly kind: string,
  ) {}

  /** The robot's name, for messages. */
  protected abstract robotName(): string;
  /** The time stamped on events, in seconds on the driver's clock. */
  protected abstract now(): number;
  /** Brings the simulation up to now and makes the current state the command. */
  protected abstract freeze(): void;
  /** Starts holding the current state afresh (on connect, and on clearing the latch while still latched). */
  protected abstract resume(): void;

  /** The lifecycle state (`estopped` while latched). */
  get status(): DriverStatus {
    return this.#latched ? 'estopped' : this.#status;
  }

  /** Number of commands accepted. */
  get commandsReceived(): number {
    return this.#commands;
  }

  /** Starts (or restarts after `stop()` or a fault) holding the current state. */
  async connect(): Promise<void> {
    this.resume();
    this.setStatus('ready');
  }

  /** Holds the current state. */
  async hold(): Promise<void> {
    this.checkActive(`${this.kind}.hold`);
    this.freeze();
    this.setStatus('holding');
  }

  /** Holds the current state and stops; reads and actions throw until `connect()`. */
  async stop(): Promise<void> {
    this.freeze();
    this.setStatus('stopped');
  }

  /** Freezes at the current state and latches until {@link SimulatedLifecycle.resetEmergencyStop}. */
  async emergencyStop(): Promise<void> {
    const previous = this.status;
    this.freeze();
    this.#latched = true;
    if (previous !== 'estopped') this.#events.emit({ type: 'status', status: 'estopped', previous, time: this.now() });
  }

  /** Clears the latch (a no-op when not latched), holding the current state. */
  async resetEmergencyStop(): Promise<void> {
    if (!this.#latched) return;
    this.resume();
    this.#latched = false;
    const status = this.#status === 'ready' || this.#status === 'holding' ? 'ready' : this.#status;
    this.#status = status;
    this.#events.emit({ type: 'status', status, previous: 'estopped', time: this.now() });
  }

  /** Subscribes to events; returns the function that unsubscribes. */
  on(listener: DriverListener): () => void {
    return this.#events.on(listener);
  }

  /** Simulates a hardware fault: the simulation freezes, a `fault` event is emitted, actions throw until `connect()`. */
  injectFault(message: string): void {
    this.freeze();
    this.setStatus('fault');
    this.#events.emit({ type: 'fault', message: `${this.kind} "${this.robotName()}": ${message}`, time: this.now() });
  }

  /** Counts an accepted command; a holding driver becomes `ready`. */
  protected accepted(): void {
    this.#commands++;
    if (this.#status === 'holding') this.setStatus('ready');
  }

  /** Throws unless connected (reads are allowed while holding, estopped or in fault). */
  protected checkConnected(fn: string): void {
    const s = this.#status;
    if (s === 'disconnected' || s === 'stopped') throw new DriverStateError(`${fn}: "${this.robotName()}" is ${s}; connect() first`, s);
  }

  /** Throws unless the driver accepts actions (`ready` or `holding`). */
  protected checkActive(fn: string): void {
    const s = this.status;
    if (s === 'ready' || s === 'holding') return;
    const why = s === 'estopped' ? 'emergency stop is latched; call resetEmergencyStop()' : s === 'fault' ? 'it is in fault; reconnect' : `it is ${s}; connect() first`;
    throw new DriverStateError(`${fn}: "${this.robotName()}" refuses actions: ${why}`, s);
  }

  /** Sets the status, emitting a `status` event when what callers see changes. */
  protected setStatus(status: DriverStatus): void {
    const previous = this.status;
    this.#status = status;
    if (this.status !== previous) this.#events.emit({ type: 'status', status: this.status, previous, time: this.now() });
  }
}
