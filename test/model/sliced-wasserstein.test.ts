/**
 * Sliced Wasserstein distances (Eq. 14): golden values from a numpy transcription of POT's
 * `sliced_wasserstein_distance` (test/fixtures/sliced-wasserstein.json, written by
 * scripts/fixtures/make_swd_fixtures.py), the metric properties, the exact 1-D optimal transport for one
 * direction against a brute-force search over matchings, scaling, batching and gradients.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Generator, randn, tensor, vjp, type Tensor } from '../../src/tensor/index.js';
import {
  DEFAULT_NUM_DIRECTIONS,
  randomDirections,
  slicedWassersteinDiscrepancy,
  slicedWassersteinDistance,
} from '../../src/model/sliced-wasserstein.js';
import { gradcheck } from '../helpers/gradcheck.js';

interface SwdCase {
  x: number[][];
  y: number[][];
  directions: number[][];
  pot: Record<'1' | '2' | '3', number>;
  paper: number | null;
}
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fixture = JSON.parse(readFileSync(resolve(REPO_ROOT, 'test', 'fixtures', 'sliced-wasserstein.json'), 'utf8')) as { cases: SwdCase[] };

const RUNS = { numRuns: 40 } as const;
const f64 = (rows: number[][]): Tensor => tensor(rows, { dtype: 'float64' });
const val = (t: Tensor): number => t.item();

function close(actual: number, expected: number, rtol: number, what: string): void {
  if (!(Math.abs(actual - expected) <= rtol * Math.max(1, Math.abs(expected)))) assert.fail(`${what}: ${actual} vs ${expected}`);
}

/** A point set of `n` rows in `d` dimensions, as plain numbers. */
const setArb = (n: number, d: number): fc.Arbitrary<number[][]> =>
  fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: d, maxLength: d }), { minLength: n, maxLength: n });

/** Two sets of 1–6 and 1–6 rows in 1–4 dimensions, with a seed for the directions. */
const pairArb = fc
  .record({ n: fc.integer({ min: 1, max: 6 }), m: fc.integer({ min: 1, max: 6 }), d: fc.integer({ min: 1, max: 4 }) })
  .chain(({ n, m, d }) => fc.record({ x: setArb(n, d), y: setArb(m, d), seed: fc.nat() }));

function directionsFor(d: number, seed: number, count = 5): Tensor {
  return randomDirections(count, d, { generator: new Generator(seed), dtype: 'float64' });
}

function* permutations(n: number): IterableIterator<number[]> {
  const p = Array.from({ length: n }, (_, i) => i);
  const c = new Array<number>(n).fill(0);
  yield p.slice();
  let i = 0;
  while (i < n) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!;
      [p[j], p[i]] = [p[i]!, p[j]!];
      yield p.slice();
      c[i]!++;
      i = 0;
    } else c[i++] = 0;
  }
}

/**
 * The exact W_p^p between the uniform empirical measures on `a` and `b` (1-D), by brute force: repeat
 * both to L = lcm(n, m) atoms (the same measures) and search every matching of the L atoms.
 */
function bruteForceWpp(a: number[], b: number[], p: number): number {
  const gcd = (u: number, v: number): number => (v === 0 ? u : gcd(v, u % v));
  const L = (a.length * b.length) / gcd(a.length, b.length);
  const ra = a.flatMap((v) => new Array<number>(L / a.length).fill(v));
  const rb = b.flatMap((v) => new Array<number>(L / b.length).fill(v));
  let best = Infinity;
  for (const perm of permutations(L)) {
    let s = 0;
    for (let i = 0; i < L; i++) s += Math.abs(ra[i]! - rb[perm[i]!]!) ** p;
    best = Math.min(best, s);
  }
  return best / L;
}

const project = (rows: number[][], theta: ArrayLike<number>): number[] => rows.map((r) => r.reduce((s, v, k) => s + v * theta[k]!, 0));

describe('sliced Wasserstein: golden values (numpy transcription of POT)', () => {
  test("Eq. 14: slicedWassersteinDistance matches POT's sliced_wasserstein_distance for p = 1, 2, 3 with the same directions", () => {
    for (const [k, c] of fixture.cases.entries()) {
      for (const p of [1, 2, 3] as const) {
        const got = val(slicedWassersteinDistance(f64(c.x), f64(c.y), { directions: f64(c.directions), p }));
        close(got, c.pot[p], 1e-12, `case ${k} (${c.x.length} vs ${c.y.length} points) p = ${p}`);
      }
    }
  });

  test('Eq. 14: slicedWassersteinDiscrepancy is the literal mean over directions of summed squared sorted differences', () => {
    let literal = 0;
    for (const [k, c] of fixture.cases.entries()) {
      const got = val(slicedWassersteinDiscrepancy(f64(c.x), f64(c.y), { directions: f64(c.directions) }));
      if (c.paper !== null) {
        literal++;
        close(got, c.paper, 1e-12, `case ${k} (${c.x.length} vs ${c.y.length} points)`);
      }
      // Every count: max(n, m)·W₂² averaged over directions, the documented rule.
      close(got, Math.max(c.x.length, c.y.length) * c.pot[2] ** 2, 1e-11, `case ${k}: max(n, m)·SW₂²`);
    }
    assert.equal(literal, 5, 'the fixture covers equal and dividing counts');
  });
});

describe('sliced Wasserstein: properties', () => {
  test('Eq. 14: both quantities are ≥ 0, symmetric, and zero for identical sets', () => {
    fc.assert(
      fc.property(pairArb, ({ x, y, seed }) => {
        const dirs = directionsFor(x[0]!.length, seed);
        const opts = { directions: dirs };
        const dxy = val(slicedWassersteinDiscrepancy(f64(x), f64(y), opts));
        const dyx = val(slicedWassersteinDiscrepancy(f64(y), f64(x), opts));
        const sxy = val(slicedWassersteinDistance(f64(x), f64(y), opts));
        const syx = val(slicedWassersteinDistance(f64(y), f64(x), opts));
        assert.ok(dxy >= 0 && sxy >= 0, `negative: D ${dxy}, SW ${sxy}`);
        close(dyx, dxy, 1e-12, 'D symmetric');
        close(syx, sxy, 1e-12, 'SW symmetric');
        assert.equal(val(slicedWassersteinDiscrepancy(f64(x), f64(x), opts)), 0);
        assert.equal(val(slicedWassersteinDistance(f64(y), f64(y), opts)), 0);
      }),
      RUNS,
    );
  });

  test('Eq. 14: invariant to the order of the samples (permuting rows of either set)', () => {
    fc.assert(
      fc.property(
        pairArb.chain((c) => fc.record({ c: fc.constant(c), px: fc.shuffledSubarray(c.x, { minLength: c.x.length }), py: fc.shuffledSubarray(c.y, { minLength: c.y.length }) })),
        ({ c, px, py }) => {
          const opts = { directions: directionsFor(c.x[0]!.length, c.seed) };
          close(val(slicedWassersteinDiscrepancy(f64(px), f64(py), opts)), val(slicedWassersteinDiscrepancy(f64(c.x), f64(c.y), opts)), 1e-12, 'D');
          close(val(slicedWassersteinDistance(f64(px), f64(py), opts)), val(slicedWassersteinDistance(f64(c.x), f64(c.y), opts)), 1e-12, 'SW');
        },
      ),
      RUNS,
    );
  });

  test('Eq. 14: one direction gives the exact 1-D optimal transport (brute force over matchings), equal and unequal counts', () => {
    const counts = fc.constantFrom([1, 1], [3, 3], [4, 4], [5, 5], [6, 6], [2, 3], [3, 2], [1, 5], [6, 1], [2, 4], [4, 2], [6, 3], [2, 6], [6, 2]);
    fc.assert(
      fc.property(
        counts.chain(([n, m]) => fc.record({ d: fc.integer({ min: 1, max: 3 }) }).chain(({ d }) => fc.record({ x: setArb(n!, d), y: setArb(m!, d), seed: fc.nat() }))),
        fc.constantFrom(1, 2, 3),
        ({ x, y, seed }, p) => {
          const theta = directionsFor(x[0]!.length, seed, 1);
          const t = theta.dataSync();
          const [px, py] = [project(x, t), project(y, t)];
          const wpp = bruteForceWpp(px, py, p);
          close(val(slicedWassersteinDistance(f64(x), f64(y), { directions: theta, p })), wpp ** (1 / p), 1e-10, `SW_${p}`);
          // Eq. 14 sums over samples: n·W₂² for equal counts (the optimal matching cost itself), max(n, m)·W₂² otherwise.
          const w22 = bruteForceWpp(px, py, 2);
          close(val(slicedWassersteinDiscrepancy(f64(x), f64(y), { directions: theta })), Math.max(x.length, y.length) * w22, 1e-10, 'D');
        },
      ),
      { numRuns: 60 },
    );
  });

  test('Eq. 14: with a single anchor broadcast along the set, D is the mean over directions of Σ_i (θ·(x_i − z))²', () => {
    fc.assert(
      fc.property(pairArb, ({ x, y, seed }) => {
        const dirs = directionsFor(x[0]!.length, seed);
        const z = y[0]!;
        const dv = dirs.dataSync();
        const d = z.length;
        let expected = 0;
        for (let m = 0; m < 5; m++) {
          const th = dv.subarray(m * d, (m + 1) * d);
          for (const xi of x) expected += project([xi.map((v, k) => v - z[k]!)], th)[0]! ** 2;
        }
        expected /= 5;
        const broadcast = x.map(() => z);
        close(val(slicedWassersteinDiscrepancy(f64(x), f64([z]), { directions: dirs })), expected, 1e-10, 'one anchor');
        close(val(slicedWassersteinDiscrepancy(f64(x), f64(broadcast), { directions: dirs })), expected, 1e-10, 'broadcast anchor');
      }),
      RUNS,
    );
  });

  test('Eq. 14: a common scaling by c scales D by c² and SW_p by |c|; a common shift changes neither', () => {
    fc.assert(
      fc.property(pairArb, fc.double({ min: -4, max: 4, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true }), ({ x, y, seed }, c, s) => {
        const opts = { directions: directionsFor(x[0]!.length, seed) };
        const [X, Y] = [f64(x), f64(y)];
        const D = val(slicedWassersteinDiscrepancy(X, Y, opts));
        const SW = val(slicedWassersteinDistance(X, Y, { ...opts, p: 3 }));
        close(val(slicedWassersteinDiscrepancy(X.mul(c), Y.mul(c), opts)), c * c * D, 1e-10, 'D(cX, cY)');
        close(val(slicedWassersteinDistance(X.mul(c), Y.mul(c), { ...opts, p: 3 })), Math.abs(c) * SW, 1e-10, 'SW_3(cX, cY)');
        close(val(slicedWassersteinDiscrepancy(X.add(s), Y.add(s), opts)), D, 1e-9, 'D(X + s, Y + s)');
      }),
      RUNS,
    );
  });

  test('Eq. 14: with many directions D approaches Σ_i ‖x_i − z‖² / d for one anchor z (E[(θ·v)²] = ‖v‖²/d)', () => {
    const g = new Generator(7);
    const x = randn([6, 5], { dtype: 'float64', generator: g });
    const z = randn([1, 5], { dtype: 'float64', generator: g });
    const expected = val(x.sub(z).pow(2).sum()) / 5;
    const got = val(slicedWassersteinDiscrepancy(x, z, { numDirections: 20000, generator: new Generator(1) }));
    // Monte Carlo over 20 000 directions: a relative error of a few percent at most.
    close(got, expected, 0.03, 'Monte Carlo');
  });
});

describe('sliced Wasserstein: directions, batches, gradients, errors', () => {
  test('randomDirections gives seeded unit rows; the default M is 32 drawn from the generator', () => {
    const a = randomDirections(DEFAULT_NUM_DIRECTIONS, 6, { generator: new Generator(3), dtype: 'float64' });
    assert.deepEqual(a.shape, [32, 6]);
    const norms = a.pow(2).sum(-1).sqrt().dataSync();
    for (const n of norms) close(n, 1, 1e-14, 'norm');
    assert.deepEqual(Array.from(randomDirections(32, 6, { generator: new Generator(3), dtype: 'float64' }).dataSync()), Array.from(a.dataSync()));
    const x = randn([7, 6], { dtype: 'float64', generator: new Generator(1) });
    const y = randn([4, 6], { dtype: 'float64', generator: new Generator(2) });
    assert.equal(val(slicedWassersteinDiscrepancy(x, y, { generator: new Generator(3) })), val(slicedWassersteinDiscrepancy(x, y, { directions: a })));
    assert.notEqual(val(slicedWassersteinDiscrepancy(x, y, { generator: new Generator(4) })), val(slicedWassersteinDiscrepancy(x, y, { directions: a })));
  });

  test('Eq. 14: leading axes are batches (each sample its own pair of sets); y broadcasts over them', () => {
    const g = new Generator(11);
    const x = randn([2, 3, 5, 4], { dtype: 'float64', generator: g });
    const y = randn([3, 2, 4], { dtype: 'float64', generator: g });
    const dirs = directionsFor(4, 5);
    const D = slicedWassersteinDiscrepancy(x, y, { directions: dirs });
    const SW = slicedWassersteinDistance(x, y, { directions: dirs, p: 1 });
    assert.deepEqual(D.shape, [2, 3]);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        const xi = x.slice([i, i + 1], [j, j + 1]).reshape([5, 4]);
        const yj = y.slice([j, j + 1]).reshape([2, 4]);
        close(D.dataSync()[i * 3 + j]!, val(slicedWassersteinDiscrepancy(xi, yj, { directions: dirs })), 1e-12, `D[${i},${j}]`);
        close(SW.dataSync()[i * 3 + j]!, val(slicedWassersteinDistance(xi, yj, { directions: dirs, p: 1 })), 1e-12, `SW[${i},${j}]`);
      }
    }
  });

  test('float32 sets give float32 results that agree with float64 to float32 precision', () => {
    const x = randn([7, 4], { generator: new Generator(1) });
    const y = randn([3, 4], { generator: new Generator(2) });
    for (const f of [slicedWassersteinDiscrepancy, slicedWassersteinDistance]) {
      const single = f(x, y, { generator: new Generator(3) });
      const double = f(x.cast('float64'), y.cast('float64'), { generator: new Generator(3) });
      assert.equal(single.dtype, 'float32');
      close(single.item(), double.item(), 1e-5, f.name);
    }
  });

  test('Eq. 14: differentiable in both point sets (finite differences, equal and unequal counts, p = 1, 2, 3)', () => {
    for (const [n, m, seed] of [[4, 4, 1], [5, 3, 2], [2, 6, 3], [6, 1, 4]] as const) {
      const g = new Generator(seed);
      const x = randn([n, 3], { dtype: 'float64', generator: g });
      const y = randn([m, 3], { dtype: 'float64', generator: g });
      const directions = directionsFor(3, seed, 4);
      gradcheck((a, b) => slicedWassersteinDiscrepancy(a, b, { directions }), [x, y]);
      for (const p of [1, 2, 3]) gradcheck((a, b) => slicedWassersteinDistance(a, b, { directions, p }), [x, y]);
    }
    // Batched inputs too.
    const g = new Generator(9);
    gradcheck(
      (a, b) => slicedWassersteinDiscrepancy(a, b, { directions: directionsFor(2, 9, 3) }),
      [randn([2, 3, 2], { dtype: 'float64', generator: g }), randn([2, 5, 2], { dtype: 'float64', generator: g })],
    );
  });

  test('Eq. 14: at identical sets the gradient of SW_p is 0, not NaN', () => {
    const x = randn([5, 3], { dtype: 'float64', generator: new Generator(2) });
    const [, back] = vjp((a, b) => slicedWassersteinDistance(a, b, { directions: directionsFor(3, 1) }), x, x.clone());
    for (const gr of back(tensor(1, { dtype: 'float64' }))) for (const v of gr.dataSync()) assert.equal(v, 0);
  });

  test('bad input throws, naming the function and the shapes or values', () => {
    const x = randn([4, 3], { dtype: 'float64' });
    const dirs = directionsFor(3, 0);
    assert.throws(() => slicedWassersteinDiscrepancy(x, randn([4, 2])), /slicedWassersteinDiscrepancy: .*\[4, ?3\].*\[4, ?2\]/);
    assert.throws(() => slicedWassersteinDistance(randn([3]), x), /slicedWassersteinDistance: x must be \[\.\.\., samples, dim\]/);
    assert.throws(() => slicedWassersteinDiscrepancy(x, x, { directions: randn([5, 2]) }), /directions must be \[M, 3\]/);
    assert.throws(() => slicedWassersteinDiscrepancy(x, x, { directions: dirs.mul(2) }), /direction 0 has norm 2/);
    assert.throws(() => slicedWassersteinDiscrepancy(x, x, { directions: dirs, numDirections: 7 }), /numDirections 7 disagrees/);
    assert.throws(() => slicedWassersteinDiscrepancy(x, x, { numDirections: 0 }), /numDirections must be a positive integer/);
    assert.throws(() => slicedWassersteinDistance(x, x, { p: 0.5 }), /p must be finite and ≥ 1, got 0.5/);
    assert.throws(() => slicedWassersteinDistance(x, tensor([[1, 2, 3]], { dtype: 'int32' })), /y must be float, got int32/);
    assert.throws(() => slicedWassersteinDistance(randn([2, 4, 3]), randn([3, 4, 3])), /slicedWassersteinDistance/);
    assert.throws(() => randomDirections(0, 3), /randomDirections: need integers/);
  });
});
