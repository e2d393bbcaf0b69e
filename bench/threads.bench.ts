/**
 * Where splitting an op across the wasm backend's two threads pays: each size is timed on one thread and
 * on two with the split thresholds at 0 (every op split), and the table gives the speedup. The default
 * thresholds (`PARALLEL_MIN_FLOPS`, `PARALLEL_MIN_ELEMENTS` in `src/tensor/wasm/threads.ts`) are the
 * smallest sizes from which splitting stays ahead; this prints what this machine suggests.
 *
 *     npm run build:all && node build/bench/threads.bench.js
 *     npm run build:all && node build/bench/threads.bench.js --quick       # fewer sizes
 *
 * Timings on a machine shared with other work are noisy: a busy second core delays the worker, and the
 * calling thread then runs the worker's tasks itself (so two threads cost little even then).
 * @module
 */
import { nodeWasmThreadSpawner } from '../src/node/wasm-threads.js';
import { add, Generator, matmul, PARALLEL_MIN_ELEMENTS, PARALLEL_MIN_FLOPS, randn, registerBackend, setBackend, sum, tensor, WasmBackend, type Tensor } from '../src/tensor/index.js';
import { formatNumber, formatRatio, formatTable, runSuite, type BenchCase } from './harness.js';

const quick = process.argv.includes('--quick');
const MATMUL_SIZES = quick ? [64, 128, 256] : [32, 48, 64, 96, 128, 192, 256, 384, 512];
const ELEMENT_SIZES = quick ? [1 << 14, 1 << 17, 1 << 20] : [1 << 12, 1 << 14, 1 << 15, 1 << 16, 1 << 17, 1 << 18, 1 << 20, 1 << 22];
const OPS: Record<string, { work: (n: number) => number; make: (n: number, g: Generator) => Float32Array[]; run: (x: Tensor[]) => Tensor; shape: (n: number) => number[] }> = {
  matmul: { work: (n) => 2 * n ** 3, shape: (n) => [n, n], make: (n, g) => [0, 1].map(() => randn([n, n], { generator: g }).dataSync() as Float32Array), run: ([a, b]) => matmul(a!, b!) },
  'a + b': { work: (n) => n, shape: (n) => [n], make: (n, g) => [0, 1].map(() => randn([n], { generator: g }).dataSync() as Float32Array), run: ([a, b]) => add(a!, b!) },
  'sum(a)': { work: (n) => n, shape: (n) => [n], make: (n, g) => [randn([n], { generator: g }).dataSync() as Float32Array], run: ([a]) => sum(a!) },
};

function cases(op: string, n: number): BenchCase[] {
  const spec = OPS[op]!;
  const host = spec.make(n, new Generator(`threads-${op}-${n}`));
  return (['1t', '2t'] as const).map((t) => {
    let xs: Tensor[] = [];
    return {
      name: `${op} ${t} n=${n}`,
      options: { minSamples: 10, maxTime: 0.5 },
      setup: () => {
        setBackend(`wasm-${t}`);
        try {
          xs = host.map((h) => tensor(h, { shape: spec.shape(n) }));
        } finally {
          setBackend('cpu');
        }
      },
      fn: () => spec.run(xs).dispose(),
      teardown: () => {
        for (const x of xs) x.dispose();
      },
    };
  });
}

async function main(): Promise<void> {
  const two = new WasmBackend({ threads: 2, spawner: nodeWasmThreadSpawner(), parallelMinFlops: 0, parallelMinElements: 0 });
  registerBackend('wasm-1t', () => new WasmBackend({ threads: 1 }));
  registerBackend('wasm-2t', () => two);
  const st = await two.threads.ready();
  if (st.running !== 2) throw new Error(`two threads did not start: ${st.failure}`);
  console.log(`Node ${process.version}: one thread vs two with every op split (medians of benchmark.js samples)`);
  const rows: string[][] = [];
  for (const [op, sizes] of [['matmul', MATMUL_SIZES], ['a + b', ELEMENT_SIZES], ['sum(a)', ELEMENT_SIZES]] as const) {
    const speedups: [number, number][] = [];
    for (const n of sizes) {
      const r = await runSuite(cases(op, n));
      const [one, both] = [r.get(`${op} 1t n=${n}`)!.medianHz, r.get(`${op} 2t n=${n}`)!.medianHz];
      speedups.push([n, both / one]);
      rows.push([op, String(n), formatNumber(OPS[op]!.work(n)), formatNumber(1e6 / one), formatNumber(1e6 / both), formatRatio(both, one)]);
    }
    // The smallest size from which every larger one gains at least 5%.
    let from = NaN;
    for (let i = speedups.length - 1; i >= 0 && speedups[i]![1] >= 1.05; i--) from = speedups[i]![0];
    const current = op === 'matmul' ? `${formatNumber(PARALLEL_MIN_FLOPS)} flops` : `${PARALLEL_MIN_ELEMENTS} elements`;
    rows.push([op, 'suggests', Number.isNaN(from) ? 'never' : formatNumber(OPS[op]!.work(from)), '', '', `(default ${current})`]);
  }
  two.threads.close();
  console.log(formatTable(['op', 'n', 'work (flops or elements)', 'one thread µs', 'two threads µs', 'speedup'], rows));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
