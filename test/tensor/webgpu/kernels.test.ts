/**
 * WebGPU kernels beyond the shared conformance table: the multi-pass paths that only long inputs reach
 * (bitonic merges across workgroups, split reductions, workgroup scans and trees), atomics under heavy
 * index collisions, index errors raised at the next read, the refusal of float64, bool storage, and the
 * pipeline / bind-group caches. Every value is compared with the CPU backend. Skipped, with the reason,
 * where no WebGPU adapter can be had.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Generator,
  randint,
  randn,
  scope,
  setBackend,
  tensor,
  type TypedArray,
  type Tensor,
  where,
} from '../../../src/tensor/index.js';
import { operand } from '../../../src/tensor/ops/core.js';
import { webgpuForTests } from '../../helpers/webgpu.js';

const gpu = await webgpuForTests();
const skip = typeof gpu === 'string' ? gpu : false;

/** Runs `f` with `backend` selected. */
function on<T>(backend: string, f: () => T): T {
  setBackend(backend);
  try {
    return f();
  } finally {
    setBackend('cpu');
  }
}

/** `f` on the CPU and on WebGPU (inputs built inside `f`, from seeded generators), read back. */
async function both(f: () => Tensor[]): Promise<{ cpu: TypedArray[]; gpu: TypedArray[] }> {
  const c = on('cpu', f);
  const g = on('webgpu', f);
  return { cpu: await Promise.all(c.map((t) => t.data())), gpu: await Promise.all(g.map((t) => t.data())) };
}

function close(name: string, got: TypedArray, want: TypedArray, atol: number, rtol = 1e-5): void {
  assert.equal(got.length, want.length, `${name}: length`);
  for (let i = 0; i < want.length; i++) {
    const [x, y] = [got[i]!, want[i]!];
    if (Number.isNaN(y)) assert.ok(Number.isNaN(x), `${name}[${i}]: ${x}, expected NaN`);
    else if (!Number.isFinite(y)) assert.equal(x, y, `${name}[${i}]`);
    else assert.ok(Math.abs(x - y) <= atol + rtol * Math.abs(y), `${name}[${i}]: ${x} vs ${y}`);
  }
}

function exact(name: string, got: TypedArray, want: TypedArray): void {
  assert.deepEqual(Array.from(got), Array.from(want), name);
}

describe('webgpu kernels against the cpu backend', { skip }, () => {
  after(() => {
    if (typeof gpu !== 'string') gpu.destroy();
  });

  test('bitonic sort of long lanes (merges across workgroups) is the CPU stable sort, ties and NaN included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1500 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1e6 }),
        async (n, lanes, descending, seed) => {
          // Few distinct values (ties everywhere), a NaN and both zeros.
          const gen = new Generator(String(seed));
          const host = Float32Array.from(randint(-4, 4, [lanes * n], { generator: gen }).dataSync(), (v, i) =>
            i % 97 === 5 ? NaN : i % 89 === 3 ? -0 : v / 2,
          );
          const r = await both(() => {
            const s = tensor(host, { shape: [lanes, n] }).sort(1, descending);
            return [s.values, s.indices];
          });
          close('values', r.gpu[0]!, r.cpu[0]!, 0, 0);
          exact('indices', r.gpu[1]!, r.cpu[1]!);
        },
      ),
      { numRuns: 12 },
    );
  });

  test('topk along a non-last axis of length 3000, int32 sort, and sort of a transposed view', async () => {
    const r = await both(() => {
      const x = randn([3000, 3], { generator: new Generator('topk') });
      const t = x.topk(7, 0);
      const b = x.topk(5, 0, false);
      const i = randint(-1000, 1000, [2, 700], { generator: new Generator('isort') }).sort(1, true);
      const v = x.transpose().sort(1);
      return [t.values, t.indices, b.values, b.indices, i.values, i.indices, v.values, v.indices];
    });
    r.gpu.forEach((g, k) => (k % 2 === 0 ? close(`out ${k}`, g, r.cpu[k]!, 0, 0) : exact(`out ${k}`, g, r.cpu[k]!)));
  });

  test('cumsum of long lanes (workgroup scan) and along a strided axis; int32 exactly', async () => {
    const r = await both(() => {
      const x = randn([3, 1000], { generator: new Generator('cumsum') });
      const i = randint(-50, 50, [2, 5000], { generator: new Generator('icumsum') });
      return [x.cumsum(1), x.transpose().contiguous().cumsum(0), i.cumsum(1)];
    });
    close('float rows', r.gpu[0]!, r.cpu[0]!, 1e-4);
    close('float columns', r.gpu[1]!, r.cpu[1]!, 1e-4);
    exact('int32', r.gpu[2]!, r.cpu[2]!);
  });

  test('argmax / argmin over long rows (workgroup tree) return the first extreme, NaN first', async () => {
    const host = randn([4, 5000], { generator: new Generator('arg') }).dataSync() as Float32Array;
    // Plant repeated extremes: the first of each must win.
    for (const j of [4100, 700, 2500]) host[j] = 9;
    for (const j of [5000 + 3000, 5000 + 10]) host[j] = -9;
    host[2 * 5000 + 4321] = NaN;
    host[2 * 5000 + 4322] = NaN;
    const r = await both(() => {
      const x = tensor(host, { shape: [4, 5000] });
      return [x.argmax(1), x.argmin(1), x.transpose().argmax(0)];
    });
    r.gpu.forEach((g, k) => exact(`out ${k}`, g, r.cpu[k]!));
  });

  test('sums of 10⁵ elements split across workgroups, reductions over non-adjacent axes of a permuted view', async () => {
    const nan = randn([100_000], { generator: new Generator('nan') }).dataSync();
    nan[77_777] = NaN;
    const r = await both(() => {
      const x = randn([100_000], { generator: new Generator('big') });
      const y = randn([4, 5, 6, 7], { generator: new Generator('perm') }).permute([2, 0, 3, 1]);
      const i = randint(-9, 9, [3, 40_000], { generator: new Generator('isum') });
      return [x.sum(), x.mean(), x.max(), x.min(), y.sum([0, 2]), y.max([1, 3]), y.prod([0]), i.sum(), i.sum(1), tensor(nan).max()];
    });
    close('sum', r.gpu[0]!, r.cpu[0]!, 2e-3, 1e-4);
    close('mean', r.gpu[1]!, r.cpu[1]!, 1e-7, 1e-4);
    r.gpu.slice(2, 7).forEach((g, k) => close(`out ${k + 2}`, g, r.cpu[k + 2]!, 1e-5));
    exact('int32 sum', r.gpu[7]!, r.cpu[7]!);
    exact('int32 row sums', r.gpu[8]!, r.cpu[8]!);
    assert.ok(Number.isNaN(r.gpu[9]![0]!), 'max of a long row with one NaN is NaN');
  });

  test('matmul at tile edges (31, 32, 33, 65), batched with transposed operands, and int32 exactly', async () => {
    const r = await both(() => {
      const g = new Generator('mm');
      const out: Tensor[] = [];
      for (const [M, K, N] of [
        [31, 32, 33],
        [32, 65, 32],
        [65, 17, 64],
        [1, 100, 65],
      ] as const) {
        out.push(randn([M, K], { generator: g }).matmul(randn([N, K], { generator: g }).transpose()));
      }
      out.push(randn([3, 4, 20, 9], { generator: g }).transpose(-1, -2).matmul(randn([4, 20, 11], { generator: g })));
      const i = randint(-5, 5, [40, 33], { generator: g });
      out.push(i.matmul(i.transpose()));
      return out;
    });
    r.gpu.slice(0, 5).forEach((g, k) => close(`float ${k}`, g, r.cpu[k]!, 1e-4, 1e-4));
    exact('int32', r.gpu[5]!, r.cpu[5]!);
  });

  test('scatterAdd with 20000 contributions into 4 slots (atomics) sums every one; int32 exactly', async () => {
    const r = await both(() => {
      const g = new Generator('scatter');
      const idx = randint(0, 4, [2, 10_000], { generator: g });
      const src = randn([2, 10_000], { generator: g });
      const isrc = randint(-3, 3, [2, 10_000], { generator: g });
      return [tensor([[0, 0, 0, 0], [1, 1, 1, 1]]).scatterAdd(1, idx, src), randint(0, 1, [2, 4], { generator: g }).scatterAdd(1, idx, isrc)];
    });
    close('float', r.gpu[0]!, r.cpu[0]!, 1e-3, 1e-4);
    exact('int32', r.gpu[1]!, r.cpu[1]!);
  });

  test('an out-of-range gather or scatterAdd index raises a RangeError naming the op at the next read, once', async () => {
    setBackend('webgpu');
    try {
      const x = tensor([[1, 2, 3]]);
      const bad = x.gather(1, tensor([[0, 3]], { dtype: 'int32' }));
      await assert.rejects(bad.data(), (e: Error) => e instanceof RangeError && /gather: index 3 is out of range for axis 1 of size 3/.test(e.message));
      // The flag is cleared by the report: the next read succeeds.
      assert.deepEqual(Array.from(await x.gather(1, tensor([[2, 0]], { dtype: 'int32' })).data()), [3, 1]);
      const s = x.scatterAdd(1, tensor([[-1]], { dtype: 'int32' }), tensor([[5]]));
      await assert.rejects(s.data(), /scatterAdd: index -1 is out of range/);
    } finally {
      setBackend('cpu');
    }
  });

  test('float64 is refused on creation, cast and in kernels, naming the op', () => {
    assert.ok(typeof gpu !== 'string');
    setBackend('webgpu');
    try {
      assert.throws(() => tensor([1, 2], { dtype: 'float64' }), /float64/);
      assert.throws(() => tensor([1, 2]).cast('float64'), /float64.*(creating or casting)/);
      const x = operand(tensor([1, 2]));
      assert.throws(() => gpu.unary('exp', x, 'float64'), /webgpu\.exp: float64 is not supported/);
      assert.throws(() => gpu.reduce('sum', x, [0], 'float64'), /webgpu\.sum: float64/);
      assert.throws(() => gpu.matmul({ ...x, shape: [1, 2], strides: [2, 1] }, { ...x, shape: [2, 1], strides: [1, 1] }, 'float64'), /webgpu\.matmul: float64/);
    } finally {
      setBackend('cpu');
    }
  });

  test('bool tensors (one u32 per element): logic, where, casts to and from bool, sums of bools', async () => {
    const r = await both(() => {
      const x = randn([7, 9], { generator: new Generator('bool') });
      const m = x.gt(0);
      const n = x.lt(0.5).transpose().contiguous().transpose();
      return [m, m.logicalAnd(n), m.logicalOr(n).logicalNot(), where(m, x, -1), m.cast('int32').sum(1), m.sum(), x.cast('bool'), m.cast('float32')];
    });
    r.gpu.forEach((g, k) => exact(`out ${k}`, g, r.cpu[k]!));
  });

  test('reads are asynchronous only: dataSync throws, pointing to data()', () => {
    setBackend('webgpu');
    try {
      const t = tensor([1, 2, 3]);
      assert.throws(() => t.dataSync(), /webgpu backend reads asynchronously; use await t\.data\(\)/);
      assert.match(t.toString(), /backend=webgpu/);
    } finally {
      setBackend('cpu');
    }
  });

  test('a repeated step reuses pipelines, parameter blocks and bind groups (buffers come back from the pool)', async () => {
    assert.ok(typeof gpu !== 'string');
    setBackend('webgpu');
    try {
      const x = randn([16, 24], { generator: new Generator('cache') });
      const w = randn([24, 8], { generator: new Generator('cache-w') });
      const step = async (): Promise<TypedArray> => {
        const s = scope(() => x.matmul(w).relu().sum(1));
        const out = await s.data();
        s.dispose();
        return out;
      };
      const first = await step();
      const before = gpu.stats();
      const second = await step();
      const afterStats = gpu.stats();
      exact('same values', second, first);
      assert.equal(afterStats.pipelines, before.pipelines, 'no new pipelines');
      assert.equal(afterStats.paramBuffers, before.paramBuffers, 'no new parameter blocks');
      assert.equal(afterStats.bindGroups, before.bindGroups, 'no new bind groups');
      assert.equal(afterStats.liveBuffers, before.liveBuffers, 'no buffers left behind');
    } finally {
      setBackend('cpu');
    }
  });

  test('alloc returns zeros even when the pool hands back a used buffer', async () => {
    assert.ok(typeof gpu !== 'string');
    setBackend('webgpu');
    try {
      const a = tensor(new Float32Array(100).fill(7));
      await a.data();
      const pooled = gpu.stats().pooledBuffers;
      a.dispose();
      assert.equal(gpu.stats().pooledBuffers, pooled + 1);
      const b = gpu.alloc('float32', 100);
      assert.equal(gpu.stats().pooledBuffers, pooled, 'the freed buffer was reused');
      assert.deepEqual(Array.from(await gpu.read(b)), new Array(100).fill(0));
      gpu.free(b);
    } finally {
      setBackend('cpu');
    }
  });
});
