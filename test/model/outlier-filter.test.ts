// Properties of the outlier filter that replaces normalisation in the unified space (§5.1.1: raw units,
// "only outlier filtering"; Eq. 1's zeros off I_e must survive it): clipping keeps values inside the
// bounds bit-identical and never rescales; quantile bounds sit between the right order statistics; MAD
// bounds are translation/scale equivariant and robust to gross outliers; constant and all-zero dimensions
// are left unclipped; masked fits ignore the masked entries and masked application leaves them alone;
// the tensor filter equals the array filter and passes gradients only where nothing was clipped.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, randn, tensor, vjp } from '../../src/tensor/index.js';
import { OutlierFilter } from '../../src/model/outlier-filter.js';
import { Embodiment, SlotLayout } from '../../src/model/action-space.js';

const RUNS = { numRuns: 80 };

/** A dataset [N, D] as a flat array, N in 1–40, D in 1–4, values in ±100 with some repeats (no subnormals). */
const datasetArb = fc
  .record({ N: fc.integer({ min: 1, max: 40 }), D: fc.integer({ min: 1, max: 4 }) })
  .chain(({ N, D }) =>
    fc.record({
      N: fc.constant(N),
      D: fc.constant(D),
      data: fc.array(fc.oneof(fc.double({ min: -100, max: 100, noNaN: true }).map((x) => (Math.abs(x) < 1e-100 ? 0 : x)), fc.constantFrom(0, 1, -2.5)), { minLength: N * D, maxLength: N * D }),
    }),
  );

const column = (data: ArrayLike<number>, D: number, j: number): number[] => Array.from({ length: data.length / D }, (_, r) => data[r * D + j]!);

describe('OutlierFilter', () => {
  test('§5.1.1: clipping keeps values inside the bounds bit-identical, puts the rest on the bounds, and is idempotent', () => {
    fc.assert(
      fc.property(datasetArb, fc.boolean(), ({ D, data }, mad) => {
        const f = mad ? OutlierFilter.fitMad(data, { dim: D }) : OutlierFilter.fitQuantile(data, { dim: D });
        const out = f.apply(data);
        data.forEach((v, i) => {
          const [lo, hi] = [f.lower[i % D]!, f.upper[i % D]!];
          if (v >= lo && v <= hi) assert.equal(out[i], v);
          else assert.equal(out[i], v < lo ? lo : hi);
        });
        assert.deepEqual(Array.from(f.apply(out)), Array.from(out));
      }),
      RUNS,
    );
  });

  test('quantile bounds lie between the order statistics around p·(N − 1), and do not depend on row order', () => {
    fc.assert(
      fc.property(datasetArb, fc.double({ min: 0, max: 0.45, noNaN: true }), fc.double({ min: 0.55, max: 1, noNaN: true }), fc.nat(), ({ N, D, data }, pLo, pHi, seed) => {
        const f = OutlierFilter.fitQuantile(data, { dim: D, lower: pLo, upper: pHi });
        for (let j = 0; j < D; j++) {
          const s = column(data, D, j).sort((a, b) => a - b);
          if (s[0] === s[N - 1]) {
            assert.equal(f.lower[j], -Infinity);
            continue;
          }
          for (const [p, b] of [[pLo, f.lower[j]!], [pHi, f.upper[j]!]] as const) {
            const k = Math.floor(p * (N - 1));
            if (Number.isFinite(b)) assert.ok(b >= s[k]! && b <= s[Math.min(k + 1, N - 1)]!, `dim ${j}: bound ${b} outside [s${k}, s${k + 1}]`);
          }
        }
        const order = Array.from({ length: N }, (_, r) => r).sort((a, b) => ((a * 7919 + seed) % 101) - ((b * 7919 + seed) % 101));
        const shuffled = order.flatMap((r) => data.slice(r * D, (r + 1) * D));
        const g = OutlierFilter.fitQuantile(shuffled, { dim: D, lower: pLo, upper: pHi });
        assert.deepEqual(g.lower, f.lower);
        assert.deepEqual(g.upper, f.upper);
      }),
      RUNS,
    );
  });

  test('MAD bounds move with translation and scale of the data (units stay raw)', () => {
    fc.assert(
      fc.property(datasetArb, fc.double({ min: 0.01, max: 100, noNaN: true }), fc.double({ min: -50, max: 50, noNaN: true }), ({ D, data: raw }, a, b) => {
        // On a grid of 1/4, so that a·x + b cannot round distinct values together.
        const data = raw.map((v) => Math.round(4 * v) / 4);
        const f = OutlierFilter.fitMad(data, { dim: D });
        const g = OutlierFilter.fitMad(data.map((v) => a * v + b), { dim: D });
        for (let j = 0; j < D; j++) {
          if (!Number.isFinite(f.lower[j]!)) continue;
          const tol = 1e-9 * (Math.abs(a) * 200 + Math.abs(b));
          assert.ok(Math.abs(g.lower[j]! - (a * f.lower[j]! + b)) <= tol, `dim ${j}: lower ${g.lower[j]} vs ${a * f.lower[j]! + b}`);
          assert.ok(Math.abs(g.upper[j]! - (a * f.upper[j]! + b)) <= tol, `dim ${j}: upper ${g.upper[j]} vs ${a * f.upper[j]! + b}`);
        }
      }),
      RUNS,
    );
  });

  test('MAD bounds ignore gross outliers: a spike of 1e6 in 5% of the rows is clipped back near the bulk', () => {
    fc.assert(
      fc.property(fc.nat(), fc.double({ min: 0.1, max: 10, noNaN: true }), (seed, sigma) => {
        const N = 400;
        const bulk = Array.from(randn([N], { dtype: 'float64', generator: new Generator(seed) }).dataSync(), (v) => sigma * v);
        const data = bulk.map((v, i) => (i % 20 === 0 ? 1e6 : v));
        const f = OutlierFilter.fitMad(data, { dim: 1 });
        assert.ok(f.upper[0]! < 6 * sigma && f.lower[0]! > -6 * sigma, `bounds [${f.lower[0]}, ${f.upper[0]}] for σ = ${sigma}`);
        assert.ok(f.upper[0]! > 2 * sigma && f.lower[0]! < -2 * sigma, 'bounds collapsed onto the median');
        assert.ok(Math.max(...f.apply(data)) <= f.upper[0]!);
      }),
      { numRuns: 20 },
    );
  });

  test('MAD = 0 falls back to the mean absolute deviation: a mostly-closed gripper keeps its motion', () => {
    const closed = new Array<number>(30).fill(0);
    const moving = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08];
    const data = [...closed, ...moving];
    const f = OutlierFilter.fitMad(data, { dim: 1, k: 3.5 });
    const meanAD = data.reduce((s, v) => s + Math.abs(v), 0) / data.length;
    assert.ok(Math.abs(f.upper[0]! - 3.5 * 1.2533 * meanAD) < 1e-15);
    assert.ok(f.upper[0]! > 0.03, `upper bound ${f.upper[0]} collapses the gripper's motion`);
  });

  test('constant and all-zero dimensions are left unclipped, and zeros stay exactly zero', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: -1e3, max: 1e3, noNaN: true }), (N, c, probe) => {
        const data = Array.from({ length: N * 3 }, (_, i) => [c, 0, i % 7][i % 3]!);
        for (const f of [OutlierFilter.fitQuantile(data, { dim: 3 }), OutlierFilter.fitMad(data, { dim: 3 })]) {
          for (const j of [0, 1]) assert.deepEqual([f.lower[j], f.upper[j]], [-Infinity, Infinity]);
          const out = f.apply([probe, probe, 3]);
          assert.deepEqual([out[0], out[1]], [probe, probe]);
          assert.equal(f.apply(data)[1], 0);
        }
      }),
      RUNS,
    );
  });

  test('Eq. 1: a masked fit equals a fit on the unmasked entries; masked application leaves inactive entries (zeros) untouched', () => {
    fc.assert(
      fc.property(datasetArb.chain((d) => fc.record({ d: fc.constant(d), mask: fc.array(fc.boolean(), { minLength: d.N * d.D, maxLength: d.N * d.D }) })), ({ d: { D, data }, mask }) => {
        const f = OutlierFilter.fitQuantile(data, { dim: D, mask });
        for (let j = 0; j < D; j++) {
          const kept = data.filter((_, i) => i % D === j && mask[i]);
          const g = OutlierFilter.fitQuantile(kept.length > 0 ? kept : [0], { dim: 1 });
          if (kept.length === 0) assert.deepEqual([f.lower[j], f.upper[j]], [-Infinity, Infinity]);
          else assert.deepEqual([f.lower[j], f.upper[j]], [g.lower[0], g.upper[0]]);
        }
        const out = f.apply(data, mask);
        data.forEach((v, i) => {
          if (!mask[i]) assert.equal(out[i], v);
        });
      }),
      RUNS,
    );
    // Pooled data: dimension 1 is used by embodiment A only; B's zeros there must not move.
    const L = new SlotLayout([{ name: 'a', size: 1, quantity: 'joint', unit: 'rad', description: '' }, { name: 'b', size: 1, quantity: 'joint', unit: 'rad', description: '' }]);
    const A = new Embodiment({ name: 'A', components: [{ name: 'x', slot: 'a' }, { name: 'y', slot: 'b' }] }, L);
    const B = new Embodiment({ name: 'B', components: [{ name: 'x', slot: 'a' }] }, L);
    const rowsA = Array.from({ length: 20 }, (_, i) => A.toUnified([i / 10, 2 + i / 20]));
    const rowsB = Array.from({ length: 20 }, (_, i) => B.toUnified([-i / 10]));
    const pooled = [...rowsA, ...rowsB].flatMap((r) => Array.from(r));
    const mask = [...rowsA.map(() => A.activeMask), ...rowsB.map(() => B.activeMask)].flat();
    const f = OutlierFilter.fitQuantile(pooled, { dim: 2, mask });
    assert.ok(f.lower[1]! > 2, 'B rows polluted the fit of dimension 1');
    assert.equal(f.apply(B.toUnified([0.5]), B.activeMask)[1], 0);
  });

  test('the tensor filter equals the array filter; gradients pass only where nothing was clipped (and on inactive entries)', () => {
    fc.assert(
      fc.property(datasetArb, fc.nat(), ({ N, D, data }, seed) => {
        const f = OutlierFilter.fitMad(data, { dim: D, k: 1 });
        const active = Array.from({ length: D }, (_, j) => (seed >> j) % 2 === 0);
        const x = tensor(Float64Array.from(data), { shape: [N, D], dtype: 'float64' });
        const [y, back] = vjp((t) => f.apply(t, active), x);
        const host = f.apply(data, active);
        assert.deepEqual(Array.from(y.dataSync()), Array.from(host));
        const g = back(tensor(new Float64Array(N * D).fill(1), { shape: [N, D], dtype: 'float64' }))[0]!.dataSync();
        data.forEach((v, i) => {
          const j = i % D;
          const passes = !active[j] || (v >= f.lower[j]! && v <= f.upper[j]!);
          assert.equal(g[i], passes ? 1 : 0, `entry ${i}`);
        });
        assert.equal(f.apply(tensor(Float32Array.from(data), { shape: [N, D] })).dtype, 'float32');
      }),
      RUNS,
    );
  });

  test('bounds survive a JSON round trip (infinite bounds as null) and fit on a tensor like on its values', () => {
    fc.assert(
      fc.property(datasetArb, ({ N, D, data }) => {
        const f = OutlierFilter.fitQuantile(tensor(Float64Array.from(data), { shape: [N, D], dtype: 'float64' }));
        assert.deepEqual(f.lower, OutlierFilter.fitQuantile(data, { dim: D }).lower);
        const g = new OutlierFilter(JSON.parse(JSON.stringify(f)));
        assert.deepEqual(g.lower, f.lower);
        assert.deepEqual(g.upper, f.upper);
      }),
      RUNS,
    );
  });

  test('bad input throws at once, naming the function and the values', () => {
    assert.throws(() => OutlierFilter.fitQuantile([1, 2, 3]), /OutlierFilter.fitQuantile: flat array data needs opts.dim/);
    assert.throws(() => OutlierFilter.fitQuantile([1, 2, 3], { dim: 2 }), /3 values are not whole rows of 2/);
    assert.throws(() => OutlierFilter.fitQuantile([1, 2], { dim: 1, lower: 0.6, upper: 0.4 }), /need 0 ≤ lower < upper ≤ 1, got lower 0.6, upper 0.4/);
    assert.throws(() => OutlierFilter.fitMad([1, NaN, 2, 3], { dim: 2 }), /OutlierFilter.fitMad: row 0, dimension 1 is NaN/);
    assert.throws(() => OutlierFilter.fitMad([1, 2], { dim: 1, k: 0 }), /k must be positive and finite, got 0/);
    assert.throws(() => OutlierFilter.fitMad([1, 2], { dim: 1, mask: [true, false, true] }), /the mask has 3 flags; expected 1 \(one per dimension\) or 2 \(one per value\)/);
    const f = new OutlierFilter({ lower: [0, null], upper: [1, 2] });
    assert.throws(() => f.apply([1, 2, 3]), /OutlierFilter.apply: 3 values are not whole rows of 2/);
    assert.throws(() => f.apply(tensor([[1, 2, 3]])), /OutlierFilter.apply: expected a tensor of shape \[\.\.\., 2\], got \[1,3\]/);
    assert.throws(() => new OutlierFilter({ lower: [2], upper: [1] }), /OutlierFilter: dimension 0 has bounds \[2, 1\]/);
  });
});
