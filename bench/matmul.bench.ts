/**
 * Float32 square matrix multiply, n×n @ n×n, in GFLOP/s (2·n³ flops per product): being-ts's CPU backend
 * (plain TypeScript) and wasm backend (run-time generated SIMD, single-threaded) against TensorFlow.js's
 * `cpu` backend (plain JavaScript) and `wasm` backend (XNNPACK; SIMD where the runtime has it,
 * single-threaded in Node), all on the same inputs and in the same process.
 *
 *     npm run bench                                        # n = 64, 128, 256, 512, 1024
 *     npm run build:all && node build/bench/matmul.bench.js --quick          # n = 64, 128
 *     npm run build:all && node build/bench/matmul.bench.js --sizes=64,256
 *     node --experimental-wasm-relaxed-simd build/bench/matmul.bench.js   # Node 20: relaxed SIMD is behind a flag
 *
 * tfjs is timed as `tf.matMul(a, b)` plus `dataSync()` of the product (so its work is really done and
 * read back) plus disposing the product; being-ts's CPU `matmul` is synchronous and its product is
 * already in host memory. being-ts's wasm product is synchronous too, and disposed after each product
 * (benchmark.js loops synchronously, and buffers of collected tensors are released only between tasks).
 * @module
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { Generator, getBackend, matmul, randn, setBackend, tensor, type Tensor, type WasmBackend } from '../src/tensor/index.js';
import {
  formatNumber,
  formatRatio,
  formatTable,
  gflops,
  parseSizeArgs,
  runSuite,
  type BenchCase,
  type CaseOptions,
} from './harness.js';

const DEFAULT_SIZES = [64, 128, 256, 512, 1024];
const QUICK_SIZES = [64, 128];
const IMPLS = ['being-ts', 'being-ts-wasm', 'tfjs-cpu', 'tfjs-wasm'] as const;
type Impl = (typeof IMPLS)[number];

/** benchmark.js settings sized so the default run stays within a few minutes on a small machine. */
function optionsFor(n: number): CaseOptions {
  if (n <= 256) return { minSamples: 10, maxTime: 2 };
  if (n <= 512) return { minSamples: 5, maxTime: 2 };
  // One tfjs-cpu product takes ~3 s here: take few samples (with 2, the margin of error is meaningless).
  return { minSamples: 4, maxTime: 1 };
}

/** Largest |x − y| relative to the largest |y|. */
function relError(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return diff / (scale || 1);
}

async function useTfBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs: backend '${name}' failed to initialize`);
  await tf.ready();
}

/** The three cases for one size; each checks its product against being-ts's once, untimed, in setup. */
function casesFor(n: number, reference: { value: Float32Array | null }): BenchCase[] {
  const options = optionsFor(n);
  const gen = new Generator(`matmul-${n}`);
  let a: Tensor | null = null;
  let b: Tensor | null = null;
  const inputs = (): [Tensor, Tensor] => {
    a ??= randn([n, n], { generator: gen });
    b ??= randn([n, n], { generator: gen });
    return [a, b];
  };
  const check = (impl: Impl, got: ArrayLike<number>): void => {
    if (reference.value === null) return;
    const err = relError(got, reference.value);
    if (!(err < 1e-4)) console.error(`  WARNING: ${impl} n=${n}: product differs from being-ts's (max rel. error ${err.toExponential(2)})`);
  };

  const tfCase = (impl: 'tfjs-cpu' | 'tfjs-wasm', backend: 'cpu' | 'wasm'): BenchCase => {
    let ta: tf.Tensor2D | null = null;
    let tb: tf.Tensor2D | null = null;
    return {
      name: `${impl} n=${n}`,
      options,
      setup: async () => {
        await useTfBackend(backend);
        const [x, y] = inputs();
        ta = tf.tensor2d(x.dataSync() as Float32Array, [n, n], 'float32');
        tb = tf.tensor2d(y.dataSync() as Float32Array, [n, n], 'float32');
        const c = tf.matMul(ta, tb);
        check(impl, c.dataSync());
        c.dispose();
      },
      fn: () => {
        const c = tf.matMul(ta!, tb!);
        c.dataSync();
        c.dispose();
      },
      teardown: () => {
        ta?.dispose();
        tb?.dispose();
        ta = tb = null;
      },
    };
  };

  let wa: Tensor | null = null;
  let wb: Tensor | null = null;
  return [
    {
      name: `being-ts n=${n}`,
      options,
      setup: () => {
        const [x, y] = inputs();
        reference.value = matmul(x, y).dataSync() as Float32Array;
      },
      fn: () => {
        matmul(a!, b!);
      },
    },
    {
      name: `being-ts-wasm n=${n}`,
      options,
      setup: () => {
        const [x, y] = inputs();
        setBackend('wasm');
        try {
          wa = tensor(x.dataSync(), { shape: [n, n] });
          wb = tensor(y.dataSync(), { shape: [n, n] });
        } finally {
          setBackend('cpu');
        }
        check('being-ts-wasm', matmul(wa, wb).dataSync());
      },
      fn: () => {
        matmul(wa!, wb!).dispose();
      },
      teardown: () => {
        wa = wb = null;
      },
    },
    tfCase('tfjs-cpu', 'cpu'),
    tfCase('tfjs-wasm', 'wasm'),
  ];
}

async function main(): Promise<void> {
  const { sizes } = parseSizeArgs(process.argv.slice(2), DEFAULT_SIZES, QUICK_SIZES);

  // Quiet tfjs's "install tfjs-node" notice and skip its debug-only checks.
  tf.enableProdMode();
  // The wasm backend's .wasm binaries sit next to its Node entry point in node_modules.
  const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  setWasmPaths(join(wasmDir, '/'));
  await useTfBackend('wasm');
  const wasmFeatures = `SIMD ${(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'on' : 'off'}, ${getThreadsCount()} thread(s)`;
  setBackend('wasm');
  const ours = (getBackend() as WasmBackend).kernels;
  setBackend('cpu');
  const oursFeatures = `SIMD ${ours.simd ? 'on' : 'off'}, relaxed SIMD ${ours.relaxedSimd ? 'on' : 'off'}, 1 thread`;

  console.log(`matmul float32 n×n @ n×n — GFLOP/s = 2·n³ · products per second / 1e9`);
  console.log(`Node ${process.version}, tfjs-core ${tf.version_core}, tfjs-wasm: ${wasmFeatures}; being-ts-wasm: ${oursFeatures}; sizes ${sizes.join(', ')}`);

  const started = performance.now();
  const rows: string[][] = [];
  for (const n of sizes) {
    console.error(`n = ${n}`);
    const results = await runSuite(casesFor(n, { value: null }));
    const g = Object.fromEntries(IMPLS.map((impl) => [impl, gflops(results.get(`${impl} n=${n}`), 2 * n ** 3)])) as Record<Impl, number>;
    rows.push([
      String(n),
      formatNumber(g['being-ts']),
      formatNumber(g['being-ts-wasm']),
      formatNumber(g['tfjs-cpu']),
      formatNumber(g['tfjs-wasm']),
      formatRatio(g['being-ts'], g['tfjs-cpu']),
      formatRatio(g['being-ts'], g['tfjs-wasm']),
      formatRatio(g['being-ts-wasm'], g['tfjs-wasm']),
    ]);
  }
  console.log();
  console.log(
    formatTable(
      [
        'n',
        'being-ts GFLOP/s',
        'being-ts-wasm GFLOP/s',
        'tfjs-cpu GFLOP/s',
        'tfjs-wasm GFLOP/s',
        'being-ts/tfjs-cpu',
        'being-ts/tfjs-wasm',
        'being-ts-wasm/tfjs-wasm',
      ],
      rows,
    ),
  );
  console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
