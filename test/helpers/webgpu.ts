/**
 * The WebGPU backend for tests in Node, or the reason there is none (tests skip with it). CI has no GPU:
 * Dawn's OpenGL backend on Mesa's llvmpipe, with a surfaceless EGL display and the compatibility feature
 * level, is tried first, then Dawn's default backend. `BEING_WEBGPU_FLAGS` (comma-separated Dawn options,
 * e.g. `backend=vulkan`) picks one instead. Tests must call `destroy()` on the backend at the end, or
 * Dawn keeps the process alive.
 */
import { initNodeWebGPU } from '../../src/node/webgpu.js';
import type { WebGPUBackend } from '../../src/tensor/index.js';

/** Registers `'webgpu'` and returns its backend, or returns why no adapter could be had. */
export async function webgpuForTests(): Promise<WebGPUBackend | string> {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['BEING_WEBGPU_FLAGS'];
  const attempts = env ? [env.split(',')] : [['backend=opengl'], []];
  const reasons: string[] = [];
  for (const flags of attempts) {
    try {
      const adapter = flags.includes('backend=opengl') ? { featureLevel: 'compatibility' as const } : undefined;
      return await initNodeWebGPU({ flags, adapter });
    } catch (e) {
      reasons.push((e as Error).message);
    }
  }
  return `no WebGPU adapter in this environment: ${reasons.join('; ')}`;
}
