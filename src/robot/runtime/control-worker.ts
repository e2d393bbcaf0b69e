/**
 * The control thread of §6.3 as a worker, runtime-neutral: the body that runs inside the worker
 * ({@link runControlWorker}) and the host side that starts, watches and stops it
 * ({@link hostControlWorker}). The Node bootstrap (`node-control-thread.ts`, `node-control-worker.ts`)
 * and the browser one (`web-control-thread.ts`, `web-control-worker.ts`) only adapt the worker API.
 *
 * The worker owns the driver: it imports a module by URL and calls a factory there, because a driver
 * (a serial port, a simulation) cannot be sent to another thread. Everything else — the execution
 * buffer, the metrics, the stop request — is on shared memory, so the worker never waits on the thread
 * that runs inference; messages carry only events.
 * @module
 */
import type { RobotDriver } from '../driver.js';
import { ControlCore, checkFallback, type ControlEvent, type Fallback } from './control-loop.js';
import { SharedControlMetrics, type SharedMetricsHandle } from './control-metrics.js';
import { Listeners, type ControlThread, type ControlThreadEvent } from './control-thread.js';
import { SharedActionRing, type SharedRingHandle } from './ring-buffer.js';
import { runPreciseSchedule, type PreciseTiming } from './schedule.js';

/**
 * Where the worker gets its driver: `module` is a URL (e.g. `new URL('./my-driver.js', import.meta.url).href`)
 * whose export `export` (default `createDriver`) is called with `options` (structured-cloneable) and
 * returns a {@link RobotDriver} or a promise of one.
 */
export interface DriverModule {
  /** The module's URL. */
  readonly module: string;
  /** The factory's export name (default `createDriver`). */
  readonly export?: string;
  /** Passed to the factory. */
  readonly options?: unknown;
}

/** What the driver is told when the worker stops: `stop` (default), `hold`, or nothing. */
export type ExitAction = 'stop' | 'hold' | 'none';

/** Settings of a control worker, shared by the Node and Web launchers. */
export interface ControlWorkerOptions {
  /** The driver factory. */
  driver: DriverModule;
  /** t_control^(e) in seconds. */
  controlPeriod: number;
  /** What to do on underflow (default hold). */
  fallback?: Fallback;
  /** Ticks between robot-state reads for the ring's mailbox (default 1; 0 = never). */
  stateEvery?: number;
  /** How the timer waits for each deadline. */
  timing?: PreciseTiming;
  /** What to tell the driver on exit (default `stop`). */
  onExit?: ExitAction;
  /** How long to wait for the worker before terminating it. */
  timeouts?: WorkerTimeouts;
}

/** How long the host waits for a control worker. */
export interface WorkerTimeouts {
  /** Seconds to wait for it to be ready (default 30). */
  start?: number;
  /** Seconds to wait for it to stop (default 5). */
  stop?: number;
}

/** What the host posts to the worker, once. */
export interface ControlWorkerInit extends Omit<ControlWorkerOptions, 'timeouts'> {
  /** The execution buffer. */
  ring: SharedRingHandle;
  /** The metrics block. */
  metrics: SharedMetricsHandle;
}

/**
 * What the worker posts to the host: `ready` (ticking), `event` (a {@link ControlEvent}), `failed`
 * (with a message; the worker is ending), `exited` (last).
 */
export interface ControlWorkerMessage {
  /** The kind of message. */
  readonly type: 'ready' | 'event' | 'failed' | 'exited';
  /** The event, for `event`. */
  readonly event?: ControlEvent;
  /** What failed, for `failed`. */
  readonly message?: string;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function loadDriver(spec: DriverModule): Promise<RobotDriver> {
  const fn = 'runControlWorker';
  if (typeof spec?.module !== 'string') throw new TypeError(`${fn}: driver.module must be a URL string, got ${typeof spec?.module}`);
  const name = spec.export ?? 'createDriver';
  const mod = (await import(spec.module)) as Record<string, unknown>;
  const factory = mod[name];
  if (typeof factory !== 'function') throw new TypeError(`${fn}: ${spec.module} has no function export "${name}"`);
  const driver = (await factory(spec.options)) as RobotDriver;
  if (typeof driver?.sendAction !== 'function' || typeof driver.readState !== 'function') throw new TypeError(`${fn}: "${name}" of ${spec.module} did not return a RobotDriver`);
  return driver;
}

/**
 * The worker's body: loads the driver, connects it if needed, starts the buffer from its state, posts
 * `ready`, then ticks on the precise timer until a stop is requested on the ring. Posts `failed` if any
 * of that throws, and `exited` last, after telling the driver `onExit`.
 */
export async function runControlWorker(init: ControlWorkerInit, post: (message: ControlWorkerMessage) => void): Promise<void> {
  let driver: RobotDriver | null = null;
  try {
    const ring = SharedActionRing.attach(init.ring);
    const metrics = SharedControlMetrics.attach(init.metrics);
    driver = await loadDriver(init.driver);
    if (driver.status === 'disconnected' || driver.status === 'stopped') await driver.connect();
    const core = new ControlCore(ring, metrics, driver, {
      ...(init.fallback ? { fallback: init.fallback } : {}),
      ...(init.stateEvery !== undefined ? { stateEvery: init.stateEvery } : {}),
      onEvent: (event) => post({ type: 'event', event }),
    });
    await core.begin();
    post({ type: 'ready' });
    await runPreciseSchedule({
      period: init.controlPeriod,
      now: () => performance.now() / 1000,
      tick: (now, deadline) => core.tick(now, deadline),
      missed: (count, now) => core.missed(count, now),
      stopped: () => ring.stopRequested,
      waitForStop: (ms) => ring.waitForStop(ms),
      ...(init.timing ? { timing: init.timing } : {}),
    });
  } catch (e) {
    post({ type: 'failed', message: message(e) });
  } finally {
    try {
      if (driver !== null && init.onExit !== 'none') await (init.onExit === 'hold' ? driver.hold() : driver.stop());
    } catch (e) {
      post({ type: 'failed', message: `on exit: ${message(e)}` });
    }
    post({ type: 'exited' });
  }
}

/** The host's view of a started worker, whatever its API. */
export interface WorkerEndpoint {
  /** Sends the init message (Web Workers; Node passes it as `workerData` and gives a no-op). */
  post(init: ControlWorkerInit): void;
  /** Registers the receivers of messages, of an uncaught error, and of the worker's end. */
  listen(onMessage: (m: ControlWorkerMessage) => void, onError: (e: unknown) => void, onExit: () => void): void;
  /** Kills the worker. */
  terminate(): void;
}

/**
 * Checks `options` on the host, before a worker is started, and builds the init message for `ring`
 * and `metrics` (without the host-only timeouts).
 */
export function workerInit(fn: string, ring: SharedActionRing, metrics: SharedControlMetrics, options: ControlWorkerOptions): ControlWorkerInit {
  const { driver, controlPeriod, fallback, stateEvery, timing, onExit } = options ?? ({} as ControlWorkerOptions);
  if (typeof driver?.module !== 'string') throw new TypeError(`${fn}: options.driver.module must be a URL string, got ${typeof driver?.module}`);
  if (typeof controlPeriod !== 'number' || !Number.isFinite(controlPeriod) || controlPeriod <= 0) throw new RangeError(`${fn}: controlPeriod must be a finite number of seconds > 0, got ${controlPeriod}`);
  if (stateEvery !== undefined && (!Number.isInteger(stateEvery) || stateEvery < 0)) throw new RangeError(`${fn}: stateEvery must be an integer ≥ 0, got ${stateEvery}`);
  if (onExit !== undefined && onExit !== 'stop' && onExit !== 'hold' && onExit !== 'none') throw new RangeError(`${fn}: onExit must be 'stop', 'hold' or 'none', got ${JSON.stringify(onExit)}`);
  return {
    driver: { module: driver.module, ...(driver.export !== undefined ? { export: driver.export } : {}), ...(driver.options !== undefined ? { options: driver.options } : {}) },
    controlPeriod,
    fallback: checkFallback(fallback, ring.actionDim, fn),
    ...(stateEvery !== undefined ? { stateEvery } : {}),
    ...(timing !== undefined ? { timing } : {}),
    ...(onExit !== undefined ? { onExit } : {}),
    ring: ring.handle,
    metrics: metrics.handle,
  };
}

/**
 * Host side, runtime-neutral: posts `init`, waits for `ready` (terminating the worker and throwing on
 * `failed` or after the start timeout), and returns the {@link ControlThread} handle. `stop()` requests
 * the stop on the ring, waits for `exited`, and terminates the worker after the stop timeout.
 */
export async function hostControlWorker(
  kind: 'node-worker' | 'web-worker',
  ring: SharedActionRing,
  metrics: SharedControlMetrics,
  init: ControlWorkerInit,
  endpoint: WorkerEndpoint,
  timeouts: WorkerTimeouts = {},
): Promise<ControlThread> {
  const fn = kind === 'node-worker' ? 'startNodeControlThread' : 'startWebControlThread';
  const now = (): number => performance.now() / 1000;
  const listeners = new Listeners<ControlThreadEvent>();
  let failure: string | null = null;
  let ended = false;
  let onReady!: () => void;
  let onEnd!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const done = new Promise<void>((resolve) => (onEnd = resolve));
  const end = (error: string | null): void => {
    if (ended) return;
    ended = true;
    listeners.emit({ type: 'control-exit', error: error ?? failure, time: now() });
    onEnd();
  };
  endpoint.listen(
    (m) => {
      if (m.type === 'ready') onReady();
      else if (m.type === 'event' && m.event !== undefined) listeners.emit(m.event);
      else if (m.type === 'failed') failure ??= m.message ?? 'unknown failure';
      else if (m.type === 'exited') {
        end(null);
        endpoint.terminate(); // its work is done; do not wait for stray timers of the driver
      }
    },
    (e) => {
      failure ??= `the worker died: ${message(e)}`;
      end(failure);
    },
    () => end(failure ?? (ring.stopRequested ? null : 'the worker exited unexpectedly')),
  );
  endpoint.post(init);
  const startSeconds = timeouts.start ?? 30;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), startSeconds * 1000)));
  const first = await Promise.race([ready.then(() => 'ready' as const), done.then(() => 'ended' as const), timedOut]);
  clearTimeout(timer);
  if (first !== 'ready') {
    ring.requestStop();
    endpoint.terminate();
    end(failure ?? `did not start within ${startSeconds} s`);
    throw new Error(`${fn}: the control worker ${first === 'timeout' ? `did not start within ${startSeconds} s` : `failed: ${failure ?? 'it exited before it was ready'}`}`);
  }
  const stopSeconds = timeouts.stop ?? 5;
  return {
    kind,
    ring,
    metrics: () => metrics.read(),
    on: (listener) => listeners.on(listener),
    stop: async () => {
      ring.requestStop();
      let t: ReturnType<typeof setTimeout> | undefined;
      const late = await Promise.race([done.then(() => false), new Promise<boolean>((resolve) => (t = setTimeout(() => resolve(true), stopSeconds * 1000)))]);
      clearTimeout(t);
      if (late) {
        endpoint.terminate();
        end(`did not stop within ${stopSeconds} s; terminated`);
      }
    },
    done,
  };
}
