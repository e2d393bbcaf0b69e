/**
 * The browser path of the control thread (§6.3): `startWebControlThread` runs the control loop in a
 * module Web Worker. Deno implements Web Workers, SharedArrayBuffer and Atomics.wait as browsers do, so
 * the built package is driven there (test/deno/runtime-worker.deno.ts), main thread blocked included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDenoScript } from '../../helpers/deno.js';

test('§6.3: in a Web Worker (Deno) the control thread runs the runtime and keeps ticking while the main thread is blocked', () => {
  const r = runDenoScript<Record<string, number | string>>('test/deno/runtime-worker.deno.ts');
  assert.equal(r.status, 0, `deno failed:\n${r.stderr}`);
  const out = r.result as Record<string, any>;
  assert.equal(out.runtime, 'deno');
  assert.equal(out.kind, 'web-worker');
  assert.ok(out.duringBlock >= 5, `ticked ${out.duringBlock} times while the main thread was blocked`);
  assert.ok(out.ticks >= out.duringBlock && out.actions >= 1);
  assert.ok(out.stitches >= 1 && out.inferences >= out.stitches);
  assert.ok(out.jitterSamples > 0);
  if (out.prefixOverruns === 0) assert.ok(out.maxJump <= out.policyMaxStep, `jump ${out.maxJump} > ${out.policyMaxStep}`);
  assert.equal(out.exitError, null);
  assert.equal(out.state, 6);
});
