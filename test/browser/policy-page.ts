/**
 * Runs in headless Chromium (see `chromium.test.ts`): the `tiny` policy's action inference
 * (`sampleActions`, §6.1-6.2: Eq. 20's Euler denoising with the cached vision-language prefix, MPG's
 * refinement rounds of Eq. 21) on the WebGL2 backend and on the CPU backend, from the same seed and
 * observation, and the largest difference of their action chunks. Host reads during inference (which
 * WebGL serves synchronously) are counted.
 */
import { Generator, getBackend, initWebGL, rand, randn, scope, setBackend, type Backend, type Tensor, type WebGLBackend } from '../../src/tensor/index.js';
import { Embodiment } from '../../src/model/action-space.js';
import { SO101_ARM } from '../../src/model/example-embodiments.js';
import { BeingPolicy } from '../../src/model/policy/policy.js';
import { PRESETS } from '../../src/model/policy/presets.js';
import { sampleActions } from '../../src/model/policy/sample.js';

/** What the page reports. */
export interface PolicyReport {
  /** Why the WebGL backend could not be created, if it could not. */
  skip?: string;
  /** The chunk's shape `[T, rawDim]`. */
  shape?: number[];
  /** The largest |webgl − cpu| over the raw action chunk, and over each refinement round's unified chunk. */
  maxDiff?: number;
  /** The same per round. */
  roundDiffs?: number[];
  /** The largest |cpu| value, for scale. */
  maxAbs?: number;
  /** Synchronous host reads (`readSync`) on webgl during inference. */
  hostReads?: number;
  /** WebGL buffers alive before and after the scoped inference (the policy's parameters and inputs). */
  liveBefore?: number;
  /** See {@link PolicyReport.liveBefore}. */
  liveAfter?: number;
}

interface Inference {
  raw: Float32Array;
  rounds: Float32Array[];
  shape: number[];
  liveBefore: number;
  liveAfter: number;
}

/**
 * Samples one action chunk on `backend`; returns the raw chunk and each round's chunk on the host, and
 * `live()` before and after the scope that holds the inference.
 */
function infer(backend: string, live: () => number): Inference {
  setBackend(backend);
  try {
    const so101 = new Embodiment(SO101_ARM);
    const cfg = PRESETS.tiny;
    const policy = new BeingPolicy(cfg, { seed: 3 });
    const g = new Generator('chromium-policy');
    const { channels: C, imageSize: S } = cfg.vision;
    const observation = { embodiment: so101, images: [rand([C, S, S], { generator: g })], instruction: 'pick up the cup', state: so101.toUnified(randn([so101.rawDim], { generator: g })) };
    const host = (t: Tensor): Float32Array => Float32Array.from(t.dataSync());
    const liveBefore = live();
    const result = scope(() => {
      const out = sampleActions(policy, observation, { generator: new Generator(9) });
      return { raw: host(out.raw), rounds: out.rounds.map(host), shape: out.raw.shape.slice() };
    });
    return { ...result, liveBefore, liveAfter: live() };
  } finally {
    setBackend('cpu');
  }
}

const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** Runs inference on cpu and webgl and compares them. */
export async function run(): Promise<PolicyReport> {
  let webgl: WebGLBackend;
  try {
    webgl = initWebGL();
  } catch (e) {
    return { skip: (e as Error).message };
  }
  const cpu = infer('cpu', () => 0);
  const backend: Backend = webgl;
  const readSync = backend.readSync!.bind(backend);
  let hostReads = 0;
  backend.readSync = (b) => {
    hostReads++;
    return readSync(b);
  };
  let gl: Inference;
  try {
    gl = infer('webgl', () => webgl.liveBuffers);
  } finally {
    backend.readSync = readSync;
  }
  if (getBackend().name !== 'cpu') throw new Error('inference left the webgl backend selected');
  return {
    shape: gl.shape,
    maxDiff: maxDiff(gl.raw, cpu.raw),
    roundDiffs: gl.rounds.map((r, i) => maxDiff(r, cpu.rounds[i]!)),
    maxAbs: cpu.raw.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
    hostReads,
    liveBefore: gl.liveBefore,
    liveAfter: gl.liveAfter,
  };
}
