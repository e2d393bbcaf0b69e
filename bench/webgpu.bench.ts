/**
 * The WebGPU backend (in Node through Dawn) beside being-ts's CPU and wasm backends, on the same inputs:
 *
 * 1. float32 square matrix multiply, n×n @ n×n, in GFLOP/s (2·n³ flops per product), webgpu and cpu;
 * 2. the Being-H0.5 policy (`tiny` by default): one training step and one action chunk (without and
 *    with an MPG refinement round) on cpu, wasm and webgpu, in ms and as ratios to webgpu (see
 *    `webgpu-policy.ts`), with the first step's loss on each backend (the same seeds: the same loss).
 *
 *     npx tsc -p tsconfig.json && node build/bench/webgpu.bench.js         # n = 128…1024, tiny
 *     node build/bench/webgpu.bench.js --quick                               # n = 128, 256; fewer runs
 *     node build/bench/webgpu.bench.js --presets=tiny,small --no-matmul      # the policy part only
 *     BEING_WEBGPU_FLAGS=backend=vulkan node build/bench/webgpu.bench.js     # pick Dawn's backend
 *
 * Options: `--quick`, `--sizes=128,512` (matmul sizes), `--presets=tiny,small` (policy presets),
 * `--runs=N` (timed policy operations per figure, default 5, 3 with --quick), `--no-matmul`,
 * `--no-policy`. The adapter is printed first.
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
import { PRESETS, type PresetName } from '../src/model/policy/presets.js';
import { formatNumber, formatRatio, formatTable, parseSizeArgs } from './harness.js';
import { timePolicy, type PolicyTimes } from './webgpu-policy.js';

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

interface Args {
  sizes: number[];
  quick: boolean;
  presets: PresetName[];
  runs: number;
  matmul: boolean;
  policy: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const rest: string[] = [];
  let presets: PresetName[] = ['tiny'];
  let runs: number | undefined;
  let [matmulOn, policyOn] = [true, true];
  for (const a of argv) {
    if (a.startsWith('--presets=')) {
      presets = a.slice('--presets='.length).split(',') as PresetName[];
      for (const p of presets) if (!(p in PRESETS)) throw new Error(`--presets: unknown preset '${p}' (expected ${Object.keys(PRESETS).join(', ')})`);
    } else if (a.startsWith('--runs=')) {
      runs = Number(a.slice('--runs='.length));
      if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: not a positive integer: '${a}'`);
    } else if (a === '--no-matmul') matmulOn = false;
    else if (a === '--no-policy') policyOn = false;
    else rest.push(a);
  }
  const { sizes, quick } = parseSizeArgs(rest, DEFAULT_SIZES, QUICK_SIZES);
  return { sizes, quick, presets, runs: runs ?? (quick ? 3 : 5), matmul: matmulOn, policy: policyOn };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
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
  const fields = info ? (['vendor', 'architecture', 'device', 'description'] as const).filter((k) => info[k]).map((k) => `${k} '${info[k]}'`) : [];
  const adapter = fields.length > 0 ? fields.join(', ') : '(no adapter info)';
  console.log(`WebGPU adapter: ${adapter}; Dawn flags: ${env ?? '(default, then backend=opengl)'}; Node ${process.version}${args.quick ? '; --quick' : ''}`);
  try {
    if (args.matmul) await matmulTable(args.sizes);
    if (args.policy) await policyTable(args.presets, args.runs);
  } finally {
    gpu.destroy();
  }
}

/** The policy figures of each preset on cpu, wasm and webgpu, and their ratios to webgpu. */
async function policyTable(presets: readonly PresetName[], runs: number): Promise<void> {
  const backends = ['cpu', 'wasm', 'webgpu'] as const;
  const rows: string[][] = [];
  const losses: string[] = [];
  for (const preset of presets) {
    const t = {} as Record<(typeof backends)[number], PolicyTimes>;
    for (const b of backends) {
      t[b] = await timePolicy(preset, b, runs);
      console.error(`  ${preset} on ${b}: step ${formatNumber(t[b].trainStep)} ms, chunk ${formatNumber(t[b].chunk)} ms, chunk + MPG round ${formatNumber(t[b].chunkRefined)} ms`);
    }
    const cases = [
      ['train step', (x: PolicyTimes) => x.trainStep],
      ['chunk (K = 4, cached)', (x: PolicyTimes) => x.chunk],
      ['chunk + MPG round', (x: PolicyTimes) => x.chunkRefined],
    ] as const;
    for (const [what, pick] of cases) {
      rows.push([`${preset} ${what}`, ...backends.map((b) => formatNumber(pick(t[b]))), formatRatio(pick(t.cpu), pick(t.webgpu)), formatRatio(pick(t.wasm), pick(t.webgpu))]);
    }
    const rel = (b: (typeof backends)[number]): string => (Math.abs(t[b].firstLoss - t.cpu.firstLoss) / Math.abs(t.cpu.firstLoss)).toExponential(1);
    losses.push(`${preset} (${formatNumber(t.cpu.parameters / 1e6, 3)} M parameters, batch ${t.cpu.batchShape}): first-step loss cpu ${t.cpu.firstLoss.toFixed(6)}, wasm ${t.wasm.firstLoss.toFixed(6)} (rel. diff ${rel('wasm')}), webgpu ${t.webgpu.firstLoss.toFixed(6)} (rel. diff ${rel('webgpu')})`);
  }
  console.log(`\nBeing-H0.5 policy, median ms of ${runs} runs after a warm-up (trainStepAsync / sampleActionsAsync):`);
  console.log(formatTable(['case', 'cpu ms', 'wasm ms', 'webgpu ms', 'cpu / webgpu', 'wasm / webgpu'], rows));
  for (const l of losses) console.log(l);
}

/** Matmul GFLOP/s on webgpu and cpu, with the ratio and the webgpu product's error. */
async function matmulTable(sizes: readonly number[]): Promise<void> {
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
  console.log('\nfloat32 matmul n×n @ n×n:');
  console.log(formatTable(['n', 'webgpu GFLOP/s', 'cpu GFLOP/s', 'webgpu / cpu', 'max rel. error'], rows));
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
