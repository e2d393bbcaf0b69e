// Views share storage through shape, strides and offset; contiguous() and clone() copy; slices follow
// Python's rules.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, clone, contiguous, flatten, narrow, tensor, type Tensor } from '../../src/tensor/index.js';

/** A [3,4] float tensor holding 0..11. */
function base(): Tensor {
  return arange(12).cast('float32').reshape([3, 4]);
}

describe('views share storage', () => {
  const cases: [string, (x: Tensor) => Tensor, unknown][] = [
    ['reshape of a contiguous tensor', (x) => x.reshape([2, 6]), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]],
    ['view', (x) => x.view([6, 2]).view([12]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
    ['transpose', (x) => x.transpose(), [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]],
    ['permute', (x) => x.reshape([3, 2, 2]).permute([2, 0, 1]), [[[0, 2], [4, 6], [8, 10]], [[1, 3], [5, 7], [9, 11]]]],
    ['expand', (x) => x.slice([0, 1]).expand([2, 1, 4]), [[[0, 1, 2, 3]], [[0, 1, 2, 3]]]],
    ['unsqueeze', (x) => x.unsqueeze(1), [[[0, 1, 2, 3]], [[4, 5, 6, 7]], [[8, 9, 10, 11]]]],
    ['squeeze', (x) => x.slice([1, 2]).squeeze(0), [4, 5, 6, 7]],
    ['slice with a step', (x) => x.slice([null, null, 2], [1, null, 2]), [[1, 3], [9, 11]]],
    ['narrow', (x) => narrow(x, 1, 1, 2), [[1, 2], [5, 6], [9, 10]]],
    ['flatten of a contiguous tensor', (x) => flatten(x), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
    [
      'flatten of leading axes of a sliced tensor',
      (x) => x.reshape([3, 2, 2]).slice(null, null, [0, 1]).flatten(0, 1),
      [[0], [2], [4], [6], [8], [10]],
    ],
    ['broadcastTo', (x) => x.slice(null, [3]).broadcastTo([2, 3, 1]), [[[3], [7], [11]], [[3], [7], [11]]]],
    ['split and chunk pieces', (x) => x.split([1, 2])[1]!.chunk(2, 1)[1]!, [[6, 7], [10, 11]]],
  ];
  for (const [name, make, expected] of cases) {
    test(`${name} shares the buffer (no copy) and reads the right values`, () => {
      const x = base();
      const v = make(x);
      assert.equal(v.buffer, x.buffer, 'same storage');
      assert.deepEqual(v.toArray(), expected);
    });
  }

  test('strides and offsets describe the view', () => {
    const x = base();
    assert.deepEqual(x.transpose().strides, [1, 4]);
    const s = x.slice([1, 3], [1, null, 2]);
    assert.deepEqual(s.shape, [2, 2]);
    assert.deepEqual(s.strides, [4, 2]);
    assert.equal(s.offset, 5);
    // New leading axes and stretched size-1 axes read the same elements: stride 0.
    const e = x.slice([0, 1]).expand([5, 3, 4]);
    assert.deepEqual(e.strides, [0, 0, 1]);
  });

  test('reshape of a non-contiguous tensor stays a view when the strides allow it', () => {
    const x = base();
    const cols = x.slice(null, [0, 2]); // [3,2], strides [4,1]
    const r = cols.reshape([3, 1, 2]);
    assert.equal(r.buffer, x.buffer);
    assert.deepEqual(r.toArray(), [[[0, 1]], [[4, 5]], [[8, 9]]]);
    // Splitting the outer axis of a column slice is a view too.
    const t = arange(24).reshape([4, 6]).slice(null, [0, 3]);
    const split = t.reshape([2, 2, 3]);
    assert.equal(split.buffer, t.buffer);
    assert.deepEqual(split.toArray(), [[[0, 1, 2], [6, 7, 8]], [[12, 13, 14], [18, 19, 20]]]);
  });
});

describe('copies', () => {
  test('contiguous() returns the same tensor when already contiguous', () => {
    const x = base();
    assert.equal(contiguous(x), x);
    assert.equal(x.reshape([4, 3]).contiguous().buffer, x.buffer);
    // A row slice is contiguous (only its offset differs).
    const rows = x.slice([1, 3]);
    assert.equal(rows.contiguous(), rows);
  });

  test('contiguous() copies a transposed or strided tensor into row-major order', () => {
    const x = base();
    const t = x.transpose();
    const c = t.contiguous();
    assert.notEqual(c.buffer, x.buffer);
    assert.deepEqual(c.strides, [3, 1]);
    assert.equal(c.offset, 0);
    assert.deepEqual(c.toArray(), t.toArray());
    const s = x.slice(null, [null, null, 3]).contiguous();
    assert.deepEqual(s.strides, [2, 1]);
    assert.deepEqual(s.toArray(), [[0, 3], [4, 7], [8, 11]]);
    assert.equal(s.buffer.size, 6, 'the copy holds only the viewed elements');
  });

  test('reshape of a transposed tensor copies but gives the right values', () => {
    const x = base();
    const r = x.transpose().reshape([12]);
    assert.notEqual(r.buffer, x.buffer);
    assert.deepEqual(r.toArray(), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    const r2 = x.transpose().reshape([2, 6]);
    assert.deepEqual(r2.toArray(), [[0, 4, 8, 1, 5, 9], [2, 6, 10, 3, 7, 11]]);
    // flatten of a transposed tensor is the same as its reshape.
    assert.deepEqual(x.transpose().flatten().toArray(), r.toArray());
  });

  test('clone() always copies', () => {
    const x = base();
    const c = clone(x);
    assert.notEqual(c.buffer, x.buffer);
    assert.deepEqual(c.toArray(), x.toArray());
  });

  test('a copy is independent of its source', () => {
    const x = tensor([[1, 2], [3, 4]]);
    const c = x.transpose().contiguous();
    (x.buffer as unknown as { data: Float32Array }).data[1] = 20;
    assert.deepEqual(x.transpose().toArray(), [[1, 3], [20, 4]]);
    assert.deepEqual(c.toArray(), [[1, 3], [2, 4]]);
  });
});

describe('slice semantics (Python)', () => {
  const x = arange(10);

  test('negative start and stop count from the end', () => {
    assert.deepEqual(x.slice([-3]).toArray(), [7, 8, 9]);
    assert.deepEqual(x.slice([-5, -2]).toArray(), [5, 6, 7]);
    assert.deepEqual(x.slice([null, -8]).toArray(), [0, 1]);
    assert.deepEqual(x.slice([-1, null]).toArray(), [9]);
  });

  test('out-of-range bounds clamp to the axis', () => {
    assert.deepEqual(x.slice([-100, 100]).toArray(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(x.slice([8, 100]).toArray(), [8, 9]);
    assert.deepEqual(x.slice([100]).shape, [0]);
    assert.deepEqual(x.slice([-100, -9]).toArray(), [0]);
  });

  test('stop before start gives an empty axis', () => {
    assert.deepEqual(x.slice([8, 2]).shape, [0]);
    assert.deepEqual(x.slice([-2, -5]).toArray(), []);
  });

  test('steps pick every step-th element starting at start', () => {
    assert.deepEqual(x.slice([null, null, 3]).toArray(), [0, 3, 6, 9]);
    assert.deepEqual(x.slice([2, -2, 3]).toArray(), [2, 5]);
    assert.deepEqual(x.slice([1, 10, 4]).toArray(), [1, 5, 9]);
    assert.deepEqual(x.slice([-4, null, 2]).toArray(), [6, 8]);
    assert.throws(() => x.slice([null, null, 0]), /step must be a positive integer on axis 0, got 0/);
    assert.throws(() => x.slice([null, null, -1]), /step must be a positive integer/);
  });

  test('ranges for fewer axes leave the rest whole; null means the whole axis', () => {
    const m = base();
    assert.deepEqual(m.slice([-1]).toArray(), [[8, 9, 10, 11]]);
    assert.deepEqual(m.slice(null, [-2]).toArray(), [[2, 3], [6, 7], [10, 11]]);
    assert.throws(() => m.slice(null, null, null), /slice: 3 ranges for a tensor of rank 2/);
    // A bare index (a JavaScript caller's mistake; TypeScript rejects it) names the axis and the value.
    assert.throws(() => m.slice(null, 1 as unknown as [number]), /slice: the range of axis 1 must be \[start, stop, step\] or null, got 1/);
  });

  test('slices of slices compose', () => {
    const s = x.slice([1, null, 2]).slice([1, -1]); // [1,3,5,7,9] → [3,5,7]
    assert.deepEqual(s.toArray(), [3, 5, 7]);
    assert.equal(s.buffer, x.buffer);
    assert.equal(s.offset, 3);
    assert.deepEqual(s.strides, [2]);
  });

  test('narrow takes a negative start from the end and checks the length', () => {
    assert.deepEqual(narrow(x, 0, -3, 2).toArray(), [7, 8]);
    assert.throws(() => narrow(x, 0, 8, 3), { message: 'narrow: start 8 and length 3 do not fit axis 0 of size 10' });
  });
});
