// Seeded randomness: the same seed gives bit-identical tensors on the CPU, different seeds differ, and the
// samples have the distribution they claim.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, defaultGenerator, manualSeed, rand, randint, randn, type Tensor } from '../../src/tensor/index.js';

/** The raw bytes of a tensor's values, so that equality is bit for bit (NaN payloads and −0 included). */
function bytes(t: Tensor): Uint8Array {
  const d = t.dataSync();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

describe('seeded generators', () => {
  test('the same seed gives bit-identical rand, randn and randint', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      assert.deepEqual(bytes(rand([64], { dtype, generator: new Generator(42) })), bytes(rand([64], { dtype, generator: new Generator(42) })));
      assert.deepEqual(bytes(randn([63], { dtype, generator: new Generator(42) })), bytes(randn([63], { dtype, generator: new Generator(42) })));
    }
    const ints = () => randint(-5, 5, [100], { generator: new Generator('seed') });
    assert.deepEqual(bytes(ints()), bytes(ints()));
  });

  test('a sequence of draws from one generator repeats from the same seed', () => {
    const draw = (generator: Generator) => [
      rand([5], { generator }),
      randn([3, 3], { generator }),
      randint(0, 10, [7], { generator }),
      randn([1], { generator }),
    ];
    const a = draw(new Generator(7));
    const b = draw(new Generator(7));
    a.forEach((t, i) => assert.deepEqual(bytes(t), bytes(b[i]!)));
  });

  test('different seeds give different numbers', () => {
    assert.notDeepEqual(bytes(rand([16], { generator: new Generator(1) })), bytes(rand([16], { generator: new Generator(2) })));
    assert.notDeepEqual(bytes(randn([16], { generator: new Generator(1) })), bytes(randn([16], { generator: new Generator(2) })));
    const ints = (seed: number) => randint(0, 1000, [16], { generator: new Generator(seed) });
    assert.notDeepEqual(bytes(ints(1)), bytes(ints(2)));
  });

  test('successive draws from one generator differ', () => {
    const g = new Generator(3);
    assert.notDeepEqual(bytes(rand([8], { generator: g })), bytes(rand([8], { generator: g })));
  });

  test('Generator.manualSeed restarts the stream (also the cached second normal of a pair)', () => {
    const g = new Generator(11);
    const first = randn([3], { generator: g });
    g.manualSeed(11);
    assert.deepEqual(bytes(randn([3], { generator: g })), bytes(first));
    assert.equal(g.initialSeed(), '11');
  });

  test('manualSeed resets the global generator', () => {
    manualSeed(123);
    const a = [rand([10]), randn([5]), randint(0, 100, [10])];
    manualSeed(123);
    const b = [rand([10]), randn([5]), randint(0, 100, [10])];
    a.forEach((t, i) => assert.deepEqual(bytes(t), bytes(b[i]!)));
    // The global generator is the one manualSeed returns, and an explicit generator does not disturb it.
    const g = manualSeed(5);
    assert.equal(defaultGenerator(), g);
    const x = rand([4]);
    manualSeed(5);
    rand([3], { generator: new Generator(99) });
    assert.deepEqual(bytes(rand([4])), bytes(x));
  });
});

describe('distributions', () => {
  test('randn has mean ≈ 0 and variance ≈ 1 over 20000 samples (within a few standard errors)', () => {
    const n = 20000;
    const v = Array.from(randn([n], { dtype: 'float64', generator: new Generator(2024) }).dataSync());
    const mean = v.reduce((s, x) => s + x, 0) / n;
    const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
    const skew = v.reduce((s, x) => s + (x - mean) ** 3, 0) / n;
    // Standard errors: 1/√n for the mean, √(2/n) for the variance, √(6/n) for the skewness.
    assert.ok(Math.abs(mean) < 4 / Math.sqrt(n), `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 4 * Math.sqrt(2 / n), `variance ${variance}`);
    assert.ok(Math.abs(skew) < 4 * Math.sqrt(6 / n), `skewness ${skew}`);
    // About 68.3% of samples lie within one standard deviation.
    const within = v.filter((x) => Math.abs(x) < 1).length / n;
    assert.ok(Math.abs(within - 0.6827) < 4 * Math.sqrt((0.6827 * 0.3173) / n), `fraction within 1σ: ${within}`);
  });

  test('rand lies in [0, 1) with mean ≈ 1/2', () => {
    const n = 20000;
    const v = Array.from(rand([n], { dtype: 'float64', generator: new Generator(9) }).dataSync());
    for (const x of v) assert.ok(x >= 0 && x < 1, `${x} outside [0, 1)`);
    const mean = v.reduce((s, x) => s + x, 0) / n;
    assert.ok(Math.abs(mean - 0.5) < 4 * Math.sqrt(1 / 12 / n), `mean ${mean}`);
  });

  test('randint lies in [low, high), is int32, and hits every value', () => {
    const t = randint(-3, 4, [5000], { generator: new Generator(1) });
    assert.equal(t.dtype, 'int32');
    const v = Array.from(t.dataSync());
    for (const x of v) assert.ok(Number.isInteger(x) && x >= -3 && x < 4, `${x} outside [-3, 4)`);
    assert.deepEqual([...new Set(v)].sort((a, b) => a - b), [-3, -2, -1, 0, 1, 2, 3]);
    assert.deepEqual(Array.from(randint(5, 6, [10], { generator: new Generator(1) }).dataSync()), new Array(10).fill(5));
    const f = randint(0, 3, [2, 2], { dtype: 'float32', generator: new Generator(1) });
    assert.equal(f.dtype, 'float32');
    assert.deepEqual(f.shape, [2, 2]);
  });

  test('randint refuses an empty or non-integer range', () => {
    assert.throws(() => randint(3, 3, [2]), { name: 'RangeError', message: 'randint: need integers low < high, got 3, 3' });
    assert.throws(() => randint(0, 2.5, [2]), { message: 'randint: need integers low < high, got 0, 2.5' });
  });
});
