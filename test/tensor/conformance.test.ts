/**
 * Backend conformance: a table of ops, each run on the CPU backend and on the wasm backend (with SIMD and
 * relaxed SIMD where the runtime has them, with SIMD but mul+add instead of relaxed_madd, without SIMD, and
 * with a 6×8 matmul tile instead of 4×8), and on the WebGPU backend where an adapter can be had (in CI:
 * Dawn's OpenGL backend on Mesa's llvmpipe; skipped with the reason otherwise),
 * must give the same dtypes, shapes and values: exact for int32, bool and indices, within float32
 * tolerance for floats. The table walks every primitive kernel path of `Backend`: unary, binary (with
 * broadcasting and strided views), where, reduce over various axes, argmax/argmin, cumsum, matmul
 * (batched, broadcast, transposed, 1-D, edge sizes), gather, scatterAdd, sort, topk, copy/cast, concat;
 * and gradients of a small MLP.
 *
 * Excluded, with the reason:
 * - random creation (`randn`, `rand`, `randint`): values come from the seeded `Generator` on the host and
 *   are written to the backend; no kernel is involved (the table's inputs are made that way on both).
 * - the sign of zero from maximum/minimum/relu: `f32x4.max(+0, −0)` is +0 where the TS kernel can give −0;
 *   values are compared as numbers, so +0 and −0 are equal here.
 * - exact float equality of sums and matrix products: the SIMD kernels add in another order (matmul in
 *   float32, the TS kernel in float64), so these are compared within a tolerance scaled to the inputs.
 * - on webgpu, float64 outputs (`f64(…)` below gives null there and the output is skipped): WGSL has no
 *   64-bit floats, and the backend throws on them (tested in `test/tensor/webgpu/kernels.test.ts`).
 * - on webgpu, reads are asynchronous, so every output is compared through `await t.data()`.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WasmBackend,
  Generator,
  abs,
  argmax,
  argmin,
  cast,
  concat,
  cos,
  cumsum,
  erf,
  exp,
  gather,
  getBackend,
  indexSelect,
  log,
  log1p,
  matmul,
  maskedFill,
  neg,
  randint,
  randn,
  registerBackend,
  relu,
  rsqrt,
  scatterAdd,
  setBackend,
  sigmoid,
  sign,
  sin,
  softplus,
  sort,
  sqrt,
  tanh,
  tensor,
  topk,
  where,
  type Tensor,
} from '../../src/tensor/index.js';
import { webgpuForTests } from '../helpers/webgpu.js';

registerBackend('wasm-mul-add', () => new WasmBackend({ relaxedSimd: false }));
registerBackend('wasm-no-simd', () => new WasmBackend({ simd: false }));
registerBackend('wasm-tile-6x8', () => new WasmBackend({ matmulTile: { rows: 6, vectors: 2, unroll: 2 } }));
const WASM_VARIANTS = ['wasm', 'wasm-mul-add', 'wasm-no-simd', 'wasm-tile-6x8'];
const gpu = await webgpuForTests();
const BACKENDS = typeof gpu === 'string' ? WASM_VARIANTS : [...WASM_VARIANTS, 'webgpu'];

/** Backends that cannot hold float64: there {@link f64} gives null and that output is not compared. */
const NO_FLOAT64 = new Set(['webgpu']);
const f64 = (t: Tensor): Tensor | null => (NO_FLOAT64.has(getBackend().name) ? null : t.cast('float64'));

interface Case {
  name: string;
  /** Builds inputs on the current backend and returns the outputs to compare (null: excluded here). */
  run: () => Tensor | null | (Tensor | null)[];
  /** Float tolerance: |x − y| ≤ atol + rtol·|y| (defaults 1e-6, 1e-5). */
  atol?: number;
  rtol?: number;
}

const randnOf = (shape: number[], seed: string): Tensor => randn(shape, { generator: new Generator(seed) });
const withNaN = (): Tensor => tensor([[1, NaN, -2, 0], [NaN, 3, 5, -1], [-0, 0, 7, 7]]);

function on<T>(backend: string, f: () => T): T {
  setBackend(backend);
  try {
    return f();
  } finally {
    setBackend('cpu');
  }
}

async function compare(name: string, got: Tensor, want: Tensor, atol: number, rtol: number): Promise<void> {
  assert.equal(got.dtype, want.dtype, `${name}: dtype`);
  assert.deepEqual(got.shape, want.shape, `${name}: shape`);
  const [g, w] = await Promise.all([got.data(), want.data()]);
  const exact = got.dtype === 'int32' || got.dtype === 'bool';
  for (let i = 0; i < w.length; i++) {
    const [x, y] = [g[i]!, w[i]!];
    if (Number.isNaN(y)) assert.ok(Number.isNaN(x), `${name}[${i}]: ${x}, expected NaN`);
    else if (exact || !Number.isFinite(y)) assert.equal(x, y, `${name}[${i}]`);
    else assert.ok(Math.abs(x - y) <= atol + rtol * Math.abs(y), `${name}[${i}]: ${x} vs ${y} (|diff| ${Math.abs(x - y)})`);
  }
}

async function check(c: Case): Promise<void> {
  const want = [on('cpu', c.run)].flat();
  for (const backend of BACKENDS) {
    const instance = on(backend, getBackend);
    const got = [on(backend, c.run)].flat();
    assert.equal(got.length, want.length);
    for (const [i, t] of got.entries()) {
      if (t === null) continue;
      assert.equal(t.backend, instance, `${c.name}: output ${i} is on ${t.backend.name}, not ${backend}`);
      await compare(`${c.name} on ${backend}, output ${i}`, t, want[i]!, c.atol ?? 1e-6, c.rtol ?? 1e-5);
    }
  }
}

const UNARY: Record<string, (x: Tensor) => Tensor> = { neg, exp, log, log1p, sqrt, rsqrt, abs, sign, sin, cos, tanh, sigmoid, relu, erf, softplus };
const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;

const elementwise: Case[] = [
  ...Object.entries(UNARY).map(([op, f]) => ({
    name: `${op}: contiguous rows (SIMD where it has a kernel), short rows, strided views, float64`,
    run: () => {
      const x = randnOf([5, 37], op).mul(3);
      const v = op === 'log' || op === 'log1p' || op === 'sqrt' || op === 'rsqrt' ? x.abs() : x;
      return [f(v), f(v.reshape([37, 5])), f(v.transpose()), f(v.slice(null, [3, 30])), f64(v) && f(f64(v)!)];
    },
  })),
  {
    name: 'neg, abs, relu, sqrt propagate NaN and handle ±0 as the TS kernels do',
    run: () => {
      const x = withNaN().reshape([3, 4]).expand([5, 3, 4]).contiguous();
      return [x.neg(), x.abs(), x.relu(), x.sqrt(), x.logicalNot()];
    },
  },
  { name: 'neg and abs of int32', run: () => [randint(-9, 9, [4, 33], { generator: new Generator('i') }).neg(), randint(-9, 9, [40], { generator: new Generator('j') }).abs()] },
  ...BINARY.map((op) => ({
    name: `${op}: same shape, scalar on either side, row and column broadcast, strided views`,
    run: () => {
      const a = randnOf([6, 40], `${op}a`);
      const b = randnOf([6, 40], `${op}b`);
      const lhs = op === 'pow' ? a.abs() : a;
      return [
        lhs[op](b),
        lhs[op](1.5),
        tensor(0.75)[op](b),
        lhs.slice([2, 5])[op](b.slice([0, 3])),
        lhs[op](randnOf([40], `${op}r`)),
        lhs[op](randnOf([6, 1], `${op}c`)),
        lhs.transpose()[op](b.transpose()),
        lhs.slice(null, [0, 39, 3])[op](b.slice(null, [1, 40, 3])),
        lhs.reshape([2, 3, 40])[op](randnOf([3, 1], `${op}d`)),
      ];
    },
  })),
  {
    name: 'maximum and minimum propagate NaN from either side',
    run: () => {
      const a = withNaN();
      const b = tensor([[NaN, 0, 3, -0], [1, NaN, 2, -5], [0, -0, NaN, 8]]);
      return [a.maximum(b), a.minimum(b), a.maximum(0), a.minimum(tensor(NaN))];
    },
  },
  {
    name: 'int32 and mixed-dtype arithmetic, logic ops',
    run: () => {
      const i = randint(-5, 5, [3, 20], { generator: new Generator('k') });
      const f = randnOf([3, 20], 'f');
      const m = f.gt(0);
      return [i.add(i), i.mul(3), i.sub(f), f.div(i.add(10)), m.logicalAnd(i.gt(0)), m.logicalOr(i.lt(0)), i.maximum(2)];
    },
  },
  {
    name: 'where with broadcast condition and branches',
    run: () => {
      const x = randnOf([4, 30], 'w');
      return [where(x.gt(0), x, 0), where(randnOf([30], 'v').gt(0), x, randnOf([4, 1], 'u')), where(x.transpose().lt(0.5), 1, x.transpose())];
    },
  },
  {
    name: 'cast and copy: to int32, bool, float64, and contiguous copies of strided views',
    run: () => {
      const x = randnOf([5, 18], 'c').mul(4);
      return [cast(x, 'int32'), cast(x, 'bool'), f64(x), x.transpose().contiguous(), x.slice([1, 4], [2, 17, 2]).contiguous(), x.clone()];
    },
  },
  {
    name: 'copy_ writes in place into a strided view',
    run: () => {
      const x = randnOf([6, 20], 'cp');
      x.slice([1, 5], [0, 20, 2]).copy_(randnOf([4, 10], 'cq'));
      x.slice([0, 1]).copy_(3);
      return x;
    },
  },
];

const reductions: Case[] = [
  {
    name: 'sum, prod, max, min, mean over every axis set, contiguous and transposed',
    atol: 1e-4,
    run: () => {
      const x = randnOf([4, 6, 35], 'r');
      const out: Tensor[] = [];
      for (const axes of [undefined, [2], [1], [0], [0, 2], [1, 2], [0, 1]]) {
        for (const v of [x, x.transpose(0, 2)]) out.push(v.sum(axes), v.max(axes), v.min(axes), v.mean(axes, true));
      }
      out.push(x.slice(null, [1, 5]).prod([1]), x.slice(null, null, [0, 30]).sum(2));
      return out;
    },
  },
  {
    name: 'long row sums (several 1024-element blocks and a tail) and max with NaN',
    rtol: 1e-5,
    atol: 1e-4,
    run: () => {
      const x = randnOf([3, 5003], 'long');
      return [x.sum(1), x.sum(), x.max(1), withNaN().max(1), withNaN().max(), f64(x)?.sum(1) ?? null];
    },
  },
  {
    name: 'softmax, logsumexp, variance (composites of reduce and elementwise kernels)',
    atol: 1e-5,
    run: () => {
      const x = randnOf([7, 50], 's');
      return [x.softmax(-1), x.softmax(0), x.logsumexp(1), x.var(1)];
    },
  },
  {
    name: 'argmax / argmin with ties and NaN; int32 sums',
    run: () => {
      const t = tensor([[1, 3, 3, 0], [2, 2, 2, 2], [0, NaN, 5, 5]]);
      const i = randint(-4, 4, [5, 9], { generator: new Generator('a') });
      return [argmax(t, 1), argmin(t, 1), argmax(t, 0), argmin(t), argmax(randnOf([4, 33], 'am').transpose(), 1), i.sum(1), i.max(0)];
    },
  },
  {
    name: 'cumsum along each axis',
    run: () => {
      const x = randnOf([3, 4, 21], 'cs');
      return [cumsum(x, 0), cumsum(x, 1), cumsum(x, 2), cumsum(x.transpose(0, 2), 1)];
    },
  },
];

const matmuls: Case[] = [
  ...[
    [1, 1, 1],
    [1, 5, 17],
    [3, 17, 33],
    [5, 3, 1],
    [17, 33, 5],
    [33, 1, 3],
    [33, 33, 33],
    [150, 300, 70],
  ].map(([M, K, N]) => ({
    name: `matmul ${M}×${K} @ ${K}×${N}, and with each operand transposed`,
    atol: 1e-4,
    run: () => {
      const a = randnOf([M!, K!], `a${M}${K}`);
      const b = randnOf([K!, N!], `b${K}${N}`);
      const at = randnOf([K!, M!], `at${M}${K}`).transpose();
      const bt = randnOf([N!, K!], `bt${K}${N}`).transpose();
      return [matmul(a, b), matmul(at, b), matmul(a, bt), matmul(at, bt)];
    },
  })),
  {
    name: 'matmul: batched, broadcast batches, 1-D operands, K = 0, float64 and int32',
    atol: 1e-4,
    run: () => {
      const a = randnOf([2, 1, 5, 7], 'ba');
      const b = randnOf([3, 7, 9], 'bb');
      const v = randnOf([7], 'bv');
      const i = randint(-3, 3, [4, 6], { generator: new Generator('bi') });
      return [
        matmul(a, b),
        matmul(b.transpose(), randnOf([7, 4], 'bc')),
        matmul(v, b),
        matmul(a, v),
        matmul(v, v),
        matmul(randnOf([3, 0], 'z'), randnOf([0, 4], 'y')),
        f64(a) && matmul(f64(a)!, f64(b)!),
        matmul(i, i.transpose()),
        matmul(randnOf([2, 3, 8], 'fold'), randnOf([8, 5], 'w')),
      ];
    },
  },
];

const indexing: Case[] = [
  {
    name: 'gather, indexSelect, scatterAdd along each axis',
    run: () => {
      const x = randnOf([4, 6], 'g');
      const idx0 = randint(0, 4, [3, 6], { generator: new Generator('g0') });
      const idx1 = randint(0, 6, [4, 5], { generator: new Generator('g1') });
      return [
        gather(x, 0, idx0),
        gather(x, 1, idx1),
        gather(x.transpose(), 1, randint(0, 4, [6, 2], { generator: new Generator('g2') })),
        indexSelect(x, 1, tensor([5, 0, 0, 2], { dtype: 'int32' })),
        scatterAdd(x, 0, idx0, randnOf([3, 6], 's0')),
        scatterAdd(x, 1, idx1, randnOf([4, 5], 's1')),
      ];
    },
  },
  {
    name: 'sort (stable, NaN last ascending / first descending) and topk',
    run: () => {
      const x = tensor([[3, 1, NaN, 1, 2], [0, -1, 4, 4, NaN], [5, 5, 5, 1, 0]]);
      const r = randnOf([4, 19], 'sort');
      const s = sort(x, 1);
      const d = sort(x, 1, true);
      const t = topk(r, 5, 1);
      const u = topk(r.transpose(), 2, 0, false);
      return [s.values, s.indices, d.values, d.indices, sort(r, 0).values, t.values, t.indices, u.values, u.indices];
    },
  },
  {
    name: 'concat, maskedFill, tril',
    run: () => {
      const a = randnOf([3, 20], 'ca');
      const b = randnOf([2, 20], 'cb');
      return [concat([a, b], 0), concat([a.transpose(), randnOf([20, 2], 'cc')], 1), maskedFill(a, a.gt(0.5), -1), a.reshape([6, 10]).tril()];
    },
  },
];

describe('wasm and webgpu backend conformance with the cpu backend', () => {
  after(() => {
    if (typeof gpu !== 'string') gpu.destroy();
  });
  test('a WebGPU adapter is available', { skip: typeof gpu === 'string' ? gpu : false }, () => {
    assert.equal(on('webgpu', getBackend), gpu);
  });
  for (const c of [...elementwise, ...reductions, ...matmuls, ...indexing]) test(c.name, () => check(c));

  test('gradients of a small MLP (matmul, bias broadcast, relu, mse) are the same on both backends', () => {
    const run = (): Tensor[] => {
      const g = new Generator('mlp');
      const w1 = randn([8, 16], { generator: g }).mul(0.3).requiresGrad_();
      const b1 = randn([16], { generator: g }).requiresGrad_();
      const w2 = randn([16, 4], { generator: g }).mul(0.3).requiresGrad_();
      const b2 = randn([4], { generator: g }).requiresGrad_();
      const x = randn([32, 8], { generator: g });
      const y = randn([32, 4], { generator: g });
      const h = x.matmul(w1).add(b1).relu();
      const loss = h.matmul(w2).add(b2).sub(y).pow(2).mean();
      loss.backward();
      return [loss, w1.grad!, b1.grad!, w2.grad!, b2.grad!];
    };
    return check({ name: 'mlp', run, atol: 1e-5 });
  });
});
