import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { matmulSplit } from '../../../src/tensor/wasm/matmul-parallel.js';
import {
  combinePartials,
  mapShares,
  partialShares,
  rowListShares,
  rowShares,
  splitRange,
  TASKS_PER_THREAD,
} from '../../../src/tensor/wasm/parallel.js';
import type { ThreadCall } from '../../../src/tensor/wasm/threads.js';

/** Every task of every share, shuffled by `seed` (tasks must not depend on their order or thread). */
function shuffledTasks(shares: ThreadCall[][][], seed: number): ThreadCall[][] {
  const tasks = shares.flat();
  let s = seed | 1;
  for (let i = tasks.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [tasks[i], tasks[j]] = [tasks[j]!, tasks[i]!];
  }
  return tasks;
}

test('splitRange: bounds start at 0, end at total, never decrease, fall on multiples of align, and cut near-equal pieces', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 16 }), fc.constantFrom(1, 4, 16), (total, parts, align) => {
      const b = splitRange(total, parts, align);
      assert.equal(b.length, parts + 1);
      assert.equal(b[0], 0);
      assert.equal(b[parts], total);
      for (let i = 1; i <= parts; i++) {
        assert.ok(b[i]! >= b[i - 1]!, `bounds decrease: ${b.join(',')}`);
        if (i < parts) assert.ok(b[i]! % align === 0 || b[i] === total, `bound ${b[i]} is not a multiple of ${align}`);
        assert.ok(b[i]! - b[i - 1]! <= Math.ceil(total / parts) + 2 * align, `piece ${i} too large: ${b.join(',')}`);
      }
    }),
  );
  assert.throws(() => splitRange(10, 0, 1), { name: 'RangeError', message: /^splitRange: bad arguments total=10, parts=0/ });
});

test('mapShares: in any order, the tasks write every output element exactly once, from the right input elements', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 1, max: 4 }),
      fc.constantFrom('vv', 'sv', 'vs'),
      fc.integer(),
      (rows, len, threads, form, seed) => {
        // Element offsets per row: row r of `a` starts at 100·r + 3 (a strided layout), of `b` at 50·r.
        const aStarts = Int32Array.from({ length: rows }, (_, r) => 100 * r + 3);
        const bStarts = Int32Array.from({ length: rows }, (_, r) => 50 * r);
        const [sa, sb] = form === 'sv' ? [0, 1] : form === 'vs' ? [1, 0] : [1, 1];
        const [A, B, OUT] = [1_000_000, 2_000_000, 3_000_000];
        const shares = mapShares(form, [{ ptr: A, starts: aStarts, step: sa }, { ptr: B, starts: bStarts, step: sb }], OUT, rows, len, threads);
        assert.equal(shares.length, threads);
        assert.ok(shares.every((s) => s.length <= TASKS_PER_THREAD));
        const written = new Map<number, [number, number]>();
        for (const task of shuffledTasks(shares, seed)) {
          for (const [fn, a, b, out, n] of task as [string, number, number, number, number][]) {
            assert.equal(fn, form);
            for (let i = 0; i < n; i++) {
              const o = (out - OUT) / 4 + i;
              assert.ok(!written.has(o), `element ${o} written twice`);
              written.set(o, [(a - A) / 4 + i * sa, (b - B) / 4 + i * sb]);
            }
          }
        }
        assert.equal(written.size, rows * len);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < len; j++) {
            assert.deepEqual(written.get(r * len + j), [aStarts[r]! + j * sa, bStarts[r]! + j * sb], `row ${r}, element ${j}`);
          }
        }
      },
    ),
  );
});

test('rowShares and rowListShares: every row reduced exactly once, into its own output slot', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 4 }), fc.integer(), (rows, n, threads, seed) => {
      const [X, OUT, stride] = [4096, 1 << 20, 4 * (n + 7)];
      const seen = new Map<number, number>();
      for (const task of shuffledTasks(rowShares('sumRows', X, stride, rows, n, OUT, threads), seed)) {
        for (const [, x, s, count, len, out] of task as [string, number, number, number, number, number][]) {
          assert.equal(s, stride);
          assert.equal(len, n);
          for (let r = 0; r < count; r++) {
            const row = (x - X) / stride + r;
            assert.equal((out - OUT) / 4 + r, row, 'output slot of the row');
            seen.set(row, (seen.get(row) ?? 0) + 1);
          }
        }
      }
      assert.deepEqual([...seen.entries()].sort((p, q) => p[0] - q[0]), Array.from({ length: rows }, (_, r) => [r, 1]));
      const starts = Int32Array.from({ length: rows }, (_, r) => 37 * ((r * 7) % rows));
      const listed = new Map<number, number>();
      for (const task of shuffledTasks(rowListShares('maxRows', X, starts, n, OUT, threads), seed)) {
        for (const [, x, , count, len, out] of task as [string, number, number, number, number, number][]) {
          assert.deepEqual([count, len], [1, n]);
          const r = (out - OUT) / 4;
          assert.equal((x - X) / 4, starts[r], `row ${r} reads its own start`);
          listed.set(r, (listed.get(r) ?? 0) + 1);
        }
      }
      assert.equal(listed.size, rows);
      assert.ok([...listed.values()].every((c) => c === 1));
    }),
  );
});

test('partialShares covers a long run exactly once, one partial slot per task; combinePartials sums in float64 and propagates NaN in max', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 4 }), (n, threads) => {
      const [X, P] = [64, 1 << 16];
      const covered = new Uint8Array(n);
      const slots = new Set<number>();
      for (const task of partialShares('sumRows', X, n, P, threads).flat()) {
        for (const [, x, , rows, len, out] of task as [string, number, number, number, number, number][]) {
          assert.equal(rows, 1);
          for (let i = 0; i < len; i++) covered[(x - X) / 4 + i]!++;
          const slot = (out - P) / 4;
          assert.ok(slot >= 0 && slot < threads * TASKS_PER_THREAD && !slots.has(slot), `partial slot ${slot}`);
          slots.add(slot);
        }
      }
      assert.ok(covered.every((c) => c === 1));
    }),
  );
  fc.assert(
    fc.property(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 12 }), (parts) => {
      const f = Float32Array.from(parts);
      assert.equal(combinePartials('sum', f), Math.fround(Array.from(f).reduce((s, v) => s + v, 0)));
      assert.equal(combinePartials('max', f), Math.max(...f));
      const withNaN = Float32Array.from([...f, NaN, ...f]);
      assert.ok(Number.isNaN(combinePartials('max', withNaN)));
    }),
  );
  assert.equal(combinePartials('max', Float32Array.of(-Infinity, -Infinity)), -Infinity);
});

test('matmulSplit: batch only with at least as many entries as threads, rows only with two panels per thread, nothing on one thread', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 6 }), (batch, M, MR, T) => {
      const s = matmulSplit(batch, M, MR, T);
      if (T < 2) assert.equal(s, 'none');
      if (s === 'batch') assert.ok(batch >= T);
      if (s === 'rows') assert.ok(Math.ceil(M / MR) >= 2 * T);
      if (s === 'none' && T >= 2) assert.ok(batch < T && Math.ceil(M / MR) < 2 * T);
    }),
  );
});
