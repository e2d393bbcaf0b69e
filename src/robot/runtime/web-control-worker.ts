/**
 * Entry point of the Web Worker control thread (browsers, Deno): started by `startWebControlThread`,
 * it runs `runControlWorker` on the first message it receives, then closes.
 * @module
 */
import { runControlWorker, type ControlWorkerInit, type ControlWorkerMessage } from './control-worker.js';

interface WorkerScope {
  onmessage: ((e: MessageEvent<ControlWorkerInit>) => void) | null;
  postMessage(m: ControlWorkerMessage): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
scope.onmessage = (e) => {
  scope.onmessage = null;
  void runControlWorker(e.data, (m) => scope.postMessage(m)).finally(() => scope.close());
};
