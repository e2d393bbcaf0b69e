/**
 * Backend conformance in Node: the table of `test/helpers/conformance-cases.ts` (read its header for what
 * it covers and each exclusion's reason), run on the CPU backend and on the wasm backend (with SIMD and
 * relaxed SIMD where the runtime has them, with SIMD but mul+add instead of relaxed_madd, without SIMD,
 * with a 6×8 matmul tile instead of 4×8, and on two threads splitting every op however small), and on the
 * WebGPU backend where an adapter can be had (in
 * CI: Dawn's OpenGL backend on Mesa's llvmpipe; skipped with the reason otherwise). The same table runs on
 * WebGL2 and WebGPU in headless Chromium from `test/browser/chromium.test.ts`.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmBackend, getBackend, registerBackend } from '../../src/tensor/index.js';
import { nodeWasmThreadSpawner } from '../../src/node/wasm-threads.js';
import { CASES, check, on } from '../helpers/conformance-cases.js';
import { webgpuForTests } from '../helpers/webgpu.js';

registerBackend('wasm-mul-add', () => new WasmBackend({ relaxedSimd: false }));
registerBackend('wasm-no-simd', () => new WasmBackend({ simd: false }));
registerBackend('wasm-tile-6x8', () => new WasmBackend({ matmulTile: { rows: 6, vectors: 2, unroll: 2 } }));
// Two threads, splitting every op however small (thresholds 0), once the worker has started.
const threaded = new WasmBackend({ threads: 2, spawner: nodeWasmThreadSpawner(), parallelMinFlops: 0, parallelMinElements: 0 });
registerBackend('wasm-2-threads', () => threaded);
const threadStatus = await threaded.threads.ready();
const WASM_VARIANTS = ['wasm', 'wasm-mul-add', 'wasm-no-simd', 'wasm-tile-6x8', 'wasm-2-threads'];
const gpu = await webgpuForTests();
const BACKENDS = typeof gpu === 'string' ? WASM_VARIANTS : [...WASM_VARIANTS, 'webgpu'];

describe('wasm and webgpu backend conformance with the cpu backend', () => {
  after(() => {
    if (typeof gpu !== 'string') gpu.destroy();
    threaded.threads.close();
  });
  test('the two-thread wasm variant runs on two threads', () => {
    assert.deepEqual([threadStatus.running, threadStatus.failure], [2, null]);
    assert.equal(threaded.threads.status().running, 2);
  });
  test('a WebGPU adapter is available', { skip: typeof gpu === 'string' ? gpu : false }, () => {
    assert.equal(on('webgpu', getBackend), gpu);
  });
  for (const c of CASES) test(c.name, () => check(c, BACKENDS));
  test('the two-thread wasm variant handed the cases to its worker', () => {
    const st = threaded.threads.status();
    assert.ok(st.jobs > 0 && st.workerTasks + st.takenBack > 0, JSON.stringify(st));
  });
});
