/**
 * Browser bootstrap of the control thread: starts `web-control-worker.js` as a module Web Worker
 * (browsers, Deno). The page must be cross-origin isolated for `SharedArrayBuffer`.
 * @module
 */
import { SharedControlMetrics } from './control-metrics.js';
import type { ControlThread } from './control-thread.js';
import { hostControlWorker, workerInit, type ControlWorkerMessage, type ControlWorkerOptions } from './control-worker.js';
import type { SharedActionRing } from './ring-buffer.js';

/**
 * Starts the control loop of §6.3 in a module Web Worker; see `startNodeControlThread` for what it
 * does. The driver module (`options.driver.module`) must be importable from the worker (Web Serial
 * drivers can be; Node-only ones cannot).
 */
export async function startWebControlThread(ring: SharedActionRing, options: ControlWorkerOptions): Promise<ControlThread> {
  const fn = 'startWebControlThread';
  if (typeof Worker !== 'function') throw new Error(`${fn}: this runtime has no Web Worker; in Node use startNodeControlThread`);
  const metrics = SharedControlMetrics.create();
  const init = workerInit(fn, ring, metrics, options);
  const worker = new Worker(new URL('./web-control-worker.js', import.meta.url), { type: 'module' });
  return hostControlWorker(
    'web-worker',
    ring,
    metrics,
    init,
    {
      post: (m) => worker.postMessage(m),
      listen: (onMessage, onError) => {
        worker.onmessage = (e: MessageEvent<ControlWorkerMessage>) => onMessage(e.data);
        worker.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          onError(e.message);
        };
      },
      terminate: () => worker.terminate(),
    },
    options.timeouts,
  );
}
