/**
 * The script of a wasm backend's Web Worker (browsers; started as a module worker by the default
 * spawner in `threads.ts`): it waits for its one start-up message and then serves jobs (see
 * `worker-loop.ts`). A start-up failure is thrown, so it reaches the page as the worker's `error` event.
 * @module
 */
import { runWasmThread } from './worker-loop.js';

interface WorkerScope {
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void, options: { once: boolean }): void;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;
scope.addEventListener('message', (e) => runWasmThread(e.data, (m) => scope.postMessage(m)), { once: true });
