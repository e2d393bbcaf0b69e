import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { nodeWasmThreadSpawner } from '../../../src/node/wasm-threads.js';
import { fromHost } from '../../../src/tensor/ops/creation.js';
import {
  Generator,
  matmul,
  planThreads,
  randn,
  setWasmThreads,
  wasmThreadDefaults,
  WasmBackend,
  type Tensor,
  type WasmThreadSpawner,
  type WasmThreadStatus,
} from '../../../src/tensor/index.js';
import type { FaultMode } from '../../helpers/wasm-thread-faults.js';

const faultScript = new URL('../../helpers/wasm-thread-faults.js', import.meta.url);

/** Node worker threads running the fault-injecting script in `mode`; `exits` collects their exit reports. */
function faultySpawner(mode: FaultMode, exits: string[] = []): WasmThreadSpawner {
  const inner = nodeWasmThreadSpawner(faultScript);
  return {
    hardwareConcurrency: inner.hardwareConcurrency,
    spawn(events) {
      const h = inner.spawn({
        message: events.message,
        error: (e) => {
          exits.push(e.message);
          events.error(e);
        },
      });
      return { postMessage: (m) => h.postMessage({ ...(m as object), mode }), terminate: () => h.terminate() };
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 20 ms until it holds or `ms` pass; returns whether it held. */
async function eventually(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (cond()) return true;
  return cond();
}

const single = new WasmBackend({ threads: 1 });
const threaded = new WasmBackend({ threads: 2, spawner: nodeWasmThreadSpawner(), parallelMinFlops: 0, parallelMinElements: 0 });
const started = await threaded.threads.ready();
const opened: WasmBackend[] = [threaded];
after(() => {
  for (const b of opened) b.threads.close();
});

/** The same host values on both backends. */
function pair(t: Tensor): [Tensor, Tensor] {
  const host = t.dataSync();
  return [fromHost(host, t.shape, {}, single), fromHost(host, t.shape, {}, threaded)];
}

function sameBits(x: Tensor, y: Tensor, what: string): void {
  assert.deepEqual(x.shape, y.shape, `${what}: shape`);
  const [a, b] = [x.dataSync(), y.dataSync()];
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${what}[${i}]: ${a[i]} (one thread) vs ${b[i]} (two)`);
}

test('a two-thread backend shares its memory and starts its worker; one thread stays unshared', () => {
  assert.deepEqual([started.requested, started.running, started.ready, started.failure], [2, 2, true, null]);
  assert.deepEqual([threaded.kernels.threads, threaded.kernels.shared, threaded.heap.memory.buffer instanceof SharedArrayBuffer], [2, true, true]);
  assert.deepEqual([single.kernels.threads, single.kernels.shared, single.threads.status().running], [1, false, 1]);
});

test('split matmuls (by rows and by batch; transposed, broadcast and edge shapes) equal the one-thread product bit for bit', () => {
  const before = threaded.threads.status();
  fc.assert(
    fc.property(
      fc.record({
        batch: fc.constantFrom([], [3], [2, 1], [1, 4], [5]),
        M: fc.integer({ min: 1, max: 70 }),
        K: fc.integer({ min: 1, max: 300 }),
        N: fc.integer({ min: 1, max: 40 }),
        transA: fc.boolean(),
        transB: fc.boolean(),
        seed: fc.string(),
      }),
      ({ batch, M, K, N, transA, transB, seed }) => {
        const g = new Generator(seed);
        const a = transA ? randn([...batch, K, M], { generator: g }) : randn([...batch, M, K], { generator: g });
        const b = transB ? randn([N, K], { generator: g }) : randn([K, N], { generator: g });
        const [a1, a2] = pair(a);
        const [b1, b2] = pair(b);
        const op = (x: Tensor, y: Tensor): Tensor => matmul(transA ? x.transpose(-1, -2) : x, transB ? y.transpose() : y);
        sameBits(op(a1, b1), op(a2, b2), `[${batch}] ${M}×${K}×${N} transA=${transA} transB=${transB}`);
      },
    ),
    { numRuns: 40 },
  );
  const now = threaded.threads.status();
  assert.ok(now.jobs > before.jobs, 'no op was handed to the worker');
  assert.equal(now.workerTasks + now.takenBack - before.workerTasks - before.takenBack > 0, true);
});

test('split elementwise ops and reductions equal the one-thread kernels (sums within float32 rounding)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 3000 }), fc.string(), (rows, len, seed) => {
      const g = new Generator(seed);
      const [x1, x2] = pair(randn([rows, len], { generator: g }));
      const [y1, y2] = pair(randn([rows, len], { generator: g }));
      const [r1, r2] = pair(randn([len], { generator: g }));
      for (const [name, f] of [
        ['x + y', (x: Tensor, y: Tensor) => x.add(y)],
        ['x · row', (x: Tensor, _y: Tensor, r: Tensor) => x.mul(r)],
        ['2 − x', (x: Tensor) => x.neg().add(2)],
        ['max(x, y) of strided views', (x: Tensor, y: Tensor) => x.slice(null, [0, len - 1, 2]).maximum(y.slice(null, [1, len, 2]))],
        ['relu(xᵀ)', (x: Tensor) => x.transpose().relu()],
        ['max over rows', (x: Tensor) => x.max(1)],
        ['max of all', (x: Tensor) => x.max()],
        ['max over columns (strided rows)', (x: Tensor) => x.transpose().max(1)],
      ] as [string, (x: Tensor, y: Tensor, r: Tensor) => Tensor][]) {
        sameBits(f(x1, y1, r1), f(x2, y2, r2), name);
      }
      for (const [name, f] of [
        ['sum over rows', (x: Tensor) => x.sum(1)],
        ['sum of all', (x: Tensor) => x.sum()],
        ['sum over a 3-d view', (x: Tensor) => x.reshape([rows, 1, len]).expand([rows, 2, len]).sum(2)],
      ] as [string, (x: Tensor) => Tensor][]) {
        const [s1, s2] = [f(x1).dataSync(), f(x2).dataSync()];
        s1.forEach((v, i) => assert.ok(Math.abs(v - s2[i]!) <= 1e-6 * (len + Math.abs(v)), `${name}[${i}]: ${v} vs ${s2[i]}`));
      }
    }),
    { numRuns: 25 },
  );
});

test('three threads (two workers, two slots of the control block): split ops equal the one-thread results', async () => {
  const be = new WasmBackend({ threads: 3, spawner: nodeWasmThreadSpawner(), parallelMinFlops: 0, parallelMinElements: 0 });
  opened.push(be);
  assert.equal((await be.threads.ready()).running, 3);
  const g = new Generator('three');
  const a = randn([2, 90, 70], { generator: g });
  const b = randn([70, 50], { generator: g });
  const on = (t: Tensor): Tensor => fromHost(t.dataSync(), t.shape, {}, be);
  const [a1, b1] = [pair(a)[0], pair(b)[0]];
  sameBits(matmul(a1, b1), matmul(on(a), on(b)), 'batched by rows');
  sameBits(matmul(a1.reshape([180, 70]), b1), matmul(on(a).reshape([180, 70]), on(b)), 'one matrix by rows');
  sameBits(a1.mul(a1).neg(), on(a).mul(on(a)).neg(), 'elementwise');
  sameBits(a1.max(2), on(a).max(2), 'row maxima');
  assert.ok(be.threads.status().jobs >= 4);
  assert.equal(be.threads.status().failure, null);
});

test('the worker really computes: within a bounded number of large products it runs tasks', () => {
  const [a1, a2] = pair(randn([256, 256], { generator: new Generator('busy') }));
  const want = matmul(a1, a1);
  const before = threaded.threads.status().workerTasks;
  const deadline = performance.now() + 10_000;
  do sameBits(want, matmul(a2, a2), '256² product');
  while (threaded.threads.status().workerTasks === before && performance.now() < deadline);
  assert.ok(threaded.threads.status().workerTasks > before, `the worker ran no task in 10 s (status ${JSON.stringify(threaded.threads.status())})`);
});

test('close() terminates the workers (they exit) and later ops run correctly on one thread', async () => {
  const exits: string[] = [];
  const be = new WasmBackend({ threads: 2, spawner: faultySpawner('ok', exits), parallelMinFlops: 0, parallelMinElements: 0 });
  opened.push(be);
  assert.equal((await be.threads.ready()).running, 2);
  const a = randn([40, 40], { generator: new Generator('close') });
  const want = matmul(pair(a)[0], pair(a)[0]);
  be.threads.close();
  be.threads.close();
  const st = be.threads.status();
  assert.deepEqual([st.closed, st.running, st.failure], [true, 1, null]);
  assert.ok(await eventually(() => exits.length === 1, 10_000), `the worker did not exit: ${exits.join('; ')}`);
  assert.match(exits[0]!, /^the worker exited \(code \d+\)$/);
  const aOn = fromHost(a.dataSync(), a.shape, {}, be);
  sameBits(want, matmul(aOn, aOn), 'after close');
  assert.equal(be.threads.status().failure, null, 'the exit after close() is not a failure');
});

test('a process whose wasm backend has live worker threads exits by itself when its work is done', () => {
  const script = fileURLToPath(new URL('../../helpers/wasm-threads-exit.js', import.meta.url));
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.error, undefined, `the child did not exit within 30 s: ${String(r.error)}`);
  assert.equal(r.status, 0, r.stderr);
  assert.notEqual(r.stdout.trim(), '', `the child printed no status (stderr: ${r.stderr})`);
  const st = JSON.parse(r.stdout.trim()) as WasmThreadStatus & { finite: boolean };
  assert.deepEqual([st.requested, st.running, st.failure, st.finite], [2, 2, null, true]);
  assert.ok(st.jobs >= 1, 'the child split its product');
});

test('a worker that fails to start: ready() reports why, and ops fall back to one thread with the same results', async () => {
  const be = new WasmBackend({ threads: 2, spawner: faultySpawner('throw-at-start'), parallelMinFlops: 0, parallelMinElements: 0 });
  opened.push(be);
  const st = await be.threads.ready();
  assert.equal(st.running, 1);
  assert.match(st.failure ?? '', /^worker 1: injected start failure$/);
  const a = randn([33, 20], { generator: new Generator('fallback') });
  sameBits(matmul(pair(a)[0], pair(a)[0].transpose()), matmul(fromHost(a.dataSync(), a.shape, {}, be), fromHost(a.dataSync(), a.shape, {}, be).transpose()), 'fallback');
});

test('a worker whose tasks fail: the op is redone on the calling thread (same result), the failure is reported, threads stop', async () => {
  const be = new WasmBackend({ threads: 2, spawner: faultySpawner('fail-tasks'), parallelMinFlops: 0, parallelMinElements: 0 });
  opened.push(be);
  assert.equal((await be.threads.ready()).running, 2);
  const a = randn([128, 96], { generator: new Generator('fail') });
  const want = matmul(pair(a)[0], pair(a)[0].transpose());
  const aOn = fromHost(a.dataSync(), a.shape, {}, be);
  const deadline = performance.now() + 10_000;
  do sameBits(want, matmul(aOn, aOn.transpose()), 'with a failing worker');
  while (be.threads.status().failure === null && performance.now() < deadline);
  const st = be.threads.status();
  assert.match(st.failure ?? '', /^worker 1 failed: Error: injected task failure$/);
  assert.equal(st.running, 1);
  sameBits(want, matmul(aOn, aOn.transpose()), 'after the failure');
});

test('a worker that stops taking jobs: its tasks run on the calling thread, and after threadTimeoutMs threads are given up', async () => {
  const be = new WasmBackend({ threads: 2, spawner: faultySpawner('stall'), parallelMinFlops: 0, parallelMinElements: 0, threadTimeoutMs: 200 });
  opened.push(be);
  assert.equal((await be.threads.ready()).running, 2);
  const a = randn([64, 64], { generator: new Generator('stall') });
  const want = matmul(pair(a)[0], pair(a)[0]);
  const aOn = fromHost(a.dataSync(), a.shape, {}, be);
  sameBits(want, matmul(aOn, aOn), 'first op: every task taken back');
  assert.equal(be.threads.status().workerTasks, 0);
  await sleep(300);
  sameBits(want, matmul(aOn, aOn), 'second op');
  assert.match(be.threads.status().failure ?? '', /^worker 1 has taken no task for 200 ms$/);
  assert.equal(be.threads.status().running, 1);
});

test('a worker preempted mid-task: the results stay right, the split thresholds back off, and the back-off decays', async () => {
  const be = new WasmBackend({ threads: 2, spawner: faultySpawner('slow-once'), parallelMinFlops: 0, parallelMinElements: 0 });
  opened.push(be);
  assert.equal((await be.threads.ready()).running, 2);
  assert.equal(be.threads.status().backoff, 1);
  const a = randn([64, 64], { generator: new Generator('slow') });
  const want = matmul(pair(a)[0], pair(a)[0]);
  const aOn = fromHost(a.dataSync(), a.shape, {}, be);
  // The worker may wake after this thread has taken every task: repeat (boundedly) until it took one.
  for (let i = 0; i < 200 && be.threads.status().workerTasks === 0; i++) sameBits(want, matmul(aOn, aOn), `op ${i}`);
  const st = be.threads.status();
  assert.ok(st.workerTasks > 0, 'the worker took a task');
  assert.equal(st.backoff, 2, 'one wait for the worker (100 ms, far more than this thread’s share) doubles the thresholds');
  assert.equal(be.threads.worthSplitting(2 * be.threads.minFlops + 1, be.threads.minFlops), true, 'twice the threshold still splits');
  await sleep(250);
  assert.equal(be.threads.worthSplitting(1, 1), true, 'after 100 ms the factor halves back to 1');
  assert.equal(be.threads.status().backoff, 1);
  assert.equal(be.threads.status().failure, null);
});

test('thread options: defaults from setWasmThreads, min(2, cores), refusals with reasons, bad counts throw', () => {
  const cores = (n: number): WasmThreadSpawner => ({ hardwareConcurrency: n, spawn: () => assert.fail('not spawned') });
  const eight = planThreads({ spawner: cores(8) }, true);
  assert.deepEqual([eight.count, eight.requested, eight.refused], [2, 2, null]);
  assert.equal(planThreads({ spawner: cores(1) }, true).count, 1);
  assert.equal(planThreads({ spawner: cores(8), threads: 3 }, true).count, 3);
  assert.match(planThreads({ spawner: cores(8), threads: 2 }, false).refused ?? '', /^the memory cannot be shared/);
  assert.match(planThreads({ spawner: null, threads: 2 }, true).refused ?? '', /^no way to start workers here/);
  assert.throws(() => planThreads({ threads: 0 }, true), { name: 'RangeError', message: 'wasm backend: threads must be an integer from 1 to 64, got 0' });
  const unshared = new WasmBackend({ threads: 2, spawner: cores(2), shared: false });
  assert.deepEqual([unshared.kernels.threads, unshared.kernels.shared], [1, false]);
  assert.match(unshared.threads.status().failure ?? '', /^the memory cannot be shared/);
  assert.throws(() => new WasmBackend({ threads: 1, parallelMinFlops: -1 }), { name: 'RangeError', message: 'wasm backend: parallelMinFlops must be a number ≥ 0, got -1' });
  const saved = wasmThreadDefaults();
  try {
    setWasmThreads({ spawner: null, threads: 2 });
    const refused = new WasmBackend();
    assert.deepEqual([refused.kernels.threads, refused.kernels.shared], [1, false]);
    assert.match(refused.threads.status().failure ?? '', /^no way to start workers here/);
    assert.equal(new WasmBackend({ threads: 1 }).threads.status().failure, null);
  } finally {
    setWasmThreads(saved);
  }
});
