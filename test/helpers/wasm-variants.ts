/**
 * Runs float32 matrix products on the CPU backend and on wasm backends with and without relaxed SIMD, and
 * reports how far apart they are relative to a float32 error bound. Used in-process by the kernel tests,
 * and in a child Node started with `--experimental-wasm-relaxed-simd` where the runtime hides relaxed SIMD
 * behind that flag (run directly, it prints its report as JSON).
 */
import { fromHost } from '../../src/tensor/ops/creation.js';
import { CpuBackend, Generator, matmul, randn, WasmBackend, type Backend, type Tensor } from '../../src/tensor/index.js';

/** What {@link compareMatmulVariants} found. */
export interface VariantReport {
  /** Whether the relaxed backend really used `f32x4.relaxed_madd`. */
  relaxedSimd: boolean;
  /** Per pair of backends, the largest |x − y| divided by the bound `2·K·2⁻²⁴·Σₖ|a||b|` (≤ 1 passes). */
  worst: Record<string, number>;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 17, 5],
  [17, 33, 9],
  [33, 300, 17],
  [64, 64, 64],
  [70, 513, 40],
];

function on(be: Backend, t: Tensor, shape: number[]): Tensor {
  return fromHost(t.dataSync(), shape, {}, be);
}

/** Compares `cpu`, `relaxed` and `mul-add` on {@link SHAPES}, with and without transposed operands. */
export function compareMatmulVariants(): VariantReport {
  const backends: Record<string, Backend> = {
    cpu: new CpuBackend(),
    relaxed: new WasmBackend(),
    'mul-add': new WasmBackend({ relaxedSimd: false }),
  };
  const pairs: [string, string][] = [
    ['relaxed', 'cpu'],
    ['mul-add', 'cpu'],
    ['relaxed', 'mul-add'],
  ];
  const worst: Record<string, number> = Object.fromEntries(pairs.map(([x, y]) => [`${x} vs ${y}`, 0]));
  const gen = new Generator('wasm-variants');
  for (const [M, K, N] of SHAPES) {
    const a = randn([M, K], { generator: gen });
    const b = randn([N, K], { generator: gen });
    const absA = a.abs();
    const absB = b.abs();
    const bound = matmul(absA, absB.transpose()).mul(2 * K * 2 ** -24).add(1e-30).dataSync();
    const out: Record<string, Float32Array | Float64Array | Int32Array | Uint8Array> = {};
    for (const [name, be] of Object.entries(backends)) {
      out[name] = matmul(on(be, a, [M, K]), on(be, b, [N, K]).transpose()).dataSync();
    }
    for (const [x, y] of pairs) {
      const [p, q] = [out[x]!, out[y]!];
      for (let i = 0; i < p.length; i++) {
        worst[`${x} vs ${y}`] = Math.max(worst[`${x} vs ${y}`]!, Math.abs(p[i]! - q[i]!) / bound[i]!);
      }
    }
  }
  return { relaxedSimd: (backends['relaxed'] as WasmBackend).kernels.relaxedSimd, worst };
}

const g = globalThis as { process?: { argv?: string[] } };
if (g.process?.argv?.[1]?.endsWith('wasm-variants.js')) console.log(JSON.stringify(compareMatmulVariants()));
