/**
 * The script of a wasm backend's worker thread in Node (`worker_threads`, started by
 * {@link nodeWasmThreadSpawner}): it takes its one start-up message from the parent port and serves jobs
 * until the backend stops it (see `src/tensor/wasm/worker-loop.ts`).
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { runWasmThread } from '../tensor/wasm/worker-loop.js';

const port = parentPort;
if (port === null) throw new Error('wasm-worker: must run as a worker thread');
port.once('message', (init: unknown) => runWasmThread(init, (m) => port.postMessage(m)));
