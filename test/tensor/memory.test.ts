/**
 * Explicit memory management (`src/tensor/memory.ts`): dispose with shared views, `scope` (tfjs's tidy),
 * `keep`, `Symbol.dispose`, and the FinalizationRegistry safety net, counted through the WebGPU backend's
 * live buffers; and the CPU backend, where none of it changes behaviour. The WebGPU part is skipped, with
 * the reason, where no adapter can be had.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { keep, ones, scope, setBackend, tensor, type Tensor } from '../../src/tensor/index.js';
import { webgpuForTests } from '../helpers/webgpu.js';

const gpu = await webgpuForTests();
const skip = typeof gpu === 'string' ? gpu : false;
const live = (): number => (typeof gpu === 'string' ? 0 : gpu.liveBuffers);

describe('memory on the cpu backend: dispose and scope change nothing observable', () => {
  test('a disposed cpu tensor and its views stay readable (the garbage collector owns cpu memory)', () => {
    const x = tensor([[1, 2], [3, 4]]);
    const v = x.transpose();
    x.dispose();
    x.dispose();
    assert.equal(x.isDisposed, true);
    assert.deepEqual(x.toArray(), [[1, 2], [3, 4]]);
    assert.deepEqual(v.toArray(), [[1, 3], [2, 4]]);
  });

  test('scope returns what fn returns and leaves cpu tensors usable', () => {
    let inner: Tensor | null = null;
    const out = scope(() => {
      inner = tensor([1, 2, 3]).mul(2);
      return { y: inner.add(1) };
    });
    assert.deepEqual(out.y.toArray(), [3, 5, 7]);
    assert.deepEqual(inner!.toArray(), [2, 4, 6]);
  });
});

describe('memory on the webgpu backend', { skip }, () => {
  after(() => {
    setBackend('cpu');
    if (typeof gpu !== 'string') gpu.destroy();
  });

  test('dispose frees a buffer only after its last view is disposed; use after free throws', async () => {
    setBackend('webgpu');
    const base = live();
    const x = tensor([1, 2, 3, 4, 5, 6]);
    const v = x.reshape([2, 3]);
    const d = x.detach();
    assert.equal(live(), base + 1, 'three views, one buffer');
    x.dispose();
    v.dispose();
    assert.equal(live(), base + 1, 'still viewed by d');
    assert.deepEqual(Array.from(await d.data()), [1, 2, 3, 4, 5, 6]);
    d.dispose();
    d.dispose();
    assert.equal(live(), base);
    await assert.rejects(d.data(), /used after free/);
  });

  test('scope disposes what fn created except what it returns (at any depth) and what keep() marks', async () => {
    setBackend('webgpu');
    const base = live();
    const x = tensor([1, 2, 3]);
    let kept: Tensor | null = null;
    const out = scope(() => {
      const a = x.mul(2);
      const b = a.add(1);
      kept = keep(b.exp());
      return [{ nested: new Map([['b', b]]) }, a.sum()] as const;
    });
    const b = out[0].nested.get('b')!;
    assert.equal(live(), base + 4, 'x, b, kept and the sum survive; a is gone');
    assert.deepEqual(Array.from(await b.data()), [3, 5, 7]);
    assert.equal(Array.from(await out[1].data())[0], 12);
    for (const t of [x, b, kept!, out[1]]) t.dispose();
    assert.equal(live(), base);
  });

  test('nested scopes hand returned tensors to the enclosing scope, which disposes them', () => {
    setBackend('webgpu');
    const base = live();
    const outer = scope(() => {
      const inner = scope(() => ones([4]).mul(3));
      assert.equal(live(), base + 1, 'the inner result is alive inside the outer scope');
      inner.add(1);
      return null;
    });
    assert.equal(outer, null);
    assert.equal(live(), base, 'the inner result went with the outer scope');
  });

  test('a throwing fn disposes everything it created; a Promise is refused', async () => {
    setBackend('webgpu');
    const base = live();
    assert.throws(
      () =>
        scope(() => {
          ones([8]).mul(2);
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.equal(live(), base);
    assert.throws(() => scope(async () => ones([2])), /scope: fn returned a Promise/);
    assert.equal(live(), base);
  });

  test('Symbol.dispose disposes (the hook `using` calls)', () => {
    setBackend('webgpu');
    const base = live();
    const t = ones([3]);
    const sym = (Symbol as { dispose?: symbol }).dispose;
    assert.ok(sym !== undefined, 'this Node has Symbol.dispose');
    (t as unknown as Record<symbol, () => void>)[sym]!();
    assert.equal(t.isDisposed, true);
    assert.equal(live(), base);
  });

  test('tensors dropped without dispose are freed once garbage-collected (FinalizationRegistry)', async () => {
    setBackend('webgpu');
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const settle = async (): Promise<void> => {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    };
    // Earlier garbage (if any) goes first, so that only this test's tensors move the count.
    for (let i = 0; i < 3; i++) await settle();
    const base = live();
    (() => {
      for (let i = 0; i < 20; i++) ones([16]).add(i);
    })();
    assert.equal(live(), base + 60, "20 × (ones, the scalar i, the sum)");
    // Finalizers run in later tasks: collect and yield until they have, for at most 5 s.
    const deadline = Date.now() + 5000;
    while (live() > base && Date.now() < deadline) await settle();
    assert.equal(live(), base);
  });
});
