// Properties of rotary position embeddings: rotations preserve norms, q·k scores depend only on the
// relative position, the rotate-half layout matches HF LLaMA/Qwen, and partial rotary leaves the tail alone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, arange, randn, tensor, type Tensor } from '../../src/tensor/index.js';
import { RotaryEmbedding, applyRotary, rotateHalf } from '../../src/nn/layers/rope.js';

const RUNS = { numRuns: 25 };

function f64(shape: number[], seed: number): Tensor {
  return randn(shape, { dtype: 'float64', generator: new Generator(seed) });
}

function positions(ps: number[]): Tensor {
  return tensor(Int32Array.from(ps));
}

/** A head size, a rotary width that fits it, and a base. */
const ropeArb = fc
  .record({ half: fc.integer({ min: 1, max: 4 }), extra: fc.integer({ min: 0, max: 3 }), base: fc.constantFrom(10000, 500, 1e6) })
  .map(({ half, extra, base }) => ({ headDim: 2 * half + extra, rotaryDim: 2 * half, base }));

const posArb = fc.integer({ min: 0, max: 4096 });

describe('RotaryEmbedding', () => {
  test('rotation preserves the norm of every head vector (full and partial rotary)', () => {
    fc.assert(
      fc.property(ropeArb, fc.array(posArb, { minLength: 1, maxLength: 4 }), fc.nat(), ({ headDim, rotaryDim, base }, ps, seed) => {
        const rope = new RotaryEmbedding(headDim, { rotaryDim, base });
        const x = f64([2, 3, ps.length, headDim], seed);
        const y = rope.forward(x, positions(ps));
        const nx = x.norm(2, -1).dataSync();
        const ny = y.norm(2, -1).dataSync();
        for (let i = 0; i < nx.length; i++) assert.ok(Math.abs(nx[i]! - ny[i]!) <= 1e-12 * (1 + nx[i]!), `${nx[i]} vs ${ny[i]}`);
      }),
      RUNS,
    );
  });

  test('q·k depends only on the relative position: shifting both positions by the same offset keeps the score', () => {
    fc.assert(
      fc.property(ropeArb, posArb, posArb, fc.integer({ min: -2000, max: 2000 }), fc.nat(), ({ headDim, rotaryDim, base }, m, n, shift, seed) => {
        fc.pre(m + shift >= 0 && n + shift >= 0);
        const rope = new RotaryEmbedding(headDim, { rotaryDim, base });
        const q = f64([1, 1, 1, headDim], seed);
        const k = f64([1, 1, 1, headDim], seed + 1);
        const score = (pq: number, pk: number): number =>
          rope.forward(q, positions([pq])).mul(rope.forward(k, positions([pk]))).sum().item();
        const a = score(m, n);
        const b = score(m + shift, n + shift);
        assert.ok(Math.abs(a - b) <= 1e-9 * (1 + Math.abs(a)), `score at (${m}, ${n}) = ${a}, shifted by ${shift}: ${b}`);
      }),
      RUNS,
    );
  });

  test('matches the HF rotate-half formula x·cos + rotate_half(x)·sin with θ^(−2i/d), computed by hand', () => {
    const [d, base] = [6, 10000];
    const rope = new RotaryEmbedding(d, { base });
    const x = f64([1, 2, 3, d], 1);
    const ps = [0, 5, 17];
    const y = rope.forward(x, positions(ps)).dataSync();
    const xd = x.dataSync();
    for (let h = 0; h < 2; h++)
      for (let t = 0; t < 3; t++) {
        const at = (h * 3 + t) * d;
        for (let i = 0; i < d / 2; i++) {
          const angle = ps[t]! * Math.pow(base, (-2 * i) / d);
          const [x1, x2] = [xd[at + i]!, xd[at + i + d / 2]!];
          assert.ok(Math.abs(y[at + i]! - (x1 * Math.cos(angle) - x2 * Math.sin(angle))) < 1e-12);
          assert.ok(Math.abs(y[at + i + d / 2]! - (x2 * Math.cos(angle) + x1 * Math.sin(angle))) < 1e-12);
        }
      }
  });

  test('position 0 is the identity', () => {
    const rope = new RotaryEmbedding(8);
    const x = f64([1, 2, 1, 8], 3);
    assert.deepEqual(Array.from(rope.forward(x, positions([0])).dataSync()), Array.from(x.dataSync()));
  });

  test('partial rotary rotates the first rotaryDim features like a full RoPE of that width and passes the rest', () => {
    const x = f64([1, 2, 4, 7], 4);
    const ps = positions([3, 1, 4, 1]);
    const y = new RotaryEmbedding(7, { rotaryDim: 4, base: 100 }).forward(x, ps);
    const head = new RotaryEmbedding(4, { base: 100 }).forward(x.narrow(-1, 0, 4), ps);
    assert.deepEqual(Array.from(y.narrow(-1, 4, 3).contiguous().dataSync()), Array.from(x.narrow(-1, 4, 3).contiguous().dataSync()));
    assert.deepEqual(Array.from(y.narrow(-1, 0, 4).contiguous().dataSync()), Array.from(head.contiguous().dataSync()));
  });

  test('positions per batch row rotate each row by its own positions; tables are [B, 1, T, rotaryDim]', () => {
    const rope = new RotaryEmbedding(4);
    const t = rope.tables(tensor([[0, 1, 2], [3, 3, 4]], { dtype: 'int32' }), 'float64');
    assert.deepEqual(t.cos.shape, [2, 1, 3, 4]);
    assert.deepEqual(rope.tables(arange(3)).sin.shape, [1, 1, 3, 4]);
    const x = f64([2, 1, 3, 4], 5);
    const y = applyRotary(x, t);
    const row1 = rope.forward(x.narrow(0, 1, 1), positions([3, 3, 4]));
    assert.deepEqual(Array.from(y.narrow(0, 1, 1).contiguous().dataSync()), Array.from(row1.contiguous().dataSync()));
  });

  test('rotate_half applied twice negates; it maps [x1, x2] to [−x2, x1]', () => {
    const x = tensor([1, 2, 3, 4], { dtype: 'float64' });
    assert.deepEqual(rotateHalf(x).toArray(), [-3, -4, 1, 2]);
    assert.deepEqual(rotateHalf(rotateHalf(x)).toArray(), [-1, -2, -3, -4]);
  });

  test('rejects an odd or too wide rotary width and malformed inputs', () => {
    assert.throws(() => new RotaryEmbedding(6, { rotaryDim: 3 }), /rotaryDim must be an even integer in \(0, headDim=6\], got 3/);
    assert.throws(() => new RotaryEmbedding(4, { rotaryDim: 6 }), /rotaryDim/);
    assert.throws(() => new RotaryEmbedding(5), /rotaryDim/);
    assert.throws(() => new RotaryEmbedding(4).forward(f64([1, 3, 4], 0), arange(3)), /expected heads \[B, H, T, 4\]/);
    assert.throws(() => new RotaryEmbedding(4).tables(tensor([[[0]]], { dtype: 'int32' })), /positions must be \[T\] or \[B, T\]/);
    assert.equal(new RotaryEmbedding(4).namedBuffers()[0]![0], 'invFreq');
    assert.deepEqual(Object.keys(new RotaryEmbedding(4).stateDict()), []);
  });
});
