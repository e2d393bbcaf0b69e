/**
 * Control-loop jitter of the real-time runtime (§6.3) at 50 Hz and 200 Hz: the control thread runs in a
 * Node worker (`startNodeControlThread`) against the simulated SO-101 behind the safety layer, while the
 * main thread either does nothing (`idle`: no inference at all, the loop only holds) or runs inference
 * back to back (`inference`: the stand-in policy with a CPU-heavy forward pass — a dense n × n float32
 * matmul in plain JS, sized to take about `--work-ms` — so the two threads compete for the two cores).
 *
 *     npm run build:all && node build/bench/runtime.bench.js                  # 4 s per case, 12 cases
 *     npm run build:all && node build/bench/runtime.bench.js --quick          # 1.5 s per case, Atomics.wait only
 *     node build/bench/runtime.bench.js --seconds=10 --hz=50,200 --sleep=atomics,timeout,spin --work-ms=20
 *
 * Jitter is |(t_k − t_{k−1}) − t_control| between consecutive ticks (t_k read right after the wait, on
 * `performance.now()`); lateness is t_k − τ_k after the absolute deadline τ_k. `sleep` is how the worker
 * waits before its busy-wait tail: `atomics` (Atomics.wait, 0.5 ms tail), `timeout` (setTimeout, 1.5 ms
 * tail) or `spin` (busy-waits the whole period). Percentiles are nearest-rank over the run's ticks.
 * @module
 */
import { getRobot } from '../src/robot/embodiments/index.js';
import { startNodeControlThread } from '../src/robot/runtime/node-control-thread.js';
import { SharedActionRing } from '../src/robot/runtime/ring-buffer.js';
import { RealtimeRuntime, type RuntimeMetrics } from '../src/robot/runtime/runtime.js';
import type { PreciseTiming } from '../src/robot/runtime/schedule.js';
import { simulatedDriverModule } from '../src/robot/runtime/simulated-driver-module.js';
import { StandInPolicy } from '../src/robot/runtime/stand-in-policy.js';
import { formatNumber, formatTable } from './harness.js';

type Sleep = NonNullable<PreciseTiming['sleep']>;

interface Args {
  seconds: number;
  hz: number[];
  sleeps: Sleep[];
  workMs: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { seconds: 4, hz: [50, 200], sleeps: ['atomics', 'timeout', 'spin'], workMs: 20 };
  for (const arg of argv) {
    const [key, value = ''] = arg.split('=', 2) as [string, string?];
    if (key === '--quick') Object.assign(args, { seconds: 1.5, sleeps: ['atomics'] });
    else if (key === '--seconds') args.seconds = Number(value);
    else if (key === '--work-ms') args.workMs = Number(value);
    else if (key === '--hz') args.hz = value.split(',').map(Number);
    else if (key === '--sleep') args.sleeps = value.split(',') as Sleep[];
    else throw new Error(`unknown argument '${arg}' (expected --quick, --seconds=, --hz=, --sleep=, --work-ms=)`);
  }
  if (!(args.seconds > 0)) throw new Error(`--seconds must be > 0, got ${args.seconds}`);
  if (!args.hz.every((h) => h > 0)) throw new Error(`--hz must be positive numbers, got ${args.hz}`);
  if (!args.sleeps.every((s) => ['atomics', 'timeout', 'spin'].includes(s))) throw new Error(`--sleep must list atomics, timeout or spin, got ${args.sleeps}`);
  if (!(args.workMs >= 0)) throw new Error(`--work-ms must be ≥ 0, got ${args.workMs}`);
  return args;
}

/** A plain-JS n × n float32 matmul, the stand-in forward pass. */
function matmulWork(n: number): () => number {
  const a = new Float32Array(n * n).map((_, i) => ((i * 7919) % 97) / 97);
  const b = new Float32Array(n * n).map((_, i) => ((i * 104729) % 89) / 89);
  const c = new Float32Array(n * n);
  return () => {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        const x = a[i * n + k]!;
        for (let j = 0; j < n; j++) c[i * n + j] += x * b[k * n + j]!;
      }
    }
    return c[0]!;
  };
}

/** The matmul size whose one run takes about `ms` milliseconds here. */
function sizeFor(ms: number): number {
  if (ms === 0) return 0;
  let n = 64;
  for (;;) {
    const run = matmulWork(n);
    run();
    const t0 = performance.now();
    run();
    const took = performance.now() - t0;
    if (took >= ms || n >= 1024) return Math.max(8, Math.round(n * Math.cbrt(ms / Math.max(took, 1e-3))));
    n *= 2;
  }
}

async function runCase(hz: number, sleep: Sleep, load: 'idle' | 'inference', seconds: number, n: number): Promise<RuntimeMetrics & { maxStep: number }> {
  const robot = getRobot('so101');
  const period = 1 / hz;
  const T = 32;
  const ring = SharedActionRing.create({ chunkLength: T, actionDim: robot.dof });
  const control = await startNodeControlThread(ring, { driver: simulatedDriverModule({ robot: 'so101', watchdogTimeout: Infinity }), controlPeriod: period, timing: { sleep } });
  const work = n > 0 ? matmulWork(n) : () => 0;
  const policy = new StandInPolicy({ chunkLength: T, actionDim: robot.dof, trainedMaxDelay: T - 2, maxStep: 1e-3, lower: robot.lower, upper: robot.upper, work: () => void work() });
  const runtime = new RealtimeRuntime({ control, policy, observe: () => ({ state: ring.readState()?.positions }), controlPeriod: period, safetyMargin: 1 });
  if (load === 'inference') runtime.start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const m = await runtime.stop();
  return { ...m, maxStep: policy.observedMaxStep };
}

const us = (s: number): string => formatNumber(s * 1e6, 3);
const ms = (s: number): string => formatNumber(s * 1e3, 3);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const n = sizeFor(args.workMs);
  console.log(`control thread: Node worker, simulated so101 (SafeDriver); inference: stand-in policy + ${n}×${n} matmul per chunk on the main thread; ${args.seconds} s per case; Node ${process.version}`);
  const rows: string[][] = [];
  for (const hz of args.hz) {
    for (const sleep of args.sleeps) {
      for (const load of ['idle', 'inference'] as const) {
        const m = await runCase(hz, sleep, load, args.seconds, n);
        const c = m.control;
        const i = m.inference;
        const d = i.delays.flatMap((count, delay) => (count > 0 ? [delay] : []));
        rows.push([
          `${hz} Hz ${sleep} ${load}`,
          String(c.ticks),
          us(c.jitter.p50),
          us(c.jitter.p99),
          us(c.jitter.max),
          us(c.lateness.p99),
          String(c.missedTicks),
          String(c.underflows),
          String(c.stitches),
          String(c.prefixOverruns),
          load === 'idle' ? '—' : c.maxJump <= m.maxStep ? 'yes' : `no (${formatNumber(c.maxJump)})`,
          load === 'idle' ? '—' : `${ms(i.latency.p50)} / ${ms(i.latency.p99)}`,
          d.length === 0 ? '—' : d.length === 1 ? String(d[0]) : `${d[0]}–${d[d.length - 1]}`,
        ]);
        console.error(`  done: ${rows[rows.length - 1]![0]}`);
      }
    }
  }
  console.log(
    formatTable(
      ['case', 'ticks', 'jitter p50 µs', 'p99 µs', 'max µs', 'late p99 µs', 'missed', 'underflows', 'stitches', 'overruns', 'jump ≤ δ', 't_inf p50/p99 ms', 'd'],
      rows,
    ),
  );
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
