// Creating tensors: from nested arrays, typed arrays, booleans and scalars; filled tensors, ranges and
// identities; and the typed array behind each dtype.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, eye, full, linspace, ones, onesLike, tensor, zeros, zerosLike, type DType } from '../../src/tensor/index.js';

describe('tensor() from data', () => {
  test('nested number arrays give float32 with the nested shape', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(t.strides, [3, 1]);
    assert.equal(t.offset, 0);
    assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(tensor([[[1], [2]], [[3], [4]]]).shape, [2, 2, 1]);
  });

  test('float32 storage rounds values to float32', () => {
    assert.equal(tensor([0.1]).dataSync()[0], Math.fround(0.1));
    assert.equal(tensor([0.1], { dtype: 'float64' }).dataSync()[0], 0.1);
  });

  test('typed arrays keep their dtype; a shape option reshapes flat data', () => {
    const cases: [ArrayLike<number>, DType][] = [
      [Float32Array.of(1, 2, 3, 4, 5, 6), 'float32'],
      [Float64Array.of(1, 2, 3, 4, 5, 6), 'float64'],
      [Int32Array.of(1, 2, 3, 4, 5, 6), 'int32'],
      [Uint8Array.of(1, 0, 1, 1, 0, 0), 'bool'],
    ];
    for (const [data, dtype] of cases) {
      const t = tensor(data as Float32Array, { shape: [2, 3] });
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.shape, [2, 3]);
      assert.deepEqual(Array.from(t.dataSync()), Array.from(data));
      assert.deepEqual(tensor(data as Float32Array).shape, [6], 'without a shape a typed array is 1-D');
    }
  });

  test('a flat number list with a shape fills it row-major', () => {
    const t = tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] });
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(t.toArray(), [[1, 2], [3, 4], [5, 6]]);
  });

  test('the data is copied: changing the source afterwards does not change the tensor', () => {
    const src = Float32Array.of(1, 2, 3);
    const t = tensor(src);
    src[0] = 100;
    assert.deepEqual(t.toArray(), [1, 2, 3]);
    const nested = [1, 2];
    const u = tensor(nested);
    nested[0] = 9;
    assert.deepEqual(u.toArray(), [1, 2]);
  });

  test('booleans give bool tensors that read back as booleans', () => {
    const t = tensor([[true, false], [false, true]]);
    assert.equal(t.dtype, 'bool');
    assert.deepEqual(t.toArray(), [[true, false], [false, true]]);
    assert.ok(t.dataSync() instanceof Uint8Array);
    assert.deepEqual(Array.from(t.dataSync()), [1, 0, 0, 1]);
    // A flat boolean list with a shape is bool too.
    const s = tensor([true, false, false, true], { shape: [2, 2] });
    assert.equal(s.dtype, 'bool');
    assert.deepEqual(s.toArray(), [[true, false], [false, true]]);
    // A mix of numbers and booleans is numeric.
    const m = tensor([true, 2]);
    assert.equal(m.dtype, 'float32');
    assert.deepEqual(m.toArray(), [1, 2]);
  });

  test('scalars give 0-d tensors', () => {
    const s = tensor(3.5);
    assert.deepEqual(s.shape, []);
    assert.equal(s.ndim, 0);
    assert.equal(s.size, 1);
    assert.equal(s.item(), 3.5);
    assert.equal(s.toArray(), 3.5);
    const b = tensor(true);
    assert.equal(b.dtype, 'bool');
    assert.equal(b.toArray(), true);
    assert.equal(tensor(7, { dtype: 'int32' }).item(), 7);
  });

  test('an explicit dtype converts the data (int32 truncates toward zero, bool is non-zero)', () => {
    assert.deepEqual(tensor([1.7, -1.7, 2], { dtype: 'int32' }).toArray(), [1, -1, 2]);
    assert.deepEqual(tensor([0, 0.5, -3], { dtype: 'bool' }).toArray(), [false, true, true]);
    assert.deepEqual(tensor([true, false], { dtype: 'float64' }).toArray(), [1, 0]);
    assert.deepEqual(tensor(Float32Array.of(1.5, 2.5), { dtype: 'float64' }).toArray(), [1.5, 2.5]);
  });

  test('empty arrays give empty tensors', () => {
    const e = tensor([]);
    assert.deepEqual(e.shape, [0]);
    assert.equal(e.dtype, 'float32');
    assert.equal(e.size, 0);
    assert.deepEqual(e.toArray(), []);
    assert.deepEqual(tensor([[]]).shape, [1, 0]);
  });

  test('requiresGrad makes a float leaf', () => {
    const t = tensor([1, 2], { requiresGrad: true });
    assert.ok(t.requiresGrad);
    assert.ok(t.isLeaf);
    assert.equal(t.grad, null);
  });
});

describe('filled tensors', () => {
  test('zeros, ones and full have the shape, dtype and value asked for', () => {
    assert.deepEqual(zeros([2, 3]).toArray(), [[0, 0, 0], [0, 0, 0]]);
    assert.equal(zeros([2]).dtype, 'float32');
    assert.deepEqual(ones([3], { dtype: 'int32' }).toArray(), [1, 1, 1]);
    assert.equal(ones([3], { dtype: 'int32' }).dtype, 'int32');
    assert.deepEqual(full([2, 2], 7.5).toArray(), [[7.5, 7.5], [7.5, 7.5]]);
    assert.deepEqual(full([2], -3, { dtype: 'float64' }).toArray(), [-3, -3]);
    assert.deepEqual(full([2], true).toArray(), [true, true]);
    assert.equal(full([2], true).dtype, 'bool');
    assert.deepEqual(zeros([]).shape, []);
    assert.equal(ones([]).item(), 1);
    assert.deepEqual(zeros([0, 4]).shape, [0, 4]);
  });

  test('zerosLike and onesLike copy shape and dtype, or take a new dtype', () => {
    const x = tensor([[1, 2, 3]], { dtype: 'float64' });
    const z = zerosLike(x);
    assert.deepEqual(z.shape, [1, 3]);
    assert.equal(z.dtype, 'float64');
    assert.deepEqual(z.toArray(), [[0, 0, 0]]);
    const o = onesLike(x, { dtype: 'int32' });
    assert.equal(o.dtype, 'int32');
    assert.deepEqual(o.toArray(), [[1, 1, 1]]);
    assert.deepEqual(onesLike(tensor([true, false])).toArray(), [true, true]);
    // A transposed input gives a contiguous result of the transposed shape.
    const t = zerosLike(tensor([[1, 2, 3], [4, 5, 6]]).transpose());
    assert.deepEqual(t.shape, [3, 2]);
    assert.deepEqual(t.strides, [2, 1]);
  });
});

describe('ranges and identities', () => {
  test('arange counts like torch.arange: integers give int32', () => {
    const a = arange(5);
    assert.equal(a.dtype, 'int32');
    assert.deepEqual(a.toArray(), [0, 1, 2, 3, 4]);
    assert.deepEqual(arange(2, 7).toArray(), [2, 3, 4, 5, 6]);
    assert.deepEqual(arange(2, 9, 3).toArray(), [2, 5, 8]);
    assert.deepEqual(arange(0).toArray(), []);
    assert.deepEqual(arange(3, 1).toArray(), [], 'an empty range when stop is behind start');
  });

  test('arange with a float step is float32 and excludes the stop', () => {
    const a = arange(0, 1, 0.25);
    assert.equal(a.dtype, 'float32');
    assert.deepEqual(a.toArray(), [0, 0.25, 0.5, 0.75]);
    // (0.3 − 0)/0.1 rounds up to 3 entries, as in PyTorch.
    assert.equal(arange(0, 0.3, 0.1).size, 3);
    const d = arange(0, 1, 0.1, { dtype: 'float64' });
    assert.equal(d.size, 10);
    d.dataSync().forEach((v, i) => assert.equal(v, i * 0.1));
    assert.deepEqual(arange(0.5, 3).toArray(), [0.5, 1.5, 2.5]);
  });

  test('arange with a negative step counts down', () => {
    assert.deepEqual(arange(5, 0, -1).toArray(), [5, 4, 3, 2, 1]);
    assert.deepEqual(arange(5, 0, -2).toArray(), [5, 3, 1]);
    const f = arange(1, 0, -0.25);
    assert.equal(f.dtype, 'float32');
    assert.deepEqual(f.toArray(), [1, 0.75, 0.5, 0.25]);
    assert.deepEqual(arange(0, 5, -1).toArray(), []);
  });

  test('linspace includes both endpoints exactly and spaces evenly', () => {
    assert.deepEqual(linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
    for (const [a, b, n] of [
      [0.1, 0.7, 7],
      [-3.3, 1e3 / 7, 13],
      [1, -1, 4],
      [0, 1, 2],
    ] as const) {
      const t = linspace(a, b, n, { dtype: 'float64' });
      const v = Array.from(t.dataSync());
      assert.equal(v.length, n);
      assert.equal(v[0], a, 'first value is start, exactly');
      assert.equal(v[n - 1], b, 'last value is end, exactly');
      const d = (b - a) / (n - 1);
      v.forEach((x, i) => assert.ok(Math.abs(x - (a + i * d)) < 1e-12 * Math.max(1, Math.abs(b), Math.abs(a))));
    }
    const f = linspace(0.1, 0.7, 7).dataSync();
    assert.equal(f[0], Math.fround(0.1));
    assert.equal(f[6], Math.fround(0.7));
  });

  test('linspace with one step is [start] and with zero steps is empty, as in PyTorch', () => {
    assert.deepEqual(linspace(0, 10, 1).toArray(), [0]);
    assert.deepEqual(linspace(-2, 10, 1, { dtype: 'float64' }).toArray(), [-2]);
    assert.deepEqual(linspace(0, 10, 0).shape, [0]);
  });

  test('eye gives ones on the main diagonal, square or rectangular', () => {
    assert.deepEqual(eye(3).toArray(), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    assert.deepEqual(eye(2, 3).toArray(), [[1, 0, 0], [0, 1, 0]]);
    const t = eye(3, 2, { dtype: 'int32' });
    assert.equal(t.dtype, 'int32');
    assert.deepEqual(t.toArray(), [[1, 0], [0, 1], [0, 0]]);
    assert.deepEqual(eye(0).shape, [0, 0]);
  });
});

describe('dtypes and their typed arrays', () => {
  const arrays: [DType, new (n: number) => ArrayLike<number>][] = [
    ['float32', Float32Array],
    ['float64', Float64Array],
    ['int32', Int32Array],
    ['bool', Uint8Array],
  ];
  for (const [dtype, Ctor] of arrays) {
    test(`${dtype} tensors store and read back a ${Ctor.name}`, async () => {
      const t = ones([2, 2], { dtype });
      assert.equal(t.dtype, dtype);
      assert.equal(t.buffer.dtype, dtype);
      assert.ok(t.dataSync() instanceof Ctor);
      assert.ok((await t.data()) instanceof Ctor);
      assert.deepEqual(Array.from(t.dataSync()), [1, 1, 1, 1]);
      // dataSync returns a copy: writing to it does not change the tensor.
      const copy = t.dataSync() as unknown as number[];
      copy[0] = 0;
      assert.equal(t.dataSync()[0], 1);
    });
  }

  test('int32 wraps like a 32-bit integer and float32 rounds', () => {
    assert.equal(tensor([2 ** 31], { dtype: 'int32' }).item(), -(2 ** 31));
    assert.equal(tensor([1 + 2 ** -30]).item(), 1);
    assert.equal(tensor([1 + 2 ** -30], { dtype: 'float64' }).item(), 1 + 2 ** -30);
  });
});
