/**
 * A wasm-backend worker script for tests that injects faults: the test's spawner adds `mode` to the
 * start-up message. `'ok'` serves jobs normally; `'throw-at-start'` throws before taking its slot (the
 * worker's `error` event); `'stall'` reports ready and then never serves a job; `'fail-tasks'` takes
 * tasks and reports each as failed, as a worker whose kernel threw would; `'slow-once'` serves jobs
 * normally but sleeps 100 ms inside the first task it takes, as a worker preempted mid-task would.
 */
import { parentPort } from 'node:worker_threads';
import {
  BASE,
  claimTask,
  COMPLETED,
  COUNT,
  SEQ,
  SLOT_BYTES,
  SLOT_INTS,
  STATE,
  STATE_READY,
  STATUS,
  STATUS_FAILED,
  STOP,
  writeFailure,
  type ThreadInit,
} from '../../src/tensor/wasm/thread-protocol.js';
import { runWasmThread } from '../../src/tensor/wasm/worker-loop.js';

/** The fault to inject. */
export type FaultMode = 'ok' | 'throw-at-start' | 'stall' | 'fail-tasks' | 'slow-once';

/** Instances whose exported functions sleep `ms` before the first call any of them gets (then run normally). */
function delayFirstCall(ms: number): void {
  const Real = WebAssembly.Instance;
  let delayed = false;
  const wrap = (f: unknown): unknown =>
    typeof f !== 'function'
      ? f
      : (...args: number[]): unknown => {
          if (!delayed) {
            delayed = true;
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
          }
          return (f as (...a: number[]) => unknown)(...args);
        };
  (WebAssembly as { Instance: unknown }).Instance = function Instance(module: WebAssembly.Module, imports: WebAssembly.Imports) {
    return { exports: Object.fromEntries(Object.entries(new Real(module, imports).exports).map(([k, f]) => [k, wrap(f)])) };
  };
}

const port = parentPort!;
port.once('message', (message: ThreadInit & { mode: FaultMode }) => {
  const { mode, ...init } = message;
  if (mode === 'slow-once') delayFirstCall(100);
  if (mode === 'ok' || mode === 'slow-once') return runWasmThread(init, (m) => port.postMessage(m));
  if (mode === 'throw-at-start') throw new Error('injected start failure');
  const ctrl = new Int32Array(init.control, init.slot * SLOT_BYTES, SLOT_INTS);
  Atomics.store(ctrl, STATE, STATE_READY);
  port.postMessage({ type: 'ready', slot: init.slot });
  // Blocks until terminated.
  if (mode === 'stall') return void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, SEQ, seen);
    const seq = Atomics.load(ctrl, SEQ);
    if (seq === STOP) return;
    if (seq === seen || seq & 1) continue;
    const [base, count] = [Atomics.load(ctrl, BASE), Atomics.load(ctrl, COUNT)];
    if (Atomics.load(ctrl, SEQ) !== seq) continue;
    seen = seq;
    for (let i = claimTask(ctrl, base, count); i >= 0; i = claimTask(ctrl, base, count)) {
      if (Atomics.compareExchange(ctrl, STATUS, 0, STATUS_FAILED) === 0) writeFailure(init.control, init.slot, 'Error: injected task failure');
      if (Atomics.add(ctrl, COMPLETED, 1) + 1 === count) Atomics.notify(ctrl, COMPLETED);
    }
  }
});
