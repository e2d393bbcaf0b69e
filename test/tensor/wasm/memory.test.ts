import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { WasmBackend, WasmBuffer, WasmHeap, wasmFeatures, type WasmHeapStats } from '../../../src/tensor/index.js';

/** Live blocks are 16-byte aligned, inside the used region, and pairwise disjoint. */
function assertDisjoint(heap: WasmHeap, blocks: Map<number, number>): void {
  const sorted = [...blocks.keys()].sort((x, y) => x - y);
  const s = heap.stats();
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i]!;
    assert.equal(p % 16, 0, `address ${p} is not 16-byte aligned`);
    assert.ok(p >= 16 && p + blocks.get(p)! <= s.top && s.top <= s.capacity, `block ${p} outside [16, top ${s.top}]`);
    if (i > 0) assert.ok(sorted[i - 1]! + heap.sizeOf(sorted[i - 1]!) <= p, `blocks at ${sorted[i - 1]} and ${p} overlap`);
  }
}

test('a freed block is reused for the next allocation of its size, and the used region does not grow', () => {
  const heap = new WasmHeap({ initialBytes: 1 << 16 });
  const a = heap.alloc(1000);
  const keep = heap.alloc(32); // keeps `a` below the top, so freeing it lists it instead of shrinking
  const top = heap.stats().top;
  heap.free(a);
  assert.equal(heap.stats().freeBlocks, 1);
  assert.equal(heap.alloc(1000), a);
  assert.equal(heap.stats().top, top);
  assert.equal(heap.stats().freeBlocks, 0);
  heap.free(keep);
});

test('neighbouring free blocks coalesce and serve one allocation of their combined size', () => {
  const heap = new WasmHeap({ initialBytes: 1 << 16 });
  const [a, b, c] = [heap.alloc(256), heap.alloc(256), heap.alloc(256)];
  heap.alloc(16); // a barrier above c
  heap.free(a);
  heap.free(c);
  heap.free(b); // joins a and c into one 768-byte block
  const s = heap.stats();
  assert.equal(s.freeBlocks, 1);
  assert.equal(s.free, 768);
  assert.equal(heap.alloc(700), a);
});

test('freeing the highest block lowers the top; freeing everything empties the heap', () => {
  const heap = new WasmHeap({ initialBytes: 1 << 16 });
  const a = heap.alloc(100);
  const b = heap.alloc(100);
  heap.free(b);
  assert.equal(heap.stats().top, b);
  heap.free(a);
  assert.deepEqual({ ...heap.stats(), capacity: 0 }, { capacity: 0, top: 16, live: 0, liveBlocks: 0, free: 0, freeBlocks: 0, grows: 0 } satisfies WasmHeapStats);
});

test('random alloc/free sequences keep blocks aligned and disjoint, and coalesce back to an empty heap', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5000 }), fc.nat()), { maxLength: 80 }), (ops) => {
      const heap = new WasmHeap({ initialBytes: 1 << 16 });
      const blocks = new Map<number, number>();
      for (const [isAlloc, bytes, pick] of ops) {
        if (isAlloc || blocks.size === 0) blocks.set(heap.alloc(bytes), bytes);
        else {
          const p = [...blocks.keys()][pick % blocks.size]!;
          blocks.delete(p);
          heap.free(p);
        }
        assertDisjoint(heap, blocks);
      }
      const live = [...blocks.keys()].reduce((s, p) => s + heap.sizeOf(p), 0);
      assert.equal(heap.stats().live, live);
      for (const p of blocks.keys()) heap.free(p);
      const s = heap.stats();
      assert.equal(s.top, 16);
      assert.equal(s.freeBlocks, 0);
    }),
    { numRuns: 200 },
  );
});

test('allocating past the memory grows it; buffers made before read their values through fresh views', () => {
  const heap = new WasmHeap({ initialBytes: 1 << 16 });
  const old = new WasmBuffer(heap, 'float32', 100);
  old.data.set(Array.from({ length: 100 }, (_, i) => i * 0.5));
  const staleView = old.data;
  const big = new WasmBuffer(heap, 'float64', 1 << 17); // 1 MiB: far past the initial 64 KiB
  const s = heap.stats();
  assert.ok(s.grows >= 1 && s.capacity >= (1 << 20) + 400, `capacity ${s.capacity} after ${s.grows} grows`);
  assert.equal(staleView.length, 0, 'growth detaches the old ArrayBuffer, so old views are empty');
  assert.equal(old.data.length, 100);
  assert.deepEqual(Array.from(old.data), Array.from({ length: 100 }, (_, i) => i * 0.5));
  big.data[big.size - 1] = 7;
  assert.equal(big.data[big.size - 1], 7);
});

test('the memory stops at its maximum with an out-of-memory error that says how to free', () => {
  const heap = new WasmHeap({ initialBytes: 1 << 16, maximumBytes: 1 << 17 });
  heap.alloc(100_000);
  assert.throws(() => heap.alloc(100_000), { name: 'RangeError', message: /^wasm: out of memory allocating 100000 bytes .*free buffers explicitly or await/ });
  assert.equal(heap.stats().liveBlocks, 1);
});

test('double free and use after free throw; WasmBuffer.free is idempotent', () => {
  const heap = new WasmHeap({ initialBytes: 1 << 16 });
  const p = heap.alloc(64);
  heap.free(p);
  assert.throws(() => heap.free(p), { message: /^wasm\.free: no live block at address \d+ \(freed twice\?\)$/ });
  const b = new WasmBuffer(heap, 'int32', 4);
  b.free();
  b.free();
  assert.throws(() => b.data, { message: 'wasm: buffer used after free' });
  assert.equal(heap.stats().liveBlocks, 0);
});

test('blocks of garbage-collected buffers go back to the heap (FinalizationRegistry)', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const heap = new WasmHeap({ initialBytes: 1 << 16 });
  const keep = new WasmBuffer(heap, 'float32', 10);
  (() => {
    for (let i = 0; i < 50; i++) new WasmBuffer(heap, 'float32', 100);
  })();
  assert.equal(heap.stats().liveBlocks, 51);
  for (let i = 0; i < 5 && heap.stats().liveBlocks > 1; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(heap.stats().liveBlocks, 1);
  assert.equal(keep.data.length, 10);
});

test('a shared memory (where the runtime has threads) is a SharedArrayBuffer and survives growth', { skip: !wasmFeatures().threads && 'no shared wasm memory here' }, () => {
  const be = new WasmBackend({ shared: true, initialBytes: 1 << 16 });
  assert.ok(be.heap.memory.buffer instanceof SharedArrayBuffer);
  assert.equal(be.kernels.shared, true);
  const a = be.alloc('float32', 4);
  be.write(a, Float32Array.of(1, 2, 3, 4));
  be.alloc('float32', 1 << 18); // grows
  assert.deepEqual(Array.from(be.readSync(a)), [1, 2, 3, 4]);
});
