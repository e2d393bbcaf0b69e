/**
 * Runs in a cross-origin-isolated page of headless Chromium (see `wasm-threads.test.ts`): a wasm backend
 * on two threads from the default Web Worker spawner, with every op split (thresholds 0), against a
 * one-thread one. The page's main thread may not block in `Atomics.wait`, so this is the spinning wait.
 */
import { Generator, matmul, randn, WasmBackend, type Tensor, type WasmThreadStatus } from '../../src/tensor/index.js';
import { fromHost } from '../../src/tensor/ops/creation.js';

/** What the page found. */
export interface ThreadsReport {
  /** Why nothing ran (the page is not cross-origin isolated). */
  skip?: string;
  /** The two-thread backend's status after the ops. */
  status?: WasmThreadStatus;
  /** Whether its memory is a SharedArrayBuffer. */
  shared?: boolean;
  /** Ops whose results differ from the one-thread backend's, with the first difference. */
  differences?: string[];
  /** Whether the main thread may block in `Atomics.wait` (it must not, in a page). */
  mainCanBlock?: boolean;
}

function differs(name: string, x: Tensor, y: Tensor, tol: number): string | null {
  const [a, b] = [x.dataSync(), y.dataSync()];
  for (let i = 0; i < a.length; i++) {
    const ok = tol === 0 ? Object.is(a[i], b[i]) : Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(a[i]!));
    if (!ok) return `${name}[${i}]: ${a[i]} vs ${b[i]}`;
  }
  return null;
}

/** Creates the backends, runs the ops on both, and reports. */
export async function run(): Promise<ThreadsReport> {
  if (!(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) return { skip: 'the page is not cross-origin isolated' };
  let mainCanBlock = true;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch {
    mainCanBlock = false;
  }
  const two = new WasmBackend({ threads: 2, parallelMinFlops: 0, parallelMinElements: 0 });
  const one = new WasmBackend({ threads: 1 });
  await two.threads.ready();
  const g = new Generator('chromium-threads');
  const differences: string[] = [];
  const pair = (t: Tensor): [Tensor, Tensor] => [fromHost(t.dataSync(), t.shape, {}, one), fromHost(t.dataSync(), t.shape, {}, two)];
  const [a1, a2] = pair(randn([150, 300], { generator: g }));
  const [b1, b2] = pair(randn([70, 300], { generator: g }));
  const [c1, c2] = pair(randn([6, 40, 33], { generator: g }));
  const ops: [string, (a: Tensor, b: Tensor, c: Tensor) => Tensor, number][] = [
    ['a·bᵀ', (a, b) => matmul(a, b.transpose()), 0],
    ['batched c·cᵀ', (_a, _b, c) => matmul(c, c.transpose(1, 2)), 0],
    ['a + a', (a) => a.add(a), 0],
    ['relu(aᵀ)', (a) => a.transpose().relu(), 0],
    ['max over rows', (a) => a.max(1), 0],
    ['sum of all', (a) => a.sum(), 1e-5],
  ];
  // Repeated (a bounded number of times) until the worker has taken tasks: it may start late.
  for (let round = 0; round < 50 && (round === 0 || two.threads.status().workerTasks === 0); round++) {
    for (const [name, f, tol] of ops) {
      const d = differs(name, f(a1, b1, c1), f(a2, b2, c2), tol);
      if (d !== null && !differences.includes(d)) differences.push(d);
    }
  }
  const status = two.threads.status();
  const shared = two.heap.memory.buffer instanceof SharedArrayBuffer;
  two.threads.close();
  return { status, shared, differences, mainCanBlock };
}
