/**
 * The execution buffer 𝓑 of §6.3: action rows on a `SharedArrayBuffer`, shared by the control thread
 * (consumer) and the inference thread (producer) without locks and without torn rows.
 *
 *   Eq. 23: a_i^(k) ← 𝓑_i for i < d (the committed prefix, read by {@link SharedActionRing.snapshot});
 *   Eq. 24: a_exec^(n) = a_{<d}^(n−1) ⊕ a_{≥d}^(n) (written by {@link SharedActionRing.post}).
 *
 * Layout: a ring of `capacity ≥ 2·T` float32 rows (T the chunk length). Actions are numbered by a
 * queue index: the consumer pops index `head` once per control period. The *active chunk* is a span of
 * at most T ring rows holding indices [base, base + len); a stitch writes the next chunk — the committed
 * prefix rows copied from the active chunk, then the new postfix — into the ring rows right after the
 * active span, which nobody reads (capacity ≥ 2T keeps the two spans apart), and *posts* it. The
 * consumer takes a posted chunk up at the start of its next tick (it alone moves `head` and switches
 * the active chunk), so a row is never written while it can be read: the rows of the active span are
 * immutable, and the producer posts again only after the consumer has acknowledged the last post.
 *
 * A chunk whose prefix was short (the buffer held m < d rows) is stored without its padding: the
 * padding repeats the last buffered row, which is what the control thread holds on underflow, so the
 * postfix may follow the last real row directly.
 *
 * Every control word is read and written with `Atomics` (sequentially consistent); counters are int32
 * and wrap, so indices are compared by their wrapped difference.
 * @module
 */

const enum W {
  HEAD = 0,
  TICK,
  ACTIVE_BASE,
  ACTIVE_LEN,
  ACTIVE_OFF,
  ACTIVE_GEN,
  POST_GEN,
  POST_BASE,
  POST_LEN,
  POST_OFF,
  POST_COMMITTED,
  POST_DELAY,
  POST_TICK,
  READY,
  STOP,
  STATE_SEQ,
  STEP_SEQ,
}
const CONTROL_BYTES = 128;
const STATE_RETRIES = 64;

/** What a {@link SharedActionRing} is made from: plain data (and the shared buffer), so it can be posted to a worker. */
export interface SharedRingHandle {
  /** The shared memory. */
  readonly buffer: SharedArrayBuffer;
  /** T, the chunk length. */
  readonly chunkLength: number;
  /** D, the number of entries per action row. */
  readonly actionDim: number;
  /** Rows in the ring (≥ 2T). */
  readonly capacity: number;
  /** Entries of the robot-state mailbox. */
  readonly stateDim: number;
}

/** Options of {@link SharedActionRing.create}. */
export interface SharedRingOptions {
  /** T, the action chunk length (an integer ≥ 1). */
  chunkLength: number;
  /** D, the entries per action row (an integer ≥ 1). */
  actionDim: number;
  /** Rows in the ring; at least 2T (the default), as §6.3 asks. */
  capacity?: number;
  /** Entries of the robot-state mailbox (default D). */
  stateDim?: number;
}

/** What the producer read from the buffer for one inference: the committed prefix of Eq. 23. */
export interface RingSnapshot {
  /** Queue index of the first prefix row (the next action the control thread will pop). */
  readonly head: number;
  /** The control thread's tick count when the snapshot was taken. */
  readonly tick: number;
  /** d, the declared delay. */
  readonly delay: number;
  /** m = min(d, rows buffered): how many prefix rows are real; rows m…d − 1 repeat row m − 1 (the hold value). */
  readonly committed: number;
  /** The d committed rows, d × D, row-major (padded as described). */
  readonly prefix: Float32Array;
  /** The acknowledged generation the snapshot belongs to. */
  readonly generation: number;
}

/** What the consumer found when it took a posted chunk up (see {@link SharedActionRing.applyPending}). */
export interface AppliedStitch {
  /** The chunk's generation (1 for the first stitch). */
  readonly generation: number;
  /** d declared for it. */
  readonly delay: number;
  /** Control ticks that ran between the snapshot and this take-up: the delay actually realised. */
  readonly realized: number;
  /** Rows executed past the committed prefix before the chunk arrived (conditioned on by nobody). */
  readonly uncommitted: number;
}

/** The robot state published by the control thread (see {@link SharedActionRing.readState}). */
export interface PublishedState {
  /** When it was measured, in seconds on the driver's clock. */
  readonly timestamp: number;
  /** Joint positions (`stateDim` entries; NaN past the driver's own count). */
  readonly positions: Float64Array;
}

const wrap = (x: number): number => x | 0;

/**
 * The shared execution buffer. One instance per thread over the same memory: the creator calls
 * {@link SharedActionRing.create}; the other thread calls {@link SharedActionRing.attach} with
 * {@link SharedActionRing.handle}. Exactly one thread consumes (control) and one produces (inference).
 *
 * @example
 * const ring = SharedActionRing.create({ chunkLength: 16, actionDim: 6 });
 * ring.initialize(currentPosition);              // control thread, before its first tick
 * const snap = ring.snapshot(3);                 // inference: d = 3 committed rows (Eq. 23)
 * ring.post(snap, stitchChunk(snap, chunk, 16)); // inference: prefix ⊕ postfix (Eq. 24)
 */
export class SharedActionRing {
  /** T. */
  readonly chunkLength: number;
  /** D. */
  readonly actionDim: number;
  /** Ring rows (≥ 2T). */
  readonly capacity: number;
  /** Entries of the state mailbox. */
  readonly stateDim: number;
  readonly #buffer: SharedArrayBuffer;
  readonly #ctl: Int32Array;
  readonly #state: Float64Array;
  readonly #rows: Float32Array;

  private constructor(h: SharedRingHandle) {
    this.#buffer = h.buffer;
    this.chunkLength = h.chunkLength;
    this.actionDim = h.actionDim;
    this.capacity = h.capacity;
    this.stateDim = h.stateDim;
    this.#ctl = new Int32Array(h.buffer, 0, CONTROL_BYTES / 4);
    this.#state = new Float64Array(h.buffer, CONTROL_BYTES, 1 + h.stateDim);
    const rowsAt = CONTROL_BYTES + 8 * (1 + h.stateDim);
    this.#rows = new Float32Array(h.buffer, rowsAt, h.capacity * h.actionDim);
  }

  /** Allocates a ring for chunks of T rows of D entries. */
  static create(options: SharedRingOptions): SharedActionRing {
    const fn = 'SharedActionRing.create';
    const { chunkLength: T, actionDim: D } = options;
    const capacity = options.capacity ?? 2 * T;
    const stateDim = options.stateDim ?? D;
    if (!Number.isInteger(T) || T < 1) throw new RangeError(`${fn}: chunkLength must be an integer ≥ 1, got ${T}`);
    if (!Number.isInteger(D) || D < 1) throw new RangeError(`${fn}: actionDim must be an integer ≥ 1, got ${D}`);
    if (!Number.isInteger(capacity) || capacity < 2 * T) throw new RangeError(`${fn}: capacity must be an integer ≥ 2·chunkLength = ${2 * T}, got ${capacity}`);
    if (!Number.isInteger(stateDim) || stateDim < 1) throw new RangeError(`${fn}: stateDim must be an integer ≥ 1, got ${stateDim}`);
    if (typeof SharedArrayBuffer !== 'function') throw new Error(`${fn}: SharedArrayBuffer is unavailable (browsers need a cross-origin isolated page)`);
    const bytes = CONTROL_BYTES + 8 * (1 + stateDim) + 4 * capacity * D;
    return new SharedActionRing({ buffer: new SharedArrayBuffer(bytes), chunkLength: T, actionDim: D, capacity, stateDim });
  }

  /** Another thread's view of the ring described by `handle`. */
  static attach(handle: SharedRingHandle): SharedActionRing {
    const fn = 'SharedActionRing.attach';
    const { buffer, chunkLength: T, actionDim: D, capacity, stateDim } = handle ?? ({} as SharedRingHandle);
    if (!(buffer instanceof SharedArrayBuffer)) throw new TypeError(`${fn}: handle.buffer must be a SharedArrayBuffer`);
    for (const [k, v] of Object.entries({ chunkLength: T, actionDim: D, capacity, stateDim })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${fn}: handle.${k} must be an integer ≥ 1, got ${v}`);
    }
    if (capacity < 2 * T) throw new RangeError(`${fn}: capacity ${capacity} is below 2·chunkLength = ${2 * T}`);
    const bytes = CONTROL_BYTES + 8 * (1 + stateDim) + 4 * capacity * D;
    if (buffer.byteLength !== bytes) throw new RangeError(`${fn}: buffer has ${buffer.byteLength} bytes, the handle's sizes need ${bytes}`);
    return new SharedActionRing(handle);
  }

  /** The data another thread needs to {@link SharedActionRing.attach}. */
  get handle(): SharedRingHandle {
    return { buffer: this.#buffer, chunkLength: this.chunkLength, actionDim: this.actionDim, capacity: this.capacity, stateDim: this.stateDim };
  }

  #load(w: W): number {
    return Atomics.load(this.#ctl, w);
  }

  #store(w: W, v: number): void {
    Atomics.store(this.#ctl, w, v);
  }

  #ringRow(offset: number, i: number): number {
    return ((offset + i) % this.capacity) * this.actionDim;
  }

  // ——— consumer (control thread) ———

  /**
   * Consumer: starts the buffer empty, with `action` (the robot's measured position) as the last row,
   * i.e. the value held until the first chunk arrives. `startIndex` numbers the queue (default 0).
   */
  initialize(action: ArrayLike<number>, startIndex = 0): void {
    const fn = 'SharedActionRing.initialize';
    if (action?.length !== this.actionDim) throw new RangeError(`${fn}: action must have ${this.actionDim} entries, got ${action?.length}`);
    if (!Number.isInteger(startIndex) || startIndex < -(2 ** 31) || startIndex >= 2 ** 31) throw new RangeError(`${fn}: startIndex must be an int32, got ${startIndex}`);
    for (let j = 0; j < this.actionDim; j++) {
      if (!Number.isFinite(action[j])) throw new RangeError(`${fn}: action[${j}] is ${action[j]}`);
      this.#rows[j] = action[j]!;
    }
    this.#store(W.ACTIVE_BASE, startIndex);
    this.#store(W.ACTIVE_LEN, 1);
    this.#store(W.ACTIVE_OFF, 0);
    this.#store(W.HEAD, wrap(startIndex + 1));
    this.#store(W.TICK, 0);
    this.#store(W.POST_GEN, 0);
    this.#store(W.ACTIVE_GEN, 0);
    this.#store(W.READY, 1);
  }

  /**
   * Consumer, at the start of a tick: takes up a posted chunk if there is one (switching the active
   * chunk and acknowledging it), and reports how late it came. Returns null when nothing was posted.
   */
  applyPending(): AppliedStitch | null {
    const generation = this.#load(W.POST_GEN);
    if (generation === this.#load(W.ACTIVE_GEN)) return null;
    const base = this.#load(W.POST_BASE);
    const committed = this.#load(W.POST_COMMITTED);
    const head = this.#load(W.HEAD);
    this.#store(W.ACTIVE_BASE, base);
    this.#store(W.ACTIVE_LEN, this.#load(W.POST_LEN));
    this.#store(W.ACTIVE_OFF, this.#load(W.POST_OFF));
    this.#store(W.ACTIVE_GEN, generation); // the acknowledgement: stored last
    return {
      generation,
      delay: this.#load(W.POST_DELAY),
      realized: wrap(this.#load(W.TICK) - this.#load(W.POST_TICK)),
      uncommitted: Math.max(0, wrap(head - wrap(base + committed))),
    };
  }

  /**
   * Consumer: one executed control step — copies the action at `head` into `out` and advances, or
   * returns false (`out` untouched) on underflow — and counts it; snapshots date their prefix by that
   * count. Head and count change together under a sequence word, so a snapshot never sees one without the other.
   */
  step(out: Float32Array): boolean {
    Atomics.add(this.#ctl, W.STEP_SEQ, 1); // odd: stepping
    const head = this.#load(W.HEAD);
    const i = wrap(head - this.#load(W.ACTIVE_BASE));
    const popped = i >= 0 && i < this.#load(W.ACTIVE_LEN);
    if (popped) {
      const at = this.#ringRow(this.#load(W.ACTIVE_OFF), i);
      out.set(this.#rows.subarray(at, at + this.actionDim));
      this.#store(W.HEAD, wrap(head + 1));
    }
    Atomics.add(this.#ctl, W.TICK, 1);
    Atomics.add(this.#ctl, W.STEP_SEQ, 1);
    return popped;
  }

  /** Consumer: publishes the robot's latest measured state (read by {@link SharedActionRing.readState}). */
  writeState(timestamp: number, positions: ArrayLike<number>): void {
    const n = Math.min(positions.length, this.stateDim);
    Atomics.add(this.#ctl, W.STATE_SEQ, 1); // odd: writing
    this.#state[0] = timestamp;
    for (let j = 0; j < n; j++) this.#state[1 + j] = positions[j]!;
    for (let j = n; j < this.stateDim; j++) this.#state[1 + j] = NaN;
    Atomics.add(this.#ctl, W.STATE_SEQ, 1);
  }

  // ——— producer (inference thread) ———

  /** Whether the consumer has initialised the buffer. */
  get ready(): boolean {
    return this.#load(W.READY) === 1;
  }

  /** Whether the consumer has taken up the last posted chunk, so a new snapshot may be taken. */
  get acknowledged(): boolean {
    return this.ready && this.#load(W.ACTIVE_GEN) === this.#load(W.POST_GEN);
  }

  /** Actions buffered ahead of the control thread. */
  get available(): number {
    return Math.max(0, wrap(wrap(this.#load(W.ACTIVE_BASE) + this.#load(W.ACTIVE_LEN)) - this.#load(W.HEAD)));
  }

  /**
   * Producer: the committed prefix for delay d (Eq. 23) — the next d actions the control thread will
   * execute, read from the active chunk. When fewer than d are buffered, the remaining rows repeat the
   * last buffered row (what the control thread holds on underflow). Requires {@link acknowledged}.
   */
  snapshot(delay: number): RingSnapshot {
    const fn = 'SharedActionRing.snapshot';
    const { chunkLength: T, actionDim: D } = this;
    if (!Number.isInteger(delay) || delay < 0 || delay >= T) throw new RangeError(`${fn}: delay must be an integer in [0, ${T - 1}] (chunk length ${T}), got ${delay}`);
    if (!this.acknowledged) throw new Error(`${fn}: the control thread has not ${this.ready ? 'taken up the last posted chunk' : 'initialised the buffer'} yet`);
    // The active span cannot change until we post again; head and tick can, so read them together.
    // (A consumer stopped mid-step would leave the sequence odd: after a bounded wait, read anyway.)
    let tick = 0;
    let head = 0;
    for (let tries = 0; tries < 10_000; tries++) {
      const s1 = this.#load(W.STEP_SEQ);
      tick = this.#load(W.TICK);
      head = this.#load(W.HEAD);
      if (!(s1 & 1) && this.#load(W.STEP_SEQ) === s1) break;
    }
    const base = this.#load(W.ACTIVE_BASE);
    const len = this.#load(W.ACTIVE_LEN);
    const off = this.#load(W.ACTIVE_OFF);
    const start = Math.min(wrap(head - base), len); // ≤ len: nothing is popped past the span
    const committed = Math.min(delay, len - start);
    const prefix = new Float32Array(delay * D);
    for (let i = 0; i < delay; i++) {
      const at = this.#ringRow(off, i < committed ? start + i : len - 1);
      prefix.set(this.#rows.subarray(at, at + D), i * D);
    }
    return { head, tick, delay, committed, prefix, generation: this.#load(W.ACTIVE_GEN) };
  }

  /**
   * Producer: posts `rows` (L × D, L = m + T − d: the real prefix rows then the postfix, see
   * `stitchChunk`) as the chunk that continues `snapshot` (Eq. 24). The rows land in ring rows nobody
   * reads; the control thread switches to them at its next tick.
   */
  post(snapshot: RingSnapshot, rows: Float32Array): void {
    const fn = 'SharedActionRing.post';
    const { chunkLength: T, actionDim: D } = this;
    const expected = snapshot.committed + T - snapshot.delay;
    if (!(rows instanceof Float32Array) || rows.length !== expected * D) {
      throw new RangeError(`${fn}: rows must be a Float32Array of ${expected} × ${D} = ${expected * D} entries (m = ${snapshot.committed}, T = ${T}, d = ${snapshot.delay}), got ${rows?.length}`);
    }
    if (!this.acknowledged || this.#load(W.ACTIVE_GEN) !== snapshot.generation) {
      throw new Error(`${fn}: the snapshot (generation ${snapshot.generation}) is stale; the buffer is at generation ${this.#load(W.POST_GEN)}`);
    }
    const off = (this.#load(W.ACTIVE_OFF) + this.#load(W.ACTIVE_LEN)) % this.capacity;
    for (let i = 0; i < expected; i++) {
      const at = this.#ringRow(off, i);
      this.#rows.set(rows.subarray(i * D, (i + 1) * D), at);
    }
    this.#store(W.POST_BASE, snapshot.head);
    this.#store(W.POST_LEN, expected);
    this.#store(W.POST_OFF, off);
    this.#store(W.POST_COMMITTED, snapshot.committed);
    this.#store(W.POST_DELAY, snapshot.delay);
    this.#store(W.POST_TICK, snapshot.tick);
    this.#store(W.POST_GEN, wrap(snapshot.generation + 1)); // publication: stored last
  }

  /**
   * The robot's latest state as published by the control thread (`positions` has `stateDim` entries),
   * or null when none was published yet or the writer could not be read consistently.
   */
  readState(): PublishedState | null {
    for (let tries = 0; tries < STATE_RETRIES; tries++) {
      const s1 = Atomics.load(this.#ctl, W.STATE_SEQ);
      if (s1 === 0) return null;
      if (s1 & 1) continue;
      const timestamp = this.#state[0]!;
      const positions = this.#state.slice(1);
      if (Atomics.load(this.#ctl, W.STATE_SEQ) === s1) return { timestamp, positions };
    }
    return null;
  }

  // ——— both ———

  /** Control steps executed so far (actions popped plus underflow ticks), as counted by {@link SharedActionRing.step}. */
  get ticks(): number {
    return this.#load(W.TICK);
  }

  /** Asks the control thread to stop, waking it if it sleeps in {@link SharedActionRing.waitForStop}. */
  requestStop(): void {
    this.#store(W.STOP, 1);
    Atomics.notify(this.#ctl, W.STOP);
  }

  /** Whether a stop was requested. */
  get stopRequested(): boolean {
    return this.#load(W.STOP) !== 0;
  }

  /**
   * Blocks the calling thread for up to `ms` milliseconds, returning early when a stop is requested
   * (`Atomics.wait`; workers only — browsers forbid it on the main thread). Returns whether stop was requested.
   */
  waitForStop(ms: number): boolean {
    if (ms > 0) Atomics.wait(this.#ctl, W.STOP, 0, ms);
    return this.stopRequested;
  }
}
