/**
 * Small shared helpers for the benchmarks in `bench/`: command-line sizes, running named cases with
 * benchmark.js and collecting their rates, and printing aligned tables.
 *
 * Each case runs on its own, synchronously, with its (possibly asynchronous) `setup` and `teardown`
 * outside the timed loop. The timed function is passed to benchmark.js as a function and without
 * benchmark.js's own `setup`/`teardown`, so benchmark.js calls it as is rather than decompiling its
 * source, and closures work. A peer whose API is asynchronous (onnxruntime-node's `session.run`) is timed
 * with benchmark.js's deferred mode (`fnAsync`), so each of its operations also pays a promise hand-off.
 * @module
 */
import Benchmark from 'benchmark';

/** The benchmark.js settings a case may size to its cost. */
export interface CaseOptions {
  /** Samples to take at least (benchmark.js's default is 5). */
  minSamples?: number;
  /** Seconds to keep sampling at most, once `minSamples` are taken (benchmark.js's default is 5). */
  maxTime?: number;
  /** Seconds one sample should last at least (the timed function is repeated within a sample until it does). */
  minTime?: number;
}

/** One named thing to time. */
export interface BenchCase {
  name: string;
  /** The timed work: one call is one operation (give this or `fnAsync`). */
  fn?: () => void;
  /** Asynchronous timed work: one settled promise is one operation. */
  fnAsync?: () => Promise<unknown>;
  /** Runs once before timing (e.g. creating inputs, selecting a backend); not timed. */
  setup?: () => void | Promise<void>;
  /** Runs once after timing (e.g. disposing inputs); not timed. */
  teardown?: () => void | Promise<void>;
  options?: CaseOptions;
}

/** What timing one case gave. */
export interface CaseResult {
  name: string;
  /** Operations per second, benchmark.js's `hz` (1 / mean; NaN when the case failed). */
  hz: number;
  /** Operations per second from the median sample: steadier than `hz` on a busy machine. */
  medianHz: number;
  /** Mean seconds per operation. */
  mean: number;
  /** Relative margin of error of the mean, in percent. */
  rme: number;
  /** Number of samples taken. */
  samples: number;
  /** Seconds spent in the case, setup and teardown included. */
  elapsed: number;
  /** Why the case failed, when it did. */
  error?: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function failed(name: string, error: unknown, started: number): CaseResult {
  return { name, hz: NaN, medianHz: NaN, mean: NaN, rme: NaN, samples: 0, elapsed: (performance.now() - started) / 1000, error: message(error) };
}

/** Runs benchmark.js in deferred mode on `fn` and resolves once it completes; a rejection becomes the benchmark's error. */
function runDeferred(name: string, fn: () => Promise<unknown>, options: CaseOptions | undefined): Promise<Benchmark> {
  return new Promise((resolve) => {
    let failure: unknown = null;
    const bench: Benchmark = new Benchmark(name, {
      ...options,
      defer: true,
      fn: (deferred: { resolve(): void }) => {
        fn().then(
          () => deferred.resolve(),
          (e: unknown) => {
            failure ??= e;
            bench.abort();
            deferred.resolve();
          },
        );
      },
    });
    bench.on('complete', () => {
      if (failure !== null) (bench as { error?: unknown }).error = failure;
      resolve(bench);
    });
    bench.run({ async: true });
  });
}

/** Times one case with benchmark.js; a failure (in setup, the timed function or teardown) is returned, not thrown. */
export async function runCase(c: BenchCase): Promise<CaseResult> {
  const started = performance.now();
  try {
    await c.setup?.();
  } catch (e) {
    return failed(c.name, e, started);
  }
  let result: CaseResult;
  try {
    const bench = c.fnAsync !== undefined ? await runDeferred(c.name, c.fnAsync, c.options) : new Benchmark(c.name, c.fn!, { ...c.options, async: false }).run();
    const err: unknown = bench.error;
    if (err) result = failed(c.name, err, started);
    else {
      result = {
        name: c.name,
        hz: bench.hz,
        medianHz: 1 / median(bench.stats.sample),
        mean: bench.stats.mean,
        rme: bench.stats.rme,
        samples: bench.stats.sample.length,
        elapsed: 0,
      };
    }
  } catch (e) {
    result = failed(c.name, e, started);
  }
  try {
    await c.teardown?.();
  } catch (e) {
    if (result.error === undefined) result = failed(c.name, e, started);
  }
  result.elapsed = (performance.now() - started) / 1000;
  return result;
}

/** Options of {@link runSuite}. */
export interface SuiteOptions {
  /** Called after each case, e.g. to log progress (default: one line on stderr). Pass `null` for silence. */
  onResult?: ((r: CaseResult) => void) | null;
}

/** One progress line for a finished case. */
export function describeResult(r: CaseResult): string {
  if (r.error !== undefined) return `${r.name}: FAILED: ${r.error}`;
  return (
    `${r.name}: ${formatNumber(r.hz, 3)} ops/s ±${r.rme.toFixed(1)}% (median ${formatNumber(r.medianHz, 3)}; ` +
    `${r.samples} samples, ${r.elapsed.toFixed(1)} s)`
  );
}

/** Runs the cases one after another and returns their results by name (names should be unique). */
export async function runSuite(cases: readonly BenchCase[], opts: SuiteOptions = {}): Promise<Map<string, CaseResult>> {
  const onResult = opts.onResult === undefined ? (r: CaseResult) => console.error(`  ${describeResult(r)}`) : opts.onResult;
  const results = new Map<string, CaseResult>();
  for (const c of cases) {
    const r = await runCase(c);
    results.set(c.name, r);
    onResult?.(r);
  }
  return results;
}

/** What {@link parseSizeArgs} understood. */
export interface SizeArgs {
  sizes: number[];
  quick: boolean;
}

/**
 * Reads `--quick` (use `quick` sizes) and `--sizes=64,256` (or `--sizes 64,256`) from the command line;
 * `--sizes` wins over `--quick`. Throws on anything else.
 */
export function parseSizeArgs(
  argv: readonly string[],
  defaults: readonly number[],
  quickSizes: readonly number[],
): SizeArgs {
  let quick = false;
  let sizes: number[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--sizes' || arg.startsWith('--sizes=')) {
      const list = arg === '--sizes' ? argv[++i] : arg.slice('--sizes='.length);
      if (list === undefined) throw new Error('--sizes needs a list, e.g. --sizes=64,256');
      sizes = list.split(',').filter((s) => s.trim() !== '').map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n <= 0) throw new Error(`--sizes: not a positive integer: '${s}'`);
        return n;
      });
      if (sizes.length === 0) throw new Error('--sizes: empty list');
    } else throw new Error(`unknown argument '${arg}' (expected --quick or --sizes=64,256)`);
  }
  return { sizes: sizes ?? [...(quick ? quickSizes : defaults)], quick };
}

/** A number with `digits` significant digits (no exponent for ordinary magnitudes); `—` for NaN. */
export function formatNumber(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '—' : String(x);
  if (x === 0) return '0';
  const mag = Math.floor(Math.log10(Math.abs(x)));
  if (mag >= 9 || mag < -4) return x.toPrecision(digits);
  return x.toFixed(Math.max(0, digits - 1 - mag));
}

/** `a / b` formatted as a ratio, e.g. `1.23×`; `—` when either is missing. */
export function formatRatio(a: number, b: number, digits = 3): string {
  const r = a / b;
  return Number.isFinite(r) ? `${formatNumber(r, digits)}×` : '—';
}

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Operations per second of a result as GFLOP/s, given the flops of one operation. */
export function gflops(r: CaseResult | undefined, flopsPerOp: number): number {
  return r === undefined ? NaN : (r.hz * flopsPerOp) / 1e9;
}
