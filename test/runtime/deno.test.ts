import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

// The `deno` npm package ships the Deno binary; its bin script finds it.
const require = createRequire(import.meta.url);
const denoBin = require.resolve('deno/bin.cjs');

test('the built package runs in Deno and computes gradients', () => {
  const r = spawnSync(process.execPath, [denoBin, 'run', '--quiet', '--allow-read', 'test/deno/grad.deno.ts'], {
    encoding: 'utf8',
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `deno failed:\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(out.runtime, 'deno');
  assert.deepEqual(out.wGrad, [[7, 11], [9, 13]]);
  [0, 1, 2].forEach((v, i) => assert.ok(Math.abs(out.dsin[i] - Math.cos(v)) < 1e-12));
});
