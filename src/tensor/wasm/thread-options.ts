/**
 * How a wasm backend gets its threads: the options ({@link WasmThreadOptions}), the defaults that
 * {@link setWasmThreads} sets for backends created later, the {@link WasmThreadSpawner} that starts
 * workers (Web Workers in a cross-origin-isolated page by default; `being-ts/node` supplies one for Node's
 * `worker_threads`), the measured split thresholds, and {@link planThreads}, which resolves all of this
 * against what the runtime allows. The pool itself is `threads.ts`.
 * @module
 */

/** What a spawned worker reports to its pool. */
export interface WasmWorkerEvents {
  /** A message the worker posted. */
  message(data: unknown): void;
  /** The worker failed to start, threw outside a job, or exited. */
  error(reason: Error): void;
}

/** A started worker. */
export interface WasmWorkerHandle {
  /** Posts a message to the worker (used once, for the start-up message). */
  postMessage(message: unknown): void;
  /** Stops the worker. */
  terminate(): void;
}

/**
 * Starts the workers of a wasm backend. A spawned worker must run `runWasmThread` (from `worker-loop.ts`)
 * on its first message, and must not keep its process alive (Node: `worker.unref()` after adding listeners).
 */
export interface WasmThreadSpawner {
  /** How many threads the hardware runs at once (bounds the default thread count). */
  readonly hardwareConcurrency: number;
  /** Starts one worker, reporting to `events`. */
  spawn(events: WasmWorkerEvents): WasmWorkerHandle;
}

/** How a wasm backend uses threads ({@link setWasmThreads} sets defaults; a backend's own options win). */
export interface WasmThreadOptions {
  /**
   * Threads per op, the calling one included (default: min(2, hardware concurrency) where workers can be
   * started and memory shared; 1 elsewhere). More than 1 makes the memory shared.
   */
  threads?: number;
  /** How to start workers (default: the one {@link setWasmThreads} set, else {@link webWorkerSpawner}); null for none. */
  spawner?: WasmThreadSpawner | null;
  /** Smallest float32 matrix product to split, in flops `2·M·K·N` summed over the batch (default {@link PARALLEL_MIN_FLOPS}). */
  parallelMinFlops?: number;
  /** Smallest elementwise op or reduction to split, in elements (default {@link PARALLEL_MIN_ELEMENTS}). */
  parallelMinElements?: number;
  /** How long to wait for a worker's share before giving up on threads, in ms (default 60 000). */
  threadTimeoutMs?: number;
  /** How long workers may take to start before giving up on threads, in ms (default 20 000). */
  threadStartTimeoutMs?: number;
  /**
   * How long an idle worker keeps polling for the next job before it sleeps, in ms (default
   * {@link THREAD_SPIN_MS}): a worker woken from sleep starts tens of µs later, which ops that follow each
   * other closely then avoid; 0 sleeps at once.
   */
  threadSpinMs?: number;
}

/**
 * Default {@link WasmThreadOptions.threadSpinMs}: 1 ms. Measured on a 2-core virtual machine, a 128² matrix
 * product on two threads took 305 µs without polling, 135 µs polling 0.2 ms and 97–104 µs polling 1–2 ms
 * (one thread: 120 µs). A worker thus spends up to 1 ms of CPU after each split op.
 */
export const THREAD_SPIN_MS = 1;

/**
 * Default smallest matrix product worth two threads: 2²³ flops (n ≈ 161 for a square product). Measured
 * with `bench/threads.bench.ts` on a 2-core x86-64 virtual machine (Node 20, in moments when no other
 * process ran): two threads gave 0.34× at n = 64, 0.95× at 96, 1.28× at 128, 1.57× at 192, 1.69× at 256
 * and 1.85× at 512; with another process busy on the second core, 128 fell below 1× (the hand-off costs
 * tens of µs, more where the hypervisor halts an idle core).
 */
export const PARALLEL_MIN_FLOPS = 2 ** 23;
/**
 * Default smallest elementwise op or reduction worth two threads, in elements: 2²⁰ float32 (4 MiB per
 * operand). These ops are bound by memory bandwidth, so two threads gain less than on a matrix product;
 * measured as {@link PARALLEL_MIN_FLOPS} was (two runs each), `a + b` gave 0.47–0.94× at 2¹⁶ elements,
 * 0.8–1.3× at 2¹⁸, 1.24–1.38× at 2²⁰ and 1.2–1.4× at 2²²; `a · b` 1.0× at 2²⁰ and 1.37× at 2²²; `sum`
 * 0.65–1.14× at 2¹⁸, 1.0–1.45× at 2²⁰ and 1.6–1.7× at 2²².
 */
export const PARALLEL_MIN_ELEMENTS = 1 << 20;

let defaults: WasmThreadOptions = {};

/**
 * Sets the thread options that wasm backends created afterwards start from (each backend's own options
 * win; a backend created before keeps what it had). `being-ts/node`'s `enableWasmThreads()` calls this
 * with a `worker_threads` spawner.
 */
export function setWasmThreads(options: WasmThreadOptions): void {
  defaults = { ...options };
}

/** The options {@link setWasmThreads} last set. */
export function wasmThreadDefaults(): WasmThreadOptions {
  return { ...defaults };
}

/** A spawner of module Web Workers running `worker-entry.js`, where the page is cross-origin isolated; null elsewhere. */
export function webWorkerSpawner(): WasmThreadSpawner | null {
  const g = globalThis as { Worker?: typeof Worker; crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  const W = g.Worker;
  if (typeof W !== 'function' || g.crossOriginIsolated !== true) return null;
  return {
    hardwareConcurrency: g.navigator?.hardwareConcurrency ?? 1,
    spawn(events) {
      const w = new W(new URL('./worker-entry.js', import.meta.url), { type: 'module', name: 'being-ts wasm thread' });
      w.addEventListener('message', (e) => events.message(e.data));
      w.addEventListener('error', (e) => {
        e.preventDefault();
        events.error(new Error(e.message || 'the worker script failed'));
      });
      w.addEventListener('messageerror', () => events.error(new Error('the worker got a message it could not read')));
      return { postMessage: (m) => w.postMessage(m), terminate: () => w.terminate() };
    },
  };
}

/** What the options resolve to before the memory is made. */
export interface ThreadPlan {
  /** Threads to use (1: none). */
  readonly count: number;
  /** Threads asked for. */
  readonly requested: number;
  /** The spawner, when `count` > 1. */
  readonly spawner: WasmThreadSpawner | null;
  /** Why `count` is 1 although more were asked for. */
  readonly refused: string | null;
}

/** Resolves thread options against the defaults and what the runtime allows (`canShare`: shared memory works). */
export function planThreads(options: WasmThreadOptions, canShare: boolean): ThreadPlan {
  const o = { ...defaults, ...options };
  const spawner = o.spawner === undefined ? webWorkerSpawner() : o.spawner;
  const requested = o.threads ?? (spawner !== null && canShare ? Math.max(1, Math.min(2, Math.floor(spawner.hardwareConcurrency) || 1)) : 1);
  if (!Number.isInteger(requested) || requested < 1 || requested > 64) {
    throw new RangeError(`wasm backend: threads must be an integer from 1 to 64, got ${requested}`);
  }
  if (requested === 1) return { count: 1, requested, spawner: null, refused: null };
  const refused = !canShare
    ? 'the memory cannot be shared (needs SharedArrayBuffer, so cross-origin isolation in browsers, and no `shared: false`)'
    : spawner === null
      ? 'no way to start workers here (Node: call enableWasmThreads() from being-ts/node; browsers: a cross-origin-isolated page)'
      : null;
  return refused === null ? { count: requested, requested, spawner, refused } : { count: 1, requested, spawner: null, refused };
}
