/**
 * The parts of gpu.js (https://github.com/gpujs/gpu.js) that the WebGL backend uses, typed by shape so
 * that the tensor layer neither imports the optional `gpu.js` package nor needs it to compile: the caller
 * hands over a `GPU` instance or the `GPU` constructor (in a browser, the global that
 * `gpu.js/dist/gpu-browser.min.js` defines).
 * @module
 */

/** A gpu.js texture: a kernel's output left on the GPU (pipeline mode). */
export interface GpuJsTexture {
  /** Reads the texture back (synchronously: WebGL's `readPixels`); a 1-D output gives a `Float32Array`. */
  toArray(): unknown;
  /** Releases the texture's GPU memory (gpu.js counts references; the last holder's delete frees it). */
  delete(): void;
}

/** An argument of a gpu.js kernel: a number (a uniform), a texture, or host data uploaded per call. */
export type GpuJsArgument = number | GpuJsTexture | Float32Array;

/** A compiled gpu.js kernel, callable with its arguments. */
export interface GpuJsKernel {
  /** Runs the kernel; in pipeline mode the result is a texture. */
  (...args: GpuJsArgument[]): unknown;
  /** Resizes the output (the kernel must have `dynamicOutput`). */
  setOutput(output: number[]): unknown;
  /** Releases the kernel's program and textures. */
  destroy?(removeCanvasReferences?: boolean): void;
  /** Why gpu.js ran this kernel on its CPU fallback, when it did. */
  fallbackReason?: string | null;
}

/** A GLSL function made available to kernels, as gpu.js's `nativeFunctions` setting takes it. */
export interface GpuJsNativeFunction {
  /** The function's name, as kernels call it. */
  name: string;
  /** Its GLSL source (`float name(float a, …) { … }`). */
  source: string;
}

/** The settings of `GPU.createKernel` that the backend passes. */
export interface GpuJsKernelSettings {
  /** The initial output size. */
  output: number[];
  /** `'single'`: float32 textures (not 8-bit packed). */
  precision: 'single';
  /** Return textures, not arrays. */
  pipeline: true;
  /** Every call renders into a new texture, which the caller owns. */
  immutable: true;
  /** The output size changes between calls. */
  dynamicOutput: true;
  /** Argument textures change size between calls. */
  dynamicArguments: true;
  /** `'precision'`: highp floats and ints. */
  tactic: 'precision';
  /** The bound of loops whose end is not a constant. */
  loopMaxIterations: number;
  /** GLSL placed before the kernel's own functions. */
  injectedNative: string;
  /** GLSL functions the kernel's JavaScript calls. */
  nativeFunctions: GpuJsNativeFunction[];
}

/** A gpu.js `GPU` instance. */
export interface GpuJs {
  /** Compiles a kernel from JavaScript source text. */
  createKernel(source: string, settings: GpuJsKernelSettings): GpuJsKernel;
  /** Releases every kernel and the context. */
  destroy?(): unknown;
  /** The mode the instance was created in (`'webgl2'` for this backend). */
  readonly mode?: string;
}

/** The gpu.js `GPU` constructor. */
export interface GpuJsConstructor {
  /** Creates an instance; the backend asks for `mode: 'webgl2'`. */
  new (settings?: { mode?: string; canvas?: unknown; context?: unknown }): GpuJs;
  /** Whether the runtime has WebGL2. */
  readonly isWebGL2Supported?: boolean;
}
