/**
 * Finite-difference gradient checks (float64) of views (reshape, view, transpose, permute, expand,
 * squeeze, unsqueeze, slice, narrow, flatten, contiguous, clone) and of indexing and assembly (gather,
 * indexSelect, scatterAdd, concat, stack, split, chunk, tril, triu, sort, topk, maskedFill), on random
 * shapes, with inputs that are themselves non-contiguous views.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import {
  chunk,
  clone,
  concat,
  contiguous,
  expand,
  flatten,
  gather,
  indexSelect,
  maskedFill,
  narrow,
  permute,
  reshape,
  scatterAdd,
  slice,
  sort,
  split,
  squeeze,
  stack,
  tensor,
  topk,
  transpose,
  tril,
  triu,
  unsqueeze,
  view,
  type SliceRange,
  type Tensor,
} from '../../src/tensor/index.js';
import {
  RUNS,
  axisArb,
  build,
  gradcheck,
  seedArb,
  separatedArb,
  shapeArb,
  specOf,
  uniform,
  valuesArb,
  type TensorSpec,
} from '../helpers/gradcheck.js';

const smooth = (n: number): fc.Arbitrary<number[]> => valuesArb(n, uniform(-2, 2));
const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** A spec of a random shape (rank `minRank`–3) with smooth values, with something derived from its shape. */
function withShape<T>(derive: (shape: number[]) => fc.Arbitrary<T>, minRank = 0, data = smooth): fc.Arbitrary<[TensorSpec, T]> {
  return shapeArb({ minRank }).chain((shape) => fc.tuple(specOf(shape, data), derive(shape)));
}

/** Weighs each piece differently and joins them in reverse order, so a mixed-up piece shows. */
function reassemble(pieces: Tensor[], axis: number): Tensor {
  return concat(
    pieces.map((p, i) => p.mul(i + 1)).reverse(),
    axis,
  );
}

/** An int32 tensor of `shape` with entries in `[0, bound)`. */
function indexArb(shape: number[], bound: number): fc.Arbitrary<Tensor> {
  const n = sizeOf(shape);
  return fc.array(fc.integer({ min: 0, max: bound - 1 }), { minLength: n, maxLength: n }).map((v) => tensor(Int32Array.from(v), { shape }));
}

// --- views ---------------------------------------------------------------------------------------------

test('gradcheck: reshape to a reordering of the dims (maybe with −1) matches finite differences', () => {
  const arb = withShape((shape) =>
    fc.tuple(fc.shuffledSubarray(shape, { minLength: shape.length, maxLength: shape.length }), fc.integer({ min: -1, max: shape.length - 1 })).map(([dims, infer]) => {
      const target: number[] = [1, ...dims];
      if (infer >= 0) target[infer + 1] = -1;
      return target;
    }),
  );
  fc.assert(
    fc.property(arb, seedArb, ([x, target], seed) => {
      gradcheck((t) => reshape(t, target).mul(reshape(t, target)), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: view of a contiguous tensor and of a narrowed one matches finite differences', () => {
  const arb = shapeArb({ minRank: 1 }).chain((shape) =>
    fc.tuple(specOf(shape, smooth, fc.constant('contiguous')), fc.integer({ min: 0, max: shape[0]! - 1 })).chain(([x, start]) =>
      fc.tuple(fc.constant(x), fc.constant(start), fc.integer({ min: 1, max: shape[0]! - start })),
    ),
  );
  fc.assert(
    fc.property(arb, seedArb, ([x, start, length], seed) => {
      const f = (t: Tensor): Tensor => {
        const flat = view(t, [-1]);
        // Narrowing the first axis keeps the rest contiguous, so the trailing axes can still be merged.
        const rows = view(narrow(t, 0, start, length), [length, -1]);
        return concat([flat.sin(), rows.reshape([-1]).exp()]);
      };
      gradcheck(f, [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: transpose of two random axes matches finite differences', () => {
  const arb = withShape((shape) => fc.tuple(axisArb(shape.length), axisArb(shape.length)), 1);
  fc.assert(
    fc.property(arb, seedArb, ([x, [a, b]], seed) => {
      gradcheck((t) => transpose(t, a, b).tanh(), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: permute by a random permutation matches finite differences', () => {
  const arb = withShape((shape) => {
    const axes = shape.map((_, i) => i);
    return fc.shuffledSubarray(axes, { minLength: axes.length, maxLength: axes.length });
  });
  fc.assert(
    fc.property(arb, seedArb, ([x, dims], seed) => {
      gradcheck((t) => permute(t, dims).mul(permute(t, dims).cos()), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: expand of size-1 and new leading axes (sums the gradient back) matches finite differences', () => {
  const full = shapeArb().chain((target) =>
    fc
      .tuple(fc.integer({ min: 0, max: target.length }), fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length }), fc.boolean())
      .chain(([drop, ones, keepMinusOne]) => {
        const small = target.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
        const request = target.map((d, i) => (keepMinusOne && i >= drop && !ones[i] ? -1 : d));
        return fc.tuple(specOf(small, smooth), fc.constant(request));
      }),
  );
  fc.assert(
    fc.property(full, seedArb, ([x, request], seed) => {
      gradcheck((t) => expand(t, request).sin(), [build(x)], { seed });
    }),
    RUNS,
  );
});

/** A size-1 axis of `shape` (maybe negative), or null for "all of them". */
function unitAxisArb(shape: number[]): fc.Arbitrary<number | null> {
  const units = shape.flatMap((d, i) => (d === 1 ? [i, i - shape.length] : []));
  return units.length === 0 ? fc.constant(null) : fc.option(fc.constantFrom(...units));
}

test('gradcheck: squeeze (all size-1 axes, or one) and unsqueeze match finite differences', () => {
  const arb = shapeArb({ minDim: 1, maxDim: 2 }).chain((shape) =>
    fc.tuple(
      specOf(shape, smooth),
      unitAxisArb(shape),
      fc.integer({ min: -shape.length - 1, max: shape.length }),
    ),
  );
  fc.assert(
    fc.property(arb, seedArb, ([x, axis, at], seed) => {
      const f = (t: Tensor): Tensor => {
        const s = axis === null ? squeeze(t) : squeeze(t, axis);
        return unsqueeze(s.exp(), Math.max(-s.ndim - 1, Math.min(s.ndim, at)));
      };
      gradcheck(f, [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: slice with starts, stops and steps (Python semantics) matches finite differences', () => {
  const range = (d: number): fc.Arbitrary<SliceRange> =>
    fc.oneof(
      fc.constant(null),
      fc.tuple(
        fc.option(fc.integer({ min: -d - 1, max: d + 1 })),
        fc.option(fc.integer({ min: -d - 1, max: d + 1 })),
        fc.integer({ min: 1, max: 3 }),
      ),
    );
  const arb = withShape((shape) => fc.integer({ min: 0, max: shape.length }).chain((k) => fc.tuple(...shape.slice(0, k).map(range))));
  fc.assert(
    fc.property(arb, seedArb, ([x, ranges], seed) => {
      gradcheck((t) => slice(t, ranges).mul(slice(t, ranges).add(1)), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: narrow (negative starts too) matches finite differences', () => {
  const arb = withShape(
    (shape) =>
      axisArb(shape.length).chain((axis) => {
        const d = shape[axis < 0 ? axis + shape.length : axis]!;
        return fc.integer({ min: 0, max: d }).chain((start) =>
          fc.tuple(fc.constant(axis), fc.constantFrom(start, start - d), fc.integer({ min: 0, max: d - start })),
        );
      }),
    1,
  );
  fc.assert(
    fc.property(arb, seedArb, ([x, [axis, start, length]], seed) => {
      gradcheck((t) => narrow(t, axis, start, length).exp(), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: flatten of a random axis range matches finite differences', () => {
  const arb = withShape((shape) => {
    const r = Math.max(1, shape.length);
    return fc.tuple(fc.integer({ min: 0, max: r - 1 }), fc.integer({ min: 0, max: r - 1 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
  });
  fc.assert(
    fc.property(arb, seedArb, ([x, [start, end]], seed) => {
      gradcheck((t) => flatten(t, start, end).sin(), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: contiguous and clone of views match finite differences', () => {
  fc.assert(
    fc.property(withShape(() => fc.constant(null)), seedArb, ([x], seed) => {
      gradcheck((t) => contiguous(t).mul(clone(t).exp()).add(clone(contiguous(t))), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: a chain of views (expand, permute, slice, reshape) matches finite differences', () => {
  const arb = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).chain(([m, n]) => specOf([m, 1, n], smooth));
  fc.assert(
    fc.property(arb, fc.integer({ min: 2, max: 3 }), seedArb, (x, k, seed) => {
      const f = (t: Tensor): Tensor => t.expand([-1, k, -1]).permute([2, 0, 1]).slice(null, [null, null, 2]).reshape([-1]).mul(t.sum());
      gradcheck(f, [build(x)], { seed });
    }),
    RUNS,
  );
});

// --- indexing and assembly -----------------------------------------------------------------------------

/** An axis, and an index shape for gather / scatterAdd on `shape`: off the axis no larger than `shape`. */
function gatherIndexArb(shape: number[]): fc.Arbitrary<{ axis: number; index: Tensor }> {
  return axisArb(shape.length).chain((axis) => {
    const a = axis < 0 ? axis + shape.length : axis;
    const dims = shape.map((d, i) => (i === a ? fc.integer({ min: 1, max: 4 }) : fc.integer({ min: 1, max: d })));
    return fc.tuple(...dims).chain((ishape) => indexArb(ishape, shape[a]!).map((index) => ({ axis, index })));
  });
}

test('gradcheck: gather with repeated indices (scatter-adds the gradient) matches finite differences', () => {
  fc.assert(
    fc.property(withShape(gatherIndexArb, 1), seedArb, ([x, { axis, index }], seed) => {
      gradcheck((t) => gather(t, axis, index).mul(2).exp(), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: indexSelect with repeated indices matches finite differences', () => {
  const arb = withShape(
    (shape) =>
      axisArb(shape.length).chain((axis) =>
        fc.integer({ min: 1, max: 5 }).chain((len) => indexArb([len], shape[axis < 0 ? axis + shape.length : axis]!).map((index) => ({ axis, index }))),
      ),
    1,
  );
  fc.assert(
    fc.property(arb, seedArb, ([x, { axis, index }], seed) => {
      gradcheck((t) => indexSelect(t, axis, index).sin(), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: scatterAdd matches finite differences for both base and src', () => {
  const arb = withShape(gatherIndexArb, 1).chain(([base, { axis, index }]) =>
    fc.tuple(fc.constant(base), fc.constant(axis), fc.constant(index), specOf(index.shape.slice(), smooth)),
  );
  fc.assert(
    fc.property(arb, seedArb, ([base, axis, index, src], seed) => {
      gradcheck((b, s) => scatterAdd(b, axis, index, s).mul(b), [build(base), build(src)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: concat of 1–3 tensors of different lengths along a random axis matches finite differences', () => {
  const arb = shapeArb({ minRank: 1 }).chain((shape) =>
    axisArb(shape.length).chain((axis) => {
      const a = axis < 0 ? axis + shape.length : axis;
      const piece = fc.integer({ min: 1, max: 3 }).chain((len) => specOf(shape.map((d, i) => (i === a ? len : d)), smooth));
      return fc.tuple(fc.constant(axis), fc.array(piece, { minLength: 1, maxLength: 3 }));
    }),
  );
  fc.assert(
    fc.property(arb, seedArb, ([axis, pieces], seed) => {
      gradcheck((...ts) => concat(ts, axis).exp(), pieces.map(build), { seed });
    }),
    RUNS,
  );
});

test('gradcheck: stack of 1–3 tensors along a random new axis matches finite differences', () => {
  const arb = shapeArb().chain((shape) =>
    fc.tuple(fc.integer({ min: -shape.length - 1, max: shape.length }), fc.array(specOf(shape, smooth), { minLength: 1, maxLength: 3 })),
  );
  fc.assert(
    fc.property(arb, seedArb, ([axis, pieces], seed) => {
      gradcheck((...ts) => stack(ts, axis).sin(), pieces.map(build), { seed });
    }),
    RUNS,
  );
});

test('gradcheck: split by a size and by a list of sizes (empty pieces too) matches finite differences', () => {
  const arb = withShape(
    (shape) =>
      axisArb(shape.length).chain((axis) => {
        const n = shape[axis < 0 ? axis + shape.length : axis]!;
        const bySize = fc.integer({ min: 1, max: n + 1 });
        const byList = fc.array(fc.integer({ min: 0, max: n }), { maxLength: 3 }).map((cuts) => {
          const points = [0, ...cuts.sort((p, q) => p - q), n];
          return points.slice(1).map((p, i) => p - points[i]!);
        });
        return fc.tuple(fc.constant(axis), fc.oneof(bySize, byList));
      }),
    1,
  );
  fc.assert(
    fc.property(arb, seedArb, ([x, [axis, sizes]], seed) => {
      gradcheck((t) => reassemble(split(t, sizes, axis), axis), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: chunk into 1–5 pieces matches finite differences', () => {
  const arb = withShape((shape) => fc.tuple(axisArb(shape.length), fc.integer({ min: 1, max: 5 })), 1);
  fc.assert(
    fc.property(arb, seedArb, ([x, [axis, chunks]], seed) => {
      gradcheck((t) => reassemble(chunk(t, chunks, axis), axis), [build(x)], { seed });
    }),
    RUNS,
  );
});

for (const [name, op] of [['tril', tril], ['triu', triu]] as const) {
  test(`gradcheck: ${name} with a random diagonal offset matches finite differences`, () => {
    const arb = withShape(() => fc.integer({ min: -4, max: 4 }), 2);
    fc.assert(
      fc.property(arb, seedArb, ([x, k], seed) => {
        gradcheck((t) => op(t, k).mul(t), [build(x)], { seed });
      }),
      RUNS,
    );
  });
}

test('gradcheck: sort values (no ties, either direction) match finite differences', () => {
  const arb = withShape((shape) => fc.tuple(shape.length === 0 ? fc.constant(0) : axisArb(shape.length), fc.boolean()), 0, separatedArb);
  fc.assert(
    fc.property(arb, seedArb, ([x, [axis, descending]], seed) => {
      gradcheck((t) => sort(t, axis, descending).values.mul(t.sum()), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: topk values (no ties, largest or smallest) match finite differences', () => {
  const arb = withShape(
    (shape) =>
      axisArb(shape.length).chain((axis) =>
        fc.tuple(fc.constant(axis), fc.integer({ min: 1, max: shape[axis < 0 ? axis + shape.length : axis]! }), fc.boolean()),
      ),
    1,
    separatedArb,
  );
  fc.assert(
    fc.property(arb, seedArb, ([x, [axis, k, largest]], seed) => {
      gradcheck((t) => topk(t, k, axis, largest).values.exp(), [build(x)], { seed });
    }),
    RUNS,
  );
});

test('gradcheck: maskedFill with a broadcast mask matches finite differences (to x where kept, to a tensor value where filled)', () => {
  const arb = shapeArb().chain((shape) =>
    fc
      .tuple(fc.integer({ min: 0, max: shape.length }), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }))
      .chain(([drop, ones]) => {
        const mshape = shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
        const n = sizeOf(mshape);
        return fc.tuple(specOf(shape, smooth), fc.constant(mshape), fc.array(fc.boolean(), { minLength: n, maxLength: n }), uniform(-3, 3));
      }),
  );
  fc.assert(
    fc.property(arb, seedArb, ([x, mshape, bits, value], seed) => {
      const mask = tensor(bits.map(Number), { shape: mshape, dtype: 'bool' });
      gradcheck((t) => maskedFill(t, mask, value).mul(t), [build(x)], { seed });
      // A 0-d tensor fill value collects the gradient of every filled entry.
      const v = tensor(value, { dtype: 'float64' });
      gradcheck((t, fill) => maskedFill(t, mask, fill).mul(t), [build(x), v], { seed });
    }),
    RUNS,
  );
});
