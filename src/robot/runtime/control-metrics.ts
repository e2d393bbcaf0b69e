/**
 * The control thread's metrics on shared memory (§6.3): the control thread writes them every tick
 * under a sequence lock, and any thread reads a consistent copy without messaging it — so a stalled
 * inference thread, or a busy main thread, neither delays nor loses them.
 *
 * Timing is kept as the last {@link JITTER_WINDOW} per-tick samples: the control-period jitter
 * |(t_k − t_{k−1}) − (τ_k − τ_{k−1})| (t actual, τ scheduled tick times) and the lateness t_k − τ_k.
 * @module
 */

/** Samples of jitter and lateness kept (the most recent ticks). */
export const JITTER_WINDOW = 4096;

/** The names of the control thread's counters and gauges, in their shared-memory order. */
export const CONTROL_COUNTERS = [
  'ticks',
  'actions',
  'underflows',
  'underflowEpisodes',
  'fallbackTicks',
  'missedTicks',
  'driverBusy',
  'driverErrors',
  'stitches',
  'prefixOverruns',
  'overrunSteps',
  'uncommittedExecuted',
  'maxJump',
  'lastDelay',
  'lastRealizedDelay',
  'maxRealizedDelay',
  'samples',
] as const;

/** A counter or gauge kept by the control thread. */
export type ControlCounter = (typeof CONTROL_COUNTERS)[number];

const INDEX = Object.fromEntries(CONTROL_COUNTERS.map((k, i) => [k, i])) as Record<ControlCounter, number>;
const SEQ_BYTES = 8;

/** p50, p99 and maximum of a set of samples, in seconds (NaN when there are none). */
export interface Percentiles {
  /** Median (nearest rank). */
  readonly p50: number;
  /** 99th percentile (nearest rank). */
  readonly p99: number;
  /** Largest sample. */
  readonly max: number;
  /** Number of samples. */
  readonly count: number;
}

/** Nearest-rank p50/p99/max of `samples` (not modified). */
export function percentiles(samples: ArrayLike<number>): Percentiles {
  const s = Float64Array.from(samples).sort();
  const n = s.length;
  const rank = (p: number): number => (n === 0 ? NaN : s[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!);
  return { p50: rank(0.5), p99: rank(0.99), max: n === 0 ? NaN : s[n - 1]!, count: n };
}

/** What the control thread reports (counts since start; times in seconds). */
export interface ControlMetrics {
  /** Control ticks run. */
  readonly ticks: number;
  /** Actions popped from the buffer and sent. */
  readonly actions: number;
  /** Ticks that found the buffer empty (held or ran the fallback). */
  readonly underflows: number;
  /** Runs of consecutive underflow ticks. */
  readonly underflowEpisodes: number;
  /** Underflow ticks that ran the fallback rather than holding. */
  readonly fallbackTicks: number;
  /** Deadlines skipped because a tick ran more than a period late. */
  readonly missedTicks: number;
  /** Ticks skipped because the driver had not finished the previous command. */
  readonly driverBusy: number;
  /** Commands the driver rejected. */
  readonly driverErrors: number;
  /** Chunks taken up (Eq. 24 stitches). */
  readonly stitches: number;
  /** Stitches that arrived after more than d ticks (d underestimated). */
  readonly prefixOverruns: number;
  /** Σ (realised − d) over those stitches: ticks not covered by the committed prefix. */
  readonly overrunSteps: number;
  /** Σ rows executed past a committed prefix before its chunk arrived. */
  readonly uncommittedExecuted: number;
  /** Largest step-to-step change (max over entries of |a_k − a_{k−1}|) of the commands sent. */
  readonly maxJump: number;
  /** d of the last stitch. */
  readonly lastDelay: number;
  /** Ticks between snapshot and take-up of the last stitch. */
  readonly lastRealizedDelay: number;
  /** The largest such count. */
  readonly maxRealizedDelay: number;
  /** Control-period jitter over the last {@link JITTER_WINDOW} ticks. */
  readonly jitter: Percentiles;
  /** Lateness after the scheduled deadline over the same ticks. */
  readonly lateness: Percentiles;
}

/** Data to attach to {@link SharedControlMetrics} from another thread. */
export interface SharedMetricsHandle {
  /** The shared memory. */
  readonly buffer: SharedArrayBuffer;
}

/**
 * The metrics block. The control thread owns the writes; any
 * thread may {@link SharedControlMetrics.read}. Writes go between {@link SharedControlMetrics.begin}
 * and {@link SharedControlMetrics.end}.
 */
export class SharedControlMetrics {
  readonly #buffer: SharedArrayBuffer;
  readonly #seq: Int32Array;
  readonly #values: Float64Array;
  readonly #jitter: Float64Array;
  readonly #lateness: Float64Array;

  private constructor(buffer: SharedArrayBuffer) {
    this.#buffer = buffer;
    this.#seq = new Int32Array(buffer, 0, 2);
    this.#values = new Float64Array(buffer, SEQ_BYTES, CONTROL_COUNTERS.length);
    const at = SEQ_BYTES + 8 * CONTROL_COUNTERS.length;
    this.#jitter = new Float64Array(buffer, at, JITTER_WINDOW);
    this.#lateness = new Float64Array(buffer, at + 8 * JITTER_WINDOW, JITTER_WINDOW);
  }

  static #bytes(): number {
    return SEQ_BYTES + 8 * CONTROL_COUNTERS.length + 16 * JITTER_WINDOW;
  }

  /** A zeroed block. */
  static create(): SharedControlMetrics {
    return new SharedControlMetrics(new SharedArrayBuffer(SharedControlMetrics.#bytes()));
  }

  /** Another thread's view of the block. */
  static attach(handle: SharedMetricsHandle): SharedControlMetrics {
    const b = handle?.buffer;
    if (!(b instanceof SharedArrayBuffer) || b.byteLength !== SharedControlMetrics.#bytes()) {
      throw new RangeError(`SharedControlMetrics.attach: handle.buffer must be a SharedArrayBuffer of ${SharedControlMetrics.#bytes()} bytes, got ${b instanceof SharedArrayBuffer ? b.byteLength : typeof b}`);
    }
    return new SharedControlMetrics(b);
  }

  /** The data another thread needs to attach. */
  get handle(): SharedMetricsHandle {
    return { buffer: this.#buffer };
  }

  /** Writer: opens an update; readers retry until {@link SharedControlMetrics.end}. */
  begin(): void {
    Atomics.add(this.#seq, 0, 1); // odd: writing
  }

  /** Writer: closes the update opened by {@link SharedControlMetrics.begin}. */
  end(): void {
    Atomics.add(this.#seq, 0, 1);
  }

  /** The current value of a counter (for the writer; readers use {@link SharedControlMetrics.read}). */
  get(k: ControlCounter): number {
    return this.#values[INDEX[k]]!;
  }

  /** Writer: sets a counter or gauge. */
  set(k: ControlCounter, value: number): void {
    this.#values[INDEX[k]] = value;
  }

  /** Writer: adds to a counter. */
  add(k: ControlCounter, by = 1): void {
    this.#values[INDEX[k]] += by;
  }

  /** Writer: records one tick's jitter and lateness in seconds (NaN when not defined for this tick). */
  sample(jitter: number, lateness: number): void {
    const n = this.#values[INDEX.samples]!;
    const slot = n % JITTER_WINDOW;
    this.#jitter[slot] = jitter;
    this.#lateness[slot] = lateness;
    this.#values[INDEX.samples] = n + 1;
  }

  /** A consistent copy of the metrics (retrying while the writer is mid-update; the last copy if it never settles). */
  read(): ControlMetrics {
    let values = this.#values.slice();
    let jitter = this.#jitter.slice();
    let lateness = this.#lateness.slice();
    for (let tries = 0; tries < 100; tries++) {
      const s1 = Atomics.load(this.#seq, 0);
      if (s1 & 1) continue;
      values = this.#values.slice();
      jitter = this.#jitter.slice();
      lateness = this.#lateness.slice();
      if (Atomics.load(this.#seq, 0) === s1) break;
    }
    const n = Math.min(values[INDEX.samples]!, JITTER_WINDOW);
    const finite = (xs: Float64Array): Float64Array => xs.subarray(0, n).filter((x) => Number.isFinite(x));
    const out = Object.fromEntries(CONTROL_COUNTERS.filter((k) => k !== 'samples').map((k) => [k, values[INDEX[k]]!]));
    return { ...(out as Omit<ControlMetrics, 'jitter' | 'lateness'>), jitter: percentiles(finite(jitter)), lateness: percentiles(finite(lateness)) };
  }
}
