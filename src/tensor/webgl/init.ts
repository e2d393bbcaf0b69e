/**
 * Setting up the WebGL2 backend from gpu.js, which the caller provides: a `GPU` instance, the `GPU`
 * constructor, or (in a browser page that loaded `gpu.js/dist/gpu-browser.min.js`) the global `GPU`. The
 * tensor layer never imports gpu.js itself, so it stays importable where gpu.js is absent.
 * @module
 */
import { registerBackend } from '../backend-registry.js';
import type { GpuJs, GpuJsConstructor } from './gpujs.js';
import { WebGLBackend } from './webgl-backend.js';

/** Options of {@link createWebGLBackend} and {@link initWebGL}. */
export interface WebGLOptions {
  /** A gpu.js instance created with `{ mode: 'webgl2' }` (the caller keeps owning it). */
  gpu?: GpuJs;
  /** The gpu.js `GPU` constructor (default: the global `GPU` that gpu.js's browser bundle defines). */
  GPU?: GpuJsConstructor;
  /** A canvas for gpu.js to render with (default: it creates one). */
  canvas?: unknown;
  /** A WebGL2 context to share (default: gpu.js creates one). */
  context?: unknown;
}

/** gpu.js's constructor, given or global; not WebGPU's `GPU` interface, which browsers also define globally. */
function findGPU(opts: WebGLOptions): GpuJsConstructor | undefined {
  const g = opts.GPU ?? (globalThis as unknown as { GPU?: GpuJsConstructor }).GPU;
  const proto = (g as { prototype?: { createKernel?: unknown } } | undefined)?.prototype;
  return typeof proto?.createKernel === 'function' ? g : undefined;
}

/**
 * A {@link WebGLBackend} on `opts.gpu`, or on a new gpu.js instance in `'webgl2'` mode (then owned by it).
 * A value is written and read back first, so that a runtime without a working WebGL2 throws here, saying
 * why, rather than at the first op.
 */
export function createWebGLBackend(opts: WebGLOptions = {}): WebGLBackend {
  let backend: WebGLBackend;
  if (opts.gpu !== undefined) backend = new WebGLBackend(opts.gpu);
  else {
    const GPU = findGPU(opts);
    if (GPU === undefined) {
      throw new Error('webgl: no gpu.js here; pass { GPU } (its constructor) or { gpu } (an instance), or load gpu.js/dist/gpu-browser.min.js first');
    }
    if (GPU.isWebGL2Supported === false) throw new Error('webgl: this runtime has no WebGL2 (gpu.js reports isWebGL2Supported = false)');
    backend = new WebGLBackend(new GPU({ mode: 'webgl2', canvas: opts.canvas, context: opts.context }), { ownsGpu: true });
  }
  try {
    const probe = backend.alloc('float32', 3);
    backend.write(probe, Float32Array.of(1.5, -2, NaN));
    const back = backend.readSync(probe);
    backend.free(probe);
    if (back[0] !== 1.5 || back[1] !== -2 || !Number.isNaN(back[2])) throw new Error(`wrote [1.5, -2, NaN] and read back [${Array.from(back).join(', ')}]`);
  } catch (e) {
    backend.destroy();
    throw new Error(`webgl: gpu.js could not run a WebGL2 kernel here: ${(e as Error).message}`, { cause: e });
  }
  return backend;
}

/**
 * Creates a WebGL2 backend and registers it as `'webgl'`, so that `setBackend('webgl')` selects it.
 *
 * @example
 * // In a page that loaded gpu.js/dist/gpu-browser.min.js:
 * initWebGL();
 * setBackend('webgl');
 * const y = tensor([1, 2, 3]).exp();
 * y.dataSync(); // reads are synchronous on WebGL
 */
export function initWebGL(opts: WebGLOptions = {}): WebGLBackend {
  const backend = createWebGLBackend(opts);
  registerBackend('webgl', () => backend);
  return backend;
}
