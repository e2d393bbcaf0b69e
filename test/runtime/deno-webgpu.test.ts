import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDenoScript } from '../helpers/deno.js';

// Deno has WebGPU built in; on a machine without a GPU it needs a Vulkan driver such as Debian's
// mesa-vulkan-drivers (lavapipe).
const r = runDenoScript<{ skip?: string; maxDiff?: number[]; liveBefore?: number; liveAfter?: number }>('test/deno/webgpu.deno.ts');
const out = r.result ?? {};

test('the built package runs on Deno’s WebGPU: kernels and an MLP backward match the cpu backend, scope frees', { skip: out.skip ? `Deno has no WebGPU adapter: ${out.skip}` : false }, () => {
  assert.equal(r.status, 0, `deno failed:\n${r.stderr}`);
  assert.equal(out.maxDiff?.length, 6);
  out.maxDiff!.forEach((d, i) => assert.ok(d <= 1e-4, `output ${i} differs by ${d}`));
  assert.equal(out.liveBefore, 0, 'every tensor of the runs was disposed');
  assert.equal(out.liveAfter, out.liveBefore, 'the scoped step left no buffer behind');
});
