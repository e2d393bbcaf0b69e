/**
 * Worker threads for the wasm backend: large matrix products, elementwise ops and reductions are split
 * across threads that share the backend's `WebAssembly.Memory` (backed by a `SharedArrayBuffer`), while
 * the backend's API stays synchronous.
 *
 * How a split op runs: each thread gets a share of the work, cut into independent tasks. The calling
 * thread writes each worker's tasks (lists of kernel calls, see `thread-protocol.ts`) into the shared
 * memory, bumps the worker's job number and wakes it with `Atomics.notify`; it runs its own share, then
 * takes whatever tasks the workers have not yet taken (a worker whose core is busy with another process
 * wakes late, and its share is not left waiting for it), and finally waits for the tasks the workers are
 * running — with `Atomics.wait` where the calling thread may block (Node's main thread, any worker), or
 * by spinning on `Atomics.load` where it may not (a browser's main thread; the wait is short, since it
 * only covers tasks already running). Each worker compiles the generated modules itself, from bytes in
 * the shared memory, the first time a job uses them.
 *
 * Where threads come from: a {@link WasmThreadSpawner}. In a cross-origin-isolated page the default is
 * {@link webWorkerSpawner} (module Web Workers); Node has no Web Workers, so `being-ts/node`'s
 * `enableWasmThreads()` installs a `worker_threads` spawner with {@link setWasmThreads} (this module
 * imports nothing from Node). Elsewhere, or where memory cannot be shared, every op runs on one thread.
 *
 * Contention backs off: when the calling thread, done with its share and with every task it could take,
 * still waits for a worker's task longer than half its own compute time (the worker's core is busy with
 * another process, which preempted it mid-task), the split thresholds double (up to 4096×), and they
 * halve again every 100 ms; so on a busy machine only ops large enough for the wait not to matter are
 * split ({@link WasmThreadStatus.backoff}).
 *
 * Failures fall back to one thread: a worker that fails to start, throws, does not finish a task it took
 * within {@link WasmThreadOptions.threadTimeoutMs}, or takes no task for that long, is reported in
 * {@link WasmThreadStatus.failure}, every worker is terminated, a failed share is run again on the calling
 * thread (kernels only write their outputs, so this is safe; a kernel that really traps throws there,
 * with its own message), and later ops stay on one thread.
 * @module
 */
import type { WasmHeap } from './memory.js';
import {
  PARALLEL_MIN_ELEMENTS,
  PARALLEL_MIN_FLOPS,
  THREAD_SPIN_MS,
  wasmThreadDefaults,
  type ThreadPlan,
  type WasmThreadOptions,
  type WasmWorkerEvents,
  type WasmWorkerHandle,
} from './thread-options.js';
import {
  BASE,
  canBlock,
  CLAIM,
  claimTask,
  CMD,
  COMPLETED,
  controlBytes,
  COUNT,
  INIT_TYPE,
  MAX_MODULES,
  moduleEntry,
  nextSeq,
  readFailure,
  SEQ,
  SLOT_BYTES,
  SLOT_INTS,
  STATE,
  STATE_READY,
  STATUS,
  STATUS_FAILED,
  STOP,
  taskListWords,
  writeTaskList,
  type ThreadInit,
} from './thread-protocol.js';

export {
  PARALLEL_MIN_ELEMENTS,
  PARALLEL_MIN_FLOPS,
  planThreads,
  setWasmThreads,
  THREAD_SPIN_MS,
  wasmThreadDefaults,
  webWorkerSpawner,
  type ThreadPlan,
  type WasmThreadOptions,
  type WasmThreadSpawner,
  type WasmWorkerEvents,
  type WasmWorkerHandle,
} from './thread-options.js';

/** Where a backend's threads stand. */
export interface WasmThreadStatus {
  /** Threads asked for (after defaults). */
  readonly requested: number;
  /** Threads an op is split across now: `requested` once every worker has started, 1 before and after a failure. */
  readonly running: number;
  /** Every worker has started (trivially true with one thread). */
  readonly ready: boolean;
  /** Why threads are not (or no longer) used, when `requested` > 1 or a request was refused; null otherwise. */
  readonly failure: string | null;
  /** {@link WasmThreads.close} was called. */
  readonly closed: boolean;
  /** Split ops that handed tasks to workers. */
  readonly jobs: number;
  /** Tasks the workers ran. */
  readonly workerTasks: number;
  /** Tasks meant for workers that the calling thread ran (it found them not yet taken). */
  readonly takenBack: number;
  /** The factor the split thresholds are multiplied by now (1, or more after waits for a preempted worker). */
  readonly backoff: number;
}

/** A generated module as the threads need it: its cache key, its bytes, and its exports on the calling thread. */
export interface ThreadModule {
  /** Unique per module content. */
  readonly key: string;
  /** The module's bytes (workers compile them). */
  readonly bytes: Uint8Array;
  /** The calling thread's instance's exports. */
  readonly exports: WebAssembly.Exports;
}

/** One kernel call: the export's name and its (numeric) arguments. */
export type ThreadCall = readonly [fn: string, ...args: number[]];

/**
 * Kernel calls run in order by one thread. The tasks of one {@link WasmThreads.run} must be independent
 * (no task reads what another writes, none write the same memory): any thread may run any worker's task.
 */
export type ThreadTask = readonly ThreadCall[];

/** The largest factor contention multiplies the split thresholds by. */
const MAX_BACKOFF = 4096;
/** Every this many ms, a raised back-off factor halves. */
const BACKOFF_HALF_LIFE_MS = 100;


interface Worker {
  readonly handle: WasmWorkerHandle;
  readonly ctrl: Int32Array;
  ready: boolean;
  /** Since when (ms) the worker has taken no task of the jobs it was given; null when it took one since. */
  idleSince: number | null;
}

interface Job {
  readonly slot: number;
  readonly tasks: readonly ThreadTask[];
  readonly base: number;
  /** Tasks the calling thread took back. */
  taken: number;
}

type Kernel = (...args: number[]) => unknown;

/** Closes the threads of backends that were garbage-collected. */
const orphans = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<WasmThreads>((t) => t.close()) : undefined;

/** The worker threads of one wasm backend (with one thread: none, and every op runs where it is called). */
export class WasmThreads {
  /** Smallest product to split, in flops. */
  readonly minFlops: number;
  /** Smallest elementwise op or reduction to split, in elements. */
  readonly minElements: number;
  readonly #heap: WasmHeap;
  readonly #plan: ThreadPlan;
  readonly #timeoutMs: number;
  readonly #startTimeoutMs: number;
  readonly #startedAt = performance.now();
  readonly #control: SharedArrayBuffer | null;
  readonly #workers: Worker[] = [];
  readonly #block = canBlock();
  readonly #spinMs: number;
  /** Per module key: its id, and where its bytes stay in wasm memory for workers to compile. */
  readonly #modules = new Map<string, { id: number; bytesAt: number }>();
  readonly #fnIndex = new Map<string, Map<string, number>>();
  readonly #waiters: (() => void)[] = [];
  #stats = { jobs: 0, workerTasks: 0, takenBack: 0 };
  #backoff = 1;
  #backoffAt = 0;
  #allReady: boolean;
  #failure: string | null;
  #closed = false;

  /**
   * Starts `plan.count − 1` workers on `heap`'s memory (which must then be shared). `owner`, when given,
   * closes them once it is garbage-collected.
   */
  constructor(heap: WasmHeap, plan: ThreadPlan, options: WasmThreadOptions = {}, owner?: object) {
    const o = { ...wasmThreadDefaults(), ...options };
    this.#heap = heap;
    this.#plan = plan;
    this.minFlops = o.parallelMinFlops ?? PARALLEL_MIN_FLOPS;
    this.minElements = o.parallelMinElements ?? PARALLEL_MIN_ELEMENTS;
    this.#timeoutMs = o.threadTimeoutMs ?? 60_000;
    this.#startTimeoutMs = o.threadStartTimeoutMs ?? 20_000;
    this.#spinMs = o.threadSpinMs ?? THREAD_SPIN_MS;
    const numbers = [
      ['parallelMinFlops', this.minFlops],
      ['parallelMinElements', this.minElements],
      ['threadTimeoutMs', this.#timeoutMs],
      ['threadStartTimeoutMs', this.#startTimeoutMs],
      ['threadSpinMs', this.#spinMs],
    ] as const;
    for (const [name, v] of numbers) {
      if (!(v >= 0)) throw new RangeError(`wasm backend: ${name} must be a number ≥ 0, got ${v}`);
    }
    this.#failure = plan.refused;
    this.#allReady = plan.count === 1;
    if (plan.count > 1 && !heap.shared) throw new Error('wasm threads: the memory must be shared');
    this.#control = plan.count > 1 ? new SharedArrayBuffer(controlBytes(plan.count - 1)) : null;
    for (let slot = 0; slot < plan.count - 1 && this.#failure === null; slot++) this.#spawn(slot);
    if (owner !== undefined && plan.count > 1) orphans?.register(owner, this);
  }

  /** Threads an op is split across now (see {@link WasmThreadStatus.running}). */
  get running(): number {
    if (this.#failure !== null || this.#closed) return 1;
    if (!this.#allReady && !this.#pollReady()) return 1;
    return this.#plan.count;
  }

  /** Where the threads stand. */
  status(): WasmThreadStatus {
    const running = this.running;
    return { requested: this.#plan.requested, running, ready: this.#allReady, failure: this.#failure, closed: this.#closed, ...this.#stats, backoff: this.#backoff };
  }

  /**
   * Whether an op of `work` (flops or elements) is worth splitting, given its threshold `min` (normally
   * {@link WasmThreads.minFlops} or {@link WasmThreads.minElements}): threads are running and `work` is at
   * least `min` times the current back-off factor.
   */
  worthSplitting(work: number, min: number): boolean {
    if (work < min) return false;
    if (this.#backoff > 1) {
      const now = performance.now();
      if (now - this.#backoffAt > BACKOFF_HALF_LIFE_MS) {
        this.#backoff /= 2;
        this.#backoffAt = now;
      }
      if (work < min * this.#backoff) return false;
    }
    return this.running > 1;
  }

  /** Resolves once every worker has started, or threads have failed or been closed. */
  ready(): Promise<WasmThreadStatus> {
    if (this.#settled()) return Promise.resolve(this.status());
    return new Promise((resolve) => {
      // A referenced timer: it keeps a Node process alive while it awaits this (the workers do not).
      const timer = setTimeout(() => this.#pollReady(), this.#startTimeoutMs + 10);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(this.status());
      });
    });
  }

  /**
   * Runs the tasks `shares[t]` meant for thread t (0: this one) and returns when all are done. Tasks of
   * workers that are not running (one thread, or threads failed) run here, and so do those a worker has
   * not taken by the time this thread is through its own. Throws what a task run here threw, once no
   * worker runs a task of this call.
   */
  run(mod: ThreadModule, shares: readonly (readonly ThreadTask[])[]): void {
    const m = this.running === 1 || shares.length <= 1 ? null : this.#module(mod);
    if (m === null) {
      for (const share of shares) for (const task of share) this.#runHere(mod, task);
      return;
    }
    if (shares.length > this.#plan.count) throw new RangeError(`wasm threads: ${shares.length} shares for ${this.#plan.count} threads`);
    const jobs: Job[] = [];
    const blocks: number[] = [];
    const started = performance.now();
    let error: { e: unknown } | null = null;
    try {
      for (let t = 1; t < shares.length; t++) {
        const tasks = shares[t]!;
        if (tasks.length === 0) continue;
        const ctrl = this.#workers[t - 1]!.ctrl;
        const cmd = this.#encode(mod, m.id, tasks);
        blocks.push(cmd);
        // Publish seqlock-style: odd while the job's words change, a new even value once they are set.
        const seq = nextSeq(Atomics.load(ctrl, SEQ));
        Atomics.store(ctrl, SEQ, seq - 1);
        const base = Atomics.load(ctrl, CLAIM);
        Atomics.store(ctrl, BASE, base);
        Atomics.store(ctrl, COUNT, tasks.length);
        Atomics.store(ctrl, CMD, cmd);
        Atomics.store(ctrl, COMPLETED, 0);
        Atomics.store(ctrl, STATUS, 0);
        Atomics.store(ctrl, SEQ, seq);
        Atomics.notify(ctrl, SEQ);
        jobs.push({ slot: t - 1, tasks, base, taken: 0 });
      }
      if (jobs.length > 0) this.#stats.jobs++;
      for (const task of shares[0]!) this.#runHere(mod, task);
    } catch (e) {
      error = { e };
    }
    // Take the tasks no worker has taken yet (after an error: only so that no worker starts them).
    for (const job of jobs) {
      const ctrl = this.#workers[job.slot]!.ctrl;
      for (let i = claimTask(ctrl, job.base, job.tasks.length); i >= 0; i = claimTask(ctrl, job.base, job.tasks.length)) {
        job.taken++;
        if (error === null) {
          try {
            this.#runHere(mod, job.tasks[i]!);
          } catch (e) {
            error = { e };
          }
        }
        Atomics.add(ctrl, COMPLETED, 1);
      }
    }
    const redo: (readonly ThreadTask[])[] = [];
    const now = performance.now();
    const deadline = now + this.#timeoutMs;
    let waited = false;
    let idle: string | null = null;
    for (const job of jobs) {
      const w = this.#workers[job.slot]!;
      waited ||= Atomics.load(w.ctrl, COMPLETED) !== job.tasks.length;
      if (!this.#await(w.ctrl, COMPLETED, job.tasks.length, deadline)) {
        this.#fail(`worker ${job.slot + 1} did not finish a task within ${this.#timeoutMs} ms`);
        redo.push(job.tasks);
      } else if (Atomics.load(w.ctrl, STATUS) === STATUS_FAILED) {
        this.#fail(`worker ${job.slot + 1} failed: ${readFailure(this.#control!, job.slot)}`);
        redo.push(job.tasks);
      }
      this.#stats.takenBack += job.taken;
      this.#stats.workerTasks += job.tasks.length - job.taken;
      // A worker that keeps taking nothing (stuck, or never scheduled) is given up after the timeout.
      if (job.taken < job.tasks.length) w.idleSince = null;
      else if (w.idleSince === null) w.idleSince = now;
      else if (now - w.idleSince > this.#timeoutMs) idle ??= `worker ${job.slot + 1} has taken no task for ${this.#timeoutMs} ms`;
    }
    // Only now: stopping the workers earlier could strand tasks the others are still running.
    if (idle !== null) this.#fail(idle);
    if (waited) {
      // Waiting for a worker longer than half this thread's own work: the split did not pay; back off.
      const end = performance.now();
      if (end - now > (now - started) / 2) {
        this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF);
        this.#backoffAt = end;
      }
    }
    for (const b of blocks) this.#heap.free(b);
    if (error !== null) throw error.e;
    for (const tasks of redo) for (const task of tasks) this.#runHere(mod, task);
  }

  /** Stops and terminates the workers; later ops run on one thread. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopAll();
    this.#settle();
  }

  #spawn(slot: number): void {
    const ctrl = new Int32Array(this.#control!, slot * SLOT_BYTES, SLOT_INTS);
    const events: WasmWorkerEvents = {
      message: (data) => {
        if ((data as { type?: unknown } | null)?.type === 'ready') this.#pollReady();
      },
      error: (reason) => this.#fail(`worker ${slot + 1}: ${reason.message}`),
    };
    let handle: WasmWorkerHandle;
    try {
      handle = this.#plan.spawner!.spawn(events);
      const init: ThreadInit = { type: INIT_TYPE, memory: this.#heap.memory, control: this.#control!, slot, workers: this.#plan.count - 1, spinMs: this.#spinMs };
      handle.postMessage(init);
    } catch (e) {
      this.#fail(`could not start worker ${slot + 1}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.#workers.push({ handle, ctrl, ready: false, idleSince: null });
  }

  /** Checks the workers' states; settles `ready()` and returns true once all have started. */
  #pollReady(): boolean {
    if (this.#allReady) return true;
    if (this.#failure !== null || this.#closed) return false;
    let all = this.#workers.length === this.#plan.count - 1;
    for (const w of this.#workers) {
      w.ready ||= Atomics.load(w.ctrl, STATE) === STATE_READY;
      all &&= w.ready;
    }
    if (all) {
      this.#allReady = true;
      this.#settle();
    } else if (performance.now() - this.#startedAt > this.#startTimeoutMs) {
      this.#fail(`the workers did not start within ${this.#startTimeoutMs} ms`);
    }
    return all;
  }

  #settled(): boolean {
    return this.#allReady || this.#failure !== null || this.#closed;
  }

  #settle(): void {
    if (!this.#settled()) return;
    for (const f of this.#waiters.splice(0)) f();
  }

  /** Gives up on threads: keeps the first reason, stops every worker. */
  #fail(reason: string): void {
    if (this.#closed || this.#failure !== null) return;
    this.#failure = reason;
    this.#stopAll();
    this.#settle();
  }

  #stopAll(): void {
    for (const w of this.#workers) {
      Atomics.store(w.ctrl, SEQ, STOP);
      Atomics.notify(w.ctrl, SEQ);
      try {
        w.handle.terminate();
      } catch {
        // Already gone.
      }
    }
    for (const { bytesAt } of this.#modules.values()) this.#heap.free(bytesAt);
    this.#modules.clear();
  }

  /**
   * Waits until slot word `word` holds `value`; false at the deadline. It polls for up to `threadSpinMs`
   * first (the tasks it waits for are already running, and waking from `Atomics.wait` takes tens of µs,
   * more on a virtual machine whose idle core the hypervisor has halted), then sleeps where it may.
   */
  #await(ctrl: Int32Array, word: number, value: number, deadline: number): boolean {
    if (Atomics.load(ctrl, word) === value) return true;
    const spinUntil = performance.now() + this.#spinMs;
    for (let i = 1; ; i++) {
      const now = Atomics.load(ctrl, word);
      if (now === value) return true;
      if ((i & 255) !== 0) continue;
      const t = performance.now();
      if (t >= deadline) return false;
      if (this.#block && t >= spinUntil) Atomics.wait(ctrl, word, now, Math.min(deadline - t, 1000));
    }
  }

  #runHere(mod: ThreadModule, calls: ThreadTask): void {
    for (const [fn, ...args] of calls) (mod.exports[fn] as Kernel)(...args);
  }

  /**
   * The module's id, its bytes copied into wasm memory and entered in the module table on first use (they
   * stay there until the pool stops); null when the table is full.
   */
  #module(mod: ThreadModule): { id: number; bytesAt: number } | null {
    let m = this.#modules.get(mod.key);
    if (m === undefined) {
      if (this.#modules.size >= MAX_MODULES) return null;
      const bytesAt = this.#heap.alloc(mod.bytes.length);
      new Uint8Array(this.#heap.buffer, bytesAt, mod.bytes.length).set(mod.bytes);
      m = { id: this.#modules.size, bytesAt };
      const table = new Int32Array(this.#control!);
      const entry = moduleEntry(this.#plan.count - 1, m.id);
      Atomics.store(table, entry, bytesAt);
      Atomics.store(table, entry + 1, mod.bytes.length);
      this.#modules.set(mod.key, m);
    }
    return m;
  }

  #fn(mod: ThreadModule, fn: string): number {
    let names = this.#fnIndex.get(mod.key);
    if (names === undefined) {
      names = new Map(Object.keys(mod.exports).map((n, i) => [n, i]));
      this.#fnIndex.set(mod.key, names);
    }
    const i = names.get(fn);
    if (i === undefined) throw new Error(`wasm threads: module ${mod.key} has no export '${fn}'`);
    return i;
  }

  /** Writes a task list into wasm memory (see `thread-protocol.ts`) and returns its byte address. */
  #encode(mod: ThreadModule, id: number, tasks: readonly ThreadTask[]): number {
    const calls = tasks.map((task) => task.map(([fn, ...args]) => [id, this.#fn(mod, fn), args] as const));
    const words = taskListWords(calls);
    const at = this.#heap.alloc(words * 8);
    writeTaskList(new Float64Array(this.#heap.buffer, at, words), calls);
    return at;
  }
}
