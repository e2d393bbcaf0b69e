/**
 * The generated SIMD math and fused kernels of `simd-math.ts` and `fused-kernels.ts`, called directly on
 * a fresh memory: exp's accuracy against `Math.exp` (and its edge cases), sigmoid and GELU against
 * double-precision references, `where` in every operand form, column sums and the AdamW update against
 * their float32 formulas exactly, and every module's size. The op-level behaviour (softmax, norms, GELU,
 * AdamW through the backend) is in `test/tensor/fused-ops.test.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { erf } from '../../../src/tensor/cpu/math.js';
import { adamwModule, type AdamWConstants, type AdamWExports } from '../../../src/tensor/wasm/adamw-kernel.js';
import { columnSumModule, type ColumnSumExports } from '../../../src/tensor/wasm/column-sum-kernel.js';
import { geluModule, mathUnaryModule, normModule, softmaxGradModule, softmaxModule, type GeluExports } from '../../../src/tensor/wasm/fused-kernels.js';
import { whereModule, type WhereExports, type WhereForm } from '../../../src/tensor/wasm/where-kernel.js';
import type { UnaryExports } from '../../../src/tensor/wasm/elementwise-kernel.js';
import { I32, ModuleBuilder } from '../../../src/tensor/wasm/encoder.js';
import { whileAtLeast, bump } from '../../../src/tensor/wasm/emit.js';
import { SimdMath } from '../../../src/tensor/wasm/simd-math.js';

function instantiate<T>(bytes: Uint8Array<ArrayBuffer>, memory: WebAssembly.Memory): T {
  assert.ok(bytes.length < 4096, `a ${bytes.length}-byte module: keep modules under 4 KiB (older Chrome compiles no more synchronously)`);
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as T;
}

/** The distance from |v| to the next float32 up: one unit in the last place of v as float32. */
function ulp(v: number): number {
  const f = new Float32Array([Math.abs(Math.fround(v))]);
  const u = new Uint32Array(f.buffer);
  const lo = f[0]!;
  u[0]!++;
  return f[0]! - lo;
}

/** Runs a `map(x, out, n)` kernel on `xs` and returns its outputs. */
function mapAll(memory: WebAssembly.Memory, fn: (x: number, out: number, n: number) => void, xs: ArrayLike<number>): Float32Array {
  const n = xs.length;
  const f = new Float32Array(memory.buffer);
  const [X, Y] = [16, 32 + n];
  f.set(xs, X);
  f[Y + n] = 42;
  fn(4 * X, 4 * Y, n);
  assert.equal(f[Y + n], 42, 'wrote past the end');
  return f.slice(Y, Y + n);
}

test('SIMD exp is within 1 ulp of the exact e^x (relative error < 1.2e-7) over 2^20 points of [−87, 88]', () => {
  const N = 1 << 20;
  const memory = new WebAssembly.Memory({ initial: 200 });
  const { map } = instantiate<UnaryExports>(mathUnaryModule('exp', false), memory);
  const xs = Float32Array.from({ length: N }, (_, i) => -87 + (175 * i) / (N - 1));
  const ys = mapAll(memory, map, xs);
  let [worstRel, worstUlp] = [0, 0];
  for (let i = 0; i < N; i++) {
    const want = Math.exp(xs[i]!);
    const err = Math.abs(ys[i]! - want);
    worstRel = Math.max(worstRel, err / want);
    worstUlp = Math.max(worstUlp, err / ulp(want));
  }
  assert.ok(worstUlp < 1, `max error ${worstUlp} ulp`);
  assert.ok(worstRel < 1.2e-7, `max relative error ${worstRel}`);
});

test('SIMD exp edge cases: overflow to +∞ exactly where float32 overflows, gradual underflow, 0 at −∞, NaN stays NaN', () => {
  const memory = new WebAssembly.Memory({ initial: 2 });
  const { map } = instantiate<UnaryExports>(mathUnaryModule('exp', false), memory);
  const xs = [0, -0, 1, -1, 88.72, 88.7228, 88.723, 89, 1e30, Infinity, -87.3, -95, -100, -103.9, -103.98, -104, -1e30, -Infinity, NaN, 1e-10];
  const ys = mapAll(memory, map, xs);
  xs.forEach((x, i) => {
    const want = Math.fround(Math.exp(Math.fround(x)));
    const got = ys[i]!;
    if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `exp(${x}) = ${got}`);
    else if (!Number.isFinite(want) || want === 0) assert.equal(got, want, `exp(${x})`);
    // Subnormal results: within one unit of the smallest subnormal.
    else assert.ok(Math.abs(got - want) <= Math.max(ulp(want), 2 ** -149), `exp(${x}) = ${got}, expected ${want}`);
  });
  assert.equal(ys[0], 1);
  assert.equal(ys[1], 1);
});

test('expNonPositive (the fused kernels’ exp for x ≤ 0) equals exp bitwise on [−87, 0], and is 0 at −∞ and below −87.7', () => {
  const memory = new WebAssembly.Memory({ initial: 40 });
  const m = new ModuleBuilder().importMemory({ initial: 1 });
  m.addFunction('map', [I32, I32, I32], [], [], (c) => {
    whileAtLeast(c, 2, 4, () => {
      c.localGet(1).localGet(0).v128Load(0, 2);
      SimdMath.of(c).expNonPositive();
      c.v128Store(0, 2);
      bump(c, 0, 16);
      bump(c, 1, 16);
    });
  });
  const { map } = instantiate<UnaryExports>(m.build(), memory);
  const full = instantiate<UnaryExports>(mathUnaryModule('exp', false), memory).map;
  const N = 1 << 17;
  const xs = Float32Array.from({ length: N }, (_, i) => (-87 * i) / (N - 1));
  assert.deepEqual(mapAll(memory, map, xs), mapAll(memory, full, xs));
  const edge = mapAll(memory, map, [-Infinity, -1e30, -88, -87.7, -87.5, NaN, 0, -0]);
  assert.deepEqual([...edge.slice(0, 4)], [0, 0, 0, 0]);
  assert.ok(Math.abs(edge[4]! - Math.exp(-87.5)) <= 2 ** -149, `e^−87.5 = ${edge[4]}`);
  assert.ok(Number.isNaN(edge[5]!));
  assert.deepEqual([edge[6], edge[7]], [1, 1]);
});

test('SIMD sigmoid is within 2e-7 relative of 1/(1 + e^(−x)) on [−80, 80], and 0 / 1 / NaN at −∞ / +∞ / NaN', () => {
  const memory = new WebAssembly.Memory({ initial: 20 });
  const { map } = instantiate<UnaryExports>(mathUnaryModule('sigmoid', false), memory);
  const xs = Float32Array.from({ length: 1 << 16 }, (_, i) => -80 + (160 * i) / ((1 << 16) - 1));
  const ys = mapAll(memory, map, xs);
  xs.forEach((x, i) => {
    const want = 1 / (1 + Math.exp(-x));
    assert.ok(Math.abs(ys[i]! - want) <= 2e-7 * want, `sigmoid(${x}) = ${ys[i]}, expected ${want}`);
  });
  const sp = mapAll(memory, map, [-Infinity, Infinity, NaN]);
  assert.deepEqual([sp[0], sp[1]], [0, 1]);
  assert.ok(Number.isNaN(sp[2]!));
});

test('fused GELU and its derivative match the double-precision erf formulas (A&S 7.1.26 in float32: ≤ 3e-7·max(1, |x|))', () => {
  const memory = new WebAssembly.Memory({ initial: 20 });
  const ex = instantiate<GeluExports>(geluModule(false), memory);
  const n = 40001;
  const xs = Float32Array.from({ length: n }, (_, i) => -10 + (20 * i) / (n - 1));
  const y = mapAll(memory, ex.forward, xs);
  const f = new Float32Array(memory.buffer);
  const [X, G, O] = [16, 16 + n + 4, 16 + 2 * (n + 4)];
  f.set(xs, X);
  const gs = Float32Array.from(xs, (_, i) => ((i * 7919) % 13) - 6);
  f.set(gs, G);
  ex.backward(4 * X, 4 * G, 4 * O, n);
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    const cdf = 0.5 * (1 + erf(x / Math.SQRT2));
    const tol = 3e-7 * Math.max(1, Math.abs(x));
    assert.ok(Math.abs(y[i]! - x * cdf) <= tol, `gelu(${x}) = ${y[i]}, expected ${x * cdf}`);
    const d = cdf + (x * Math.exp((-x * x) / 2)) / Math.sqrt(2 * Math.PI);
    assert.ok(Math.abs(f[O + i]! - gs[i]! * d) <= tol * Math.abs(gs[i]!), `g·gelu'(${x}) = ${f[O + i]}, expected ${gs[i]! * d}`);
  }
});

test('where: every form (condition, a, b each contiguous or broadcast) selects as cond ? a : b, for every length', () => {
  const memory = new WebAssembly.Memory({ initial: 2 });
  const ex = instantiate<WhereExports>(whereModule(false), memory);
  const forms = Object.keys(ex) as WhereForm[];
  assert.equal(forms.length, 8);
  fc.assert(
    fc.property(fc.constantFrom(...forms), fc.integer({ min: 0, max: 41 }), fc.integer(), (form, n, seed) => {
      const f = new Float32Array(memory.buffer);
      const u8 = new Uint8Array(memory.buffer);
      const [C, A, B, O] = [64 * 4 + (seed & 3), 256, 512, 1024];
      let s = seed | 1;
      const next = (): number => ((s = (s * 1103515245 + 12345) | 0) >>> 16) & 0xff;
      for (let i = 0; i < 48; i++) u8[C + i] = next() % 3 === 0 ? 0 : next() % 4;
      for (let i = 0; i < 48; i++) [f[A + i], f[B + i]] = [next() - 128, -next() - 0.5];
      f.fill(7, O, O + n + 4);
      ex[form](C, 4 * A, 4 * B, 4 * O, n);
      for (let i = 0; i < n; i++) {
        const c = u8[C + (form[0] === 'v' ? i : 0)]!;
        const want = c !== 0 ? f[A + (form[1] === 'v' ? i : 0)]! : f[B + (form[2] === 'v' ? i : 0)]!;
        assert.equal(f[O + i], want, `${form}[${i}] of ${n}`);
      }
      assert.equal(f[O + n], 7, 'wrote past the end');
    }),
    { numRuns: 200 },
  );
});

test('column sums equal the float64 sum in row order rounded to float32, for strided rows and every width', () => {
  const memory = new WebAssembly.Memory({ initial: 4 });
  const { sumCols } = instantiate<ColumnSumExports>(columnSumModule(false), memory);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 37 }), fc.integer({ min: 0, max: 5 }), fc.integer(), (rows, n, pad, seed) => {
      const f = new Float32Array(memory.buffer);
      const stride = n + pad;
      const [X, ACC, OUT] = [16, 4096, 8192];
      let s = seed | 1;
      for (let i = 0; i < rows * stride; i++) f[X + i] = Math.fround(Math.sin((s = (s * 69069 + 1) | 0)) * 1e3);
      f.fill(5, OUT, OUT + n + 2);
      sumCols(4 * X, 4 * stride, rows, n, 4 * ACC, 4 * OUT);
      for (let j = 0; j < n; j++) {
        let want = 0;
        for (let r = 0; r < rows; r++) want += f[X + r * stride + j]!;
        assert.equal(f[OUT + j], Math.fround(want), `column ${j}`);
      }
      assert.equal(f[OUT + n], 5, 'wrote past the end');
    }),
    { numRuns: 150 },
  );
});

test('the AdamW kernel equals torch’s float32 operation sequence bitwise, in both lerp forms, in place or not', () => {
  const memory = new WebAssembly.Memory({ initial: 2 });
  const ex = instantiate<AdamWExports>(adamwModule(false), memory);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 23 }),
      fc.double({ min: 0.01, max: 0.99, noNaN: true }),
      fc.double({ min: 0.5, max: 0.9999, noNaN: true }),
      fc.integer({ min: 1, max: 50 }),
      fc.boolean(),
      fc.boolean(),
      (n, beta1, beta2, step, inPlace, maximize) => {
        const f = new Float32Array(memory.buffer);
        const [P, G, M, V, MO, VO] = [16, 64, 112, 160, 208, 256];
        for (let i = 0; i < n; i++) {
          f[P + i] = Math.fround(Math.sin(i + step));
          f[G + i] = Math.fround(Math.cos(3 * i + beta1) * 0.1);
          f[M + i] = Math.fround(Math.sin(7 * i) * 0.05);
          f[V + i] = Math.fround(Math.abs(Math.cos(5 * i)) * 1e-3);
        }
        const before = f.slice(0, 320);
        const [lr, wd, eps] = [1e-3, 0.01, 1e-8];
        const w = 1 - beta1;
        const k: AdamWConstants = [1 - lr * wd, w < 0.5 ? w : 1 - w, beta2, 1 - beta2, -(lr / (1 - beta1 ** step)), Math.sqrt(1 - beta2 ** step), eps, maximize ? -1 : 1];
        const [mo, vo] = inPlace ? [M, V] : [MO, VO];
        (w < 0.5 ? ex.low : ex.high)(4 * P, 4 * G, 4 * M, 4 * V, 4 * mo, 4 * vo, n, ...k);
        const r = Math.fround;
        const [K0, K1, K2, K3, K4, K5, K6, K7] = k.map(r) as AdamWConstants;
        for (let i = 0; i < n; i++) {
          const d = r(before[G + i]! * K7);
          const m0 = before[M + i]!;
          const m = w < 0.5 ? r(m0 + r(r(d - m0) * K1)) : r(d - r(r(d - m0) * K1));
          const v = r(r(before[V + i]! * K2) + r(r(d * K3) * d));
          const p = r(r(before[P + i]! * K0) + r(r(m * K4) / r(r(r(Math.sqrt(v)) / K5) + K6)));
          assert.equal(f[mo + i], m, `m[${i}]`);
          assert.equal(f[vo + i], v, `v[${i}]`);
          assert.equal(f[P + i], p, `p[${i}]`);
          if (!inPlace) assert.deepEqual([f[M + i], f[V + i]], [before[M + i], before[V + i]], 'the old moments are left as they were');
        }
        assert.equal(f[P + n], before[P + n], 'wrote past the end of p');
      },
    ),
    { numRuns: 120 },
  );
});

test('every fused module variant validates and stays under 4 KiB', () => {
  const modules: [string, Uint8Array<ArrayBuffer>][] = [
    ['softmax', softmaxModule(false)],
    ['softmax-grad', softmaxGradModule(false)],
    ['adamw', adamwModule(false)],
    ['gelu', geluModule(false)],
    ['column-sum', columnSumModule(false)],
    ['where', whereModule(false)],
    ['exp', mathUnaryModule('exp', false)],
    ['sigmoid', mathUnaryModule('sigmoid', true)],
  ];
  for (const kind of ['layer', 'rms'] as const) {
    for (const weight of [false, true]) {
      for (const bias of kind === 'layer' && weight ? [false, true] : [false]) modules.push([`norm ${kind} w=${weight} b=${bias}`, normModule({ kind, weight, bias }, false)]);
    }
  }
  for (const [name, bytes] of modules) {
    assert.ok(WebAssembly.validate(bytes), `${name} does not validate`);
    assert.ok(bytes.length < 4096, `${name}: ${bytes.length} bytes`);
  }
});
