/**
 * Finding a GPU: from a given `GPUDevice`, a given `GPU` (anything shaped like `navigator.gpu`, such as
 * Node's `webgpu` package provides), or the runtime's own `navigator.gpu` (browsers, Deno).
 * @module
 */
import { registerBackend } from '../backend-registry.js';
import { WebGPUBackend, type WebGPUBackendOptions } from './webgpu-backend.js';

/** Adapter options, with the `featureLevel` that the DOM typings do not know yet. */
export interface WebGPUAdapterOptions extends GPURequestAdapterOptions {
  /** `'compatibility'` accepts OpenGL-class adapters (workgroups of at most 128 threads); default `'core'`. */
  featureLevel?: 'core' | 'compatibility';
}

/** Options of {@link requestWebGPUDevice} and {@link createWebGPUBackend}. */
export interface WebGPUOptions extends WebGPUBackendOptions {
  /** The `GPU` to ask for an adapter (default `navigator.gpu`). */
  gpu?: GPU;
  /** Passed to `requestAdapter`. */
  adapter?: WebGPUAdapterOptions;
}

/**
 * A device from `opts.gpu` or `navigator.gpu`, with the adapter's largest buffer limits (tensors may be
 * bigger than the default 128 MiB binding). Throws, saying why, when there is no WebGPU or no adapter.
 */
export async function requestWebGPUDevice(opts: WebGPUOptions = {}): Promise<GPUDevice> {
  const gpu = findGPU(opts);
  if (gpu === undefined) throw new Error('webgpu: this runtime has no WebGPU (navigator.gpu is missing); pass a GPU with { gpu }');
  const adapter = await gpu.requestAdapter(opts.adapter);
  if (adapter === null) {
    throw new Error(`webgpu: no adapter for ${JSON.stringify(opts.adapter ?? {})} (no usable GPU or driver; try { featureLevel: 'compatibility' })`);
  }
  return adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
}

function findGPU(opts: WebGPUOptions): GPU | undefined {
  return opts.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
}

/** A {@link WebGPUBackend} on `opts.device`, or on a device found as {@link requestWebGPUDevice} does (then owned by it). */
export async function createWebGPUBackend(opts: WebGPUOptions & { device?: GPUDevice } = {}): Promise<WebGPUBackend> {
  if (opts.device !== undefined) return new WebGPUBackend(opts.device, opts);
  return new WebGPUBackend(await requestWebGPUDevice(opts), { ownsDevice: true, ...opts, gpu: findGPU(opts) });
}

/**
 * Creates a WebGPU backend and registers it as `'webgpu'`, so that `setBackend('webgpu')` selects it.
 *
 * @example
 * await initWebGPU();
 * setBackend('webgpu');
 * const y = tensor([1, 2, 3]).exp();
 * await y.data();
 */
export async function initWebGPU(opts: WebGPUOptions & { device?: GPUDevice } = {}): Promise<WebGPUBackend> {
  const backend = await createWebGPUBackend(opts);
  registerBackend('webgpu', () => backend);
  return backend;
}
