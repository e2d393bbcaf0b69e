/**
 * Training on the WebGPU backend: an nn MLP trained with SGD (forward, backward, the in-place `copy_`
 * update under `noGrad`) inside `scope`. 100 steps leave the number of live device buffers unchanged,
 * and every step's loss and the final weights match the same run on the CPU backend within float32
 * tolerance. Skipped, with the reason, where no WebGPU adapter can be had.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, manualSeed, randn, scope, setBackend, type Tensor } from '../../../src/tensor/index.js';
import { MLP, mseLoss, SGD } from '../../../src/nn/index.js';
import { webgpuForTests } from '../../helpers/webgpu.js';

const gpu = await webgpuForTests();
const skip = typeof gpu === 'string' ? gpu : false;
const STEPS = 100;

interface Run {
  losses: number[];
  weights: Float32Array;
  liveAfterFirst: number;
  liveAtEnd: number;
}

/** Trains a fresh MLP for {@link STEPS} steps on `backend`; losses are read every step. */
async function train(backend: string, live: () => number): Promise<Run> {
  setBackend(backend);
  try {
    manualSeed(7);
    // Set-up inside scope too: temporaries left to the garbage collector could be finalized mid-count.
    const { model, x, y } = scope(() => {
      const m = new MLP(6, 16, { outDim: 3 });
      const g = new Generator('data');
      return { model: m, params: m.parameters(), x: randn([32, 6], { generator: g }), y: randn([32, 3], { generator: g }).mul(0.5) };
    });
    const opt = new SGD(model.parameters(), { lr: 0.05 });
    const losses: number[] = [];
    let liveAfterFirst = -1;
    for (let i = 0; i < STEPS; i++) {
      const loss: Tensor = scope(() => {
        const l = mseLoss(model.forward(x), y);
        l.backward();
        opt.step();
        opt.zeroGrad();
        return l;
      });
      losses.push((await loss.data())[0]!);
      loss.dispose();
      if (i === 0) liveAfterFirst = live();
    }
    const weights = Float32Array.from(await model.fc1.weight.data());
    return { losses, weights, liveAfterFirst, liveAtEnd: live() };
  } finally {
    setBackend('cpu');
  }
}

describe('training an MLP on the webgpu backend', { skip }, () => {
  after(() => {
    if (typeof gpu !== 'string') gpu.destroy();
  });

  test('100 SGD steps inside scope leave the live buffer count unchanged and follow the CPU run step for step', async () => {
    assert.ok(typeof gpu !== 'string');
    const onGpu = await train('webgpu', () => gpu.liveBuffers);
    const onCpu = await train('cpu', () => 0);
    assert.equal(onGpu.liveAtEnd, onGpu.liveAfterFirst, `live buffers after step 1: ${onGpu.liveAfterFirst}, after ${STEPS}: ${onGpu.liveAtEnd}`);
    assert.ok(onGpu.losses[STEPS - 1]! < 0.9 * onGpu.losses[0]!, `the loss went down: ${onGpu.losses[0]} → ${onGpu.losses[STEPS - 1]}`);
    onGpu.losses.forEach((l, i) => assert.ok(Math.abs(l - onCpu.losses[i]!) <= 1e-4 * Math.max(1, Math.abs(onCpu.losses[i]!)), `step ${i}: ${l} vs ${onCpu.losses[i]}`));
    onGpu.weights.forEach((w, i) => assert.ok(Math.abs(w - onCpu.weights[i]!) <= 1e-4, `fc1.weight[${i}]: ${w} vs ${onCpu.weights[i]}`));
  });
});
