import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  binaryModule,
  reductionModule,
  SIMD_BINARY,
  SIMD_UNARY,
  unaryModule,
  type BinaryExports,
  type ReductionExports,
  type UnaryExports,
} from '../../../src/tensor/wasm/elementwise-kernel.js';
import { detectWasmFeatures, wasmFeatures } from '../../../src/tensor/wasm/features.js';
import { matmulModule, type MatmulExports, type MatmulTile } from '../../../src/tensor/wasm/matmul-kernel.js';
import { MATMUL_TILE } from '../../../src/tensor/wasm/matmul.js';
import { compareMatmulVariants, type VariantReport } from '../../helpers/wasm-variants.js';

const features = wasmFeatures();

function instantiate<T>(bytes: Uint8Array<ArrayBuffer>, memory = new WebAssembly.Memory({ initial: 16 })): { memory: WebAssembly.Memory; ex: T } {
  assert.ok(bytes.length < 4096, `a ${bytes.length}-byte module: keep modules under 4 KiB (older Chrome compiles no more synchronously)`);
  return { memory, ex: new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as T };
}

/** Deterministic values in [−1, 1) from a seed (xorshift). */
function fill(f: Float32Array, at: number, n: number, seed: number): void {
  let s = seed | 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    f[at + i] = (s >>> 0) / 2 ** 31 - 1;
  }
}

test('feature detection is cached and consistent: relaxed SIMD implies SIMD, which Node has', () => {
  assert.equal(wasmFeatures(), features);
  assert.deepEqual(detectWasmFeatures(), features);
  assert.equal(features.wasm, true);
  assert.equal(features.simd, true);
  assert.ok(!features.relaxedSimd || features.simd);
});

const GEMM_VARIANTS: [boolean, MatmulTile][] = [
  [false, MATMUL_TILE],
  [true, MATMUL_TILE],
  [false, { rows: 6, vectors: 2, unroll: 2 }],
  [false, { rows: 3, vectors: 1, unroll: 3 }],
];

for (const [relaxed, tile] of GEMM_VARIANTS) {
  const MR = tile.rows;
  const NR = 4 * tile.vectors;
  test(
    `generated GEMM (${relaxed ? 'relaxed_madd' : 'mul + add'}, ${MR}×${NR} tile, k unrolled ${tile.unroll}×): packed, blocked, edge tiles and strided operands equal the naive product`,
    { skip: relaxed && !features.relaxedSimd && 'no relaxed SIMD in this runtime (checked in a child process below)' },
    () => {
      const { memory, ex } = instantiate<MatmulExports>(matmulModule({ ...tile, relaxed, shared: false }));
      fc.assert(
        fc.property(
          fc.record({
            M: fc.integer({ min: 1, max: 30 }),
            K: fc.integer({ min: 1, max: 40 }),
            N: fc.integer({ min: 1, max: 30 }),
            transA: fc.boolean(),
            transB: fc.boolean(),
            kc: fc.integer({ min: 1, max: 45 }),
            mcPanels: fc.integer({ min: 1, max: 9 }),
            seed: fc.integer(),
          }),
          ({ M, K, N, transA, transB, kc, mcPanels, seed }) => {
            const f = new Float32Array(memory.buffer);
            const [A, B, C] = [256, 4096, 8192]; // float indices; C has sentinels on both sides
            fill(f, A, M * K, seed);
            fill(f, B, K * N, seed + 1);
            const [sam, sak] = transA ? [1, M] : [K, 1];
            const [sbk, sbn] = transB ? [1, K] : [N, 1];
            f.fill(99, C - 8, C + M * N + 8);
            const [mp, np] = [Math.ceil(M / MR), Math.ceil(N / NR)];
            const [ap, bp, scratch] = [16384 * 4, 32768 * 4, 60000 * 4];
            ex.packA(ap, A * 4, sam * 4, sak * 4, M, K);
            ex.packB(bp, B * 4, sbn * 4, sbk * 4, N, K);
            ex.gemm(ap, bp, C * 4, M, N, K, mp, np, kc, mcPanels, scratch);
            for (let i = 0; i < M; i++) {
              for (let j = 0; j < N; j++) {
                let ref = 0;
                let mag = 0;
                for (let k = 0; k < K; k++) {
                  const p = f[A + i * sam + k * sak]! * f[B + k * sbk + j * sbn]!;
                  ref += p;
                  mag += Math.abs(p);
                }
                const got = f[C + i * N + j]!;
                assert.ok(Math.abs(got - ref) <= 2 * K * 2 ** -24 * mag + 1e-30, `C[${i},${j}] = ${got}, expected ${ref}`);
              }
            }
            for (let i = 1; i <= 8; i++) {
              assert.equal(f[C - i], 99, 'wrote before C');
              assert.equal(f[C + M * N + i - 1], 99, 'wrote after C');
            }
          },
        ),
        { numRuns: 150 },
      );
    },
  );
}

const JS_BINARY: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (a > b || a !== a ? a : b),
  minimum: (a, b) => (a < b || a !== a ? a : b),
};
const JS_UNARY: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sqrt: Math.sqrt,
  relu: (x) => (x > 0 || x !== x ? x : 0),
};
const special = fc.constantFrom(NaN, 0, -0, Infinity, -Infinity, 1e-40, -3.5);

/** Equal as float32 numbers (NaN equals NaN; +0 equals −0). */
function same(x: number, y: number): boolean {
  return (Number.isNaN(x) && Number.isNaN(y)) || x === Math.fround(y);
}

test('generated elementwise kernels equal the TS formulas for every length, misalignment and scalar side', () => {
  const memory = new WebAssembly.Memory({ initial: 16 });
  const ex: Record<string, (...a: number[]) => void> = {};
  for (const op of SIMD_BINARY) {
    const m = instantiate<BinaryExports>(binaryModule(op, false), memory).ex;
    for (const form of ['vv', 'sv', 'vs'] as const) ex[`${op}_${form}`] = m[form];
  }
  for (const op of SIMD_UNARY) ex[op] = instantiate<UnaryExports>(unaryModule(op, false), memory).ex.map;
  const ops = Object.keys(ex);
  fc.assert(
    fc.property(
      fc.constantFrom(...ops),
      fc.integer({ min: 0, max: 70 }),
      fc.integer({ min: 0, max: 3 }),
      fc.array(fc.tuple(fc.nat(69), special), { maxLength: 4 }),
      fc.integer(),
      (name, n, skew, specials, seed) => {
        const f = new Float32Array(memory.buffer);
        const [a, b, out] = [64 + skew, 1024 + 2 * skew, 2048 + 3 * skew];
        fill(f, a, 80, seed);
        fill(f, b, 80, seed + 7);
        for (const [i, v] of specials) f[(i & 1 ? a : b) + i] = v;
        f.fill(42, out, out + n + 4);
        const [op, form] = name.split('_') as [string, string | undefined];
        if (form === undefined) ex[name]!(a * 4, out * 4, n);
        else ex[name]!(a * 4, b * 4, out * 4, n);
        for (let i = 0; i < n; i++) {
          const x = form === 'sv' ? f[a]! : f[a + i]!;
          const y = form === 'vs' ? f[b]! : f[b + i]!;
          const want = form === undefined ? JS_UNARY[op]!(f[a + i]!) : JS_BINARY[op]!(x, y);
          assert.ok(same(f[out + i]!, want), `${name}[${i}] of ${n}: ${f[out + i]} vs ${want}`);
        }
        assert.equal(f[out + n], 42, 'wrote past the end');
      },
    ),
    { numRuns: 400 },
  );
});

test('generated row sums and maxima agree with float64 sums and Math.max over strided rows', () => {
  const { memory, ex } = instantiate<ReductionExports>(reductionModule(false));
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2500 }), fc.integer({ min: 0, max: 5 }), fc.integer(), (rows, n, pad, seed) => {
      const f = new Float32Array(memory.buffer);
      const [x, out] = [100, 20000];
      const stride = n + pad;
      fill(f, x, rows * stride, seed);
      ex.sumRows(x * 4, stride * 4, rows, n, out * 4);
      ex.maxRows(x * 4, stride * 4, rows, n, (out + 4) * 4);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        let mag = 0;
        let m = -Infinity;
        for (let j = 0; j < n; j++) {
          const v = f[x + r * stride + j]!;
          s += v;
          mag += Math.abs(v);
          m = Math.max(m, v);
        }
        assert.ok(Math.abs(f[out + r]! - s) <= 70 * 2 ** -24 * mag + 2 ** -24 * Math.abs(s), `sum of row ${r}: ${f[out + r]} vs ${s}`);
        assert.equal(f[out + 4 + r], m);
      }
    }),
    { numRuns: 200 },
  );
});

function assertAgree(r: VariantReport): void {
  assert.ok(r.worst['relaxed vs cpu']! <= 1, JSON.stringify(r));
  assert.ok(r.worst['mul-add vs cpu']! <= 1, JSON.stringify(r));
  assert.ok(r.worst['relaxed vs mul-add']! <= 2, JSON.stringify(r));
}

test('matmul with relaxed_madd, with mul + add, and on the CPU agree within the float32 error bound', () => {
  if (features.relaxedSimd) {
    const r = compareMatmulVariants();
    assert.equal(r.relaxedSimd, true);
    assertAgree(r);
    return;
  }
  // Node 20 keeps relaxed SIMD behind a flag: compare in a child process that has it.
  const helper = fileURLToPath(new URL('../../helpers/wasm-variants.js', import.meta.url));
  const child = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', helper], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  const r = JSON.parse(child.stdout.trim()) as VariantReport;
  assert.equal(r.relaxedSimd, true, 'the child should have relaxed SIMD');
  assertAgree(r);
  assertAgree(compareMatmulVariants());
});
