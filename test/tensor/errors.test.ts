// Wrong shapes, dtypes, axes and indices throw at once, with a message that names the op and the shapes or
// values involved.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  add,
  arange,
  cast,
  concat,
  gather,
  indexSelect,
  matmul,
  maskedFill,
  oneHot,
  permute,
  reshape,
  setBackend,
  getBackend,
  softmax,
  split,
  sum,
  tensor,
  topk,
  transpose,
  view,
  zeros,
  type DType,
} from '../../src/tensor/index.js';

describe('shape errors', () => {
  test('matmul with differing inner dimensions names both shapes: [2,3] @ [4,5]', () => {
    assert.throws(() => matmul(zeros([2, 3]), zeros([4, 5])), { name: 'RangeError', message: 'matmul: inner dimensions differ: [2,3] @ [4,5]' });
    assert.throws(() => zeros([2, 3]).matmul(zeros([2])), { message: 'matmul: inner dimensions differ: [2,3] @ [2]' });
    assert.throws(() => matmul(zeros([3]), zeros([4])), { message: 'matmul: inner dimensions differ: [3] @ [4]' });
    assert.throws(() => matmul(zeros([]), zeros([4])), {
      name: 'RangeError',
      message: /^matmul: both operands need at least one axis, got \[\] @ \[4\]/,
    });
  });

  test('matmul with batch shapes that do not broadcast names the batch shapes', () => {
    assert.throws(() => matmul(zeros([2, 3, 4]), zeros([3, 4, 5])), {
      name: 'RangeError',
      message: 'matmul: shapes cannot be broadcast together: [2] and [3]',
    });
  });

  test('elementwise ops on shapes that do not broadcast name the op and both shapes', () => {
    assert.throws(() => add(zeros([2, 3]), zeros([4])), { name: 'RangeError', message: 'add: shapes cannot be broadcast together: [2,3] and [4]' });
    assert.throws(() => zeros([2, 3]).mul(zeros([3, 2])), { message: 'mul: shapes cannot be broadcast together: [2,3] and [3,2]' });
    assert.throws(() => zeros([5]).lt(zeros([2])), { message: 'lt: shapes cannot be broadcast together: [5] and [2]' });
  });

  test('reshape to the wrong size names the shapes and sizes', () => {
    assert.throws(() => reshape(zeros([2, 3]), [4]), { name: 'RangeError', message: 'reshape: cannot reshape [2,3] (size 6) into [4] (size 4)' });
    assert.throws(() => zeros([2, 3]).reshape([4, -1]), { message: 'reshape: cannot reshape [2,3] (size 6) into [4,-1]' });
    assert.throws(() => zeros([2, 3]).reshape([-1, -1]), { message: 'reshape: only one dimension can be -1, got [-1,-1]' });
  });

  test('expand to an incompatible shape names the axis', () => {
    assert.throws(() => zeros([2, 3]).expand([2, 4]), { name: 'RangeError', message: 'expand: cannot expand [2,3] to [2,4] (axis 1: 3 → 4)' });
  });

  test('view() of a transposed tensor refuses and points to reshape()', () => {
    const t = zeros([2, 3]).transpose();
    assert.throws(() => view(t, [6]), { name: 'RangeError', message: 'view: [3,2] with strides [1,3] cannot be viewed as [6]; use reshape()' });
    assert.doesNotThrow(() => t.reshape([6]));
  });

  test('split sizes that do not add up name the sizes and the axis length', () => {
    assert.throws(() => split(zeros([3, 2]), [1, 1]), { name: 'RangeError', message: 'split: sizes [1,1] do not add up to axis 0 of size 3' });
    assert.throws(() => zeros([3, 2]).split([1, 2], 1), { message: 'split: sizes [1,2] do not add up to axis 1 of size 2' });
    assert.throws(() => zeros([3]).split(0), { message: 'split: size must be a positive integer, got 0' });
  });

  test('concat of shapes that differ off the axis lists every shape', () => {
    assert.throws(() => concat([zeros([2, 3]), zeros([2, 4])]), { name: 'RangeError', message: 'concat: shapes differ off axis 0: [2,3], [2,4]' });
    assert.throws(() => concat([zeros([2, 3]), zeros([2, 3, 1])], 1), { message: 'concat: shapes differ off axis 1: [2,3], [2,3,1]' });
    assert.throws(() => concat([]), { message: 'concat: needs at least one tensor' });
  });

  test('tensor() from a ragged nested array says where it is ragged', () => {
    assert.throws(() => tensor([[1, 2], [3]]), {
      name: 'RangeError',
      message: 'tensor: ragged nested array: expected length 2 at data[1], got length 1',
    });
    assert.throws(() => tensor([[1, 2], 3] as never), { message: 'tensor: ragged nested array: expected length 2 at data[1], got number' });
    assert.throws(() => tensor([1, [2, 3]] as never), { message: /^tensor: ragged nested array: expected a number at data\[1\]/ });
  });

  test('tensor() data that does not fill the shape names both sizes', () => {
    assert.throws(() => tensor(new Float32Array(5), { shape: [2, 3] }), {
      name: 'RangeError',
      message: 'tensor: 5 values do not fill shape [2,3] (size 6)',
    });
  });

  test('shapes with negative or fractional sizes are refused', () => {
    assert.throws(() => zeros([2, -1]), { name: 'RangeError', message: 'full: shape must hold non-negative integers, got [2,-1]' });
    assert.throws(() => zeros([1.5]), { message: 'full: shape must hold non-negative integers, got [1.5]' });
  });

  test('maskedFill with a mask that does not broadcast to the input names both shapes', () => {
    assert.throws(() => maskedFill(zeros([2]), zeros([3, 2], { dtype: 'bool' }), 1), {
      name: 'RangeError',
      message: 'maskedFill: mask [3,2] does not broadcast to input [2]',
    });
  });
});

describe('axis errors', () => {
  const x = zeros([2, 3]);

  test('sum with an axis out of range names the axis and the rank', () => {
    assert.throws(() => sum(x, 2), { name: 'RangeError', message: 'sum: axis 2 is out of range for a tensor of rank 2 (expected -2..1)' });
    assert.throws(() => x.sum([-3]), { message: 'sum: axis -3 is out of range for a tensor of rank 2 (expected -2..1)' });
    assert.throws(() => x.sum([0, -2]), { name: 'RangeError', message: 'sum: axis 0 appears more than once in [0,-2]' });
    assert.throws(() => x.sum(0.5), { name: 'TypeError', message: 'sum: axis must be an integer, got 0.5' });
  });

  test('softmax, permute and transpose with an axis out of range name the op', () => {
    assert.throws(() => softmax(x, 2), { name: 'RangeError', message: 'softmax: axis 2 is out of range for a tensor of rank 2 (expected -2..1)' });
    assert.throws(() => permute(x, [0, 2]), {
      name: 'RangeError',
      message: 'permute: axis 2 is out of range for a tensor of rank 2 (expected -2..1)',
    });
    assert.throws(() => permute(x, [0]), { message: 'permute: 1 axes given for a tensor of rank 2' });
    assert.throws(() => permute(x, [1, 1]), { message: 'permute: repeated axis in [1,1]' });
    assert.throws(() => transpose(x, 0, 5), {
      name: 'RangeError',
      message: 'transpose: axis 5 is out of range for a tensor of rank 2 (expected -2..1)',
    });
    assert.throws(() => zeros([3]).squeeze(1), { message: 'squeeze: axis 1 is out of range for a tensor of rank 1 (expected -1..0)' });
    assert.throws(() => x.squeeze(0), { message: 'squeeze: axis 0 of [2,3] has size 2, not 1' });
  });
});

describe('index and dtype errors', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);

  test('gather with an out-of-range index names the index, the axis and its size', () => {
    const idx = tensor([[0, 5]], { dtype: 'int32' });
    assert.throws(() => gather(x, 1, idx), { name: 'RangeError', message: 'gather: index 5 is out of range for axis 1 of size 3' });
    assert.throws(() => gather(x, 1, tensor([[-1]], { dtype: 'int32' })), { message: 'gather: index -1 is out of range for axis 1 of size 3' });
    assert.throws(() => gather(x, 1, tensor([0], { dtype: 'int32' })), { message: 'gather: index rank 1 differs from input rank 2 ([1] vs [2,3])' });
  });

  test('indexSelect with an out-of-range index names indexSelect, the index and the axis size', () => {
    assert.throws(() => indexSelect(x, 0, tensor([1, 2], { dtype: 'int32' })), {
      name: 'RangeError',
      message: 'indexSelect: index 2 is out of range for axis 0 of size 2',
    });
    assert.throws(() => indexSelect(x, 1, tensor([-1], { dtype: 'int32' })), {
      message: 'indexSelect: index -1 is out of range for axis 1 of size 3',
    });
    assert.throws(() => indexSelect(x, 0, tensor([[0]], { dtype: 'int32' })), { message: 'indexSelect: index must be 1-D, got [1,1]' });
  });

  test('gather and indexSelect with a float index name the dtype', () => {
    assert.throws(() => gather(x, 1, tensor([[0, 1]])), { name: 'TypeError', message: 'gather: index must be int32, got float32' });
    assert.throws(() => indexSelect(x, 0, tensor([0])), { name: 'TypeError', message: 'indexSelect: index must be int32, got float32' });
  });

  test('oneHot with an index out of range names it and the class count', () => {
    assert.throws(() => oneHot(tensor([0, 3], { dtype: 'int32' }), 3), { name: 'RangeError', message: 'oneHot: index 3 is outside [0, 3)' });
    assert.throws(() => oneHot(tensor([-2, 1], { dtype: 'int32' }), 3), { message: 'oneHot: index -2 is outside [0, 3)' });
    assert.throws(() => oneHot(tensor([0], { dtype: 'int32' }), 0), { message: 'oneHot: numClasses must be a positive integer, got 0' });
  });

  test('topk with k larger than the axis names k and the axis', () => {
    assert.throws(() => topk(tensor([1, 2, 3]), 4), { name: 'RangeError', message: 'topk: k = 4 is outside [0, 3] for axis 0 of [3]' });
    assert.throws(() => topk(x, 3, 0), { message: 'topk: k = 3 is outside [0, 2] for axis 0 of [2,3]' });
  });

  test('requiresGrad on an int32 or bool tensor is a TypeError naming the dtype', () => {
    assert.throws(() => tensor([1, 2], { dtype: 'int32', requiresGrad: true }), {
      name: 'TypeError',
      message: 'requiresGrad: only float tensors can require gradients, got int32',
    });
    assert.throws(() => {
      tensor([true]).requiresGrad = true;
    }, { message: 'requiresGrad: only float tensors can require gradients, got bool' });
  });

  test('requiresGrad cannot be switched on a non-leaf', () => {
    const y = tensor([1], { requiresGrad: true }).mul(2);
    assert.throws(() => {
      y.requiresGrad = false;
    }, { message: /^requiresGrad: can only be set on leaf tensors/ });
  });

  test('unknown dtypes are refused by name', () => {
    assert.throws(() => cast(x, 'float16' as DType), {
      name: 'TypeError',
      message: 'cast: unknown dtype "float16"; expected one of bool, int32, float32, float64',
    });
    assert.throws(() => zeros([2], { dtype: 'int8' as DType }), { message: /^full: unknown dtype "int8"/ });
  });

  test('maskedFill needs a bool mask', () => {
    assert.throws(() => maskedFill(x, tensor([1, 0, 1]), 0), { name: 'TypeError', message: 'maskedFill: mask must be bool, got float32' });
  });

  test('arange refuses a zero step', () => {
    assert.throws(() => arange(0, 3, 0), { name: 'RangeError', message: 'arange: step must be finite and non-zero, got 0' });
  });
});

describe('autograd and reading errors', () => {
  test('backward on a non-scalar without a gradient names the shape', () => {
    const y = tensor([1, 2], { requiresGrad: true }).mul(2);
    assert.throws(() => y.backward(), {
      name: 'RangeError',
      message: 'backward: a gradient can be created implicitly only for a scalar output, got shape [2]',
    });
    assert.throws(() => y.backward(tensor([1, 2, 3])), { message: 'backward: gradient shape [3] does not match output shape [2]' });
  });

  test('backward on a tensor that needs no gradient says so', () => {
    assert.throws(() => tensor([1]).sum().backward(), { message: /^backward: this tensor does not require a gradient/ });
  });

  test('item() on a many-element tensor names the count and shape', () => {
    assert.throws(() => zeros([2, 2]).item(), { name: 'RangeError', message: 'item: tensor has 4 elements (shape [2,2]), not 1' });
    assert.equal(zeros([1, 1]).item(), 0);
  });
});

describe('backend errors', () => {
  test("setBackend('nope') names the unknown backend and keeps the current one", () => {
    const before = getBackend();
    assert.throws(() => setBackend('nope'), { name: 'Error', message: /^setBackend: unknown backend 'nope'; registered: .*\bcpu\b/ });
    assert.equal(getBackend(), before);
  });
});
