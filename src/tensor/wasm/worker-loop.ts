/**
 * What a wasm backend's worker thread runs: it takes its slot of the control block, then waits (blocking
 * in `Atomics.wait`, which workers may do everywhere) for jobs, runs each job's kernel calls on the shared
 * `WebAssembly.Memory`, and reports back through the slot (see `thread-protocol.ts`). The worker compiles
 * the generated modules itself, from bytes the caller writes into the shared memory, so after start-up no
 * message crosses between the threads and the worker never returns to its event loop until it is told to
 * stop.
 *
 * The entry points are thin: `worker-entry.ts` for Web Workers (browsers, Deno) and `src/node/wasm-worker.ts`
 * for Node's `worker_threads`.
 * @module
 */
import {
  BASE,
  claimTask,
  CMD,
  COMPLETED,
  COUNT,
  INIT_TYPE,
  moduleEntry,
  SEQ,
  SLOT_BYTES,
  SLOT_INTS,
  STATE,
  STATE_READY,
  STATE_STOPPED,
  STATUS,
  STATUS_FAILED,
  STOP,
  writeFailure,
  type ThreadInit,
} from './thread-protocol.js';

type Kernel = (...args: number[]) => unknown;

/** Checks a start-up message; throws naming what is wrong. */
function checkInit(init: unknown): ThreadInit {
  const m = init as Partial<ThreadInit> | null;
  if (m === null || typeof m !== 'object' || m.type !== INIT_TYPE) throw new TypeError('wasm thread: the first message is not a start-up message');
  if (!(m.memory instanceof WebAssembly.Memory) || !(m.memory.buffer instanceof SharedArrayBuffer)) {
    throw new TypeError('wasm thread: the start-up message has no shared WebAssembly.Memory');
  }
  const ok = Number.isInteger(m.slot) && Number.isInteger(m.workers) && m.slot! >= 0 && m.slot! < m.workers! && typeof m.spinMs === 'number';
  if (!(m.control instanceof SharedArrayBuffer) || !ok || m.workers! * SLOT_BYTES > m.control.byteLength) {
    throw new TypeError(`wasm thread: bad control block, slot ${String(m.slot)} or worker count ${String(m.workers)}`);
  }
  return m as ThreadInit;
}

/** Calls `fn` with `argc` arguments read from `words` at `at`. */
function call(fn: Kernel, words: Float64Array, at: number, argc: number): void {
  const w = (i: number): number => words[at + i]!;
  switch (argc) {
    case 3:
      fn(w(0), w(1), w(2));
      break;
    case 4:
      fn(w(0), w(1), w(2), w(3));
      break;
    case 5:
      fn(w(0), w(1), w(2), w(3), w(4));
      break;
    case 6:
      fn(w(0), w(1), w(2), w(3), w(4), w(5));
      break;
    default:
      fn(...Array.from(words.subarray(at, at + argc)));
  }
}

/** The worker's side: the shared memory, the control block, and the modules compiled so far. */
class Worker {
  readonly #modules = new Map<number, Kernel[]>();

  constructor(
    readonly init: ThreadInit,
    readonly ctrl: Int32Array,
  ) {}

  /** The functions of module `id`, compiled from the module table's bytes on first use. */
  #module(id: number): Kernel[] {
    let fns = this.#modules.get(id);
    if (fns === undefined) {
      const { control, memory, workers } = this.init;
      const table = new Int32Array(control);
      const [ptr, len] = [Atomics.load(table, moduleEntry(workers, id)), Atomics.load(table, moduleEntry(workers, id) + 1)];
      if (len <= 0) throw new Error(`wasm thread: module ${id} is not in the table`);
      // `slice` copies out of the shared buffer: compilation takes an unshared one.
      const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(memory.buffer, ptr, len).slice()), { env: { memory } });
      fns = Object.values(instance.exports) as Kernel[];
      this.#modules.set(id, fns);
    }
    return fns;
  }

  /** Runs task `task` of the task list at byte address `cmd`. */
  run(cmd: number, task: number): void {
    const words = new Float64Array(this.init.memory.buffer);
    const list = cmd / 8;
    let p = list + words[list + 1 + task]!;
    const calls = words[p++]!;
    for (let i = 0; i < calls; i++) {
      const [id, fnIndex, argc] = [words[p]!, words[p + 1]!, words[p + 2]!];
      p += 3;
      const fn = this.#module(id)[fnIndex];
      if (fn === undefined) throw new Error(`wasm thread: no function ${fnIndex} in module ${id}`);
      call(fn, words, p, argc);
      p += argc;
    }
  }

  /** Records the first failure of a job. */
  failed(e: unknown): void {
    if (Atomics.compareExchange(this.ctrl, STATUS, 0, STATUS_FAILED) === 0) {
      writeFailure(this.init.control, this.init.slot, e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
  }
}

/** Waits until `SEQ` differs from `seen`: polls for `spinMs`, then sleeps in `Atomics.wait`. Returns the new value. */
function nextJob(ctrl: Int32Array, seen: number, spinMs: number): number {
  let s = Atomics.load(ctrl, SEQ);
  if (s === seen && spinMs > 0) {
    const until = performance.now() + spinMs;
    for (let i = 0; s === seen; i++) {
      s = Atomics.load(ctrl, SEQ);
      if ((i & 255) === 255 && performance.now() > until) break;
    }
  }
  while (s === seen) {
    Atomics.wait(ctrl, SEQ, seen);
    s = Atomics.load(ctrl, SEQ);
  }
  return s;
}

/**
 * Serves jobs until told to stop: `init` is the start-up message, `post` sends a message to the calling
 * thread (used once, to say the worker is ready; the slot's `STATE` says so too). Returns when the
 * caller writes the stop value into its slot; throws (before taking the slot) on a malformed start-up message.
 */
export function runWasmThread(init: unknown, post: (message: unknown) => void): void {
  const checked = checkInit(init);
  const ctrl = new Int32Array(checked.control, checked.slot * SLOT_BYTES, SLOT_INTS);
  const worker = new Worker(checked, ctrl);
  Atomics.store(ctrl, STATE, STATE_READY);
  Atomics.notify(ctrl, STATE);
  post({ type: 'ready', slot: checked.slot });
  let seen = Atomics.load(ctrl, SEQ);
  for (;;) {
    const seq = nextJob(ctrl, seen, checked.spinMs);
    if (seq === STOP) break;
    if (seq & 1) {
      // The caller is writing a job: wait for it to be published.
      Atomics.wait(ctrl, SEQ, seq);
      continue;
    }
    const [base, count, cmd] = [Atomics.load(ctrl, BASE), Atomics.load(ctrl, COUNT), Atomics.load(ctrl, CMD)];
    if (Atomics.load(ctrl, SEQ) !== seq) continue;
    seen = seq;
    for (let i = claimTask(ctrl, base, count); i >= 0; i = claimTask(ctrl, base, count)) {
      try {
        worker.run(cmd, i);
      } catch (e) {
        worker.failed(e);
      }
      if (Atomics.add(ctrl, COMPLETED, 1) + 1 === count) Atomics.notify(ctrl, COMPLETED);
    }
  }
  Atomics.store(ctrl, STATE, STATE_STOPPED);
  Atomics.notify(ctrl, STATE);
}
