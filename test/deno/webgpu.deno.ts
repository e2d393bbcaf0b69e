// Run by test/runtime/deno-webgpu.test.ts: the built package on Deno's own WebGPU (navigator.gpu; on a
// machine without a GPU, Mesa's lavapipe Vulkan driver). Runs a few kernels and a small MLP's backward
// pass on webgpu and on cpu, and prints one JSON line: the largest differences, the live buffers before
// and after a scoped step, or `skip` with the reason when there is no adapter.
import { initWebGPU, nn, randn, Generator, scope, setBackend, type Tensor } from '../../dist/index.js';

let backend;
try {
  backend = await initWebGPU();
} catch (e) {
  console.log(JSON.stringify({ runtime: 'deno', skip: (e as Error).message }));
  Deno.exit(0);
}

async function run(name: string): Promise<Float32Array[]> {
  setBackend(name);
  try {
    // Everything inside scope, so that no garbage is left for finalizers to free during the count below.
    const outs = scope((): Tensor[] => {
      const g = new Generator('deno-webgpu');
      const x = randn([16, 5], { generator: g });
      const w1 = randn([5, 12], { generator: g }).mul(0.4).requiresGrad_();
      const w2 = randn([12, 2], { generator: g }).mul(0.4).requiresGrad_();
      const y = randn([16, 2], { generator: g });
      const loss = nn.mseLoss(x.matmul(w1).tanh().matmul(w2), y);
      loss.backward();
      const s = randn([3, 300], { generator: g }).sort(1).values;
      return [loss, w1.grad!, w2.grad!, s, x.softmax(1), x.cumsum(0)];
    });
    const host = await Promise.all(outs.map(async (t) => Float32Array.from(await t.data())));
    for (const t of outs) t.dispose();
    return host;
  } finally {
    setBackend('cpu');
  }
}

const [gpuOut, cpuOut] = [await run('webgpu'), await run('cpu')];
const maxDiff = gpuOut.map((a, k) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - cpuOut[k]![i]!)), 0));
setBackend('webgpu');
const liveBefore = backend.liveBuffers;
const kept = scope(() => randn([64, 64]).matmul(randn([64, 64])).relu().sum());
await kept.data();
kept.dispose();
const liveAfter = backend.liveBuffers;
setBackend('cpu');
backend.destroy();
console.log(JSON.stringify({ runtime: 'deno', adapter: true, maxDiff, liveBefore, liveAfter }));
