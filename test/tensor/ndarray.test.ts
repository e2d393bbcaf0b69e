// Interop with scijs ndarray: fromNdarray/toNdarray share memory where the strides allow it, and copy
// otherwise.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ndarray from 'ndarray';
import { fromNdarray, tensor, toNdarray, type Tensor } from '../../src/tensor/index.js';

/** Every element of an ndarray, row-major, read through nd.get. */
function ndValues(nd: ndarray.NdArray): number[] {
  const out: number[] = [];
  const idx = new Array<number>(nd.dimension).fill(0);
  for (let i = 0; i < nd.size; i++) {
    out.push(Number(nd.get(...idx)));
    for (let a = nd.dimension - 1; a >= 0; a--) {
      if (++idx[a]! < nd.shape[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

describe('fromNdarray', () => {
  test('a contiguous typed ndarray is shared: writes through the ndarray show in the tensor', () => {
    const nd = ndarray(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const t = fromNdarray(nd);
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
    nd.set(1, 2, 60);
    assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 60]]);
  });

  test('the dtype follows the typed array (float64, int32, Uint8Array as bool)', () => {
    assert.equal(fromNdarray(ndarray(new Float64Array(4), [2, 2])).dtype, 'float64');
    assert.equal(fromNdarray(ndarray(new Int32Array(4), [4])).dtype, 'int32');
    const b = fromNdarray(ndarray(Uint8Array.of(1, 0), [2]));
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.toArray(), [true, false]);
  });

  test('a transposed ndarray (nd.transpose(1, 0)) is shared through swapped strides', () => {
    const nd = ndarray(Float64Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const tr = nd.transpose(1, 0);
    const t = fromNdarray(tr);
    assert.deepEqual(t.shape, [3, 2]);
    assert.deepEqual(t.strides, [1, 3]);
    assert.deepEqual(t.toArray(), [[1, 4], [2, 5], [3, 6]]);
    assert.deepEqual(values(t), ndValues(tr));
    nd.set(0, 1, 20); // element (1, 0) of the transpose
    assert.equal((t.toArray() as number[][])[1]![0], 20);
    // Ops read the strided view correctly.
    assert.deepEqual(t.sum(0).toArray(), [1 + 20 + 3, 4 + 5 + 6]);
  });

  test('a hi/lo/step view is shared, with its offset and strides', () => {
    const data = Float32Array.from({ length: 30 }, (_, i) => i);
    const nd = ndarray(data, [5, 6]);
    const v = nd.hi(5, 5).lo(1, 1).step(2, 2); // rows 1, 3; columns 1, 3
    const t = fromNdarray(v);
    assert.deepEqual(t.shape, [2, 2]);
    assert.deepEqual(t.strides, [12, 2]);
    assert.equal(t.offset, 7);
    assert.deepEqual(t.toArray(), [[7, 9], [19, 21]]);
    assert.deepEqual(values(t), ndValues(v));
    v.set(1, 1, -1); // element (3, 3) of the base
    assert.equal(data[21], -1);
    assert.deepEqual(t.toArray(), [[7, 9], [19, -1]]);
    assert.equal(t.sum().item(), 7 + 9 + 19 - 1);
  });

  test('a view with a negative step is copied, with the right values', () => {
    const data = Float64Array.from([1, 2, 3, 4]);
    const rev = ndarray(data).step(-1);
    const t = fromNdarray(rev);
    assert.deepEqual(t.toArray(), [4, 3, 2, 1]);
    data[0] = 100;
    assert.deepEqual(t.toArray(), [4, 3, 2, 1], 'a copy does not see later writes');
  });

  test('a plain Array-backed ndarray is copied (float64)', () => {
    const arr = [1, 2, 3, 4, 5, 6];
    const nd = ndarray(arr, [3, 2]);
    const t = fromNdarray(nd);
    assert.equal(t.dtype, 'float64');
    assert.deepEqual(t.toArray(), [[1, 2], [3, 4], [5, 6]]);
    nd.set(0, 0, 50);
    assert.equal(arr[0], 50);
    assert.deepEqual(t.toArray(), [[1, 2], [3, 4], [5, 6]]);
    // A transposed Array-backed view is copied in its own row-major order.
    assert.deepEqual(fromNdarray(ndarray([1, 2, 3, 4, 5, 6], [2, 3]).transpose(1, 0)).toArray(), [[1, 4], [2, 5], [3, 6]]);
  });
});

describe('toNdarray', () => {
  test('views a contiguous tensor without a copy: writes through the ndarray show in the tensor', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    const nd = toNdarray(t);
    assert.deepEqual(nd.shape, [2, 3]);
    assert.equal(nd.get(1, 0), 4);
    nd.set(1, 0, 40);
    assert.deepEqual(t.toArray(), [[1, 2, 3], [40, 5, 6]]);
  });

  test('keeps the strides and offset of a transposed or sliced tensor', () => {
    const base = tensor(Float64Array.from({ length: 12 }, (_, i) => i), { shape: [3, 4] });
    const tr = base.transpose();
    const ndT = toNdarray(tr);
    assert.deepEqual(ndT.shape, [4, 3]);
    assert.deepEqual(ndValues(ndT), values(tr));
    const sl = base.slice([1, 3], [1, null, 2]);
    const ndS = toNdarray(sl);
    assert.deepEqual(ndS.shape, [2, 2]);
    assert.deepEqual(ndValues(ndS), [5, 7, 9, 11]);
    ndS.set(0, 1, -7);
    assert.deepEqual(base.toArray(), [[0, 1, 2, 3], [4, 5, 6, -7], [8, 9, 10, 11]]);
    assert.deepEqual(tr.toArray(), [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, -7, 11]]);
  });

  test('fromNdarray(toNdarray(t)) is a view of the same storage', () => {
    const t = tensor([[1, 2], [3, 4]], { dtype: 'int32' }).transpose();
    const back = fromNdarray(toNdarray(t));
    assert.deepEqual(back.shape, t.shape);
    assert.deepEqual(back.strides, t.strides);
    assert.equal(back.dtype, 'int32');
    assert.deepEqual(back.toArray(), t.toArray());
    toNdarray(back).set(0, 1, 33);
    assert.deepEqual(t.toArray(), [[1, 33], [2, 4]]);
  });
});
