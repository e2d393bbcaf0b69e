/**
 * A training progress display that runs anywhere: it writes text through a sink you give it (Node:
 * `s => process.stdout.write(s)`; a browser: append to a `<pre>`), redraws one line in place on a terminal
 * (`isTTY`), and prints one plain line every few steps otherwise (logs, CI, pipes). Each line shows the
 * step, steps per second, the estimated time left, and the loss terms.
 * @module
 */

/** Options of {@link ProgressDisplay}. */
export interface ProgressOptions {
  /** Receives the display's text (lines end with `\n`; on a TTY, redraws start with `\r`). */
  write: (text: string) => void;
  /** The sink is a terminal: redraw one line in place (default false: plain lines). */
  isTTY?: boolean;
  /** Plain mode: print every `every` steps (default: about 20 lines over the run), and the first and last. */
  every?: number;
  /** Milliseconds now (default `performance.now()`). */
  now?: () => number;
}

/** Seconds as `45s`, `3m07s` or `2h05m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatValue(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toPrecision(4);
}

/**
 * Progress of a run of `total` steps.
 *
 * @example
 * const progress = new ProgressDisplay(1000, { write: (s) => process.stdout.write(s), isTTY: process.stdout.isTTY });
 * for (let step = 1; step <= 1000; step++) progress.update(step, { loss, fm, lr });
 * progress.finish();
 */
export class ProgressDisplay {
  readonly #write: (text: string) => void;
  readonly #tty: boolean;
  readonly #every: number;
  readonly #now: () => number;
  readonly #start: number;
  readonly #first: number;
  #last = '';
  #open = false;

  /** A display for steps `first + 1 … total` (a resumed run starts at `first`). */
  constructor(
    /** The step the run ends at. */
    readonly total: number,
    opts: ProgressOptions,
    first = 0,
  ) {
    if (!Number.isInteger(total) || total < 1) throw new RangeError(`ProgressDisplay: total must be an integer ≥ 1, got ${total}`);
    if (typeof opts?.write !== 'function') throw new TypeError('ProgressDisplay: write must be a function (text) => void');
    this.#write = opts.write;
    this.#tty = opts.isTTY ?? false;
    this.#every = opts.every ?? Math.max(1, Math.floor((total - first) / 20));
    if (!Number.isInteger(this.#every) || this.#every < 1) throw new RangeError(`ProgressDisplay: every must be an integer ≥ 1, got ${this.#every}`);
    this.#now = opts.now ?? (() => performance.now());
    this.#start = this.#now();
    this.#first = first;
  }

  /** The line for `step` with `values` (null values are left out). */
  line(step: number, values: Readonly<Record<string, number | null>>): string {
    const done = step - this.#first;
    const elapsed = (this.#now() - this.#start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : NaN;
    const eta = rate > 0 ? (this.total - step) / rate : NaN;
    const width = String(this.total).length;
    const parts = [`step ${String(step).padStart(width)}/${this.total}`, `${Number.isFinite(rate) ? rate.toFixed(2) : '?'} steps/s`, `ETA ${formatDuration(eta)}`];
    for (const [k, v] of Object.entries(values)) if (v !== null && v !== undefined) parts.push(`${k} ${formatValue(v)}`);
    return parts.join('  ');
  }

  /** Shows `step` (just completed) with its values. */
  update(step: number, values: Readonly<Record<string, number | null>>): void {
    const line = this.line(step, values);
    if (this.#tty) {
      // \r returns to the line's start; \x1b[K clears what a longer previous line left.
      this.#write(`\r${line}\x1b[K`);
      this.#open = true;
    } else if (step === this.#first + 1 || step === this.total || (step - this.#first) % this.#every === 0) {
      this.#write(`${line}\n`);
    }
    this.#last = line;
  }

  /** Ends the display (on a TTY, moves past the redrawn line). */
  finish(): void {
    if (this.#tty && this.#open) this.#write('\n');
    this.#open = false;
  }

  /** The last line shown or computed. */
  get lastLine(): string {
    return this.#last;
  }
}
