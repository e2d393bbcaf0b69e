/**
 * Manifold-Preserving Gating (Eq. 13-16): the gate's range and monotonicity, the discrepancy recomputed
 * independently from the weights, the two limits of Eq. 13, the stop-gradient, the Jacobian of Eq. 16,
 * and the variance of the output under random gate fluctuations against output gating.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, noGrad, randn, tensor, vjp, type Tensor } from '../../src/tensor/index.js';
import { ManifoldPreservingGate, type ManifoldPreservingGateOptions } from '../../src/model/mpg.js';
import { randomDirections } from '../../src/model/sliced-wasserstein.js';

const RUNS = { numRuns: 25 } as const;
const DIM = 4;
const EMBED = 3;
const ACT = 5;

function make(seed: number, opts: ManifoldPreservingGateOptions = {}): ManifoldPreservingGate {
  return new ManifoldPreservingGate(DIM, { embedDim: EMBED, actionDim: ACT, dtype: 'float64', generator: new Generator(seed), ...opts });
}

const rows = (t: Tensor): number[][] => {
  const [r, c] = t.shape as [number, number];
  const v = t.dataSync();
  return Array.from({ length: r }, (_, i) => Array.from(v.subarray(i * c, (i + 1) * c)));
};
const vec = (t: Tensor): number[] => Array.from(t.dataSync());
const affine = (x: number[], w: number[][], b: number[]): number[] => w.map((row, i) => row.reduce((s, wij, j) => s + wij * x[j]!, b[i]!));
const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);
function layerNorm(v: number[], eps = 1e-5): number[] {
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
  return v.map((x) => (x - mean) / Math.sqrt(variance + eps));
}
function assertCloseArrays(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: lengths`);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= tol * (1 + Math.abs(expected[i]!)))) assert.fail(`${what}: element ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

/** The module's weights as plain arrays. */
function weights(mpg: ManifoldPreservingGate) {
  return {
    wObs: rows(mpg.observationEncoder.weight),
    bObs: vec(mpg.observationEncoder.bias!),
    wAct: rows(mpg.actionEncoder.weight),
    bAct: vec(mpg.actionEncoder.bias!),
    w: rows(mpg.projection.weight),
    b: vec(mpg.projection.bias!),
  };
}

/** W·E_obs(h_t) for each token of an [N, dim] H, in plain arithmetic. */
function projectedFeatures(mpg: ManifoldPreservingGate, h: Tensor): number[][] {
  const { wObs, bObs, w } = weights(mpg);
  return rows(h).map((ht) => affine(affine(ht, wObs, bObs), w, new Array<number>(DIM).fill(0)));
}

const hOf = (seed: number, shape: number[]): Tensor => randn(shape, { dtype: 'float64', generator: new Generator(seed) });

describe('MPG gate (Eq. 15)', () => {
  test('Eq. 15: g = exp(−D/τ) ∈ (0, 1], g = 1 at D = 0, and g strictly decreases in D', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 40, noNaN: true }), fc.double({ min: 0, max: 40, noNaN: true }), fc.double({ min: 0.1, max: 5, noNaN: true }), (d1, d2, tau) => {
        fc.pre(Math.abs(d1 - d2) > 1e-9);
        const mpg = make(0, { tau });
        const [g1, g2] = vec(mpg.gate(tensor([d1, d2], { dtype: 'float64' })));
        for (const [g, d] of [[g1!, d1], [g2!, d2]]) {
          assert.ok(g > 0 && g <= 1, `g = ${g} for D = ${d}`);
          assert.ok(Math.abs(g - Math.exp(-d / tau)) <= 1e-15, `g = ${g}, exp(−D/τ) = ${Math.exp(-d / tau)}`);
        }
        assert.equal(d1 < d2, g1! > g2!, `D ${d1} < ${d2} but g ${g1} vs ${g2}`);
      }),
      { numRuns: 100 },
    );
    assert.equal(make(0).gate(tensor(0, { dtype: 'float64' })).item(), 1);
  });

  test('Eq. 15: g is behind a stop-gradient: it carries no gradient even when D does', () => {
    const mpg = make(1);
    const [g, back] = vjp((d) => mpg.gate(d).mul(3).sum(), tensor([0.5, 2], { dtype: 'float64' }));
    assert.equal(g.requiresGrad, false);
    assert.deepEqual(vec(back(tensor(1, { dtype: 'float64' }))[0]!), [0, 0]);
  });

  test('Eq. 14-15: forward computes D between LN(E_obs(H)) and LN(E_act(MeanPool(Z^nf))) broadcast along the sequence, and g = exp(−D/τ)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.double({ min: 0.5, max: 30, noNaN: true }), (seed, n, t, tau) => {
        const mpg = make(seed, { tau });
        const h = hOf(seed + 1, [2, n, DIM]);
        const z = hOf(seed + 2, [2, t, ACT]);
        const directions = randomDirections(6, EMBED, { generator: new Generator(seed + 3), dtype: 'float64' });
        const { gate, discrepancy, output } = mpg.forward(h, z, { directions });
        assert.deepEqual(gate.shape, [2]);
        assert.deepEqual(output.shape, [2, n, DIM]);
        const { wObs, bObs, wAct, bAct } = weights(mpg);
        const theta = rows(directions);
        for (let b = 0; b < 2; b++) {
          const hs = rows(h.slice([b, b + 1]).reshape([n, DIM])).map((ht) => layerNorm(affine(ht, wObs, bObs)));
          const zs = rows(z.slice([b, b + 1]).reshape([t, ACT]));
          const zBar = zs[0]!.map((_, k) => zs.reduce((s, r) => s + r[k]!, 0) / t);
          const zHat = layerNorm(affine(zBar, wAct, bAct));
          // The anchor is one point repeated, so sorting pairs every token with it: D = mean_m Σ_i (θ_m·(ĥ_i − ẑ))².
          let d = 0;
          for (const th of theta) for (const hi of hs) d += dot(th, hi.map((v, k) => v - zHat[k]!)) ** 2;
          d /= theta.length;
          assertCloseArrays([discrepancy.dataSync()[b]!], [d], 1e-12, `D[${b}]`);
          assertCloseArrays([gate.dataSync()[b]!], [Math.exp(-d / tau)], 1e-12, `g[${b}]`);
        }
      }),
      RUNS,
    );
  });

  test('Eq. 15: g = 1 when every observation feature coincides with the action anchor (D = 0)', () => {
    const mpg = new ManifoldPreservingGate(DIM, { embedDim: EMBED, dtype: 'float64', generator: new Generator(4) });
    noGrad(() => {
      mpg.actionEncoder.weight.copy_(mpg.observationEncoder.weight);
      mpg.actionEncoder.bias!.copy_(mpg.observationEncoder.bias!);
    });
    const h0 = hOf(5, [1, DIM]);
    const h = h0.expand([3, DIM]).contiguous();
    const { gate, discrepancy, output } = mpg.forward(h, h0.mul(1));
    assert.equal(discrepancy.item(), 0);
    assert.equal(gate.item(), 1);
    assertCloseArrays(output.dataSync(), mpg.enhance(h, 1).dataSync(), 0, 'full residual');
    // Moving one token off the anchor makes D positive and g < 1.
    const moved = mpg.forward(h.add(tensor([[0, 0, 0, 0], [0, 0, 0, 0], [1, -1, 0.5, 0]], { dtype: 'float64' })), h0, {});
    assert.ok(moved.discrepancy.item() > 0 && moved.gate.item() < 1);
  });
});

describe('MPG residual (Eq. 13)', () => {
  test('Eq. 13: H̃ − (H + λ·b) = g·λ·W·E_obs(H), so g → 0 gives H + λ·b and g = 1 the full residual H + λ·(W·E_obs(H) + b)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), (seed, g, lambda) => {
        const mpg = make(seed, { lambda });
        const h = hOf(seed + 1, [3, DIM]);
        const { b } = weights(mpg);
        const we = projectedFeatures(mpg, h);
        const hr = rows(h);
        const expected = (gg: number): number[] => hr.flatMap((ht, i) => ht.map((v, k) => v + gg * lambda * we[i]![k]! + lambda * b[k]!));
        assertCloseArrays(mpg.enhance(h, g).dataSync(), expected(g), 1e-13, `g = ${g}`);
        assertCloseArrays(mpg.enhance(h, 1).dataSync(), expected(1), 1e-13, 'g = 1');
        // g → 0: the distance to the fallback H + λ·b shrinks in proportion to g, and is 0 at g = 0.
        const fallback = expected(0);
        assertCloseArrays(mpg.enhance(h, 0).dataSync(), fallback, 1e-15, 'g = 0');
        const gap = (gg: number): number => Math.hypot(...vec(mpg.enhance(h, gg)).map((v, i) => v - fallback[i]!));
        const full = gap(1);
        for (const gg of [1e-1, 1e-3, 1e-6]) assertCloseArrays([gap(gg)], [gg * full], 1e-6, `gap at g = ${gg}`);
      }),
      RUNS,
    );
  });

  test("Eq. 13: output gating (gating: 'output') is H + g·λ·(W·E_obs(H) + b): it agrees with MPG at g = 1 and drops the offset at g = 0", () => {
    const mpg = make(3);
    const out = make(3, { gating: 'output' });
    const h = hOf(4, [2, 3, DIM]);
    assertCloseArrays(out.enhance(h, 1).dataSync(), mpg.enhance(h, 1).dataSync(), 1e-14, 'g = 1');
    assertCloseArrays(out.enhance(h, 0).dataSync(), h.dataSync(), 0, 'g = 0');
    const g = tensor([0.25, 0.75], { dtype: 'float64' });
    const { b } = weights(mpg);
    const we = projectedFeatures(mpg, h.reshape([6, DIM]));
    const expected = rows(h.reshape([6, DIM])).flatMap((ht, i) => ht.map((v, k) => v + (i < 3 ? 0.25 : 0.75) * 0.1 * (we[i]![k]! + b[k]!)));
    assertCloseArrays(out.enhance(h, g).dataSync(), expected, 1e-13, 'per-sample g');
  });

  test('Eq. 13: leading axes are batches; each sample has its own gate', () => {
    const mpg = make(6);
    const h = hOf(7, [2, 3, DIM]);
    const z = hOf(8, [2, 2, ACT]);
    const directions = randomDirections(32, EMBED, { generator: new Generator(9), dtype: 'float64' });
    const { gate, output } = mpg.forward(h, z, { directions });
    for (let b = 0; b < 2; b++) {
      const one = mpg.forward(h.slice([b, b + 1]).reshape([3, DIM]), z.slice([b, b + 1]).reshape([2, ACT]), { directions });
      assert.deepEqual(one.gate.shape, []);
      assertCloseArrays([gate.dataSync()[b]!], [one.gate.item()], 1e-14, `g[${b}]`);
      assertCloseArrays(output.slice([b, b + 1]).reshape([3, DIM]).dataSync(), one.output.dataSync(), 1e-14, `H̃[${b}]`);
    }
  });

  test('Eq. 14: without given directions, M = 32 fresh directions are drawn from the module generator', () => {
    const [ga, gb] = [new Generator(12), new Generator(12)];
    const a = new ManifoldPreservingGate(DIM, { embedDim: EMBED, actionDim: ACT, dtype: 'float64', generator: ga });
    const b = new ManifoldPreservingGate(DIM, { embedDim: EMBED, actionDim: ACT, dtype: 'float64', generator: gb });
    const h = hOf(1, [4, DIM]);
    const z = hOf(2, [3, ACT]);
    const first = a.forward(h, z).discrepancy.item();
    const same = b.forward(h, z, { directions: randomDirections(32, EMBED, { generator: gb, dtype: 'float64' }) }).discrepancy.item();
    assert.equal(first, same);
    assert.notEqual(a.forward(h, z).discrepancy.item(), first, 'the next call draws new directions');
  });
});

describe('MPG gradients (Eq. 15-16)', () => {
  /** The full Jacobian ∂H̃/∂H of an [N, dim] input, row by row through vjp. */
  function jacobian(f: (h: Tensor) => Tensor, h: Tensor): number[][] {
    const [out, back] = vjp(f, h);
    return Array.from({ length: out.size }, (_, r) => {
      const e = new Float64Array(out.size);
      e[r] = 1;
      return vec(back(tensor(e, { shape: out.shape, dtype: 'float64' }))[0]!);
    });
  }

  test('Eq. 16: the Jacobian ∂H̃/∂H from autograd equals I + λ·g·W_MPG·∂E_obs/∂H (and differs from the Jacobian without the stop-gradient)', () => {
    for (const seed of [1, 2, 3]) {
      const mpg = make(seed, { lambda: 0.7, tau: 5 });
      const n = 3;
      const h = hOf(seed + 10, [n, DIM]);
      const z = hOf(seed + 20, [2, ACT]);
      const directions = randomDirections(8, EMBED, { generator: new Generator(seed), dtype: 'float64' });
      const g = mpg.forward(h, z, { directions }).gate.item();
      assert.ok(g > 0.01 && g < 0.99, `a gate away from its limits, got ${g}`);
      const J = jacobian((x) => mpg.forward(x, z, { directions }).output, h);
      // Independently: E_obs is affine, so ∂E_obs/∂H is W_obs for each token, and tokens do not mix.
      const { wObs, w } = weights(mpg);
      const wWobs = w.map((row) => wObs[0]!.map((_, j) => row.reduce((s, wik, k) => s + wik * wObs[k]![j]!, 0)));
      const expected = Array.from({ length: n * DIM }, (_, r) =>
        Array.from({ length: n * DIM }, (_, c) => {
          const [tr, i] = [Math.floor(r / DIM), r % DIM];
          const [tc, j] = [Math.floor(c / DIM), c % DIM];
          return tr !== tc ? 0 : (i === j ? 1 : 0) + 0.7 * g * wWobs[i]![j]!;
        }),
      );
      assertCloseArrays(J.flat(), expected.flat(), 1e-12, `Jacobian (seed ${seed})`);
      // Letting the gradient through g (D depends on H) changes the Jacobian: the stop-gradient is what Eq. 16 rests on.
      const leaky = (x: Tensor): Tensor => {
        const gg = mpg.discrepancy(x, z, { directions }).div(-5).exp();
        return x.add(mpg.projection.forward(mpg.observationEncoder.forward(x).mul(gg)).mul(0.7));
      };
      const Jleaky = jacobian(leaky, h).flat();
      const gap = Math.max(...Jleaky.map((v, i) => Math.abs(v - expected.flat()[i]!)));
      assert.ok(gap > 1e-6, `the gate path must matter for this check to have teeth (gap ${gap})`);
    }
  });

  test('Eq. 15: no gradient reaches D or the gate inputs through g: E_act and Z^nf get none, and ∂H̃/∂H is that of a constant gate', () => {
    const mpg = make(5, { tau: 4 });
    const h = hOf(6, [2, 3, DIM]);
    const z = hOf(7, [2, 2, ACT]);
    const directions = randomDirections(8, EMBED, { generator: new Generator(1), dtype: 'float64' });
    const v = hOf(8, [2, 3, DIM]);
    const { output, gate } = mpg.forward(h, z.detach().requiresGrad_(true), { directions });
    output.mul(v).sum().backward();
    for (const p of [mpg.actionEncoder.weight, mpg.actionEncoder.bias!]) {
      assert.ok(p.grad === null || vec(p.grad).every((x) => x === 0), 'E_act gets no gradient');
    }
    assert.ok(mpg.observationEncoder.weight.grad !== null && vec(mpg.observationEncoder.weight.grad).some((x) => x !== 0), 'E_obs is trained through the residual');
    const [, backZ] = vjp((zz) => mpg.forward(h, zz, { directions }).output, z);
    assert.ok(vec(backZ(v)[0]!).every((x) => x === 0), 'Z^nf gets no gradient');
    const [, backFull] = vjp((hh) => mpg.forward(hh, z, { directions }).output, h);
    const [, backConst] = vjp((hh) => mpg.enhance(hh, gate), h);
    assertCloseArrays(backFull(v)[0]!.dataSync(), backConst(v)[0]!.dataSync(), 0, '∂H̃/∂H');
    // The discrepancy itself stays differentiable (for an auxiliary loss): it does depend on Z^nf.
    const [, backD] = vjp((zz) => mpg.discrepancy(h, zz, { directions }).sum(), z);
    assert.ok(vec(backD(tensor(1, { dtype: 'float64' }))[0]!).some((x) => x !== 0));
  });
});

describe('MPG under gate fluctuations (the argument after Eq. 13)', () => {
  /** Per-element sample variances of enhance(h, g_k) over the gates g_k. */
  function outputVariance(mpg: ManifoldPreservingGate, h: Tensor, gs: number[]): number[] {
    const outs = gs.map((g) => vec(mpg.enhance(h, g)));
    return outs[0]!.map((_, i) => {
      const mean = outs.reduce((s, o) => s + o[i]!, 0) / outs.length;
      return outs.reduce((s, o) => s + (o[i]! - mean) ** 2, 0) / (outs.length - 1);
    });
  }
  const sampleVariance = (xs: number[]): number => {
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    return xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
  };
  /** Gates exp(−D/τ) from a random discrepancy, as jitter in the features would produce. */
  const gates = (seed: number, k = 64): number[] => {
    const g = new Generator(seed);
    return Array.from({ length: k }, () => Math.exp(-3 * g.uniform() ** 2));
  };

  test("Eq. 13: with g random, MPG's output variance is Var(g)·λ²·(W·E_obs(H))² per element, output gating's Var(g)·λ²·(W·E_obs(H) + b)²", () => {
    fc.assert(
      fc.property(fc.nat(), (seed) => {
        const mpg = make(seed);
        const out = make(seed, { gating: 'output' });
        const h = hOf(seed + 1, [3, DIM]);
        const gs = gates(seed + 2);
        const s2 = sampleVariance(gs);
        const we = projectedFeatures(mpg, h).flat();
        const b = weights(mpg).b;
        assertCloseArrays(outputVariance(mpg, h, gs), we.map((x) => s2 * 0.01 * x * x), 1e-9, 'MPG');
        assertCloseArrays(outputVariance(out, h, gs), we.map((x, i) => s2 * 0.01 * (x + b[i % DIM]!) ** 2), 1e-9, 'output gating');
      }),
      RUNS,
    );
  });

  test("Eq. 13: MPG's total output variance is no larger than output gating's exactly when 2⟨W·E_obs(H), b⟩ + ‖b‖² ≥ 0; averaged over ±b output gating exceeds it by Var(g)·λ²·‖b‖²", () => {
    let mpgSmaller = 0;
    let outputSmaller = 0;
    fc.assert(
      fc.property(fc.nat(), fc.double({ min: -3, max: 3, noNaN: true }), fc.boolean(), (seed, scale, adversarial) => {
        const mpg = make(seed);
        const h = hOf(seed + 1, [3, DIM]);
        const we = projectedFeatures(mpg, h);
        // b along −Σ_t W·E_obs(h_t) (against the feature term) or a random direction, with a size around ‖Σ_t W·E‖/N.
        const sum = we[0]!.map((_, k) => we.reduce((s, r) => s + r[k]!, 0));
        const dir = adversarial ? sum.map((v) => -v) : vec(hOf(seed + 3, [DIM]));
        const norm = Math.hypot(...dir);
        const b = dir.map((v) => (scale * v * Math.hypot(...sum)) / (3 * norm));
        const setBias = (m: ManifoldPreservingGate, bias: number[]): void =>
          noGrad(() => void m.projection.bias!.copy_(tensor(bias, { dtype: 'float64' })));
        const out = make(seed, { gating: 'output' });
        setBias(mpg, b);
        setBias(out, b);
        const gs = gates(seed + 2);
        const total = (v: number[]): number => v.reduce((s, x) => s + x, 0);
        const vMpg = total(outputVariance(mpg, h, gs));
        const vOut = total(outputVariance(out, h, gs));
        const cross = 2 * dot(sum, b) + 3 * dot(b, b); // 2⟨W·E, b⟩ + ‖b‖², b repeated over the N = 3 tokens
        fc.pre(Math.abs(cross) > 1e-9 * (1 + 3 * dot(b, b)));
        assert.equal(vMpg <= vOut, cross >= 0, `Var MPG ${vMpg}, Var output gating ${vOut}, 2⟨W·E, b⟩ + ‖b‖² = ${cross}`);
        if (vMpg < vOut) mpgSmaller++;
        else outputSmaller++;
        setBias(out, b.map((x) => -x));
        const vOutNeg = total(outputVariance(out, h, gs));
        assertCloseArrays([(vOut + vOutNeg) / 2 - vMpg], [sampleVariance(gs) * 0.01 * 3 * dot(b, b)], 1e-8, 'mean over ±b');
      }),
      { numRuns: 60 },
    );
    // The comparison is conditional: both outcomes occur.
    assert.ok(mpgSmaller > 0 && outputSmaller > 0, `MPG smaller ${mpgSmaller} times, output gating smaller ${outputSmaller} times`);
  });
});

describe('MPG errors', () => {
  test('bad input throws, naming the method and the shapes or values', () => {
    const mpg = make(0);
    const h = hOf(1, [2, 3, DIM]);
    assert.throws(() => mpg.forward(hOf(1, [2, 3, DIM + 1]), hOf(2, [2, 2, ACT])), /ManifoldPreservingGate\.discrepancy: H must be \[\.\.\., N, 4\], got \[2, ?3, ?5\]/);
    assert.throws(() => mpg.forward(h, hOf(2, [3, 2, ACT])), /Z\^nf must be \[2, T ≥ 1, 5\].*got \[3, ?2, ?5\]/);
    assert.throws(() => mpg.forward(h, hOf(2, [2, 2, ACT + 1])), /Z\^nf must be/);
    assert.throws(() => mpg.gate(tensor([1, -0.5], { dtype: 'float64' })), /gate: D must be ≥ 0, got -0.5/);
    assert.throws(() => mpg.enhance(h, 1.5), /enhance: g must lie in \[0, 1\], got 1.5/);
    assert.throws(() => mpg.enhance(h, tensor([0.5, 0.5, 0.5], { dtype: 'float64' })), /enhance: g \[3\] does not match/);
    assert.throws(() => make(0, { tau: 0 }), /tau must be a positive number, got 0/);
    assert.throws(() => make(0, { numDirections: 2.5 }), /numDirections must be a positive integer/);
    assert.throws(() => make(0, { gating: 'both' as 'input' }), /gating must be 'input' or 'output'/);
    assert.throws(() => make(0, { lambda: Number.NaN }), /lambda must be finite/);
  });
});
