/**
 * Float32 square matrix multiply, n×n @ n×n, in GFLOP/s (2·n³ flops per product) on the WebGPU backend
 * (in Node through Dawn) beside being-ts's CPU backend, on the same inputs.
 *
 *     npm run build:all && node build/bench/webgpu.bench.js              # n = 128, 256, 512, 1024
 *     npm run build:all && node build/bench/webgpu.bench.js --quick      # n = 128, 256
 *     BEING_WEBGPU_FLAGS=backend=vulkan node build/bench/webgpu.bench.js  # pick Dawn's backend
 *
 * Without a GPU, Dawn runs on Mesa's software drivers (llvmpipe for OpenGL, lavapipe for Vulkan): the
 * figures then check the harness, not the speed of a GPU. WebGPU work is asynchronous, so a batch of
 * products is timed from the first dispatch to the read-back of the last one (the queue runs in order),
 * and the product's time is the batch's divided by its size; the best of three batches is reported. The
 * CPU product is synchronous and timed the same way. Each size's WebGPU product is checked against the
 * CPU's once, untimed.
 * @module
 */
import { initNodeWebGPU } from '../src/node/webgpu.js';
import { Generator, matmul, randn, scope, setBackend, tensor, type Tensor, type WebGPUBackend } from '../src/tensor/index.js';
import { formatNumber, formatRatio, formatTable, parseSizeArgs } from './harness.js';

const DEFAULT_SIZES = [128, 256, 512, 1024];
const QUICK_SIZES = [128, 256];
/** Seconds a timed batch should last, roughly. */
const BATCH_SECONDS = 0.5;

/** Seconds per call of `run` (which must have finished its work when its promise resolves): best of three batches. */
async function timePerOp(run: (reps: number) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await run(1);
  const once = Math.max((performance.now() - t0) / 1000, 1e-6);
  const reps = Math.max(1, Math.min(200, Math.round(BATCH_SECONDS / once)));
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    await run(reps);
    best = Math.min(best, (performance.now() - t) / 1000 / reps);
  }
  return best;
}

/** `reps` products on `backend`, each disposed; the last one is read back (which waits for all). */
function products(backend: string, a: Tensor, b: Tensor): (reps: number) => Promise<void> {
  return async (reps) => {
    setBackend(backend);
    try {
      let last: Tensor | null = null;
      for (let i = 0; i < reps; i++) {
        last?.dispose();
        last = scope(() => matmul(a, b));
      }
      await last!.data();
      last!.dispose();
    } finally {
      setBackend('cpu');
    }
  };
}

function relError(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return diff / (scale || 1);
}

async function main(): Promise<void> {
  const { sizes } = parseSizeArgs(process.argv.slice(2), DEFAULT_SIZES, QUICK_SIZES);
  const env = process.env['BEING_WEBGPU_FLAGS'];
  let gpu: WebGPUBackend;
  try {
    gpu = await initNodeWebGPU(env ? { flags: env.split(',') } : {});
  } catch (e) {
    console.error(`webgpu.bench: ${(e as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const info = (gpu.ctx.device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  console.error(`adapter: ${info ? `${info.vendor} ${info.architecture} ${info.description}`.trim() || '(no description)' : '(unknown)'}`);
  const rows: string[][] = [];
  for (const n of sizes) {
    const gen = new Generator(`webgpu-bench-${n}`);
    const hostA = randn([n, n], { generator: gen });
    const hostB = randn([n, n], { generator: gen });
    const ga = await toBackend(hostA, 'webgpu');
    const gb = await toBackend(hostB, 'webgpu');
    setBackend('webgpu');
    const check = matmul(ga, gb);
    const err = relError(await check.data(), matmul(hostA, hostB).dataSync());
    check.dispose();
    setBackend('cpu');
    const tGpu = await timePerOp(products('webgpu', ga, gb));
    const tCpu = await timePerOp(products('cpu', hostA, hostB));
    const flops = 2 * n ** 3;
    rows.push([String(n), formatNumber(flops / tGpu / 1e9), formatNumber(flops / tCpu / 1e9), formatRatio(tCpu, tGpu), err.toExponential(1)]);
    console.error(`  n=${n}: webgpu ${formatNumber(tGpu * 1e3)} ms, cpu ${formatNumber(tCpu * 1e3)} ms`);
    ga.dispose();
    gb.dispose();
  }
  console.log(formatTable(['n', 'webgpu GFLOP/s', 'cpu GFLOP/s', 'webgpu / cpu', 'max rel. error'], rows));
  gpu.destroy();
}

/** A copy of a CPU tensor on `backend`. */
async function toBackend(t: Tensor, backend: string): Promise<Tensor> {
  const host = await t.data();
  setBackend(backend);
  try {
    return tensor(host, { shape: t.shape });
  } finally {
    setBackend('cpu');
  }
}

await main();
