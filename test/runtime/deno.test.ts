import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDenoScript } from '../helpers/deno.js';

test('the built package runs in Deno and computes gradients', () => {
  const r = runDenoScript<{ runtime: string; wGrad: number[][]; dsin: number[] }>('test/deno/grad.deno.ts');
  assert.equal(r.status, 0, `deno failed:\n${r.stderr}`);
  const out = r.result!;
  assert.equal(out.runtime, 'deno');
  assert.deepEqual(out.wGrad, [[7, 11], [9, 13]]);
  [0, 1, 2].forEach((v, i) => assert.ok(Math.abs(out.dsin[i] - Math.cos(v)) < 1e-12));
});
