import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CpuBackend,
  Generator,
  getBackend,
  matmul,
  noGrad,
  randn,
  scope,
  setBackend,
  tensor,
  WasmBackend,
  WasmBuffer,
  type Tensor,
} from '../../../src/tensor/index.js';

function onWasm<T>(f: () => T): T {
  setBackend('wasm');
  try {
    return f();
  } finally {
    setBackend('cpu');
  }
}

test("setBackend('wasm') creates tensors in wasm memory; 'cpu' stays the default", () => {
  assert.equal(getBackend().name, 'cpu');
  const t = onWasm(() => tensor([[1, 2], [3, 4]]));
  assert.equal(t.backend.name, 'wasm');
  assert.ok(t.backend instanceof WasmBackend);
  assert.ok(t.buffer instanceof WasmBuffer);
  assert.equal((t.buffer as WasmBuffer).ptr % 16, 0);
  assert.deepEqual(t.matmul(t).toArray(), [[7, 10], [15, 22]]);
  assert.equal(getBackend().name, 'cpu');
});

test('alloc zeroes reused blocks; write/read round-trip; readSync is a view, read a copy', async () => {
  const be = new WasmBackend({ initialBytes: 1 << 16 });
  const a = be.alloc('float64', 5);
  be.write(a, Float64Array.of(1, 2, 3, 4, 5));
  be.free(a);
  const b = be.alloc('float64', 5); // the same block, dirty until zeroed
  assert.equal(b.ptr, a.ptr);
  assert.deepEqual(Array.from(be.readSync(b)), [0, 0, 0, 0, 0]);
  be.write(b, Float64Array.of(5, 4, 3, 2, 1));
  const copy = await be.read(b);
  const view = be.readSync(b);
  view[0] = 9;
  assert.deepEqual([copy[0], be.readSync(b)[0]], [5, 9]);
  assert.throws(() => be.write(b, new Float64Array(3)), { name: 'RangeError', message: 'wasm.write: 3 values into a buffer of 5' });
  assert.throws(() => be.free(new CpuBackend().alloc('float32', 1)), { name: 'TypeError', message: 'wasm: got a buffer from another backend' });
  assert.throws(() => new WasmBackend({ matmulTile: { rows: 0, vectors: 2, unroll: 1 } }), { name: 'RangeError', message: /^wasm backend: bad matmulTile/ });
});

test('disposing a tensor frees its block once no view of it is alive', () => {
  const be = onWasm(() => getBackend()) as WasmBackend;
  const before = be.heap.stats().liveBlocks;
  const t = onWasm(() => randn([64, 64]));
  const v = t.transpose();
  assert.equal(be.heap.stats().liveBlocks, before + 1);
  t.dispose();
  assert.equal(be.heap.stats().liveBlocks, before + 1, 'the transposed view keeps the buffer');
  v.dispose();
  assert.equal(be.heap.stats().liveBlocks, before);
});

test('scope() keeps a synchronous training loop in constant wasm memory', () => {
  const be = onWasm(() => getBackend()) as WasmBackend;
  const g = new Generator('loop');
  const [w, x, y] = onWasm(() => [randn([32, 32], { generator: g }).mul(0.1).requiresGrad_(), randn([64, 32], { generator: g }), randn([64, 32], { generator: g })]);
  const tops: number[] = [];
  const losses: number[] = [];
  for (let step = 0; step < 30; step++) {
    const loss = scope(() => {
      const l = matmul(x, w!).tanh().sub(y!).pow(2).mean();
      l.backward();
      const next = w!.detach().sub(w!.grad!.mul(0.5));
      w!.grad = null;
      noGrad(() => w!.copy_(next));
      return l.item();
    });
    losses.push(loss);
    tops.push(be.heap.stats().top);
  }
  assert.ok(losses[29]! < losses[0]!, `the loss should fall: ${losses[0]} → ${losses[29]}`);
  assert.equal(tops[29], tops[2], `the used region grew during the loop: ${tops.join(', ')}`);
});

test('matmul results on wasm match the cpu backend for a float32 product of Linear shape (x · Wᵀ)', () => {
  const g = new Generator('lin');
  const x = randn([3, 5, 40], { generator: g });
  const w = randn([24, 40], { generator: g });
  const want = matmul(x, w.transpose()).dataSync();
  const got = onWasm(() => {
    const [xw, ww]: Tensor[] = [tensor(x.dataSync(), { shape: [3, 5, 40] }), tensor(w.dataSync(), { shape: [24, 40] })];
    return matmul(xw, ww.transpose()).dataSync();
  });
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-4, `[${i}] ${v} vs ${want[i]}`));
});
