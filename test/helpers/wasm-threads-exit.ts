/**
 * Run as a child process by `test/tensor/wasm/threads.test.ts`: makes the registered `'wasm'` backend
 * threaded, runs a split matrix product, prints the threads' status as JSON, and ends without closing the
 * threads, which must not keep the process alive.
 */
import { enableWasmThreads } from '../../src/node/wasm-threads.js';
import { getBackend, matmul, randn, setBackend, type WasmBackend } from '../../src/tensor/index.js';

enableWasmThreads({ threads: 2, parallelMinFlops: 0 });
setBackend('wasm');
const backend = getBackend() as WasmBackend;
await backend.threads.ready();
const x = randn([96, 96]);
const total = matmul(x, x).sum().item();
console.log(JSON.stringify({ ...backend.threads.status(), finite: Number.isFinite(total) }));
