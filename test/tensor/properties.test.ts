// Property tests of the tensor ops: fast-check generates shapes and values, and each property is checked
// against an independent reference written here in plain float64 JavaScript (or against an identity the
// op must satisfy).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  add,
  argmax,
  concat,
  cumsum,
  div,
  eq,
  expand,
  ge,
  gather,
  gt,
  le,
  logicalAnd,
  logicalOr,
  logsumexp,
  lt,
  matmul,
  maskedFill,
  max,
  maximum,
  minimum,
  mul,
  ne,
  oneHot,
  permute,
  pow,
  reshape,
  scatterAdd,
  softmax,
  sort,
  split,
  std,
  sub,
  sum,
  tensor,
  topk,
  tril,
  triu,
  variance,
  where,
  zeros,
  type DType,
  type Tensor,
  type TensorLike,
} from '../../src/tensor/index.js';

/** Scales every property's number of runs (e.g. PROPERTY_RUNS_SCALE=20 for a long soak). */
const SCALE = Number(process.env['PROPERTY_RUNS_SCALE'] ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
const RUNS = runs(200);

// --- plain-JS helpers ------------------------------------------------------------------------------------

function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i]!;
    flat = Math.floor(flat / shape[i]!);
  }
  return idx;
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  let f = 0;
  for (let i = 0; i < shape.length; i++) f = f * shape[i]! + idx[i]!;
  return f;
}

/** NumPy broadcasting of two shapes, written independently of the library. */
function broadcastJS(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error('not broadcastable');
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** The flat index into an operand of `shape` that broadcasting maps output index `idx` to. */
function broadcastIndex(idx: readonly number[], shape: readonly number[]): number {
  const lead = idx.length - shape.length;
  let f = 0;
  for (let i = 0; i < shape.length; i++) f = f * shape[i]! + (shape[i] === 1 ? 0 : idx[lead + i]!);
  return f;
}

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function close(actual: number, expected: number, atol: number, rtol: number, what: string): void {
  if (Number.isNaN(expected) && Number.isNaN(actual)) return;
  assert.ok(
    Math.abs(actual - expected) <= atol + rtol * Math.abs(expected),
    `${what}: ${actual} differs from ${expected} by ${Math.abs(actual - expected)}`,
  );
}

function allClose(actual: readonly number[], expected: readonly number[], atol: number, rtol: number, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: lengths differ`);
  for (let i = 0; i < expected.length; i++) close(actual[i]!, expected[i]!, atol, rtol, `${what}[${i}]`);
}

function f64(data: readonly number[], shape: readonly number[], dtype: DType = 'float64'): Tensor {
  return tensor(Float64Array.from(data), { shape, dtype });
}

type Layout = 'contiguous' | 'transposed' | 'sliced';

/** A tensor with the given logical values, laid out contiguously, as a transposed view, or as a strided slice. */
function withLayout(data: readonly number[], shape: readonly number[], layout: Layout, dtype: DType): Tensor {
  if (layout === 'transposed' && shape.length >= 2) {
    // Storage holds the transpose; transposing the view back gives the wanted values with swapped strides.
    return f64(data, shape, dtype).transpose(-2, -1).contiguous().transpose(-2, -1);
  }
  if (layout === 'sliced' && shape.length >= 1) {
    // Every other element of a wider last axis, starting at 1; the gaps hold garbage that must not leak.
    const last = shape[shape.length - 1]!;
    const wideShape = [...shape.slice(0, -1), 2 * last + 1];
    const wide = new Array<number>(sizeOfShape(wideShape)).fill(1e6);
    data.forEach((v, i) => {
      const idx = unravel(i, shape);
      idx[idx.length - 1] = 1 + 2 * idx[idx.length - 1]!;
      wide[ravel(idx, wideShape)] = v;
    });
    const ranges = shape.map((_, i) => (i === shape.length - 1 ? ([1, null, 2] as const) : null));
    const t = f64(wide, wideShape, dtype).slice(...ranges);
    assert.deepEqual(t.shape, shape);
    return t;
  }
  return f64(data, shape, dtype);
}

// --- arbitraries ----------------------------------------------------------------------------------------

const dim = fc.integer({ min: 1, max: 4 });
/** Like `dim`, but sometimes 0 (empty axes). */
const dimOrZero = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: dim });
const layoutArb = fc.constantFrom<Layout>('contiguous', 'transposed', 'sliced');
const shapeArb = (minRank = 0, maxRank = 4, d: fc.Arbitrary<number> = dim) => fc.array(d, { minLength: minRank, maxLength: maxRank });
const smallValue = fc.integer({ min: -8, max: 8 }).map((v) => v / 2);

/** A shape and matching row-major values. */
function shapedArb(shape: fc.Arbitrary<number[]>, value: fc.Arbitrary<number> = smallValue) {
  return shape.chain((s) =>
    fc.record({
      shape: fc.constant(s),
      data: fc.array(value, { minLength: sizeOfShape(s), maxLength: sizeOfShape(s) }),
      layout: layoutArb,
    }),
  );
}

/** A shape that broadcasts to `out`: some leading axes dropped, some remaining axes set to 1. */
function broadcastableTo(out: readonly number[]) {
  return fc
    .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
}

function valuesFor(shape: readonly number[], value: fc.Arbitrary<number> = smallValue) {
  return fc.array(value, { minLength: sizeOfShape(shape), maxLength: sizeOfShape(shape) });
}

/** Two shapes that broadcast together, with values for each. */
const broadcastPairArb = shapeArb(0, 4, dimOrZero)
  .chain((out) => fc.tuple(broadcastableTo(out), broadcastableTo(out)))
  .chain(([sa, sb]) => fc.record({ sa: fc.constant(sa), sb: fc.constant(sb), da: valuesFor(sa), db: valuesFor(sb) }));

/** A permutation of 0..n-1. */
function permutationArb(n: number) {
  const ids = Array.from({ length: n }, (_, i) => i);
  return fc.shuffledSubarray(ids, { minLength: n, maxLength: n });
}

// --- broadcasting ---------------------------------------------------------------------------------------

type BinaryFn = (a: TensorLike, b: TensorLike) => Tensor;
const BINARY: [string, BinaryFn, (a: number, b: number) => number][] = [
  ['add', add, (a, b) => a + b],
  ['sub', sub, (a, b) => a - b],
  ['mul', mul, (a, b) => a * b],
  ['div', div, (a, b) => a / b],
  ['pow', pow, (a, b) => Math.pow(a, b)],
  ['maximum', maximum, (a, b) => Math.max(a, b)],
  ['minimum', minimum, (a, b) => Math.min(a, b)],
  ['eq', eq, (a, b) => +(a === b)],
  ['ne', ne, (a, b) => +(a !== b)],
  ['lt', lt, (a, b) => +(a < b)],
  ['le', le, (a, b) => +(a <= b)],
  ['gt', gt, (a, b) => +(a > b)],
  ['ge', ge, (a, b) => +(a >= b)],
  ['logicalAnd', logicalAnd, (a, b) => +(a !== 0 && b !== 0)],
  ['logicalOr', logicalOr, (a, b) => +(a !== 0 || b !== 0)],
];

describe('broadcasting', () => {
  for (const [name, op, ref] of BINARY) {
    test(`${name}: broadcasting agrees with expanding both operands first, and with a float64 reference`, () => {
      fc.assert(
        fc.property(broadcastPairArb, ({ sa, sb, da, db }) => {
          const a = f64(da, sa);
          const b = f64(db, sb);
          const shape = broadcastJS(sa, sb);
          const direct = op(a, b);
          const expanded = op(expand(a, shape), expand(b, shape));
          assert.deepEqual(direct.shape, shape);
          assert.deepEqual(expanded.shape, shape);
          assert.equal(direct.dtype, expanded.dtype);
          assert.deepEqual(direct.dataSync(), expanded.dataSync());
          const expected = Array.from({ length: sizeOfShape(shape) }, (_, i) => {
            const idx = unravel(i, shape);
            return ref(da[broadcastIndex(idx, sa)]!, db[broadcastIndex(idx, sb)]!);
          });
          assert.deepEqual(values(direct), expected);
        }),
        { numRuns: runs(100) },
      );
    });
  }

  test('int32 add/mul/maximum broadcast like float64 and keep int32', () => {
    const intPair = shapeArb(0, 3)
      .chain((out) => fc.tuple(broadcastableTo(out), broadcastableTo(out)))
      .chain(([sa, sb]) =>
        fc.record({
          sa: fc.constant(sa),
          sb: fc.constant(sb),
          da: valuesFor(sa, fc.integer({ min: -9, max: 9 })),
          db: valuesFor(sb, fc.integer({ min: -9, max: 9 })),
        }),
      );
    fc.assert(
      fc.property(intPair, ({ sa, sb, da, db }) => {
        const shape = broadcastJS(sa, sb);
        for (const op of [add, mul, maximum]) {
          const r = op(f64(da, sa, 'int32'), f64(db, sb, 'int32'));
          assert.equal(r.dtype, 'int32');
          // (+ 0 turns float −0 into the 0 an integer holds)
          const ref = values(op(f64(da, sa).expand(shape), f64(db, sb).expand(shape))).map((v) => v + 0);
          assert.deepEqual(values(r), ref);
        }
      }),
      { numRuns: runs(100) },
    );
  });
});

// --- reshape and permute --------------------------------------------------------------------------------

/** A random shape with the same number of elements as `shape`: its prime factors regrouped, with 1s. */
function compatibleShapeArb(shape: readonly number[]) {
  const primes: number[] = [];
  for (let d of shape) {
    for (let p = 2; d > 1; ) {
      if (d % p === 0) {
        primes.push(p);
        d /= p;
      } else p++;
    }
  }
  return fc
    .tuple(
      fc.shuffledSubarray(primes, { minLength: primes.length, maxLength: primes.length }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: primes.length, maxLength: primes.length }),
      fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 2 }),
    )
    .map(([ps, groups, ones]) => {
      const byGroup = new Map<number, number>();
      ps.forEach((p, i) => byGroup.set(groups[i]!, (byGroup.get(groups[i]!) ?? 1) * p));
      const out = [...byGroup.keys()].sort().map((g) => byGroup.get(g)!);
      for (const at of ones) out.splice(Math.min(at, out.length), 0, 1);
      return out;
    });
}

describe('reshape and permute', () => {
  test('permute by p then by the inverse of p is the identity, and moves element idx to idx∘p', () => {
    const arb = shapedArb(shapeArb(0, 5, dimOrZero)).chain((x) => fc.record({ x: fc.constant(x), p: permutationArb(x.shape.length) }));
    fc.assert(
      fc.property(arb, ({ x: { shape, data, layout }, p }) => {
        const x = withLayout(data, shape, layout, 'float64');
        const y = permute(x, p);
        assert.deepEqual(y.shape, p.map((a) => shape[a]!));
        const yv = values(y);
        for (let i = 0; i < yv.length; i++) {
          const yi = unravel(i, y.shape);
          const xi = new Array<number>(shape.length);
          p.forEach((a, k) => (xi[a] = yi[k]!));
          assert.equal(yv[i], data[ravel(xi, shape)]);
        }
        const inv = new Array<number>(p.length);
        p.forEach((a, i) => (inv[a] = i));
        const back = permute(y, inv);
        assert.deepEqual(back.shape, shape);
        assert.deepEqual(back.strides, x.strides);
        assert.deepEqual(values(back), data);
      }),
      { numRuns: RUNS },
    );
  });

  test('reshape to a random compatible shape and back is the identity (contiguous and permuted inputs)', () => {
    const arb = shapedArb(shapeArb(0, 4)).chain((x) =>
      fc.record({ x: fc.constant(x), to: compatibleShapeArb(x.shape), p: permutationArb(x.shape.length) }),
    );
    fc.assert(
      fc.property(arb, ({ x: { shape, data, layout }, to, p }) => {
        assert.equal(sizeOfShape(to), sizeOfShape(shape));
        const x = withLayout(data, shape, layout, 'float64');
        const y = reshape(x, to);
        assert.deepEqual(y.shape, to);
        assert.deepEqual(values(y), data, 'reshape keeps row-major order');
        assert.deepEqual(values(reshape(y, shape)), data);
        // The same through a permuted (generally non-contiguous) view: row-major order of the view is kept.
        const xp = permute(x, p);
        const xpv = values(xp);
        const yp = reshape(xp, to);
        assert.deepEqual(values(yp), xpv);
        const back = reshape(yp, xp.shape);
        assert.deepEqual(back.shape, xp.shape);
        assert.deepEqual(values(back), xpv);
        // One dimension given as -1 is inferred.
        if (to.length > 0) {
          const hole = to.slice();
          hole[to.length - 1] = -1;
          assert.deepEqual(reshape(x, hole).shape, to);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

// --- softmax and logsumexp ------------------------------------------------------------------------------

describe('softmax and logsumexp', () => {
  const wide = fc.double({ min: -30, max: 30, noNaN: true });
  const arb = shapedArb(shapeArb(1, 3), wide).chain((x) =>
    fc.record({ x: fc.constant(x), axis: fc.integer({ min: 0, max: x.shape.length - 1 }), c: fc.double({ min: -1000, max: 1000, noNaN: true }) }),
  );

  test('softmax rows sum to 1, entries lie in [0, 1], and softmax(x + c) = softmax(x)', () => {
    fc.assert(
      fc.property(arb, ({ x: { shape, data, layout }, axis, c }) => {
        const x = withLayout(data, shape, layout, 'float64');
        const y = softmax(x, axis);
        assert.deepEqual(y.shape, shape);
        const yv = values(y);
        for (const v of yv) assert.ok(v >= 0 && v <= 1, `softmax value ${v} outside [0, 1]`);
        allClose(values(sum(y, axis)), new Array(sizeOfShape(shape) / shape[axis]!).fill(1), 1e-12, 0, 'row sum');
        const shifted = softmax(add(x, c), axis);
        allClose(values(shifted), yv, 1e-9, 1e-9, 'shifted');
        // Negative axes name the same axis.
        assert.deepEqual(values(softmax(x, axis - shape.length)), yv);
      }),
      { numRuns: RUNS },
    );
  });

  test('softmax of float32 rows sums to 1 within float32 precision', () => {
    fc.assert(
      fc.property(arb, ({ x: { shape, data, layout }, axis }) => {
        const y = softmax(withLayout(data, shape, layout, 'float32'), axis);
        assert.equal(y.dtype, 'float32');
        allClose(values(sum(y, axis)), new Array(sizeOfShape(shape) / shape[axis]!).fill(1), 1e-5, 0, 'row sum');
      }),
      { numRuns: runs(100) },
    );
  });

  /** m + log Σ exp(x − m) over one axis, in float64. */
  function logsumexpRef(data: readonly number[], shape: readonly number[], axis: number): number[] {
    const outShape = shape.filter((_, i) => i !== axis);
    return Array.from({ length: sizeOfShape(outShape) }, (_, o) => {
      const oi = unravel(o, outShape);
      const lane: number[] = [];
      for (let j = 0; j < shape[axis]!; j++) {
        const idx = oi.slice();
        idx.splice(axis, 0, j);
        lane.push(data[ravel(idx, shape)]!);
      }
      const m = Math.max(...lane);
      return m + Math.log(lane.reduce((s, v) => s + Math.exp(v - m), 0));
    });
  }

  test('logsumexp is exact and finite for inputs around ±1e4 (float64 and float32)', () => {
    const big = fc.tuple(fc.constantFrom(-1e4, 1e4), fc.double({ min: -20, max: 20, noNaN: true })).map(([b, d]) => b + d);
    const arbBig = shapedArb(shapeArb(1, 3), big).chain((x) =>
      fc.record({ x: fc.constant(x), axis: fc.integer({ min: 0, max: x.shape.length - 1 }) }),
    );
    fc.assert(
      fc.property(arbBig, ({ x: { shape, data, layout }, axis }) => {
        const r64 = logsumexp(withLayout(data, shape, layout, 'float64'), axis);
        const ref64 = logsumexpRef(data, shape, axis);
        for (const v of values(r64)) assert.ok(Number.isFinite(v), `logsumexp gave ${v}`);
        allClose(values(r64), ref64, 1e-9, 1e-14, 'float64');
        const rounded = data.map(Math.fround);
        const r32 = logsumexp(f64(rounded, shape, 'float32'), axis);
        for (const v of values(r32)) assert.ok(Number.isFinite(v), `float32 logsumexp gave ${v}`);
        // A float32 result near 1e4 is exact to about its last bit (ulp(1e4) ≈ 1e-3).
        allClose(values(r32), logsumexpRef(rounded, shape, axis), 2e-3, 0, 'float32');
      }),
      { numRuns: RUNS },
    );
    assert.equal(logsumexp(tensor([-1e4, -1e4, -1e4], { dtype: 'float64' })).item(), -1e4 + Math.log(3));
    assert.equal(logsumexp(tensor([1e4, 1e4], { dtype: 'float64' })).item(), 1e4 + Math.log(2));
  });
});

// --- sort and topk --------------------------------------------------------------------------------------

describe('sort and topk', () => {
  // Few distinct keys, so that ties are common.
  const key = fc.integer({ min: 0, max: 3 }).map((v) => v - 1.5);
  const arb = shapedArb(shapeArb(1, 3), key).chain((x) =>
    fc.record({ x: fc.constant(x), axis: fc.integer({ min: 0, max: x.shape.length - 1 }), descending: fc.boolean() }),
  );

  /** The lanes of `data` along `axis`, each as a list of values. */
  function lanesOf(data: readonly number[], shape: readonly number[], axis: number): number[][] {
    const outer = shape.filter((_, i) => i !== axis);
    return Array.from({ length: sizeOfShape(outer) }, (_, o) => {
      const oi = unravel(o, outer);
      return Array.from({ length: shape[axis]! }, (_, j) => {
        const idx = oi.slice();
        idx.splice(axis, 0, j);
        return data[ravel(idx, shape)]!;
      });
    });
  }

  test('sort returns a sorted permutation and is stable in both directions', () => {
    fc.assert(
      fc.property(arb, ({ x: { shape, data, layout }, axis, descending }) => {
        const { values: v, indices: ix } = sort(withLayout(data, shape, layout, 'float64'), axis, descending);
        assert.equal(ix.dtype, 'int32');
        assert.deepEqual(v.shape, shape);
        const vl = lanesOf(values(v), shape, axis);
        const il = lanesOf(values(ix), shape, axis);
        lanesOf(data, shape, axis).forEach((lane, r) => {
          const idx = il[r]!;
          assert.deepEqual([...idx].sort((p, q) => p - q), lane.map((_, i) => i), 'indices are a permutation');
          idx.forEach((src, j) => assert.equal(vl[r]![j], lane[src]!, 'values[j] = x[indices[j]]'));
          for (let j = 1; j < idx.length; j++) {
            const [prev, cur] = [vl[r]![j - 1]!, vl[r]![j]!];
            assert.ok(descending ? prev >= cur : prev <= cur, 'sorted');
            if (prev === cur) assert.ok(idx[j - 1]! < idx[j]!, 'equal keys keep their original order');
          }
        });
      }),
      { numRuns: RUNS },
    );
  });

  test('topk agrees with sort (values and indices, largest and smallest)', () => {
    const arbK = arb.chain((a) => fc.record({ a: fc.constant(a), k: fc.integer({ min: 0, max: a.x.shape[a.axis]! }) }));
    fc.assert(
      fc.property(arbK, ({ a: { x: { shape, data, layout }, axis, descending: largest }, k }) => {
        const x = withLayout(data, shape, layout, 'float64');
        const t = topk(x, k, axis, largest);
        const s = sort(x, axis, largest);
        const expectShape = shape.slice();
        expectShape[axis] = k;
        assert.deepEqual(t.values.shape, expectShape);
        assert.deepEqual(values(t.values), values(s.values.narrow(axis, 0, k)));
        assert.deepEqual(values(t.indices), values(s.indices.narrow(axis, 0, k)));
        // And independently: the k values are the k largest (smallest) of each lane.
        const tl = lanesOf(values(t.values), expectShape, axis);
        lanesOf(data, shape, axis).forEach((lane, r) => {
          const ref = [...lane].sort((p, q) => (largest ? q - p : p - q)).slice(0, k);
          assert.deepEqual(tl[r], ref);
        });
      }),
      { numRuns: RUNS },
    );
  });
});

// --- matmul ---------------------------------------------------------------------------------------------

/** torch.matmul semantics by a plain float64 triple loop. */
function matmulRef(a: readonly number[], as: readonly number[], b: readonly number[], bs: readonly number[]): { data: number[]; shape: number[] } {
  const a2 = as.length === 1 ? [1, as[0]!] : as.slice();
  const b2 = bs.length === 1 ? [bs[0]!, 1] : bs.slice();
  const [M, K] = a2.slice(-2) as [number, number];
  const N = b2[b2.length - 1]!;
  const ba = a2.slice(0, -2);
  const bb = b2.slice(0, -2);
  const batch = broadcastJS(ba, bb);
  const data: number[] = [];
  for (let bi = 0; bi < sizeOfShape(batch); bi++) {
    const idx = unravel(bi, batch);
    const aBase = broadcastIndex(idx, ba) * M * K;
    const bBase = broadcastIndex(idx, bb) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[aBase + i * K + k]! * b[bBase + k * N + j]!;
        data.push(s);
      }
    }
  }
  const shape = [...batch, M, N];
  if (bs.length === 1) shape.splice(shape.length - 1, 1);
  if (as.length === 1) shape.splice(shape.length - (bs.length === 1 ? 1 : 2), 1);
  return { data, shape };
}

describe('matmul', () => {
  const layout = layoutArb;
  const caseArb = fc
    .record({
      batch: shapeArb(0, 2),
      M: fc.integer({ min: 1, max: 6 }),
      K: fc.integer({ min: 1, max: 7 }),
      N: fc.integer({ min: 1, max: 6 }),
      aVec: fc.boolean(),
      bVec: fc.boolean(),
      la: layout,
      lb: layout,
      dtype: fc.constantFrom<DType>('float64', 'float32'),
    })
    .chain((c) =>
      fc.tuple(fc.constant(c), broadcastableTo(c.batch), broadcastableTo(c.batch)).chain(([c, ba, bb]) => {
        const as = c.aVec ? [c.K] : [...ba, c.M, c.K];
        const bs = c.bVec ? [c.K] : [...bb, c.K, c.N];
        const v = fc.double({ min: -1, max: 1, noNaN: true });
        return fc.record({ c: fc.constant(c), as: fc.constant(as), bs: fc.constant(bs), da: valuesFor(as, v), db: valuesFor(bs, v) });
      }),
    );

  test('matmul agrees with a float64 triple loop (broadcast batches, 1-D operands, transposed and sliced inputs)', () => {
    fc.assert(
      fc.property(caseArb, ({ c, as, bs, da, db }) => {
        const round = c.dtype === 'float32' ? (v: number) => Math.fround(v) : (v: number) => v;
        const [ra, rb] = [da.map(round), db.map(round)];
        const a = withLayout(ra, as, c.la, c.dtype);
        const b = withLayout(rb, bs, c.lb, c.dtype);
        assert.deepEqual(values(a), ra);
        assert.deepEqual(values(b), rb);
        const out = matmul(a, b);
        const ref = matmulRef(ra, as, rb, bs);
        assert.deepEqual(out.shape, ref.shape);
        assert.equal(out.dtype, c.dtype);
        const tol = c.dtype === 'float64' ? 1e-13 : 2e-6;
        allClose(values(out), ref.data, tol * c.K, 0, `${c.dtype} ${JSON.stringify(as)} @ ${JSON.stringify(bs)}`);
      }),
      { numRuns: runs(400) },
    );
  });

  test('matmul of larger operands (several register tiles, ragged edges) agrees with the triple loop', () => {
    const arb = fc
      .record({ M: fc.integer({ min: 5, max: 23 }), K: fc.integer({ min: 1, max: 40 }), N: fc.integer({ min: 5, max: 23 }), seed: fc.integer() })
      .map(({ M, K, N, seed }) => {
        let s = seed >>> 0;
        const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
        return { M, K, N, da: Array.from({ length: M * K }, rnd), db: Array.from({ length: K * N }, rnd) };
      });
    fc.assert(
      fc.property(arb, ({ M, K, N, da, db }) => {
        const out = matmul(withLayout(da, [M, K], 'transposed', 'float64'), f64(db, [K, N]));
        allClose(values(out), matmulRef(da, [M, K], db, [K, N]).data, 1e-12, 0);
      }),
      { numRuns: runs(20) },
    );
  });
});

// --- gather / scatterAdd --------------------------------------------------------------------------------

describe('gather and scatterAdd', () => {
  const arb = shapeArb(1, 3)
    .chain((xs) =>
      fc.tuple(
        fc.constant(xs),
        fc.integer({ min: 0, max: xs.length - 1 }),
        fc.tuple(...xs.map((d) => fc.integer({ min: 1, max: d }))),
        fc.integer({ min: 1, max: 5 }),
      ),
    )
    .chain(([xs, axis, sub, along]) => {
      const is = sub.slice();
      is[axis] = along;
      const v = fc.double({ min: -2, max: 2, noNaN: true });
      return fc.record({
        xs: fc.constant(xs),
        axis: fc.constant(axis),
        is: fc.constant(is),
        x: valuesFor(xs, v),
        idx: valuesFor(is, fc.integer({ min: 0, max: xs[axis]! - 1 })),
        y: valuesFor(is, v),
        lx: layoutArb,
        li: layoutArb,
        ly: layoutArb,
      });
    });

  test('scatterAdd is the adjoint of gather: <gather(x, axis, idx), y> = <x, scatterAdd(zeros, axis, idx, y)>', () => {
    fc.assert(
      fc.property(arb, ({ xs, axis, is, x, idx, y, lx, li, ly }) => {
        const index = withLayout(idx, is, li, 'int32');
        const g = gather(withLayout(x, xs, lx, 'float64'), axis, index);
        assert.deepEqual(g.shape, is);
        // gather itself against its definition: out[p] = x[p with p[axis] := idx[p]].
        values(g).forEach((v, i) => {
          const p = unravel(i, is);
          p[axis] = idx[i]!;
          assert.equal(v, x[ravel(p, xs)]);
        });
        const s = scatterAdd(zeros(xs, { dtype: 'float64' }), axis, index, withLayout(y, is, ly, 'float64'));
        assert.deepEqual(s.shape, xs);
        const lhs = values(g).reduce((acc, v, i) => acc + v * y[i]!, 0);
        const rhs = values(s).reduce((acc, v, i) => acc + v * x[i]!, 0);
        close(lhs, rhs, 1e-10, 1e-12, 'inner products');
      }),
      { numRuns: RUNS },
    );
  });
});

// --- reductions -----------------------------------------------------------------------------------------

describe('reductions', () => {
  const arb = shapedArb(shapeArb(1, 4), fc.integer({ min: -50, max: 50 })).chain((x) =>
    fc.record({ x: fc.constant(x), axis: fc.integer({ min: 0, max: x.shape.length - 1 }) }),
  );

  test('the last element of cumsum along an axis equals sum along it', () => {
    fc.assert(
      fc.property(arb, ({ x: { shape, data, layout }, axis }) => {
        for (const dtype of ['float64', 'float32', 'int32'] as const) {
          const x = withLayout(data, shape, layout, dtype);
          const c = cumsum(x, axis);
          assert.deepEqual(c.shape, shape);
          const last = c.narrow(axis, shape[axis]! - 1, 1).squeeze(axis);
          assert.deepEqual(values(last), values(sum(x, axis)));
          // And the first element is the input's first slice.
          assert.deepEqual(values(c.narrow(axis, 0, 1)), values(x.narrow(axis, 0, 1)));
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('var and std match the hand formulas with correction 0 and 1 (one axis, several axes, all)', () => {
    const real = fc.double({ min: -10, max: 10, noNaN: true });
    const arbV = shapedArb(shapeArb(1, 3), real).chain((x) =>
      fc.record({ x: fc.constant(x), axes: fc.subarray(x.shape.map((_, i) => i), { minLength: 1 }) }),
    );
    fc.assert(
      fc.property(arbV, ({ x: { shape, data, layout }, axes }) => {
        const x = withLayout(data, shape, layout, 'float64');
        const outShape = shape.filter((_, i) => !axes.includes(i));
        const groups = new Map<number, number[]>();
        data.forEach((v, i) => {
          const idx = unravel(i, shape).filter((_, a) => !axes.includes(a));
          const o = ravel(idx, outShape);
          groups.set(o, [...(groups.get(o) ?? []), v]);
        });
        for (const correction of [0, 1]) {
          const ref = Array.from({ length: sizeOfShape(outShape) }, (_, o) => {
            const g = groups.get(o)!;
            const m = g.reduce((s, v) => s + v, 0) / g.length;
            return g.reduce((s, v) => s + (v - m) ** 2, 0) / Math.max(0, g.length - correction);
          });
          const v = variance(x, axes, { correction });
          assert.deepEqual(v.shape, outShape);
          allClose(values(v), ref, 1e-10, 1e-10, `var correction ${correction}`);
          allClose(values(std(x, axes, { correction })), ref.map(Math.sqrt), 1e-10, 1e-10, `std correction ${correction}`);
          assert.deepEqual(variance(x, axes, { correction, keepdim: true }).shape, shape.map((d, i) => (axes.includes(i) ? 1 : d)));
        }
        // The default is Bessel's correction.
        assert.deepEqual(values(variance(x, axes)), values(variance(x, axes, { correction: 1 })));
      }),
      { numRuns: RUNS },
    );
  });

  test('argmax points at the first position of the maximum (along an axis and flattened)', () => {
    const arbA = shapedArb(shapeArb(1, 3), fc.integer({ min: 0, max: 3 })).chain((x) =>
      fc.record({ x: fc.constant(x), axis: fc.integer({ min: 0, max: x.shape.length - 1 }) }),
    );
    fc.assert(
      fc.property(arbA, ({ x: { shape, data, layout }, axis }) => {
        const x = withLayout(data, shape, layout, 'float64');
        const am = argmax(x, axis);
        const mx = values(max(x, axis));
        const outShape = shape.filter((_, i) => i !== axis);
        assert.deepEqual(am.shape, outShape);
        values(am).forEach((j, o) => {
          const lane = Array.from({ length: shape[axis]! }, (_, k) => {
            const idx = unravel(o, outShape);
            idx.splice(axis, 0, k);
            return data[ravel(idx, shape)]!;
          });
          assert.equal(lane[j], mx[o]);
          assert.equal(j, lane.indexOf(Math.max(...lane)));
        });
        assert.equal(argmax(x).item(), data.indexOf(Math.max(...data)));
      }),
      { numRuns: RUNS },
    );
  });
});

// --- assembly and masks ---------------------------------------------------------------------------------

describe('assembly and masks', () => {
  test('tril(x, k) + triu(x, k + 1) = x, and each keeps only its side of diagonal k', () => {
    const arb = shapedArb(shapeArb(2, 4)).chain((x) => fc.record({ x: fc.constant(x), k: fc.integer({ min: -5, max: 5 }) }));
    fc.assert(
      fc.property(arb, ({ x: { shape, data, layout }, k }) => {
        const x = withLayout(data, shape, layout, 'float64');
        const lo = tril(x, k);
        const hi = triu(x, k + 1);
        assert.deepEqual(values(add(lo, hi)), data);
        values(lo).forEach((v, i) => {
          const idx = unravel(i, shape);
          const [r, c] = idx.slice(-2) as [number, number];
          assert.equal(v, c - r <= k ? data[i] : 0);
        });
      }),
      { numRuns: RUNS },
    );
  });

  test('oneHot rows sum to 1 and put the 1 at the index', () => {
    const arb = fc
      .tuple(shapeArb(0, 3), fc.integer({ min: 1, max: 6 }))
      .chain(([s, n]) => fc.record({ s: fc.constant(s), n: fc.constant(n), idx: valuesFor(s, fc.integer({ min: 0, max: n - 1 })) }));
    fc.assert(
      fc.property(arb, ({ s, n, idx }) => {
        const h = oneHot(f64(idx, s, 'int32'), n);
        assert.deepEqual(h.shape, [...s, n]);
        assert.equal(h.dtype, 'int32');
        assert.deepEqual(values(sum(h, -1)), new Array(idx.length).fill(1));
        assert.deepEqual(values(argmax(h, -1)), idx);
        const hf = oneHot(f64(idx, s, 'int32'), n, 'float64');
        assert.equal(hf.dtype, 'float64');
        assert.deepEqual(values(hf), values(h));
      }),
      { numRuns: RUNS },
    );
  });

  test('concat then split by the same sizes round-trips, and split then concat is the identity', () => {
    const arb = shapeArb(1, 3, dimOrZero)
      .chain((s) =>
        fc.tuple(
          fc.constant(s),
          fc.integer({ min: 0, max: s.length - 1 }),
          fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
        ),
      )
      .chain(([s, axis, lens]) => {
        const shapes = lens.map((l) => s.map((d, i) => (i === axis ? l : d)));
        return fc.record({ axis: fc.constant(axis), shapes: fc.constant(shapes), datas: fc.tuple(...shapes.map((sh) => valuesFor(sh))) });
      });
    fc.assert(
      fc.property(arb, ({ axis, shapes, datas }) => {
        const parts = shapes.map((sh, i) => f64(datas[i]!, sh));
        const whole = concat(parts, axis);
        const total = shapes.reduce((p, sh) => p + sh[axis]!, 0);
        assert.deepEqual(whole.shape, shapes[0]!.map((d, i) => (i === axis ? total : d)));
        const back = split(whole, shapes.map((sh) => sh[axis]!), axis);
        assert.equal(back.length, parts.length);
        back.forEach((b, i) => {
          assert.deepEqual(b.shape, shapes[i]);
          assert.deepEqual(values(b), datas[i]);
        });
        if (total > 0) assert.deepEqual(values(concat(split(whole, 2, axis), axis)), values(whole));
      }),
      { numRuns: RUNS },
    );
  });

  test('where picks a where the condition holds and b elsewhere, broadcasting all three', () => {
    const arb = shapeArb(0, 3, dimOrZero)
      .chain((out) => fc.tuple(broadcastableTo(out), broadcastableTo(out), broadcastableTo(out)))
      .chain(([sc, sa, sb]) =>
        fc.record({
          sc: fc.constant(sc),
          sa: fc.constant(sa),
          sb: fc.constant(sb),
          dc: valuesFor(sc, fc.boolean().map(Number)),
          da: valuesFor(sa),
          db: valuesFor(sb),
        }),
      );
    fc.assert(
      fc.property(arb, ({ sc, sa, sb, dc, da, db }) => {
        const shape = broadcastJS(broadcastJS(sc, sa), sb);
        const r = where(f64(dc, sc, 'bool'), f64(da, sa), f64(db, sb));
        assert.deepEqual(r.shape, shape);
        values(r).forEach((v, i) => {
          const idx = unravel(i, shape);
          assert.equal(v, dc[broadcastIndex(idx, sc)] ? da[broadcastIndex(idx, sa)] : db[broadcastIndex(idx, sb)]);
        });
      }),
      { numRuns: RUNS },
    );
  });

  test('maskedFill(x, mask, v) = where(mask, v, x), with the mask broadcast to x and x dtype kept', () => {
    const arb = shapeArb(0, 3)
      .chain((s) => fc.tuple(fc.constant(s), broadcastableTo(s)))
      .chain(([s, sm]) =>
        fc.record({ s: fc.constant(s), sm: fc.constant(sm), dx: valuesFor(s), dm: valuesFor(sm, fc.boolean().map(Number)), v: smallValue }),
      );
    fc.assert(
      fc.property(arb, ({ s, sm, dx, dm, v }) => {
        for (const dtype of ['float64', 'float32'] as const) {
          const r = maskedFill(f64(dx, s, dtype), f64(dm, sm, 'bool'), v);
          assert.deepEqual(r.shape, s);
          assert.equal(r.dtype, dtype);
          values(r).forEach((got, i) => assert.equal(got, dm[broadcastIndex(unravel(i, s), sm)] ? v : dx[i]));
        }
      }),
      { numRuns: RUNS },
    );
  });
});
