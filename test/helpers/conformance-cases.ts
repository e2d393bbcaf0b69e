/**
 * The backend conformance table (tfjs's pattern): one list of cases, each building inputs on the current
 * backend and returning outputs, that every backend must compute as the CPU backend does: the same
 * dtypes, shapes and values, exact for int32, bool and indices, within float32 tolerance for floats. The
 * Node entry (`test/tensor/conformance.test.ts`) runs it on the wasm variants and on WebGPU (Dawn), the
 * browser entry (`test/browser/conformance-page.ts`, driven by `test/browser/chromium.test.ts`) on WebGL2
 * (gpu.js) and WebGPU in headless Chromium. This module imports no Node API, so that a page can load it.
 *
 * The table walks every primitive kernel path of `Backend`: unary, binary (with broadcasting and strided
 * views), where, reduce over various axes, argmax/argmin, cumsum, matmul (batched, broadcast, transposed,
 * 1-D, edge sizes), gather, scatterAdd, sort, topk, copy/cast, concat; gradients of a small MLP; and
 * the ops backends may fuse (softmax, logSoftmax, layerNorm, rmsNorm, GELU, AdamW; the wasm backend has
 * fused kernels for them) with their gradients.
 *
 * Excluded, with the reason:
 * - random creation (`randn`, `rand`, `randint`): values come from the seeded `Generator` on the host and
 *   are written to the backend; no kernel is involved (the table's inputs are made that way on both).
 * - the sign of zero from maximum/minimum/relu: `f32x4.max(+0, −0)` is +0 where the TS kernel can give −0;
 *   values are compared as numbers, so +0 and −0 are equal here.
 * - exact float equality of sums and matrix products: the SIMD kernels add in another order (matmul in
 *   float32, the TS kernel in float64), so these are compared within a tolerance scaled to the inputs.
 *   The GPU backends accumulate in float32 too (WebGL's sums are compensated, Kahan).
 * - on webgpu and webgl, float64 outputs (`f64(…)` below gives null there and the output is skipped):
 *   neither WGSL nor GLSL has 64-bit floats, and both backends throw on them (tested in
 *   `test/tensor/webgpu/kernels.test.ts` and `test/browser/chromium.test.ts`).
 * - on webgpu, reads are asynchronous, so every output is compared through `await t.data()` (on webgl
 *   too, though its reads are synchronous underneath).
 * - on webgl, int32 values are exact only below 2^24 (stored in float textures); the table's integers are
 *   small, as are the policy's indices.
 */
import {
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
  gelu,
  layerNorm,
  rmsNorm,
  type Tensor,
} from '../../src/tensor/index.js';
import { AdamW } from '../../src/nn/index.js';

/** Backends that cannot hold float64: there {@link f64} gives null and that output is not compared. */
export const NO_FLOAT64 = new Set(['webgpu', 'webgl']);
const f64 = (t: Tensor): Tensor | null => (NO_FLOAT64.has(getBackend().name) ? null : t.cast('float64'));

/** One row of the table. */
export interface Case {
  /** The test name. */
  name: string;
  /** Builds inputs on the current backend and returns the outputs to compare (null: excluded here). */
  run: () => Tensor | null | (Tensor | null)[];
  /** Float tolerance: |x − y| ≤ atol + rtol·|y| (defaults 1e-6, 1e-5). */
  atol?: number;
  /** See {@link Case.atol}. */
  rtol?: number;
}

const randnOf = (shape: number[], seed: string): Tensor => randn(shape, { generator: new Generator(seed) });
const withNaN = (): Tensor => tensor([[1, NaN, -2, 0], [NaN, 3, 5, -1], [-0, 0, 7, 7]]);

/** Runs `f` with `backend` selected, then selects the CPU backend again. */
export function on<T>(backend: string, f: () => T): T {
  setBackend(backend);
  try {
    return f();
  } finally {
    setBackend('cpu');
  }
}

/** Throws, saying where, unless `got` matches `want` (dtype, shape, values within tolerance). */
export async function compare(name: string, got: Tensor, want: Tensor, atol: number, rtol: number): Promise<void> {
  if (got.dtype !== want.dtype) throw new Error(`${name}: dtype ${got.dtype}, expected ${want.dtype}`);
  if (got.shape.join() !== want.shape.join()) throw new Error(`${name}: shape [${got.shape}], expected [${want.shape}]`);
  const [g, w] = await Promise.all([got.data(), want.data()]);
  const exact = got.dtype === 'int32' || got.dtype === 'bool';
  for (let i = 0; i < w.length; i++) {
    const [x, y] = [g[i]!, w[i]!];
    if (Number.isNaN(y)) {
      if (!Number.isNaN(x)) throw new Error(`${name}[${i}]: ${x}, expected NaN`);
    } else if (exact || !Number.isFinite(y)) {
      if (!Object.is(x, y)) throw new Error(`${name}[${i}]: ${x}, expected ${y}`);
    } else if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) throw new Error(`${name}[${i}]: ${x} vs ${y} (|diff| ${Math.abs(x - y)})`);
  }
}

/** Runs case `c` on the CPU backend and on each of `backends`, and compares every output; throws at the first difference. */
export async function check(c: Case, backends: readonly string[]): Promise<void> {
  const want = [on('cpu', c.run)].flat();
  for (const backend of backends) {
    const instance = on(backend, getBackend);
    const got = [on(backend, c.run)].flat();
    if (got.length !== want.length) throw new Error(`${c.name} on ${backend}: ${got.length} outputs, expected ${want.length}`);
    for (const [i, t] of got.entries()) {
      if (t === null) continue;
      if (t.backend !== instance) throw new Error(`${c.name}: output ${i} is on ${t.backend.name}, not ${backend}`);
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

const gradients: Case[] = [
  {
    name: 'gradients of a small MLP (matmul, bias broadcast, relu, mse) are the same on every backend',
    atol: 1e-5,
    run: () => {
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
    },
  },
];

/** Ops that backends may fuse (wasm: `fused-kernels.ts`), and the SIMD `where` and column sums they lean on. */
const fused: Case[] = [
  {
    name: 'softmax and logSoftmax along the last axis (fused on wasm): row tails, −∞ entries, large inputs, and their gradients',
    atol: 2e-6,
    run: () => {
      const out: Tensor[] = [];
      for (const n of [1, 3, 37, 64, 130]) {
        const x = randnOf([5, n], `sm${n}`).mul(4).requiresGrad_();
        const c = randnOf([5, n], `smc${n}`);
        const s = x.softmax(-1);
        const l = x.logSoftmax(-1);
        s.mul(c).add(l.mul(c.mul(0.5))).sum().backward();
        out.push(s, l, x.grad!);
      }
      const y = tensor([[0, -Infinity, 1, 2, -Infinity, 3], [500, 501, 499, -500, 0, 502]]);
      return [...out, y.softmax(-1), y.logSoftmax(-1)];
    },
  },
  {
    name: 'layerNorm and rmsNorm (fused on wasm) with and without weight and bias, over one and two trailing axes, and their gradients',
    atol: 1e-5,
    rtol: 1e-4,
    run: () => {
      const out: Tensor[] = [];
      for (const n of [4, 37, 128]) {
        const x = randnOf([6, n], `ln${n}`).mul(2).add(1).requiresGrad_();
        const w = randnOf([n], `lnw${n}`).requiresGrad_();
        const b = randnOf([n], `lnb${n}`).requiresGrad_();
        const c = randnOf([6, n], `lnc${n}`);
        const ys = [layerNorm(x, n, w, b), layerNorm(x, n), rmsNorm(x, n, w), rmsNorm(x, n, null, 1e-3)];
        ys.reduce((acc, y) => acc.add(y.mul(c).sum()), tensor(0)).backward();
        out.push(...ys, x.grad!, w.grad!, b.grad!);
      }
      const x3 = randnOf([3, 2, 20], 'ln3');
      return [...out, layerNorm(x3, [2, 20], randnOf([2, 20], 'ln3w'), randnOf([2, 20], 'ln3b'))];
    },
  },
  {
    name: 'exact GELU (fused on wasm) and its gradient, tanh GELU',
    atol: 2e-6,
    run: () => {
      const x = randnOf([7, 45], 'gelu').mul(3).requiresGrad_();
      const y = gelu(x);
      y.mul(randnOf([7, 45], 'geluc')).sum().backward();
      return [y, x.grad!, gelu(x.detach(), 'tanh')];
    },
  },
  {
    // Adam divides by √v: where a gradient is near 0, the backends' rounding differences in it show.
    name: 'AdamW steps (fused on wasm) with weight decay and both lerp forms, transposed gradients',
    atol: 1e-5,
    run: () => {
      const out: Tensor[] = [];
      for (const betas of [[0.9, 0.999], [0.2, 0.9]] as [number, number][]) {
        const w = randnOf([12, 20], `aw${betas[0]}`).requiresGrad_();
        const x = randnOf([20, 5], 'ax');
        const opt = new AdamW([w], { lr: 0.05, betas, weightDecay: 0.1 });
        for (let i = 0; i < 3; i++) {
          opt.zeroGrad();
          x.transpose().matmul(w.transpose()).pow(2).sum().backward();
          opt.step();
        }
        out.push(w.detach(), ...Object.values(opt.stateDict().tensors));
      }
      return out;
    },
  },
  {
    name: 'where with a per-row condition, a broadcast mask and scalar sides; sums over leading axes (column sums)',
    atol: 1e-5,
    run: () => {
      const x = randnOf([4, 3, 40], 'wr');
      const alive = x.max(-1, true).gt(0);
      const mask = randnOf([3, 40], 'wm').gt(0);
      return [where(alive, x, 0), where(mask, x, -Infinity), where(x.gt(0.5), 1.5, x), where(alive, 2, -1), x.sum([0, 1]), x.sum(0), x.transpose(0, 1).sum(0)];
    },
  },
];

/** The whole table, in groups: elementwise, reductions, matmul, indexing, gradients, fused ops. */
export const CASES: readonly Case[] = [...elementwise, ...reductions, ...matmuls, ...indexing, ...gradients, ...fused];
