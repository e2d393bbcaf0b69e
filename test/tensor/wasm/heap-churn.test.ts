/**
 * The wasm heap's address tables under the allocation pattern of a synchronous loop: one address freed
 * and re-taken over and over beside thousands of live blocks (which made V8's Map/Set lookups walk ever
 * longer chains, see `AddressTable` in `src/tensor/wasm/memory.ts`), and mass frees that make the tables
 * drop their empty entries. Correctness only: timing is not asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WasmHeap } from '../../../src/tensor/index.js';

test('one address freed and re-taken 20,000 times beside 3,000 live blocks: the same address each time, exact counters', () => {
  const heap = new WasmHeap({ initialBytes: 1 << 20 });
  const live = Array.from({ length: 3000 }, (_, i) => heap.alloc(16 * (1 + (i % 3))));
  const first = heap.alloc(64);
  heap.free(first);
  for (let i = 0; i < 20000; i++) {
    const p = heap.alloc(64);
    assert.equal(p, first);
    heap.free(p);
  }
  const s = heap.stats();
  assert.equal(s.liveBlocks, 3000);
  assert.equal(s.live, live.reduce((t, p) => t + heap.sizeOf(p), 0));
  assert.equal(s.freeBlocks, 0);
  assert.throws(() => heap.free(first), /no live block at address/);
});

test('random alloc/free sequences with mass frees: counters match a model, free blocks are found again, all coalesces back to empty', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 0, max: 9 })), { minLength: 50, maxLength: 400 }), (ops) => {
      const heap = new WasmHeap({ initialBytes: 1 << 16 });
      const model = new Map<number, number>();
      ops.forEach(([bytes, action], i) => {
        // Mostly allocate; now and then free a third of what is live (many frees below the top at once).
        if (action === 0 && model.size > 0) {
          const victims = [...model.keys()].filter((_, k) => (k + i) % 3 === 0);
          for (const p of victims) {
            heap.free(p);
            model.delete(p);
          }
        } else {
          const p = heap.alloc(bytes);
          assert.ok(!model.has(p), `address ${p} handed out twice`);
          model.set(p, heap.sizeOf(p));
        }
        const s = heap.stats();
        assert.equal(s.liveBlocks, model.size);
        assert.equal(s.live, [...model.values()].reduce((t, v) => t + v, 0));
      });
      const sorted = [...model].sort((x, y) => x[0] - y[0]);
      sorted.forEach(([p, size], k) => assert.ok(k === 0 || sorted[k - 1]![0] + sorted[k - 1]![1] <= p, `blocks overlap at ${p} (${size} bytes)`));
      for (const p of model.keys()) heap.free(p);
      const s = heap.stats();
      assert.deepEqual([s.liveBlocks, s.live, s.freeBlocks, s.free, s.top], [0, 0, 0, 0, 16]);
    }),
    { numRuns: 60 },
  );
});
