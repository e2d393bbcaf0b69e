import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/tensor/index.js';

test('backward of sum(W @ W) gives the closed form', () => {
  const w = tensor([[1, 2], [3, 4]], { requiresGrad: true });
  w.matmul(w).sum().backward();
  assert.deepEqual(w.grad?.toArray(), [[7, 11], [9, 13]]);
});
