/**
 * Float32 elementwise and reduction throughput in GB/s (bytes read plus bytes written per op, over time):
 * being-ts's CPU backend (plain TypeScript) and wasm backend (run-time generated SIMD) on one thread and
 * on two (worker threads sharing its memory; default threshold, so small ops stay on one thread), against
 * TensorFlow.js's `wasm` backend and numpy (through `bench/numpy_peer.py`; numpy's elementwise ops are
 * single-threaded), on the same inputs and in the same run.
 *
 *     npm run build:all && node build/bench/elementwise.bench.js              # n = 64 Ki, 1 Mi, 4 Mi floats
 *     npm run build:all && node build/bench/elementwise.bench.js --sizes=65536,4194304
 *
 * Ops: `a + b` and `a · b` (two reads and one write of n floats), `a + 2` (one read, one write) and
 * `sum(a)` (one read). Each timed call includes allocating the output, and disposing it (on being-ts's
 * wasm backend that frees it at once: benchmark.js loops synchronously, and buffers of collected tensors
 * are released only between tasks); tfjs's `sum` is read back with `dataSync()`. numpy allocates its
 * output too (`np.add(a, b)`); it is skipped, with the reason, where python3 has no numpy.
 *
 * A second table times the ops the wasm backend fuses (softmax, log-softmax, layer norm, GELU, AdamW),
 * fused and composed, against tfjs-wasm where it has the op (`fused-ops.ts`).
 * @module
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { nodeWasmThreadSpawner } from '../src/node/wasm-threads.js';
import { add, Generator, mul, randn, registerBackend, setBackend, sum, tensor, WasmBackend, type Tensor } from '../src/tensor/index.js';
import { formatNumber, formatRatio, formatTable, parseSizeArgs, runSuite, type BenchCase } from './harness.js';
import { numpyTimes } from './peers.js';
import { FUSED_HEADER, fusedOpCases, fusedOpRows } from './fused-ops.js';

const OPS = {
  'a + b': { bytes: 12, being: (a: Tensor, b: Tensor) => add(a, b), tfjs: (a: tf.Tensor, b: tf.Tensor) => tf.add(a, b) },
  'a · b': { bytes: 12, being: (a: Tensor, b: Tensor) => mul(a, b), tfjs: (a: tf.Tensor, b: tf.Tensor) => tf.mul(a, b) },
  'a + 2': { bytes: 8, being: (a: Tensor) => add(a, 2), tfjs: (a: tf.Tensor) => tf.add(a, tf.scalar(2)) },
  'sum(a)': { bytes: 4, being: (a: Tensor) => sum(a), tfjs: (a: tf.Tensor) => tf.sum(a) },
} as const;
type OpName = keyof typeof OPS;
const BEING = ['cpu', 'wasm', 'wasm-2t'] as const;
const IMPLS = [...BEING, 'tfjs-wasm', 'numpy'] as const;

function casesFor(n: number): BenchCase[] {
  const gen = new Generator(`elementwise-${n}`);
  const host = [randn([n], { generator: gen }).dataSync(), randn([n], { generator: gen }).dataSync()];
  const options = { minSamples: 10, maxTime: 1 };
  const cases: BenchCase[] = [];
  for (const [op, spec] of Object.entries(OPS) as [OpName, (typeof OPS)[OpName]][]) {
    for (const backend of BEING) {
      let a: Tensor | null = null;
      let b: Tensor | null = null;
      cases.push({
        name: `${op} ${backend} n=${n}`,
        options,
        setup: () => {
          setBackend(backend);
          try {
            a = tensor(host[0]!);
            b = tensor(host[1]!);
          } finally {
            setBackend('cpu');
          }
        },
        fn: () => {
          spec.being(a!, b!).dispose();
        },
        teardown: () => {
          a = b = null;
        },
      });
    }
    let ta: tf.Tensor | null = null;
    let tb: tf.Tensor | null = null;
    cases.push({
      name: `${op} tfjs-wasm n=${n}`,
      options,
      setup: () => {
        ta = tf.tensor1d(host[0] as Float32Array);
        tb = tf.tensor1d(host[1] as Float32Array);
      },
      fn: () => {
        const c = tf.tidy(() => spec.tfjs(ta!, tb!));
        if (op === 'sum(a)') c.dataSync();
        c.dispose();
      },
      teardown: () => {
        ta?.dispose();
        tb?.dispose();
      },
    });
  }
  return cases;
}

async function main(): Promise<void> {
  const { sizes } = parseSizeArgs(process.argv.slice(2), [1 << 16, 1 << 20, 1 << 22], [1 << 16]);
  tf.enableProdMode();
  setWasmPaths(join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  if (!(await tf.setBackend('wasm'))) throw new Error("tfjs: backend 'wasm' failed to initialize");
  await tf.ready();
  const two = new WasmBackend({ threads: 2, spawner: nodeWasmThreadSpawner() });
  registerBackend('wasm', () => new WasmBackend({ threads: 1 }));
  registerBackend('wasm-2t', () => two);
  const threads = await two.threads.ready();
  const numpy = numpyTimes({ threads: 1, elementwise: sizes.flatMap((n) => Object.keys(OPS).map((op) => ({ op, n }))) });
  console.log('float32 elementwise and reductions — GB/s = (bytes read + written) · ops per second / 1e9');
  console.log(`Node ${process.version}, tfjs-core ${tf.version_core}; sizes ${sizes.join(', ')}`);
  console.log(`wasm-2t: ${threads.running} threads${threads.failure === null ? '' : ` (${threads.failure})`}, split from ${two.threads.minElements} elements`);
  console.log(typeof numpy === 'string' ? `numpy: skipped: ${numpy}` : `numpy: ${numpy.about}`);
  const rows: string[][] = [];
  for (const n of sizes) {
    console.error(`n = ${n}`);
    const results = await runSuite(casesFor(n));
    for (const [op, spec] of Object.entries(OPS) as [OpName, (typeof OPS)[OpName]][]) {
      const hz = (impl: (typeof IMPLS)[number]): number =>
        impl === 'numpy' ? (typeof numpy === 'string' ? NaN : 1 / (numpy.seconds.get(`${op} n=${n}`) ?? NaN)) : (results.get(`${op} ${impl} n=${n}`)?.hz ?? NaN);
      const gbs = Object.fromEntries(IMPLS.map((impl) => [impl, (hz(impl) * spec.bytes * n) / 1e9])) as Record<(typeof IMPLS)[number], number>;
      rows.push([
        op,
        String(n),
        ...IMPLS.map((i) => formatNumber(gbs[i])),
        formatRatio(gbs['wasm'], gbs['cpu']),
        formatRatio(gbs['wasm-2t'], gbs['wasm']),
        formatRatio(gbs['wasm'], gbs['tfjs-wasm']),
        formatRatio(gbs['wasm'], gbs['numpy']),
        formatRatio(gbs['wasm-2t'], gbs['numpy']),
      ]);
    }
  }
  two.threads.close();
  console.log();
  console.log(
    formatTable(
      ['op', 'n', 'cpu GB/s', 'wasm GB/s', 'wasm-2t GB/s', 'tfjs-wasm GB/s', 'numpy GB/s', 'wasm/cpu', 'wasm-2t/wasm', 'wasm/tfjs-wasm', 'wasm/numpy', 'wasm-2t/numpy'],
      rows,
    ),
  );
  // Fused ops (see fused-ops.ts), on sizes that are whole rows of 128.
  const fused: string[][] = [];
  for (const n of sizes.filter((s) => s % 128 === 0)) fused.push(...fusedOpRows(n, await runSuite(fusedOpCases(n))));
  console.log();
  console.log(formatTable(FUSED_HEADER, fused));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
