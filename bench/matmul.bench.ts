/**
 * Float32 square matrix multiply, n×n @ n×n, in GFLOP/s (2·n³ flops per product): being-ts's CPU backend
 * (plain TypeScript) and wasm backend (run-time generated SIMD) on one thread and on two (worker threads
 * sharing its memory; default thresholds, so small products stay on one thread), against TensorFlow.js's
 * `cpu` backend (plain JavaScript) and `wasm` backend (XNNPACK; SIMD where the runtime has it,
 * single-threaded in Node), onnxruntime-node's CPU execution provider (MLAS, two intra-op threads) and
 * numpy's BLAS (OpenBLAS, one and two threads, through `bench/numpy_peer.py`), all on the same machine
 * and in the same run. Besides A·B, rows with a transposed operand (A·Bᵀ, the Linear-layer layout, and
 * Aᵀ·B, a weight gradient's) time the implementations that handle transposes in the product itself
 * (for n ≥ 256; the plain-JS ones, slow and layout-blind, are left out there).
 *
 *     npm run bench                                        # n = 64, 128, 256, 512, 1024
 *     npm run build:all && node build/bench/matmul.bench.js --quick          # n = 64, 128
 *     npm run build:all && node build/bench/matmul.bench.js --sizes=64,256
 *     node --experimental-wasm-relaxed-simd build/bench/matmul.bench.js   # Node 20: relaxed SIMD is behind a flag
 *
 * tfjs is timed as `tf.matMul(a, b)` plus `dataSync()` of the product (so its work is really done and
 * read back) plus disposing the product; being-ts's products are synchronous (the wasm one is disposed
 * after each product: benchmark.js loops synchronously, and buffers of collected tensors are released
 * only between tasks). onnxruntime-node's `session.run` is asynchronous (it runs the graph after a
 * `setImmediate`), so it is timed with benchmark.js's deferred mode; its product comes back copied into a
 * JS array. numpy times `np.matmul` in its own process (median of samples of at least 1 ms). A peer that
 * is missing (python3 without numpy, onnxruntime-node not installed) is skipped with the reason.
 * @module
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { nodeWasmThreadSpawner } from '../src/node/wasm-threads.js';
import { Generator, matmul, randn, registerBackend, setBackend, tensor, WasmBackend, type Tensor } from '../src/tensor/index.js';
import { formatNumber, formatRatio, formatTable, gflops, parseSizeArgs, runSuite, type BenchCase, type CaseOptions } from './harness.js';
import { matmulModel } from './onnx-model.js';
import { loadOnnxRuntime, numpyTimes, type NumpyTimes } from './peers.js';

const DEFAULT_SIZES = [64, 128, 256, 512, 1024];
const QUICK_SIZES = [64, 128];
const LAYOUTS = ['A·B', 'A·Bᵀ', 'Aᵀ·B'] as const;
type Layout = (typeof LAYOUTS)[number];
/** Timed in this process, by benchmark.js. */
const JS_IMPLS = ['being-ts', 'wasm', 'wasm-2t', 'tfjs-cpu', 'tfjs-wasm', 'ort'] as const;
type JsImpl = (typeof JS_IMPLS)[number];
/** Left out of the transposed rows: plain JS, slow, and the same loops whatever the layout. */
const NOT_TRANSPOSED = new Set<JsImpl>(['being-ts', 'tfjs-cpu']);
/** onnxruntime's intra-op threads: as many as being-ts's two-thread column. */
const ORT_THREADS = 2;

type Ort = typeof import('onnxruntime-node');

/** benchmark.js settings sized so the default run stays within a few minutes on a small machine. */
function optionsFor(n: number): CaseOptions {
  if (n <= 512) return { minSamples: 5, maxTime: 1 };
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

const caseName = (impl: string, layout: Layout, n: number): string => `${impl} ${layout} n=${n}`;

/**
 * The cases for one size and layout. Inputs are host matrices `x` and `y`; the product is `x·y`, `x·yᵀ`
 * or `xᵀ·y`. Each case checks its product against being-ts's wasm one once, untimed, in setup.
 */
function casesFor(n: number, layout: Layout, ort: Ort | null, sessions: Map<Layout, import('onnxruntime-node').InferenceSession>): BenchCase[] {
  const options = optionsFor(n);
  const gen = new Generator(`matmul-${n}-${layout}`);
  const [x, y] = [randn([n, n], { generator: gen }).dataSync() as Float32Array, randn([n, n], { generator: gen }).dataSync() as Float32Array];
  const [tA, tB] = [layout === 'Aᵀ·B', layout === 'A·Bᵀ'];
  let reference: Float32Array | null = null;
  const check = (impl: string, got: ArrayLike<number>): void => {
    if (reference === null) return;
    const err = relError(got, reference);
    if (!(err < 1e-4)) console.error(`  WARNING: ${impl} ${layout} n=${n}: product differs from being-ts's (max rel. error ${err.toExponential(2)})`);
  };
  const ours = (impl: JsImpl, backend: string): BenchCase => {
    let a: Tensor | null = null;
    let b: Tensor | null = null;
    const product = (): Tensor => matmul(tA ? a!.transpose() : a!, tB ? b!.transpose() : b!);
    return {
      name: caseName(impl, layout, n),
      options,
      setup: () => {
        setBackend(backend);
        try {
          [a, b] = [tensor(x, { shape: [n, n] }), tensor(y, { shape: [n, n] })];
        } finally {
          setBackend('cpu');
        }
        const p = product();
        if (reference === null) reference = Float32Array.from(p.dataSync());
        else check(impl, p.dataSync());
        p.dispose();
      },
      fn: () => product().dispose(),
      teardown: () => {
        a?.dispose();
        b?.dispose();
        a = b = null;
      },
    };
  };
  const tfCase = (impl: 'tfjs-cpu' | 'tfjs-wasm', backend: 'cpu' | 'wasm'): BenchCase => {
    let ta: tf.Tensor2D | null = null;
    let tb: tf.Tensor2D | null = null;
    return {
      name: caseName(impl, layout, n),
      options,
      setup: async () => {
        await useTfBackend(backend);
        ta = tf.tensor2d(x, [n, n], 'float32');
        tb = tf.tensor2d(y, [n, n], 'float32');
        const c = tf.matMul(ta, tb, tA, tB);
        check(impl, c.dataSync());
        c.dispose();
      },
      fn: () => {
        const c = tf.matMul(ta!, tb!, tA, tB);
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
  const cases: BenchCase[] = [ours('wasm', 'wasm'), ours('wasm-2t', 'wasm-2t')];
  if (layout === 'A·B') cases.push(ours('being-ts', 'cpu'), tfCase('tfjs-cpu', 'cpu'));
  cases.push(tfCase('tfjs-wasm', 'wasm'));
  if (ort !== null) {
    let feeds: Record<string, import('onnxruntime-node').Tensor> | null = null;
    let session: import('onnxruntime-node').InferenceSession | null = null;
    cases.push({
      name: caseName('ort', layout, n),
      options,
      setup: async () => {
        session = sessions.get(layout) ?? null;
        if (session === null) {
          session = await ort.InferenceSession.create(matmulModel({ transA: tA, transB: tB }), {
            executionProviders: ['cpu'],
            intraOpNumThreads: ORT_THREADS,
            interOpNumThreads: 1,
          });
          sessions.set(layout, session);
        }
        feeds = { A: new ort.Tensor('float32', x, [n, n]), B: new ort.Tensor('float32', y, [n, n]) };
        check('ort', (await session.run(feeds))['Y']!.data as Float32Array);
      },
      fnAsync: () => session!.run(feeds!),
      teardown: () => {
        feeds = null;
      },
    });
  }
  return cases;
}

async function main(): Promise<void> {
  const { sizes } = parseSizeArgs(process.argv.slice(2), DEFAULT_SIZES, QUICK_SIZES);
  const transposedSizes = sizes.filter((n) => n >= 256);

  // Quiet tfjs's "install tfjs-node" notice and skip its debug-only checks.
  tf.enableProdMode();
  // The wasm backend's .wasm binaries sit next to its Node entry point in node_modules.
  setWasmPaths(join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  await useTfBackend('wasm');
  const tfWasm = `SIMD ${(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'on' : 'off'}, ${getThreadsCount()} thread(s)`;
  const one = new WasmBackend({ threads: 1 });
  const two = new WasmBackend({ threads: 2, spawner: nodeWasmThreadSpawner() });
  registerBackend('wasm', () => one);
  registerBackend('wasm-2t', () => two);
  const threads = await two.threads.ready();
  const k = one.kernels;
  const ours = `SIMD ${k.simd ? 'on' : 'off'}, relaxed SIMD ${k.relaxedSimd ? 'on' : 'off'}; wasm-2t: ${threads.running} threads${threads.failure === null ? '' : ` (${threads.failure})`}, split from ${formatNumber(two.threads.minFlops / 1e6)} MFLOP`;
  const ortModule = await loadOnnxRuntime();
  const ort = typeof ortModule === 'string' ? null : ortModule;

  const numpySpec = (t: number) => ({
    threads: t,
    matmul: [...sizes.map((n) => ({ n, layout: 'A·B' })), ...transposedSizes.flatMap((n) => [{ n, layout: 'A·Bᵀ' }, { n, layout: 'Aᵀ·B' }])],
  });
  const numpy: Record<'numpy' | 'numpy-2t', NumpyTimes | string> = { numpy: numpyTimes(numpySpec(1)), 'numpy-2t': numpyTimes(numpySpec(2)) };

  console.log('matmul float32 n×n @ n×n — GFLOP/s = 2·n³ · products per second / 1e9');
  console.log(`Node ${process.version}, ${availableParallelism()} CPUs; being-ts-wasm: ${ours}`);
  console.log(`tfjs-core ${tf.version_core}, tfjs-wasm: ${tfWasm}`);
  console.log(ort !== null ? `onnxruntime-node ${ort.env.versions.node ?? '?'}, CPU execution provider, ${ORT_THREADS} intra-op threads` : `ort: skipped: ${String(ortModule)}`);
  for (const [name, t] of Object.entries(numpy)) console.log(typeof t === 'string' ? `${name}: skipped: ${t}` : `${name}: ${t.about}`);
  console.log(`sizes ${sizes.join(', ')}; transposed layouts at ${transposedSizes.join(', ') || 'none'}`);

  const started = performance.now();
  const sessions = new Map<Layout, import('onnxruntime-node').InferenceSession>();
  const impls = [...JS_IMPLS, 'numpy', 'numpy-2t'] as const;
  type Impl = (typeof impls)[number];
  const rates: { n: number; layout: Layout; g: Record<Impl, number> }[] = [];
  for (const n of sizes) {
    for (const layout of LAYOUTS) {
      if (layout !== 'A·B' && !transposedSizes.includes(n)) continue;
      console.error(`n = ${n}, ${layout}`);
      const results = await runSuite(casesFor(n, layout, ort, sessions));
      const g = {} as Record<Impl, number>;
      for (const impl of JS_IMPLS) g[impl] = gflops(results.get(caseName(impl, layout, n)), 2 * n ** 3);
      for (const impl of ['numpy', 'numpy-2t'] as const) {
        const t = numpy[impl];
        g[impl] = typeof t === 'string' ? NaN : (2 * n ** 3) / (t.seconds.get(`matmul ${layout} n=${n}`) ?? NaN) / 1e9;
      }
      rates.push({ n, layout, g });
    }
  }
  for (const s of sessions.values()) await s.release();
  two.threads.close();

  const skip = (impl: JsImpl, layout: Layout): boolean => layout !== 'A·B' && NOT_TRANSPOSED.has(impl);
  console.log('\nGFLOP/s');
  console.log(
    formatTable(
      ['n', 'layout', 'being-ts', 'wasm', 'wasm-2t', 'tfjs-cpu', 'tfjs-wasm', `ort ${ORT_THREADS}t`, 'numpy 1t', 'numpy 2t'],
      rates.map(({ n, layout, g }) => [
        String(n),
        layout,
        ...JS_IMPLS.map((impl) => (skip(impl, layout) ? '' : formatNumber(g[impl]))),
        formatNumber(g['numpy']),
        formatNumber(g['numpy-2t']),
      ]),
    ),
  );
  console.log('\nRatios (same run): wasm-2t/wasm is the thread speedup; one-thread and two-thread columns are compared with peers on as many threads');
  console.log(
    formatTable(
      ['n', 'layout', 'wasm-2t/wasm', 'wasm/tfjs-wasm', 'wasm/numpy 1t', 'wasm-2t/ort', 'wasm-2t/numpy 2t', 'being-ts/tfjs-cpu'],
      rates.map(({ n, layout, g }) => [
        String(n),
        layout,
        formatRatio(g['wasm-2t'], g['wasm']),
        formatRatio(g['wasm'], g['tfjs-wasm']),
        formatRatio(g['wasm'], g['numpy']),
        formatRatio(g['wasm-2t'], g['ort']),
        formatRatio(g['wasm-2t'], g['numpy-2t']),
        layout === 'A·B' ? formatRatio(g['being-ts'], g['tfjs-cpu']) : '',
      ]),
    ),
  );
  console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
