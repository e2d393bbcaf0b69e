/**
 * WebGPU in Node through the optional `webgpu` package (Google's Dawn). Dawn picks a native backend
 * (Vulkan, Metal, D3D12); on a machine without a GPU its OpenGL backend runs on Mesa's software
 * rasteriser (llvmpipe) through a surfaceless EGL display, which needs Debian's `libegl1`,
 * `libegl-mesa0` and `libgl1-mesa-dri`, and the adapter's `'compatibility'` feature level.
 *
 * Call `backend.destroy()` when done: Dawn keeps Node's event loop alive while a device exists. The
 * object `nodeGPU` returns must stay referenced while its devices live (the backend holds it).
 * @module
 */
import { registerBackend } from '../tensor/backend-registry.js';
import { requestWebGPUDevice, type WebGPUAdapterOptions } from '../tensor/webgpu/device.js';
import { WebGPUBackend, type WebGPUBackendOptions } from '../tensor/webgpu/webgpu-backend.js';

/** Options of {@link initNodeWebGPU}. */
export interface NodeWebGPUOptions extends WebGPUBackendOptions {
  /**
   * Dawn options for `create()`, such as `['backend=opengl']` (see the `webgpu` package's README). When
   * omitted, Dawn's default backend is tried first, then OpenGL with the compatibility feature level.
   */
  flags?: string[];
  /** Passed to `requestAdapter`. */
  adapter?: WebGPUAdapterOptions;
}

/**
 * A `navigator.gpu` equivalent from the `webgpu` package, created with Dawn `flags`. On Linux it sets
 * `EGL_PLATFORM=surfaceless` (unless set) so that Dawn's OpenGL backend needs no display.
 */
export async function nodeGPU(flags: readonly string[] = []): Promise<GPU> {
  if (process.platform === 'linux') process.env['EGL_PLATFORM'] ??= 'surfaceless';
  // A variable specifier keeps the optional package out of type checking and bundling.
  const name = 'webgpu';
  let mod: { create(flags: string[]): GPU };
  try {
    mod = (await import(name)) as typeof mod;
  } catch (e) {
    throw new Error(`nodeGPU: the optional dependency 'webgpu' could not be loaded (${(e as Error).message})`);
  }
  return mod.create([...flags]);
}

/**
 * Finds a WebGPU adapter in Node, creates a {@link WebGPUBackend} that owns its device, and registers
 * it as `'webgpu'`. Throws with every attempt's reason when no adapter can be had.
 *
 * @example
 * const gpu = await initNodeWebGPU({ flags: ['backend=opengl'], adapter: { featureLevel: 'compatibility' } });
 * setBackend('webgpu');
 * // … work …
 * gpu.destroy();
 */
export async function initNodeWebGPU(opts: NodeWebGPUOptions = {}): Promise<WebGPUBackend> {
  const attempts: [string[], WebGPUAdapterOptions | undefined][] =
    opts.flags !== undefined
      ? [[opts.flags, opts.adapter]]
      : [
          [[], opts.adapter],
          [['backend=opengl'], { featureLevel: 'compatibility', ...opts.adapter }],
        ];
  const reasons: string[] = [];
  for (const [flags, adapter] of attempts) {
    try {
      const gpu = await nodeGPU(flags);
      const device = await requestWebGPUDevice({ gpu, adapter });
      const backend = new WebGPUBackend(device, { ...opts, ownsDevice: true, gpu });
      registerBackend('webgpu', () => backend);
      return backend;
    } catch (e) {
      reasons.push(`[${flags.join(' ')}]: ${(e as Error).message}`);
    }
  }
  throw new Error(`initNodeWebGPU: no WebGPU adapter; ${reasons.join('; ')}`);
}
