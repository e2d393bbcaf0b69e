/**
 * Compiling and running gpu.js kernels: every kernel is created once per distinct source text (the
 * text depends on ranks, never on sizes), in pipeline mode with float32 (`'single'`) textures, highp,
 * dynamic output and argument sizes, and `immutable` so that each call renders into a texture the
 * caller owns and deletes.
 * @module
 */
import type { DeviceBuffer } from '../backend.js';
import type { DType } from '../dtype.js';
import type { WebGLBuffer } from './buffer.js';
import { GLSL_HELPERS, NATIVE_FUNCTIONS } from './glsl.js';
import type { GpuJs, GpuJsKernel, GpuJsTexture } from './gpujs.js';
import { kernelSource, type GLParams } from './source.js';

/**
 * The most elements a WebGL buffer holds: indices are computed in float32, exact below 2^24 (the
 * texture limit, the square of `MAX_TEXTURE_SIZE`, may be lower still).
 */
export const WEBGL_MAX_ELEMENTS = 2 ** 24;

/** Counts of a {@link GLRunner}'s kernels. */
export interface GLRunnerStats {
  /** Distinct kernels compiled. */
  kernels: number;
  /** Kernel launches. */
  launches: number;
}

interface Entry {
  kernel: GpuJsKernel;
  size: number;
}

function isTexture(x: unknown): x is GpuJsTexture {
  return typeof x === 'object' && x !== null && typeof (x as GpuJsTexture).delete === 'function' && typeof (x as GpuJsTexture).toArray === 'function';
}

/** The kernels of one gpu.js `GPU`, by source. */
export class GLRunner {
  /** The gpu.js instance (mode `'webgl2'`). */
  readonly gpu: GpuJs;
  readonly #kernels = new Map<string, Entry>();
  #runs = 0;

  /** Runs kernels on `gpu`. */
  constructor(gpu: GpuJs) {
    this.gpu = gpu;
  }

  /** The number of distinct kernels compiled, and of kernel launches. */
  stats(): GLRunnerStats {
    return { kernels: this.#kernels.size, launches: this.#runs };
  }

  /**
   * Runs the kernel with parameters `p` and `body` over `size` (≥ 1) output elements and returns the
   * new texture. Throws, naming `op`, when gpu.js cannot compile it or falls back to its CPU kernels.
   */
  run(op: string, p: GLParams, body: string, size: number): GpuJsTexture {
    const source = kernelSource(p, body);
    let entry = this.#kernels.get(source);
    const fresh = entry === undefined;
    if (entry === undefined) {
      const kernel = this.gpu.createKernel(source, {
        output: [size],
        precision: 'single',
        pipeline: true,
        immutable: true,
        dynamicOutput: true,
        dynamicArguments: true,
        tactic: 'precision',
        loopMaxIterations: WEBGL_MAX_ELEMENTS,
        injectedNative: GLSL_HELPERS,
        nativeFunctions: [...NATIVE_FUNCTIONS],
      });
      entry = { kernel, size };
      this.#kernels.set(source, entry);
    } else if (entry.size !== size) {
      entry.kernel.setOutput([size]);
      entry.size = size;
    }
    let out: unknown;
    try {
      out = entry.kernel(...p.list.map(([, v]) => v));
    } catch (e) {
      if (fresh) this.#kernels.delete(source);
      throw new Error(`webgl.${op}: gpu.js could not run its kernel: ${(e as Error).message}\n${source}`, { cause: e });
    }
    this.#runs++;
    if (!isTexture(out)) {
      throw new Error(`webgl.${op}: gpu.js returned no texture (${entry.kernel.fallbackReason ?? 'it ran the kernel on its CPU fallback'})`);
    }
    // The kernel still renders into the texture it returned (shared, reference-counted). Were that
    // texture passed back to this kernel, gpu.js would swap in the previous argument's texture as the
    // output, whatever its size; resizing gives the kernel a texture of its own that no buffer holds.
    entry.kernel.setOutput([size]);
    return out;
  }

  /** Destroys every kernel. */
  destroy(): void {
    for (const { kernel } of this.#kernels.values()) kernel.destroy?.();
    this.#kernels.clear();
  }
}

/** What the kernel modules ask of the backend. */
export interface GLKernelHost {
  /** The texture of one of this backend's buffers, for reading (materialized zeros, or a 1-element stand-in when empty). */
  input(op: string, buffer: DeviceBuffer): GpuJsTexture;
  /** Runs a kernel into a new buffer of `size` elements of `dtype` (no launch when `size` is 0). */
  launch(op: string, dtype: DType, size: number, p: GLParams, body: string): WebGLBuffer;
}
