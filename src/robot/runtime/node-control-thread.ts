/**
 * Node bootstrap of the control thread (Node-only): starts `node-control-worker.js` as a
 * `worker_threads` worker. `node:worker_threads` is imported when {@link startNodeControlThread} is
 * called, not when this module loads, so importing the runtime stays side-effect free everywhere.
 * @module
 */
import { SharedControlMetrics } from './control-metrics.js';
import type { ControlThread } from './control-thread.js';
import { hostControlWorker, workerInit, type ControlWorkerMessage, type ControlWorkerOptions } from './control-worker.js';
import type { SharedActionRing } from './ring-buffer.js';

// A variable specifier: bundlers for browsers leave it alone, and this file needs no Node typings.
const WORKER_THREADS = 'node:worker_threads';

interface NodeWorker {
  on(event: 'message', listener: (m: ControlWorkerMessage) => void): unknown;
  on(event: 'error', listener: (e: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

/**
 * Starts the control loop of §6.3 in a Node worker thread: it loads the driver from `options.driver`,
 * starts the buffer `ring` from the robot's state, and ticks every `controlPeriod` seconds on a precise
 * timer whatever this thread is doing. Resolves once the worker is ticking.
 *
 * @example
 * const ring = SharedActionRing.create({ chunkLength: 16, actionDim: 6 });
 * const control = await startNodeControlThread(ring, { driver: simulatedDriverModule({ robot: 'so101' }), controlPeriod: 1 / 30 });
 * // … run inference against `ring` …
 * await control.stop();
 */
export async function startNodeControlThread(ring: SharedActionRing, options: ControlWorkerOptions): Promise<ControlThread> {
  const metrics = SharedControlMetrics.create();
  const init = workerInit('startNodeControlThread', ring, metrics, options);
  const { Worker } = (await import(WORKER_THREADS)) as { Worker: new (url: URL, opts: { workerData: unknown }) => NodeWorker };
  const worker = new Worker(new URL('./node-control-worker.js', import.meta.url), { workerData: init });
  return hostControlWorker(
    'node-worker',
    ring,
    metrics,
    init,
    {
      post: () => {}, // Node hands `init` over as workerData
      listen: (onMessage, onError, onExit) => {
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
      },
      terminate: () => void worker.terminate(),
    },
    options.timeouts,
  );
}
