/**
 * SharedActionRing (§6.3's execution buffer 𝓑) against a reference queue: the committed prefix of
 * Eq. 23, the stitch of Eq. 24, int32 index wrap-around, and rows never torn under a real second thread.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { SharedActionRing, type RingSnapshot } from '../../../src/robot/runtime/ring-buffer.js';
import { stitchChunk, prefixEdits } from '../../../src/robot/runtime/stitch.js';

/** The buffer as a plain queue over unwrapped indices. */
class QueueModel {
  readonly rows = new Map<number, Float32Array>();
  head: number;
  end: number;
  constructor(initial: Float32Array) {
    this.rows.set(0, initial);
    this.head = 1;
    this.end = 1;
  }
  pop(): Float32Array | null {
    return this.head < this.end ? this.rows.get(this.head++)! : null;
  }
  snapshot(d: number): { h0: number; m: number; prefix: Float32Array[] } {
    const m = Math.min(d, this.end - this.head);
    const prefix = Array.from({ length: d }, (_, i) => this.rows.get(i < m ? this.head + i : this.end - 1)!);
    return { h0: this.head, m, prefix };
  }
  apply(h0: number, m: number, postfix: Float32Array[]): void {
    postfix.forEach((row, j) => this.rows.set(h0 + m + j, row));
    this.end = h0 + m + postfix.length;
  }
}

let counter = 0;
const freshRow = (D: number): Float32Array => Float32Array.from({ length: D }, () => ++counter);
const rowsOf = (flat: Float32Array, D: number): Float32Array[] => Array.from({ length: flat.length / D }, (_, i) => flat.slice(i * D, (i + 1) * D));

const cycle = fc.record({ before: fc.nat({ max: 30 }), delay: fc.nat({ max: 40 }), during: fc.nat({ max: 30 }) });

describe('SharedActionRing', () => {
  test('§6.3: the ring holds at least twice the chunk length', () => {
    assert.equal(SharedActionRing.create({ chunkLength: 16, actionDim: 3 }).capacity, 32);
    assert.throws(() => SharedActionRing.create({ chunkLength: 16, actionDim: 3, capacity: 31 }), /capacity must be an integer ≥ 2·chunkLength = 32, got 31/);
    assert.throws(() => SharedActionRing.create({ chunkLength: 0, actionDim: 3 }), /chunkLength/);
    const ring = SharedActionRing.create({ chunkLength: 4, actionDim: 2 });
    assert.throws(() => SharedActionRing.attach({ ...ring.handle, capacity: 9 }), /buffer has \d+ bytes/);
  });

  test('Eq. 23-24: pops, committed prefixes and stitches match a reference queue (random interleavings, wrapped indices)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.nat({ max: 7 }),
        fc.constantFrom(0, 2 ** 31 - 7, -5),
        fc.array(cycle, { minLength: 1, maxLength: 12 }),
        (T, D, extra, start, cycles) => {
          const ring = SharedActionRing.create({ chunkLength: T, actionDim: D, capacity: 2 * T + extra });
          const initial = freshRow(D);
          ring.initialize(initial, start);
          const model = new QueueModel(initial);
          const out = new Float32Array(D);
          const tick = (): void => {
            const want = model.pop();
            const got = ring.step(out);
            assert.equal(got, want !== null);
            if (want) assert.deepEqual(out, want);
          };
          for (const c of cycles) {
            for (let k = 0; k < c.before; k++) tick();
            const d = c.delay % T;
            assert.equal(ring.available, model.end - model.head);
            const snap = ring.snapshot(d);
            const ref = model.snapshot(d);
            assert.equal(snap.committed, ref.m);
            assert.deepEqual(rowsOf(snap.prefix, D), ref.prefix);
            const chunk = new Float32Array(T * D);
            chunk.set(snap.prefix);
            for (let i = d; i < T; i++) chunk.set(freshRow(D), i * D);
            for (let k = 0; k < c.during; k++) tick();
            ring.post(snap, stitchChunk(snap, chunk, T));
            assert.equal(ring.acknowledged, false);
            const applied = ring.applyPending();
            const executedPastPrefix = Math.max(0, model.head - (ref.h0 + ref.m));
            model.apply(ref.h0, ref.m, rowsOf(chunk.subarray(d * D), D));
            assert.ok(applied !== null && ring.acknowledged);
            assert.equal(applied.delay, d);
            assert.equal(applied.realized, c.during);
            assert.equal(applied.uncommitted, executedPastPrefix);
            assert.equal(ring.applyPending(), null);
          }
          for (let k = 0; k < T + 2; k++) tick();
        },
      ),
      { numRuns: 300 },
    );
  });

  test('Eq. 24: the committed rows are kept whatever the policy returned in the prefix', () => {
    const ring = SharedActionRing.create({ chunkLength: 6, actionDim: 2 });
    ring.initialize([0.5, -0.5]);
    const snap = ring.snapshot(3);
    const chunk = new Float32Array(12).fill(99);
    assert.equal(prefixEdits(snap, chunk), 3);
    const rows = stitchChunk(snap, chunk, 6);
    // m = 0 rows were buffered, so the padding is not written back: only the postfix remains.
    assert.equal(snap.committed, 0);
    assert.deepEqual(Array.from(rows), new Array(6).fill(99));
    ring.post(snap, rows);
    ring.applyPending();
    const out = new Float32Array(2);
    assert.ok(ring.step(out));
    assert.deepEqual(Array.from(out), [99, 99]);
  });

  test('the producer cannot snapshot before the consumer acknowledged, nor post a stale snapshot', () => {
    const ring = SharedActionRing.create({ chunkLength: 4, actionDim: 1 });
    assert.throws(() => ring.snapshot(1), /has not initialised the buffer/);
    ring.initialize([0]);
    const snap: RingSnapshot = ring.snapshot(1);
    ring.post(snap, new Float32Array(snap.committed + 3));
    assert.throws(() => ring.snapshot(1), /has not taken up the last posted chunk/);
    assert.throws(() => ring.post(snap, new Float32Array(snap.committed + 3)), /stale/);
    assert.throws(() => ring.snapshot(4), /delay must be an integer in \[0, 3\]/);
  });

  test('the state mailbox returns the last state written', () => {
    const ring = SharedActionRing.create({ chunkLength: 4, actionDim: 2, stateDim: 3 });
    assert.equal(ring.readState(), null);
    ring.writeState(1.5, [1, 2, 3]);
    ring.writeState(2.5, [4, 5]);
    const s = ring.readState()!;
    assert.equal(s.timestamp, 2.5);
    assert.deepEqual(Array.from(s.positions.subarray(0, 2)), [4, 5]);
    assert.ok(Number.isNaN(s.positions[2]));
  });

  test('§6.3: with a real second thread popping, no row is ever torn and every action comes in queue order', async () => {
    const T = 8;
    const D = 64; // wide rows make a torn copy likely if rows were ever written while read
    const ring = SharedActionRing.create({ chunkLength: T, actionDim: D });
    ring.initialize(new Float32Array(D)); // row value = its queue index: 0
    const url = new URL('../../../src/robot/runtime/ring-buffer.js', import.meta.url).href;
    const consumer = new Worker(
      `import { workerData, parentPort } from 'node:worker_threads';
       const { SharedActionRing } = await import(${JSON.stringify(url)});
       const ring = SharedActionRing.attach(workerData);
       const out = new Float32Array(ring.actionDim);
       let next = 1, torn = 0, disorder = 0, pops = 0;
       while (!ring.stopRequested) {
         ring.applyPending();
         if (ring.step(out)) {
           pops++;
           if (!out.every((x) => x === out[0])) torn++;
           if (out[0] !== next) disorder++;
           next++;
         }
         const until = performance.now() + 0.02; while (performance.now() < until) {}
       }
       parentPort.postMessage({ torn, disorder, pops });`,
      { eval: true, workerData: ring.handle },
    );
    const result = new Promise<{ torn: number; disorder: number; pops: number }>((resolve, reject) => {
      consumer.once('message', resolve);
      consumer.once('error', reject);
    });
    let posts = 0;
    const deadline = Date.now() + 5000;
    while ((posts < 400 || ring.ticks < 400) && Date.now() < deadline) {
      if (!ring.acknowledged) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      const d = posts % T;
      const snap = ring.snapshot(d);
      // Postfix row j lands at queue index head + m + j: give it that value.
      const chunk = new Float32Array(T * D);
      chunk.set(snap.prefix);
      for (let i = d; i < T; i++) chunk.fill(snap.head + snap.committed + (i - d), i * D, (i + 1) * D);
      ring.post(snap, stitchChunk(snap, chunk, T));
      posts++;
    }
    ring.requestStop();
    const r = await result;
    await consumer.terminate();
    assert.ok(r.pops > 0 && posts > 0, `pops ${r.pops}, posts ${posts}`);
    assert.equal(r.torn, 0);
    assert.equal(r.disorder, 0);
  });
});
