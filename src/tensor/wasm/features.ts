/**
 * What the WebAssembly runtime supports, found at run time by validating tiny modules built with our own
 * encoder (no module is instantiated): fixed-width SIMD, relaxed SIMD, and threads (a shared memory, which
 * needs `SharedArrayBuffer`, so cross-origin isolation in browsers). Detected once and cached.
 * @module
 */
import { F32, I32, ModuleBuilder } from './encoder.js';

/** The WebAssembly features the kernels can use. */
export interface WasmFeatures {
  /** WebAssembly itself is available. */
  readonly wasm: boolean;
  /** 128-bit fixed-width SIMD (`v128`, `f32x4.*`). */
  readonly simd: boolean;
  /** Relaxed SIMD (`f32x4.relaxed_madd`). */
  readonly relaxedSimd: boolean;
  /** A shared `WebAssembly.Memory` can be created and imported (the basis of threads). */
  readonly threads: boolean;
}

function validates(build: (m: ModuleBuilder) => void): boolean {
  try {
    const m = new ModuleBuilder();
    build(m);
    return WebAssembly.validate(m.build());
  } catch {
    return false;
  }
}

function detectThreads(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown; Atomics?: unknown };
  if (g.crossOriginIsolated === false || typeof g.SharedArrayBuffer !== 'function' || typeof g.Atomics !== 'object') return false;
  const importsShared = validates((m) => {
    m.importMemory({ initial: 1, maximum: 1, shared: true });
    m.addFunction('f', [I32], [I32], [], (c) => c.localGet(0).i32Load());
  });
  if (!importsShared) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Runs the probes (uncached); {@link wasmFeatures} is the cached form. */
export function detectWasmFeatures(): WasmFeatures {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') {
    return { wasm: false, simd: false, relaxedSimd: false, threads: false };
  }
  const simd = validates((m) => m.addFunction('f', [F32], [], [], (c) => c.localGet(0).f32x4Splat().f32x4Abs().drop()));
  const relaxedSimd =
    simd &&
    validates((m) =>
      m.addFunction('f', [F32], [], [], (c) => c.localGet(0).f32x4Splat().localGet(0).f32x4Splat().localGet(0).f32x4Splat().f32x4RelaxedMadd().drop()),
    );
  return { wasm: true, simd, relaxedSimd, threads: detectThreads() };
}

let cached: WasmFeatures | undefined;

/** The runtime's WebAssembly features, detected on first call. */
export function wasmFeatures(): WasmFeatures {
  cached ??= detectWasmFeatures();
  return cached;
}
