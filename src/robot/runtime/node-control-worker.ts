/**
 * Entry point of the Node control worker (Node-only): started by `startNodeControlThread` as a
 * `worker_threads` worker, it runs `runControlWorker` on the `workerData` it was given.
 * @module
 */
import { runControlWorker, type ControlWorkerInit, type ControlWorkerMessage } from './control-worker.js';

const WORKER_THREADS = 'node:worker_threads';
const { parentPort, workerData } = (await import(WORKER_THREADS)) as {
  parentPort: { postMessage(m: ControlWorkerMessage): void } | null;
  workerData: ControlWorkerInit;
};
if (parentPort === null) throw new Error('node-control-worker: run it through startNodeControlThread, as a worker_threads worker');
await runControlWorker(workerData, (m) => parentPort.postMessage(m));
