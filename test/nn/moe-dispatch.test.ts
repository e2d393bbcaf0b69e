// Dense dispatch of the mixture of experts (what asynchronous backends such as webgpu run, since it reads
// nothing back) against sparse dispatch (host routing) on the CPU: the same routing, units, outputs, losses
// and gradients, with unchosen experts getting zero gradients instead of none; and the row masks of the
// auxiliary losses that dense routing with groups needs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, randn, tensor, type Tensor } from '../../src/tensor/index.js';
import { MixtureOfExperts, loadBalancingLoss, routerZLoss, topKGating, type GatingMode, type MoEDispatch } from '../../src/nn/index.js';

const D = 3;
const f64 = (t: Tensor): number[] => Array.from(t.dataSync(), Number);

function assertClose(a: readonly number[], b: readonly number[], tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths differ`);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${x} vs ${b[i]}`));
}

interface Case {
  numExperts: number;
  topK: number;
  gating: GatingMode;
  shape: [number, number];
  groupIds: number[] | null;
  groupSize: number | 'sequence';
  seed: number;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    numExperts: fc.integer({ min: 1, max: 4 }),
    k: fc.integer({ min: 1, max: 4 }),
    gating: fc.constantFrom<GatingMode>('topk-softmax', 'softmax-topk'),
    shape: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 })),
    grouped: fc.boolean(),
    idRange: fc.integer({ min: 1, max: 6 }),
    groupSize: fc.constantFrom<number | 'sequence'>(1, 2, 'sequence'),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })
  .chain((c) =>
    fc.record({
      numExperts: fc.constant(c.numExperts),
      topK: fc.constant(Math.min(c.k, c.numExperts)),
      gating: fc.constant(c.gating),
      shape: fc.constant(c.shape),
      // Arbitrary ids, negative ones included: units are ranked in increasing id order.
      groupIds: c.grouped ? fc.array(fc.integer({ min: -3, max: c.idRange }), { minLength: c.shape[0] * c.shape[1], maxLength: c.shape[0] * c.shape[1] }) : fc.constant(null),
      groupSize: fc.constant(c.groupSize),
      seed: fc.constant(c.seed),
    }),
  );

function layer(c: Case, dispatch: MoEDispatch): MixtureOfExperts {
  return new MixtureOfExperts(D, c.numExperts, { topK: c.topK, gating: c.gating, groupSize: c.groupSize, hidden: 4, dtype: 'float64', generator: new Generator(c.seed), dispatch });
}

describe('MixtureOfExperts dispatch', () => {
  test("§5.1.2 routing: 'dense' dispatch gives 'sparse' dispatch's routing, units, output, losses and gradients; unchosen experts get zeros instead of null", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const x = randn([...c.shape, D], { generator: new Generator(c.seed + 1), dtype: 'float64' });
        const groups = c.groupIds === null ? {} : { groups: tensor(Int32Array.from(c.groupIds), { shape: c.shape, dtype: 'int32' }) };
        const [sparse, dense] = [layer(c, 'sparse'), layer(c, 'dense')];
        const [s, d] = [sparse.forward(x, groups), dense.forward(x, groups)];
        assert.deepEqual(f64(d.routing.indices), f64(s.routing.indices), 'chosen experts');
        assert.deepEqual(f64(d.routing.unitOf), f64(s.routing.unitOf), 'units, ranked by id');
        assertClose(f64(d.routing.weights), f64(s.routing.weights), 1e-12, 'weights');
        assertClose(f64(d.output), f64(s.output), 1e-12, 'output');
        assertClose([...f64(d.auxLoss), ...f64(d.zLoss)], [...f64(s.auxLoss), ...f64(s.zLoss)], 1e-12, 'losses');
        // Units counted on the device: one row of logits per token, the first `units` rows are the units.
        const units = s.routing.logits.shape[0]!;
        if (d.routing.units !== undefined) {
          const marks = f64(d.routing.units);
          assert.deepEqual(marks, marks.map((_, i) => (i < units ? 1 : 0)), 'unit rows');
          assertClose(f64(d.routing.logits.narrow(0, 0, units)), f64(s.routing.logits), 1e-12, 'unit logits');
        } else assertClose(f64(d.routing.logits), f64(s.routing.logits), 1e-12, 'unit logits');

        for (const out of [s, d]) out.output.mul(out.output).sum().add(out.auxLoss).add(out.zLoss).backward();
        assertClose(f64(dense.router.weight.grad!), f64(sparse.router.weight.grad!), 1e-10, 'router gradient');
        for (let e = 0; e < c.numExperts; e++) {
          const [ps, pd] = [sparse.experts.at(e).parameters(), dense.experts.at(e).parameters()];
          ps.forEach((p, i) => {
            const g = pd[i]!.grad;
            assert.ok(g !== null, `dense: expert ${e} has a gradient`);
            if (p.grad === null) assert.ok(f64(g).every((v) => v === 0), `expert ${e}, chosen by no unit, gets a zero gradient`);
            else assertClose(f64(g), f64(p.grad), 1e-10, `expert ${e} gradient ${i}`);
          });
        }
      }),
      { numRuns: 60 },
    );
  });

  test("'auto' dispatch is sparse on the CPU (it reads synchronously): unchosen experts keep a null gradient", () => {
    const c: Case = { numExperts: 4, topK: 1, gating: 'topk-softmax', shape: [1, 1], groupIds: null, groupSize: 1, seed: 3 };
    const moe = layer(c, 'auto');
    const out = moe.forward(randn([1, 1, D], { generator: new Generator(4), dtype: 'float64' }));
    out.output.sum().backward();
    const withGrad = [...moe.experts].map((e) => e.parameters()[0]!.grad !== null);
    assert.equal(withGrad.filter(Boolean).length, 1, `one expert ran: ${withGrad.join(', ')}`);
  });

  test('an unknown dispatch mode is refused', () => {
    assert.throws(() => new MixtureOfExperts(D, 2, { dispatch: 'lazy' as MoEDispatch }), /MixtureOfExperts: dispatch must be 'auto', 'sparse' or 'dense', got 'lazy'/);
  });
});

describe('auxiliary losses over marked rows', () => {
  test('Switch load balancing and z-loss with `rows` equal the losses of just the marked rows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 1e6 }), (rows, n, used, seed) => {
        const u = Math.min(used, rows);
        const logits = randn([rows, n], { generator: new Generator(seed), dtype: 'float64' });
        const gate = topKGating(logits, Math.min(2, n));
        const mark = tensor(Array.from({ length: rows }, (_, i) => i < u), { dtype: 'bool' });
        const lb = f64(loadBalancingLoss(gate.probs, gate.indices, mark));
        const z = f64(routerZLoss(logits, mark));
        assertClose(lb, f64(loadBalancingLoss(gate.probs.narrow(0, 0, u), gate.indices.narrow(0, 0, u))), 1e-12, 'load balancing');
        assertClose(z, f64(routerZLoss(logits.narrow(0, 0, u))), 1e-12, 'z-loss');
      }),
    );
  });

  test('rows must be bool with one entry per unit', () => {
    const logits = randn([3, 2], { generator: new Generator(1) });
    assert.throws(() => routerZLoss(logits, tensor([true, false], { dtype: 'bool' })), /routerZLoss: rows must be bool \[3\], got bool \[2\]/);
    const g = topKGating(logits, 1);
    assert.throws(() => loadBalancingLoss(g.probs, g.indices, tensor([1, 0, 1], { dtype: 'int32' })), /loadBalancingLoss: rows must be bool \[3\], got int32 \[3\]/);
  });
});
