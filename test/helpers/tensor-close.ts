// Element-wise closeness of two tensors, |a − b| ≤ tol·(1 + |b|), with the first failing element named.
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/tensor/index.js';

/** Asserts equal shapes and |a_i − b_i| ≤ tol·(1 + |b_i|) for every element (NaN never passes). */
export function assertTensorsClose(a: Tensor, b: Tensor, tol = 1e-10, what = 'values'): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shapes differ`);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    if (!(Math.abs(x[i]! - y[i]!) <= tol * (1 + Math.abs(y[i]!)))) assert.fail(`${what}: element ${i}: ${x[i]} vs ${y[i]} (tol ${tol})`);
  }
}
