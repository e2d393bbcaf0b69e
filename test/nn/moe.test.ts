// Tests of the top-K mixture of experts: routing invariants (K experts, weights summing to 1, groups
// sharing their routing), sparse execution (only chosen experts run, unchosen ones get no gradient), the
// output against a token-by-token reference, and the auxiliary losses against their definitions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { eye, Generator, noGrad, randn, tensor, type Tensor } from '../../src/tensor/index.js';
import {
  MLP,
  Module,
  MixtureOfExperts,
  loadBalancingLoss,
  routerZLoss,
  topKGating,
  type GatingMode,
  type MixtureOfExpertsOptions,
} from '../../src/nn/index.js';
import { gradcheck } from '../helpers/gradcheck.js';

const D = 3;
const HIDDEN = 4;
const f64 = (t: Tensor): number[] => Array.from(t.dataSync(), Number);

/** An expert that counts its calls and the rows it saw. */
class CountingExpert extends Module {
  readonly inner: MLP;
  readonly rowsSeen: number[] = [];
  constructor(generator: Generator) {
    super();
    this.inner = this.module('inner', new MLP(D, HIDDEN, { dtype: 'float64', generator }));
  }
  forward(x: Tensor): Tensor {
    this.rowsSeen.push(x.shape[0]!);
    return this.inner.forward(x);
  }
}

interface Config {
  numExperts: number;
  topK: number;
  gating: GatingMode;
  renormalize: boolean;
  shape: number[];
  groupSize: number | 'sequence';
  seed: number;
}

const configArb: fc.Arbitrary<Config> = fc
  .integer({ min: 1, max: 5 })
  .chain((numExperts) =>
    fc.record({
      numExperts: fc.constant(numExperts),
      topK: fc.integer({ min: 1, max: numExperts }),
      gating: fc.constantFrom<GatingMode>('topk-softmax', 'softmax-topk'),
      renormalize: fc.boolean(),
      shape: fc.oneof(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 })), fc.tuple(fc.integer({ min: 1, max: 6 }))),
      groupSize: fc.constantFrom<number | 'sequence'>(1, 1, 2, 3, 'sequence'),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    }),
  );

function setup(c: Config, extra: MixtureOfExpertsOptions = {}): { moe: MixtureOfExperts; x: Tensor; counters: CountingExpert[] } {
  const generator = new Generator(c.seed);
  const counters: CountingExpert[] = [];
  const moe = new MixtureOfExperts(D, c.numExperts, {
    topK: c.topK,
    gating: c.gating,
    renormalize: c.renormalize,
    groupSize: c.groupSize,
    dtype: 'float64',
    generator,
    expert: () => {
      const e = new CountingExpert(generator);
      counters.push(e);
      return e;
    },
    ...extra,
  });
  // Larger router weights than the default init, so that routing differs between tokens.
  noGrad(() => moe.router.weight.copy_(moe.router.weight.mul(4)));
  const x = randn([...c.shape, D], { dtype: 'float64', generator });
  return { moe, x, counters };
}

/** Row i (of the flattened tokens) of a [n, K] routing tensor. */
function rowOf(t: Tensor, k: number): (i: number) => number[] {
  const v = f64(t);
  return (i) => v.slice(i * k, (i + 1) * k);
}

/** Σ_k w_k·expert_k(x_i) for each token i, one token and one expert call at a time, in plain float64. */
function slowReference(moe: MixtureOfExperts, x: Tensor, indices: Tensor, weights: Tensor): number[] {
  const n = x.size / D;
  const rows = x.reshape([n, D]);
  const idx = rowOf(indices, moe.topK);
  const w = rowOf(weights, moe.topK);
  const out: number[] = [];
  noGrad(() => {
    for (let i = 0; i < n; i++) {
      const acc = new Array<number>(moe.outDim).fill(0);
      idx(i).forEach((e, k) => {
        const y = f64(moe.experts.at(e).forward(rows.narrow(0, i, 1)));
        y.forEach((v, j) => (acc[j]! += w(i)[k]! * v));
      });
      out.push(...acc);
    }
  });
  return out;
}

function assertClose(actual: readonly number[], expected: readonly number[], tol = 1e-10, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= tol * (1 + Math.abs(expected[i]!)), `${what}[${i}]: ${a} vs ${expected[i]}`));
}

const softmaxJs = (v: readonly number[]): number[] => {
  const m = Math.max(...v);
  const e = v.map((a) => Math.exp(a - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((a) => a / s);
};

/** Token logits x·Wᵀ in plain float64. */
function tokenLogits(moe: MixtureOfExperts, x: Tensor): number[][] {
  const n = x.size / D;
  const xv = f64(x);
  const w = f64(moe.router.weight);
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: moe.numExperts }, (_, e) => {
      let s = 0;
      for (let j = 0; j < D; j++) s += xv[i * D + j]! * w[e * D + j]!;
      return s;
    }),
  );
}

const RUNS = { numRuns: 25 };

describe('MixtureOfExperts: routing', () => {
  test('exactly K distinct experts get non-zero weight per routing unit', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const { moe, x } = setup(c);
        const { routing } = moe.forward(x);
        const n = x.size / D;
        assert.deepEqual(routing.indices.shape, [...c.shape, c.topK]);
        const idx = rowOf(routing.indices, c.topK);
        const w = rowOf(routing.weights, c.topK);
        for (let i = 0; i < n; i++) {
          // The dense weight vector over all experts has exactly K non-zero entries.
          const dense = new Array<number>(c.numExperts).fill(0);
          idx(i).forEach((e, k) => {
            assert.ok(e >= 0 && e < c.numExperts);
            dense[e]! += w(i)[k]!;
          });
          assert.equal(new Set(idx(i)).size, c.topK, `token ${i}: experts ${idx(i)} repeat`);
          assert.equal(dense.filter((v) => v !== 0).length, c.topK);
          assert.ok(w(i).every((v) => v > 0));
        }
      }),
      RUNS,
    );
  });

  test('the weights sum to 1 per unit (topk-softmax, and softmax-topk with renormalize)', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const { moe, x } = setup(c);
        const { routing } = moe.forward(x);
        const w = rowOf(routing.weights, c.topK);
        const probs = f64(routing.probs);
        const idx = rowOf(routing.indices, c.topK);
        const unit = f64(routing.unitOf);
        for (let i = 0; i < x.size / D; i++) {
          const s = w(i).reduce((p, q) => p + q, 0);
          if (c.gating === 'topk-softmax' || c.renormalize) assert.ok(Math.abs(s - 1) < 1e-12, `token ${i}: weights sum to ${s}`);
          else {
            // Without renormalisation the weights are the chosen router probabilities themselves.
            const u = unit[i]!;
            assertClose(w(i), idx(i).map((e) => probs[u * c.numExperts + e]!), 1e-14, `token ${i} weights`);
            assert.ok(s <= 1 + 1e-12);
          }
        }
      }),
      RUNS,
    );
  });

  test('the chosen experts are the K largest logits of the unit, best first', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const { moe, x } = setup(c);
        const { routing } = moe.forward(x);
        const logits = f64(routing.logits);
        const idx = rowOf(routing.indices, c.topK);
        const unit = f64(routing.unitOf);
        for (let i = 0; i < x.size / D; i++) {
          const row = logits.slice(unit[i]! * c.numExperts, (unit[i]! + 1) * c.numExperts);
          const order = row.map((v, e) => [v, e] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
          assert.deepEqual(idx(i), order.slice(0, c.topK).map(([, e]) => e));
        }
      }),
      RUNS,
    );
  });

  test('group routing gives every token of a group the same experts and weights, from its mean logits', () => {
    fc.assert(
      fc.property(
        configArb,
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 12, maxLength: 12 }),
        fc.boolean(),
        (c, ids, explicit) => {
          const { moe, x } = setup(c);
          const n = x.size / D;
          const lead = c.shape;
          const groupIds = explicit ? ids.slice(0, n).map((g) => 5 * g - 3) : null; // arbitrary, sparse ids
          const { routing } = moe.forward(x, groupIds ? { groups: tensor(Int32Array.from(groupIds), { shape: lead, dtype: 'int32' }) } : {});
          const t = lead[lead.length - 1]!;
          const size = c.groupSize === 'sequence' ? t : c.groupSize;
          // The expected partition of tokens into units.
          const key = (i: number): string => (groupIds ? String(groupIds[i]) : `${Math.floor(i / t)}:${Math.floor((i % t) / size)}`);
          const unit = f64(routing.unitOf);
          const idx = rowOf(routing.indices, c.topK);
          const w = rowOf(routing.weights, c.topK);
          const logits = tokenLogits(moe, x);
          const members = new Map<string, number[]>();
          for (let i = 0; i < n; i++) members.set(key(i), [...(members.get(key(i)) ?? []), i]);
          assert.equal(routing.logits.shape[0], members.size, 'one unit per group');
          for (const tokens of members.values()) {
            const [first, ...rest] = tokens as [number, ...number[]];
            for (const i of rest) {
              assert.equal(unit[i], unit[first]);
              assert.deepEqual(idx(i), idx(first));
              assert.deepEqual(w(i), w(first));
            }
            const mean = logits[first]!.map((_, e) => tokens.reduce((s, i) => s + logits[i]![e]!, 0) / tokens.length);
            const got = f64(routing.logits).slice(unit[first]! * c.numExperts, (unit[first]! + 1) * c.numExperts);
            assertClose(got, mean, 1e-12, 'group logits');
          }
          // Units are numbered in increasing group-id order.
          if (groupIds) {
            const sorted = [...new Set(groupIds)].sort((a, b) => a - b);
            for (let i = 0; i < n; i++) assert.equal(unit[i], sorted.indexOf(groupIds[i]!));
          }
        },
      ),
      RUNS,
    );
  });
});

describe('MixtureOfExperts: sparse execution', () => {
  test('only selected experts run, once each, on exactly the tokens routed to them', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const { moe, x, counters } = setup(c);
        const { routing } = moe.forward(x);
        const routed = new Array<number>(c.numExperts).fill(0);
        for (const e of f64(routing.indices)) routed[e]! += 1;
        counters.forEach((ex, e) => assert.deepEqual(ex.rowsSeen, routed[e] === 0 ? [] : [routed[e]], `expert ${e}`));
      }),
      RUNS,
    );
  });

  test('the output equals Σ_k w_k·expert_k(x) computed token by token', () => {
    fc.assert(
      fc.property(configArb, fc.constantFrom<'mlp' | 'swiglu' | 'counting'>('mlp', 'swiglu', 'counting'), (c, kind) => {
        const { moe, x } = setup(c, kind === 'counting' ? {} : { expert: kind, hidden: HIDDEN });
        const { output, routing } = moe.forward(x);
        assert.deepEqual(output.shape, [...c.shape, D]);
        assertClose(f64(output), slowReference(moe, x, routing.indices, routing.weights), 1e-12, 'output');
      }),
      RUNS,
    );
  });

  test('an expert chosen by no unit gets a null gradient (never touched); every chosen expert gets one', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const { moe, x } = setup(c);
        const { output, auxLoss, zLoss, routing } = moe.forward(x);
        output.mul(output).sum().add(auxLoss).add(zLoss).backward();
        const chosen = new Set(f64(routing.indices));
        for (let e = 0; e < c.numExperts; e++) {
          const grads = moe.experts.at(e).parameters().map((p) => p.grad);
          if (chosen.has(e)) assert.ok(grads.some((g) => g !== null && f64(g).some((v) => v !== 0)), `chosen expert ${e} got no gradient`);
          else assert.ok(grads.every((g) => g === null), `unchosen expert ${e} got a gradient`);
        }
        assert.ok(moe.router.weight.grad !== null);
      }),
      RUNS,
    );
  });

  test('an expert the router never picks stays bit-identical under a gradient step', () => {
    // Expert 2 has a hugely negative router row: no token can choose it with K = 2 of 4.
    const c: Config = { numExperts: 4, topK: 2, gating: 'topk-softmax', renormalize: false, shape: [2, 5], groupSize: 1, seed: 7 };
    const { moe, x } = setup(c);
    noGrad(() => moe.router.weight.copy_(tensor([[1, 0, 0], [0, 1, 0], [-1e3, -1e3, -1e3], [0, 0, 1]], { dtype: 'float64' })));
    const x2 = x.abs().add(0.1); // positive inputs, so the -1e3 row always loses
    const before = moe.experts.at(2).parameters().map(f64);
    const { output } = moe.forward(x2);
    output.sum().backward();
    noGrad(() => {
      for (const p of moe.parameters()) if (p.grad) p.copy_(p.sub(p.grad.mul(0.1)));
    });
    assert.deepEqual(moe.experts.at(2).parameters().map(f64), before);
    assert.ok(moe.experts.at(2).parameters().every((p) => p.grad === null));
  });

  test('K = numExperts equals the softmax-weighted dense mixture Σ_e softmax(logits)_e·expert_e(x)', () => {
    fc.assert(
      fc.property(configArb, (c0) => {
        const c = { ...c0, topK: c0.numExperts, groupSize: 1, renormalize: true };
        const { moe, x } = setup(c);
        const { output } = moe.forward(x);
        const n = x.size / D;
        const rows = x.reshape([n, D]);
        const p = tokenLogits(moe, x).map(softmaxJs);
        const ys = noGrad(() => Array.from({ length: c.numExperts }, (_, e) => f64(moe.experts.at(e).forward(rows))));
        const expected = Array.from({ length: n * D }, (_, j) => ys.reduce((s, y, e) => s + p[Math.floor(j / D)]![e]! * y[j]!, 0));
        assertClose(f64(output), expected, 1e-12, 'dense mixture');
      }),
      RUNS,
    );
  });

  test('output gradients w.r.t. the input and the router match finite differences (float64)', () => {
    for (const seed of [1, 2, 3]) {
      const gating = seed === 2 ? 'softmax-topk' : 'topk-softmax';
      const c: Config = { numExperts: 4, topK: 2, gating, renormalize: false, shape: [2, 3], groupSize: seed === 3 ? 2 : 1, seed };
      const { moe, x } = setup(c);
      const cot = randn([...c.shape, D], { dtype: 'float64', generator: new Generator(seed + 100) });
      const loss = (): Tensor => moe.forward(x).output.mul(cot).sum();
      finiteDifferenceCheck(moe, moe.router.weight, loss);
      // Input gradient, with the router weight fixed: the module is closed over, x is the variable.
      gradcheck((xi) => moe.forward(xi).output, [x], { seed });
    }
  });
});

/**
 * Central differences of `loss` in each element of the parameter `p` of `moe`, against `p.grad` from
 * `loss().backward()`. The routing choice must not change under the perturbation (asserted).
 */
function finiteDifferenceCheck(moe: MixtureOfExperts, p: Tensor, loss: () => Tensor, eps = 1e-6): void {
  moe.zeroGrad();
  loss().backward();
  const analytic = f64(p.grad!);
  const base = f64(p);
  const set = (v: number[]): void => noGrad(() => void p.copy_(tensor(Float64Array.from(v), { shape: p.shape, dtype: 'float64' })));
  const numeric = base.map((_, j) => {
    const at = (d: number): number => {
      const v = base.slice();
      v[j]! += d;
      set(v);
      return noGrad(() => loss().item());
    };
    const g = (at(eps) - at(-eps)) / (2 * eps);
    set(base);
    return g;
  });
  assertClose(analytic, numeric, 1e-6, 'router gradient');
}

describe('MixtureOfExperts: auxiliary losses', () => {
  test('the load-balancing loss is N·Σ f_i·P_i, with f counting top-K assignments / K', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const { moe, x } = setup(c);
        const { auxLoss, routing } = moe.forward(x);
        const units = routing.logits.shape[0]!;
        const probs = f64(routing.probs);
        const f = new Array<number>(c.numExperts).fill(0);
        const first = new Map<number, number>();
        f64(routing.unitOf).forEach((u, i) => first.has(u) || first.set(u, i));
        const idx = rowOf(routing.indices, c.topK);
        for (const i of first.values()) for (const e of idx(i)) f[e]! += 1 / (units * c.topK);
        const P = f.map((_, e) => Array.from({ length: units }, (_, u) => probs[u * c.numExperts + e]!).reduce((s, v) => s + v, 0) / units);
        const expected = c.numExperts * f.reduce((s, fi, e) => s + fi * P[e]!, 0);
        assertClose([auxLoss.item()], [expected], 1e-12, 'aux loss');
        assert.deepEqual(auxLoss.shape, []);
      }),
      RUNS,
    );
  });

  test('the load-balancing loss is 1 (its minimum) for perfectly uniform routing, and N when one expert takes all', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }))),
        fc.uniqueArray(fc.integer({ min: -20, max: 20 }), { minLength: 6, maxLength: 6 }),
        ([n, k], raw) => {
        // Units whose logits are the n cyclic shifts of one vector: P is exactly uniform, and each expert is
        // chosen by exactly k of the n units, so f is uniform too.
        const v = raw.slice(0, n).map((a) => 0.15 * a); // distinct: no ties
        const logits = tensor(
          Array.from({ length: n }, (_, u) => Array.from({ length: n }, (_, e) => v[(e + u) % n]!)),
          { dtype: 'float64' },
        );
        const g = topKGating(logits, k);
        assertClose([loadBalancingLoss(g.probs, g.indices).item()], [1], 1e-12, 'uniform');
        // The module gives the same with an identity router on those rows.
        const moe = new MixtureOfExperts(n, n, { topK: k, dtype: 'float64', hidden: 2, generator: new Generator(0) });
        noGrad(() => moe.router.weight.copy_(eye(n, n, { dtype: 'float64' })));
        assertClose([moe.forward(logits).auxLoss.item()], [1], 1e-12, 'uniform (module)');
        // Collapse: every unit puts (almost) all its mass on expert 0 and chooses it (K = 1).
        const collapsed = tensor(Array.from({ length: 4 }, () => Array.from({ length: n }, (_, e) => (e === 0 ? 50 : 0))), { dtype: 'float64' });
        const gc = topKGating(collapsed, 1);
        assertClose([loadBalancingLoss(gc.probs, gc.indices).item()], [n], 1e-9, 'collapsed');
      }),
      RUNS,
    );
  });

  test('N·Σ P_i² (the loss when f = P) is at least 1, with equality at uniform', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: 1, maxLength: 6 }), (v) => {
        const p = softmaxJs(v);
        assert.ok(p.length * p.reduce((s, q) => s + q * q, 0) >= 1 - 1e-12);
        const u = softmaxJs(v.map(() => v[0]!));
        assert.ok(Math.abs(u.length * u.reduce((s, q) => s + q * q, 0) - 1) < 1e-12);
      }),
    );
  });

  test('the load-balancing loss is differentiable w.r.t. the router through P_i (finite differences, float64)', () => {
    // Through the pure function, logits as the variable (f_i fixed by the chosen indices).
    for (const seed of [0, 1, 2]) {
      const logits = randn([5, 4], { dtype: 'float64', generator: new Generator(seed) });
      const idx = topKGating(logits, 2).indices;
      gradcheck((l) => loadBalancingLoss(topKGating(l, 2).probs, idx), [logits], { seed });
    }
    // Through the module, the router weight as the variable (token and group routing).
    for (const groupSize of [1, 2, 'sequence'] as const) {
      const c: Config = { numExperts: 4, topK: 2, gating: 'topk-softmax', renormalize: false, shape: [2, 4], groupSize, seed: 11 };
      const { moe, x } = setup(c);
      finiteDifferenceCheck(moe, moe.router.weight, () => moe.forward(x).auxLoss);
      assert.ok(f64(moe.router.weight.grad!).some((g) => g !== 0), 'the aux loss reaches the router');
    }
  });

  test('the z-loss is the mean over units of logsumexp(logits)², and its router gradient matches finite differences', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const { moe, x } = setup(c);
        const { zLoss, routing } = moe.forward(x);
        const units = routing.logits.shape[0]!;
        const l = f64(routing.logits);
        let expected = 0;
        for (let u = 0; u < units; u++) {
          const row = l.slice(u * c.numExperts, (u + 1) * c.numExperts);
          const m = Math.max(...row);
          const lse = m + Math.log(row.reduce((s, a) => s + Math.exp(a - m), 0));
          expected += (lse * lse) / units;
        }
        assertClose([zLoss.item()], [expected], 1e-12, 'z-loss');
      }),
      RUNS,
    );
    // logsumexp of [0, 0] is ln 2, of [ln 3, ln 3] is ln 6.
    const z = routerZLoss(tensor([[0, 0], [Math.log(3), Math.log(3)]], { dtype: 'float64' })).item();
    assertClose([z], [(Math.LN2 ** 2 + Math.log(6) ** 2) / 2], 1e-12);
    const { moe, x } = setup({ numExperts: 3, topK: 1, gating: 'topk-softmax', renormalize: false, shape: [5], groupSize: 1, seed: 3 });
    finiteDifferenceCheck(moe, moe.router.weight, () => moe.forward(x).zLoss);
  });
});

describe('MixtureOfExperts: construction and errors', () => {
  test('the router has no bias by default, and parameters have PyTorch-like dotted names', () => {
    const moe = new MixtureOfExperts(4, 3, { expert: 'swiglu', hidden: 8 });
    const names = moe.namedParameters().map(([n]) => n);
    assert.equal(moe.router.bias, null);
    assert.ok(names.includes('router.weight') && !names.includes('router.bias'));
    assert.ok(names.includes('experts.2.gateProj.weight'));
    assert.equal(moe.topK, 2);
    assert.ok(new MixtureOfExperts(4, 3, { routerBias: true }).router.bias !== null);
    assert.ok(new MixtureOfExperts(4, 3).namedParameters().some(([n]) => n === 'experts.0.fc1.weight'));
    const y = moe.forward(randn([2, 5, 4]));
    assert.deepEqual(y.output.shape, [2, 5, 4]);
    assert.equal(y.output.dtype, 'float32');
  });

  test('empty input gives an empty output and zero losses', () => {
    const moe = new MixtureOfExperts(3, 4, { topK: 2 });
    const r = moe.forward(tensor(new Float32Array(0), { shape: [0, 3] }));
    assert.deepEqual(r.output.shape, [0, 3]);
    assert.equal(r.auxLoss.item(), 0);
    assert.equal(r.zLoss.item(), 0);
  });

  test('bad shapes and options throw with the layer name', () => {
    const moe = new MixtureOfExperts(3, 4);
    assert.throws(() => moe.forward(randn([2, 4])), /MixtureOfExperts: expected input \[B, T, 3\] or \[N, 3\], got \[2,4\]/);
    assert.throws(() => moe.forward(randn([3])), /MixtureOfExperts: expected input/);
    assert.throws(() => moe.forward(randn([2, 3]), { groups: tensor([0, 1, 2], { dtype: 'int32' }) }), /MixtureOfExperts: groups \[3\]/);
    assert.throws(() => moe.forward(randn([2, 3]), { groups: tensor([0, 1]) }), /groups must be int32/);
    assert.throws(() => new MixtureOfExperts(3, 4, { topK: 5 }), /topK must be an integer in \[1, 4\]/);
    assert.throws(() => new MixtureOfExperts(3, 0), /numExperts must be a positive integer/);
    assert.throws(() => new MixtureOfExperts(3, 2, { groupSize: 0 }), /groupSize/);
    const wrong = new MixtureOfExperts(3, 2, { topK: 2, expert: () => new MLP(3, 4, { outDim: 5 }) });
    assert.throws(() => wrong.forward(randn([2, 3])), /expert 0 mapped \[2, 3\] to \[2,5\], expected \[2, 3\]/);
  });
});
