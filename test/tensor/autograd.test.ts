// Reverse-mode autograd: PyTorch-style backward()/.grad and JAX-style grad/valueAndGrad/vjp.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Generator,
  add,
  concat,
  div,
  enableGrad,
  grad,
  isGradEnabled,
  maximum,
  mul,
  noGrad,
  pow,
  randn,
  stopGradient,
  sub,
  tensor,
  valueAndGrad,
  vjp,
  where,
  type Tensor,
} from '../../src/tensor/index.js';

function arr(t: Tensor | null | undefined): unknown {
  assert.ok(t, 'expected a tensor, got null');
  return t.toArray();
}

describe('backward() and .grad', () => {
  test('.grad accumulates across two backward() calls', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.mul(x).sum().backward();
    assert.deepEqual(arr(x.grad), [2, 4, 6]);
    x.mul(x).sum().backward();
    assert.deepEqual(arr(x.grad), [4, 8, 12]);
    x.grad = null;
    x.mul(3).sum().backward();
    assert.deepEqual(arr(x.grad), [3, 3, 3]);
  });

  test('a tensor used twice gets the sum of both gradients', () => {
    const x = tensor([1, -2], { requiresGrad: true });
    x.add(x).sum().backward();
    assert.deepEqual(arr(x.grad), [2, 2]);
    const y = tensor([3, 4], { requiresGrad: true });
    // d/dy Σ (y·y + 5y) = 2y + 5 (y reaches the sum along three paths).
    y.mul(y).add(y.mul(5)).sum().backward();
    assert.deepEqual(arr(y.grad), [11, 13]);
  });

  test('backward with an explicit gradient for a non-scalar output computes a vector-Jacobian product', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.mul(x).backward(tensor([1, 0, -1]));
    assert.deepEqual(arr(x.grad), [2, 0, -6]);
  });

  test('only leaves that require a gradient get .grad; intermediates and constants do not', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const c = tensor([5, 6]);
    const h = x.mul(c);
    assert.ok(h.requiresGrad);
    assert.ok(!h.isLeaf);
    assert.equal(h.gradFn?.name, 'mul');
    h.sum().backward();
    assert.deepEqual(arr(x.grad), [5, 6]);
    assert.equal(c.grad, null);
    assert.equal(h.grad, null);
  });

  test('noGrad records nothing; enableGrad turns recording back on inside it', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      const inner = enableGrad(() => x.mul(2));
      assert.ok(inner.requiresGrad, 'enableGrad records even inside noGrad');
      return x.mul(2).add(1);
    });
    assert.equal(isGradEnabled(), true);
    assert.equal(y.requiresGrad, false);
    assert.equal(y.gradFn, null);
    assert.deepEqual(y.toArray(), [3, 5]);
    assert.throws(() => y.sum().backward(), /does not require a gradient/);
    // The mode is restored even when fn throws.
    assert.throws(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    );
    assert.equal(isGradEnabled(), true);
  });

  test('detach() and stopGradient() cut the gradient but keep the values and storage', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const d = x.detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.buffer, x.buffer);
    assert.deepEqual(d.toArray(), [1, 2, 3]);
    // d/dx Σ x · stop(x) = stop(x), not 2x.
    x.mul(x.detach()).sum().backward();
    assert.deepEqual(arr(x.grad), [1, 2, 3]);
    x.grad = null;
    x.mul(stopGradient(x)).sum().backward();
    assert.deepEqual(arr(x.grad), [1, 2, 3]);
    // Gradients stop at a detached intermediate too.
    const w = tensor([2], { requiresGrad: true });
    const h = w.mul(w).detach().requiresGrad_();
    h.mul(3).sum().backward();
    assert.deepEqual(arr(h.grad), [3]);
    assert.equal(w.grad, null);
  });
});

describe('gradients through views and broadcasting', () => {
  test('gradients flow through slice, transpose and expand into the base', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    // slice of every other column of row 1
    x.slice([1, 2], [null, null, 2]).sum().backward();
    assert.deepEqual(arr(x.grad), [[0, 0, 0], [1, 0, 1]]);
    x.grad = null;
    // transpose: weight w[j][i] lands on x[i][j]
    const w = tensor([[1, 2], [3, 4], [5, 6]]);
    x.transpose().mul(w).sum().backward();
    assert.deepEqual(arr(x.grad), [[1, 3, 5], [2, 4, 6]]);
    x.grad = null;
    // expand: each copy adds its gradient
    const r = tensor([[1, 2, 3]], { requiresGrad: true });
    r.expand([4, 3]).mul(tensor([[1], [2], [3], [4]])).sum().backward();
    assert.deepEqual(arr(r.grad), [[10, 10, 10]]);
    // narrow, reshape, permute, squeeze, unsqueeze, flatten chained
    const z = tensor([[[1, 2]], [[3, 4]]], { requiresGrad: true }); // [2,1,2]
    z.squeeze(1).permute([1, 0]).unsqueeze(0).flatten().narrow(0, 1, 2).mul(tensor([10, 100])).sum().backward();
    // flatten of the [2,2] transpose is [z00, z10, z01, z11]; entries 1..2 are z10 and z01.
    assert.deepEqual(arr(z.grad), [[[0, 100]], [[10, 0]]]);
  });

  test('a view of a view of a leaf sends the gradient to the leaf only', () => {
    const x = tensor([1, 2, 3, 4], { requiresGrad: true });
    const v = x.reshape([2, 2]).transpose();
    v.mul(v).sum().backward();
    assert.deepEqual(arr(x.grad), [2, 4, 6, 8]);
  });

  test('gradients of broadcast binary ops have each input’s shape', () => {
    const ops: [string, (a: Tensor, b: Tensor) => Tensor][] = [
      ['add', add],
      ['sub', sub],
      ['mul', mul],
      ['div', div],
      ['pow', pow],
      ['maximum', maximum],
      ['where', (a, b) => where(tensor([true, false, true, false]), a, b)],
    ];
    for (const [name, op] of ops) {
      const a = tensor([[1.5], [2], [2.5]], { requiresGrad: true }); // [3,1]
      const b = tensor([0.5, 1, 1.5, 2], { requiresGrad: true }); // [4]
      const out = op(a, b);
      assert.deepEqual(out.shape, [3, 4], name);
      out.sum().backward();
      assert.deepEqual(a.grad?.shape, [3, 1], `${name}: grad of a`);
      assert.deepEqual(b.grad?.shape, [4], `${name}: grad of b`);
    }
    // And the values for add and mul: sums over the broadcast axes.
    const a = tensor([[1], [2], [3]], { requiresGrad: true });
    const b = tensor([1, 2, 3, 4], { requiresGrad: true });
    a.mul(b).sum().backward();
    assert.deepEqual(arr(a.grad), [[10], [10], [10]]);
    assert.deepEqual(arr(b.grad), [6, 6, 6, 6]);
    const s = tensor(2, { requiresGrad: true });
    s.add(tensor([[1, 2], [3, 4]])).sum().backward();
    assert.deepEqual(s.grad?.shape, []);
    assert.equal(s.grad?.item(), 4);
  });

  test('a chain of 100,000 ops backpropagates without a stack overflow', () => {
    const x = tensor([1], { requiresGrad: true, dtype: 'float64' });
    let y = x;
    for (let i = 0; i < 100_000; i++) y = i % 2 === 0 ? y.add(1) : y.mul(1);
    y.sum().backward();
    assert.equal(y.item(), 1 + 50_000);
    assert.deepEqual(arr(x.grad), [1]);
  });
});

describe('functional transforms', () => {
  test('grad of a scalar function with respect to argument 0', () => {
    const dsin = grad((x) => x.sin().sum());
    const g = dsin(tensor([0, 1], { dtype: 'float64' })) as Tensor;
    assert.deepEqual(g.toArray(), [1, Math.cos(1)]);
    // grad leaves its inputs untouched.
    const x = tensor([3]);
    grad((t) => t.mul(t).sum())(x);
    assert.equal(x.requiresGrad, false);
    assert.equal(x.grad, null);
  });

  test('grad with argnums (a single index, and an array giving an array)', () => {
    const f = (x: Tensor, y: Tensor) => x.mul(y).add(y.mul(y)).sum();
    const x = tensor([1, 2]);
    const y = tensor([3, 4]);
    assert.deepEqual((grad(f, { argnums: 1 })(x, y) as Tensor).toArray(), [1 + 6, 2 + 8]);
    const both = grad(f, { argnums: [0, 1] })(x, y) as Tensor[];
    assert.ok(Array.isArray(both));
    assert.deepEqual(both.map((t) => t.toArray()), [[3, 4], [7, 10]]);
    const single = grad(f, { argnums: [1] })(x, y);
    assert.ok(Array.isArray(single) && single.length === 1);
    assert.throws(() => grad(f, { argnums: 2 })(x, y), /argnum 2 is out of range for 2 arguments/);
  });

  test('valueAndGrad returns the value and the gradient(s)', () => {
    const f = (w: Tensor, b: Tensor) => w.mul(w).sum().add(b.sum().mul(3));
    const [v, g] = valueAndGrad(f)(tensor([1, 2]), tensor([5]));
    assert.equal(v.item(), 1 + 4 + 15);
    assert.equal(v.requiresGrad, false);
    assert.deepEqual((g as Tensor).toArray(), [2, 4]);
    const [v2, gs] = valueAndGrad(f, { argnums: [0, 1] })(tensor([1, 2]), tensor([5]));
    assert.equal(v2.item(), 20);
    assert.deepEqual((gs as Tensor[]).map((t) => t.toArray()), [[2, 4], [3]]);
    // An argument the function ignores gets zeros.
    const [, z] = valueAndGrad((a: Tensor, _b: Tensor) => a.sum(), { argnums: 1 })(tensor([1]), tensor([[1, 2]]));
    assert.deepEqual((z as Tensor).toArray(), [[0, 0]]);
  });

  test('grad refuses a function with a non-scalar result', () => {
    assert.throws(() => grad((x) => x.mul(2))(tensor([1, 2])), { message: 'grad: the function must return a scalar, got shape [2]' });
  });

  test('vjp of a non-scalar output maps a cotangent to each primal', () => {
    // f(x, y) = [x0·y0, x1·y1, x0 + y1]
    const f = (x: Tensor, y: Tensor) => concat([x.mul(y), x.narrow(0, 0, 1).add(y.narrow(0, 1, 1))]);
    const x = tensor([1, 2]);
    const y = tensor([3, 4]);
    const [out, back] = vjp(f, x, y);
    assert.deepEqual(out.toArray(), [3, 8, 5]);
    assert.equal(out.requiresGrad, false);
    const [gx, gy] = back(tensor([1, 10, 100]));
    assert.deepEqual(gx!.toArray(), [3 + 100, 40]);
    assert.deepEqual(gy!.toArray(), [1, 20 + 100]);
    // The pullback can be called again with another cotangent.
    const [gx2] = back(tensor([0, 1, 0]));
    assert.deepEqual(gx2!.toArray(), [0, 4]);
    // A matrix-valued function: the vjp of x ↦ x·Aᵀ is g·A.
    const A = tensor([[1, 2], [3, 4], [5, 6]]);
    const [m, backM] = vjp((v) => v.matmul(A.transpose()), tensor([[1, 1]]));
    assert.deepEqual(m.toArray(), [[3, 7, 11]]);
    assert.deepEqual(backM(tensor([[1, 0, 1]]))[0]!.toArray(), [[6, 8]]);
  });

  test('results are deterministic: the same seeded computation gives bit-identical values and gradients', () => {
    const run = () => {
      const g = new Generator(31);
      const w = randn([8, 5], { generator: g, requiresGrad: true });
      const x = randn([16, 8], { generator: g });
      const loss = x.matmul(w).tanh().softmax(-1).mul(randn([16, 5], { generator: g })).sum();
      loss.backward();
      return [Array.from(loss.dataSync()), Array.from(w.grad!.dataSync())];
    };
    assert.deepEqual(run(), run());
  });
});
