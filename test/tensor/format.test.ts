// The text form of tensors (PyTorch's style) and the kernel log of setDebug.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, matmul, ones, setDebug, tensor, zeros } from '../../src/tensor/index.js';

describe('toString', () => {
  test('float tensors print four decimals, or a trailing point when all values are integers', () => {
    assert.equal(tensor([1.5, 2, 3]).toString(), 'tensor([1.5000, 2.0000, 3.0000])');
    assert.equal(tensor([1, 2]).toString(), 'tensor([1., 2.])');
    assert.equal(tensor([-1.25, 10]).toString(), 'tensor([-1.2500, 10.0000])');
  });

  test('2-D and 3-D tensors align columns and indent rows under the first bracket', () => {
    assert.equal(tensor([[1, 2], [3, 4]]).toString(), 'tensor([[1., 2.],\n        [3., 4.]])');
    assert.equal(
      tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], { dtype: 'int32' }).toString(),
      'tensor([[[1, 2],\n         [3, 4]],\n\n        [[5, 6],\n         [7, 8]]], dtype=int32)',
    );
    assert.equal(tensor([[1, -20], [300, 4]], { dtype: 'int32' }).toString(), 'tensor([[  1, -20],\n        [300,   4]], dtype=int32)');
  });

  test('int, bool and float64 tensors', () => {
    assert.equal(tensor([1, 2, 3], { dtype: 'int32' }).toString(), 'tensor([1, 2, 3], dtype=int32)');
    assert.equal(tensor([true, false]).toString(), 'tensor([ True, False])');
    assert.equal(tensor([0.5, 1], { dtype: 'float64' }).toString(), 'tensor([0.5000, 1.0000], dtype=float64)');
  });

  test('0-d tensors print their value without brackets', () => {
    assert.equal(tensor(3.5).toString(), 'tensor(3.5000)');
    assert.equal(tensor(7, { dtype: 'int32' }).toString(), 'tensor(7, dtype=int32)');
    assert.equal(tensor(false).toString(), 'tensor(False)');
  });

  test('very small or wide-ranging values switch to scientific notation with two exponent digits', () => {
    assert.equal(tensor([1e-5, 1]).toString(), 'tensor([1.0000e-05, 1.0000e+00])');
    assert.equal(tensor([1e9], { dtype: 'float64' }).toString(), 'tensor([1.0000e+09], dtype=float64)');
    assert.equal(tensor([1e-120, 1], { dtype: 'float64' }).toString(), 'tensor([1.0000e-120,  1.0000e+00], dtype=float64)');
  });

  test('nan and inf print as in PyTorch', () => {
    assert.equal(tensor([NaN, Infinity, -1.25]).toString(), 'tensor([    nan,     inf, -1.2500])');
  });

  test('requiresGrad and empty tensors are noted', () => {
    assert.equal(tensor([1, 2], { requiresGrad: true }).toString(), 'tensor([1., 2.], requiresGrad=true)');
    assert.equal(zeros([0, 3]).toString(), 'tensor([], size=[0, 3])');
  });

  test('views print their own elements', () => {
    assert.equal(tensor([[1, 2], [3, 4]]).transpose().toString(), 'tensor([[1., 3.],\n        [2., 4.]])');
  });

  test('large tensors are summarised with "..." and keep three entries at each end', () => {
    const s = arange(2000).cast('float32').toString();
    assert.match(s, /^tensor\(\[ +0\., +1\., +2\., +\.\.\., 1997\., 1998\., 1999\.\]\)$/);
    const m = arange(6000, undefined, 1, { dtype: 'int32' }).reshape([2000, 3]).toString();
    const lines = m.split('\n');
    assert.equal(lines.length, 7);
    assert.equal(lines[0], 'tensor([[   0,    1,    2],');
    assert.equal(lines[3].trim(), '...,');
    assert.equal(lines[6], '        [5997, 5998, 5999]], dtype=int32)');
    // Small tensors are never summarised.
    assert.ok(!ones([10, 10]).toString().includes('...'));
  });
});

describe('setDebug', () => {
  test('with setDebug(true) each kernel logs its name and operand shapes; setDebug(false) stops it', (t) => {
    const lines: string[] = [];
    const log = t.mock.method(console, 'log', (...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
    const a = ones([2, 3]);
    const b = ones([3, 4]);
    try {
      setDebug(true);
      matmul(a, b);
      a.add(1);
    } finally {
      setDebug(false);
    }
    matmul(a, b);
    log.mock.restore();
    assert.equal(lines.length, 2, `expected exactly two kernel lines, got:\n${lines.join('\n')}`);
    assert.match(lines[0]!, /^\[being\] cpu\.matmul float32\[2,3\] float32\[3,4\] \d+\.\d{3} ms$/);
    assert.match(lines[1]!, /^\[being\] cpu\.add float32\[2,3\] float32\[2,3\] \d+\.\d{3} ms$/);
  });
});
