/**
 * Value checks without synchronous reads: `hostValues` gives the data on the CPU and null on the WebGPU
 * backend (which reads asynchronously), and `oneHot` there checks its indices on the device, raising a
 * bad one at the next read instead of reading back. Skipped, with the reason, where no WebGPU adapter can
 * be had.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostValues, oneHot, setBackend, tensor } from '../../../src/tensor/index.js';
import { webgpuForTests } from '../../helpers/webgpu.js';

const gpu = await webgpuForTests();
const skip = typeof gpu === 'string' ? gpu : false;

test('hostValues gives the elements on the cpu backend, as dataSync does', () => {
  const t = tensor([[1, 2], [3, 4]]).transpose();
  assert.deepEqual(Array.from(hostValues(t)!), Array.from(t.dataSync()));
});

describe('reads on the webgpu backend', { skip }, () => {
  after(() => {
    if (typeof gpu !== 'string') gpu.destroy();
  });

  test('hostValues is null: nothing is read back', () => {
    setBackend('webgpu');
    try {
      const t = tensor([1, 2, 3]);
      assert.equal(hostValues(t), null);
      assert.throws(() => t.dataSync(), /dataSync: the webgpu backend reads asynchronously/);
      t.dispose();
    } finally {
      setBackend('cpu');
    }
  });

  test('oneHot puts the 1 at each index, and an index out of range is raised at the next read', async () => {
    setBackend('webgpu');
    try {
      const idx = [2, 0, 1, 2];
      const h = oneHot(tensor(idx, { dtype: 'int32' }), 3, 'float32');
      assert.deepEqual(Array.from(await h.data()), idx.flatMap((i) => [0, 1, 2].map((c) => (c === i ? 1 : 0))));
      const bad = oneHot(tensor([0, 3], { dtype: 'int32' }), 3);
      await assert.rejects(bad.data(), { name: 'RangeError', message: /gather: index 3 is out of range for axis 0 of size 3/ });
      // The flag is cleared by the read that raised it.
      assert.equal((await h.data()).length, 12);
    } finally {
      setBackend('cpu');
    }
  });
});
