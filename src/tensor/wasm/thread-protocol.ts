/**
 * The wire format between the wasm backend's calling thread and its worker threads, shared by both
 * sides (`threads.ts` on the calling side, `worker-loop.ts` in the workers). Nothing is posted as a
 * message after start-up: each worker owns a slot of one `SharedArrayBuffer` (the control block), jobs
 * are lists of tasks written into the shared `WebAssembly.Memory`, and both sides synchronise with
 * `Atomics` on the slot's words.
 *
 * A job gives worker t a list of independent tasks (each a list of kernel calls). The worker and the
 * calling thread both take tasks by compare-and-swap on the slot's `CLAIM` counter, within the job's range
 * `[BASE, BASE + COUNT)`: when the worker is late (its core busy with another process), the calling thread
 * runs its tasks instead of waiting, and then waits only for tasks the worker has taken. `CLAIM` only
 * grows (wrapping in 32 bits), so a worker that wakes after its job was finished finds the range used up
 * and takes nothing, and it cannot take a task of a newer job without having read that job. A job is
 * published seqlock-style: the caller makes `SEQ` odd, writes the job's words, then makes `SEQ` even
 * (a new value); a worker uses the words it read only if `SEQ` held the same even value before and after.
 * The worker reads the task list only after taking a task, that is while the caller still waits for it.
 *
 * Slot words (Int32, one 512-byte slot per worker, so no two workers share a cache line):
 * - `SEQ`: the job number (even; odd while a job is being written); {@link STOP} ends the worker's loop.
 * - `STATUS`: {@link STATUS_OK}, or {@link STATUS_FAILED} when a task threw; the failure's text follows the words.
 * - `CMD`: the byte address of the job's task list in wasm memory.
 * - `STATE`: {@link STATE_STARTING}, {@link STATE_READY} or {@link STATE_STOPPED}.
 * - `CLAIM`, `BASE`, `COUNT`, `COMPLETED`: the task counter, the job's first value of it, its number of
 *   tasks, and how many of them are finished (by either side).
 *
 * After the slots, the module table: for module id i, the byte address and length of its bytes in wasm
 * memory (which stay there while the pool lives); a worker compiles a module the first time a task calls it.
 *
 * A task list is a `Float64Array` at `CMD`: `[count, offset₀, …, offsetₙ₋₁, …tasks]`, task i starting at
 * word `offsetᵢ` as `[calls, …]`, each call `[moduleId, fnIndex, argc, …args]` (`fnIndex` indexes the
 * instance's exports in their order).
 * @module
 */

/** Int32 words per worker slot. */
export const SLOT_INTS = 128;
/** Bytes per worker slot. */
export const SLOT_BYTES = SLOT_INTS * 4;
/** Slot word: the job number (odd while the caller writes a job). */
export const SEQ = 0;
/** Slot word: how the tasks the worker ran ended. */
export const STATUS = 2;
/** Slot word: the byte address of the job's task list. */
export const CMD = 3;
/** Slot word: the worker's life-cycle state. */
export const STATE = 4;
/** Slot word: the length of the failure text. */
export const ERROR_LENGTH = 5;
/** Slot word: the task counter (only grows, wrapping in 32 bits). */
export const CLAIM = 6;
/** Slot word: the number of tasks in the job. */
export const COUNT = 7;
/** Slot word: the number of the job's tasks finished (by either side). */
export const COMPLETED = 8;
/** Slot word: the value of `CLAIM` that takes the job's first task. */
export const BASE = 9;
/** Byte offset, within a slot, of the failure text (UTF-16 code units). */
export const ERROR_AT = 64;
/** The longest failure text kept, in UTF-16 code units. */
export const ERROR_CAPACITY = (SLOT_BYTES - ERROR_AT) / 2;
/** `SEQ` value that ends the worker's loop. */
export const STOP = -1;
/** `STATUS`: every task the worker ran completed. */
export const STATUS_OK = 0;
/** `STATUS`: a task threw; the text says why. */
export const STATUS_FAILED = 1;
/** `STATE`: the worker has not yet taken its slot. */
export const STATE_STARTING = 0;
/** `STATE`: the worker waits for jobs. */
export const STATE_READY = 1;
/** `STATE`: the worker has left its loop. */
export const STATE_STOPPED = 2;
/** The `type` of the start-up message a worker receives. */
export const INIT_TYPE = 'being-ts/wasm-thread-init';
/** Modules the module table holds (a pool runs ops of later modules on the calling thread). */
export const MAX_MODULES = 1024;

/** Bytes of the control block for `workers` workers: their slots, then the module table. */
export function controlBytes(workers: number): number {
  return workers * SLOT_BYTES + MAX_MODULES * 8;
}

/** Int32 index, in the control block, of module `id`'s table entry `[ptr, len]`. */
export function moduleEntry(workers: number, id: number): number {
  return (workers * SLOT_BYTES) / 4 + 2 * id;
}

/** The one message a worker receives: the memory to share, the control block, its slot, the slot count. */
export interface ThreadInit {
  /** {@link INIT_TYPE}. */
  readonly type: typeof INIT_TYPE;
  /** The shared memory every kernel runs on. */
  readonly memory: WebAssembly.Memory;
  /** The control block (one slot per worker, then the module table). */
  readonly control: SharedArrayBuffer;
  /** This worker's slot. */
  readonly slot: number;
  /** The number of slots (where the module table starts). */
  readonly workers: number;
  /** How long an idle worker polls for the next job before it sleeps in `Atomics.wait`, in ms. */
  readonly spinMs: number;
}

/** The next (even) job number after `seq`, wrapping before 2³¹. */
export function nextSeq(seq: number): number {
  return seq >= 0x7ffffffc ? 2 : (seq | 1) + 1;
}

/** Writes `text` (cut to {@link ERROR_CAPACITY}) as a slot's failure text. */
export function writeFailure(control: SharedArrayBuffer, slot: number, text: string): void {
  const cut = text.slice(0, ERROR_CAPACITY);
  const chars = new Uint16Array(control, slot * SLOT_BYTES + ERROR_AT, ERROR_CAPACITY);
  for (let i = 0; i < cut.length; i++) chars[i] = cut.charCodeAt(i);
  Atomics.store(new Int32Array(control, slot * SLOT_BYTES, SLOT_INTS), ERROR_LENGTH, cut.length);
}

/** Reads a slot's failure text. */
export function readFailure(control: SharedArrayBuffer, slot: number): string {
  const n = Atomics.load(new Int32Array(control, slot * SLOT_BYTES, SLOT_INTS), ERROR_LENGTH);
  return String.fromCharCode(...new Uint16Array(control, slot * SLOT_BYTES + ERROR_AT, Math.min(n, ERROR_CAPACITY)));
}

/**
 * Takes the next task of the job whose tasks are claim values `[base, base + count)`: returns its index,
 * or −1 when the range is used up (also when a newer job has moved the counter on).
 */
export function claimTask(ctrl: Int32Array, base: number, count: number): number {
  for (;;) {
    const c = Atomics.load(ctrl, CLAIM);
    const i = (c - base) | 0;
    if (i < 0 || i >= count) return -1;
    if (Atomics.compareExchange(ctrl, CLAIM, c, (c + 1) | 0) === c) return i;
  }
}

/** One encoded call: module id, export index, arguments. */
export type EncodedCall = readonly [moduleId: number, fnIndex: number, args: readonly number[]];

/** The number of float64 words of the task list holding `tasks`. */
export function taskListWords(tasks: readonly (readonly EncodedCall[])[]): number {
  let words = 1 + 2 * tasks.length;
  for (const task of tasks) for (const [, , args] of task) words += 3 + args.length;
  return words;
}

/** Writes `tasks` as a task list (the format above) into `words`, which holds exactly {@link taskListWords} words. */
export function writeTaskList(words: Float64Array, tasks: readonly (readonly EncodedCall[])[]): void {
  words[0] = tasks.length;
  let p = 1 + tasks.length;
  for (const [k, task] of tasks.entries()) {
    words[1 + k] = p;
    words[p++] = task.length;
    for (const [id, fnIndex, args] of task) {
      words[p++] = id;
      words[p++] = fnIndex;
      words[p++] = args.length;
      words.set(args, p);
      p += args.length;
    }
  }
}

/** Whether this thread may block in `Atomics.wait` (a browser's main thread may not). */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
