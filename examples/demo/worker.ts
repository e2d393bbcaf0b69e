/**
 * The worker-thread side of the demo's job pool: runs each job it is sent on the backend named in its
 * `workerData` and posts progress, then the result (or the error).
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setBackend } from '../../src/tensor/index.js';
import { runJob, type Job } from './jobs.js';

/** A message from a pool worker. */
export type WorkerMessage =
  | { readonly type: 'progress'; readonly done: number; readonly total: number; readonly loss?: number }
  | { readonly type: 'result'; readonly result: ReturnType<typeof runJob> }
  | { readonly type: 'error'; readonly message: string };

const port = parentPort;
if (port !== null) {
  setBackend((workerData as { backend: string }).backend);
  port.on('message', (job: Job) => {
    try {
      const result = runJob(job, (done, total, loss) => port.postMessage({ type: 'progress', done, total, loss } satisfies WorkerMessage));
      const transfer = result.kind === 'train' ? [result.checkpoint.buffer as ArrayBuffer] : [];
      port.postMessage({ type: 'result', result } satisfies WorkerMessage, transfer);
    } catch (e) {
      port.postMessage({ type: 'error', message: (e as Error).stack ?? String(e) } satisfies WorkerMessage);
    }
  });
}
