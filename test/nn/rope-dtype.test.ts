// The dtype of rotary tables: angles are computed in the tables' own dtype on the device (float32 as HF
// does, and as backends without float64 such as webgpu need), so float32 tables equal the float64 ones
// up to the float32 rounding of the angle θ = p·f, and other dtypes are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tensor } from '../../src/tensor/index.js';
import { RotaryEmbedding } from '../../src/nn/layers/rope.js';

test('RoPE: float32 tables are float32 and equal the float64 tables within the rounding of the angle (|Δ| ≤ 2⁻²²·(1 + p·f))', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.constantFrom(500, 10000, 1e6), fc.array(fc.integer({ min: 0, max: 8192 }), { minLength: 1, maxLength: 6 }), (half, base, ps) => {
      const rope = new RotaryEmbedding(2 * half, { base });
      const pos = tensor(Int32Array.from(ps));
      const [t32, t64] = [rope.tables(pos, 'float32'), rope.tables(pos, 'float64')];
      assert.equal(t32.cos.dtype, 'float32');
      assert.equal(t64.sin.dtype, 'float64');
      assert.equal(rope.invFreq.dtype, 'float32');
      const freq = Array.from({ length: half }, (_, i) => base ** (-(2 * i) / (2 * half)));
      for (const k of ['cos', 'sin'] as const) {
        const [a, b] = [t32[k].dataSync(), t64[k].dataSync()];
        for (let i = 0; i < b.length; i++) {
          const angle = ps[Math.floor(i / (2 * half))]! * freq[i % half]!;
          assert.ok(Math.abs(a[i]! - b[i]!) <= 2 ** -22 * (1 + angle), `${k}[${i}] at angle ${angle}: ${a[i]} vs ${b[i]}`);
        }
      }
    }),
  );
});

test('RoPE: tables in a non-float dtype are refused', () => {
  assert.throws(() => new RotaryEmbedding(4).tables(tensor([0, 1], { dtype: 'int32' }), 'int32'), /RotaryEmbedding: tables must be float32 or float64, got int32/);
});
