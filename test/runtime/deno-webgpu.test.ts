import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

// The `deno` npm package ships the Deno binary; its bin script finds it. Deno has WebGPU built in; on a
// machine without a GPU it needs a Vulkan driver such as Debian's mesa-vulkan-drivers (lavapipe).
const require = createRequire(import.meta.url);
const denoBin = require.resolve('deno/bin.cjs');

const r = spawnSync(process.execPath, [denoBin, 'run', '--quiet', '--allow-read', 'test/deno/webgpu.deno.ts'], {
  encoding: 'utf8',
  env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  timeout: 120_000,
});
const last = r.stdout.trim().split('\n').pop() ?? '';
const out = (last.startsWith('{') ? JSON.parse(last) : {}) as { skip?: string; maxDiff?: number[]; liveBefore?: number; liveAfter?: number };

test('the built package runs on Deno’s WebGPU: kernels and an MLP backward match the cpu backend, scope frees', { skip: out.skip ? `Deno has no WebGPU adapter: ${out.skip}` : false }, () => {
  assert.equal(r.status, 0, `deno failed:\n${r.stderr}`);
  assert.equal(out.maxDiff?.length, 6);
  out.maxDiff!.forEach((d, i) => assert.ok(d <= 1e-4, `output ${i} differs by ${d}`));
  assert.equal(out.liveBefore, 0, 'every tensor of the runs was disposed');
  assert.equal(out.liveAfter, out.liveBefore, 'the scoped step left no buffer behind');
});
