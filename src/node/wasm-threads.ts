/**
 * Threads for the wasm backend in Node: a spawner of `worker_threads` workers (Node has no Web Workers),
 * and {@link enableWasmThreads}, which makes wasm backends created afterwards split large ops across
 * threads that share their `WebAssembly.Memory` (see `src/tensor/wasm/threads.ts`).
 *
 * Workers are unreferenced, so they never keep the process alive; `backend.threads.close()` terminates them
 * at once.
 * @module
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { setWasmThreads, type WasmThreadOptions, type WasmThreadSpawner } from '../tensor/wasm/threads.js';

/**
 * A {@link WasmThreadSpawner} of Node worker threads running `wasm-worker.js`. `script` replaces that
 * script (tests use it to start workers that fail).
 */
export function nodeWasmThreadSpawner(script: URL = new URL('./wasm-worker.js', import.meta.url)): WasmThreadSpawner {
  return {
    hardwareConcurrency: availableParallelism(),
    spawn(events) {
      const w = new Worker(script, { name: 'being-ts wasm thread' });
      w.on('message', (m: unknown) => events.message(m));
      w.on('error', (e: Error) => events.error(e));
      w.on('exit', (code: number) => events.error(new Error(`the worker exited (code ${code})`)));
      // After the listeners (a listener added later would reference the worker again).
      w.unref();
      return { postMessage: (m) => w.postMessage(m), terminate: () => void w.terminate() };
    },
  };
}

/**
 * Makes wasm backends created from now on use worker threads (by default min(2, available parallelism)
 * threads per large op, the calling one included): installs {@link nodeWasmThreadSpawner} with the given
 * options through {@link setWasmThreads}. Call it before the first use of `setBackend('wasm')`: the
 * registered `'wasm'` backend is created on first use and keeps its threads.
 */
export function enableWasmThreads(options: WasmThreadOptions = {}): void {
  setWasmThreads({ spawner: nodeWasmThreadSpawner(), ...options });
}
