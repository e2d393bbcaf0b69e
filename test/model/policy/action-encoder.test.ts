// The action-token encoder and decoder: the sinusoidal time embedding φ(t) against its closed form, φ
// separates distinct times in [0, 1]; the encoder is W3·swish(W2·[W1·x ; φ(t)]) recomputed by hand; a
// per-token time (UAC, Eq. 18) changes exactly its own token; float64 gradient checks of the encoder with
// respect to actions, times and every parameter; the decoder maps back to the unified space (Eq. 1, 7).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, noGrad, randn, tensor, type Tensor } from '../../../src/tensor/index.js';
import { ActionDecoder, ActionEncoder, sinusoidalTimeEmbedding } from '../../../src/model/policy/action-encoder.js';
import { StateEncoder } from '../../../src/model/policy/state-encoder.js';
import { gradcheck } from '../../helpers/gradcheck.js';

const RUNS = { numRuns: 50 } as const;
const values = (t: Tensor): number[] => Array.from(t.dataSync(), Number);
const f64 = (shape: number[], seed: number): Tensor => randn(shape, { dtype: 'float64', generator: new Generator(seed) });
const unit = fc.double({ min: 0, max: 1, noNaN: true });

describe('sinusoidalTimeEmbedding', () => {
  test('φ(t) = [sin(2πt/P_j)] ++ [cos(2πt/P_j)] with P_j geometric from minPeriod to maxPeriod', () => {
    fc.assert(
      fc.property(fc.array(unit, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 6 }), (ts, half) => {
        const [minPeriod, maxPeriod] = [0.01, 3];
        const phi = values(sinusoidalTimeEmbedding(tensor(ts, { dtype: 'float64' }), 2 * half, { minPeriod, maxPeriod }));
        ts.forEach((t, b) => {
          for (let j = 0; j < half; j++) {
            const period = half === 1 ? minPeriod : minPeriod * (maxPeriod / minPeriod) ** (j / (half - 1));
            const angle = (2 * Math.PI * t) / period;
            assert.ok(Math.abs(phi[b * 2 * half + j]! - Math.sin(angle)) < 1e-12);
            assert.ok(Math.abs(phi[b * 2 * half + half + j]! - Math.cos(angle)) < 1e-12);
          }
        });
      }),
      RUNS,
    );
  });

  test('known values: φ(0) is zeros then ones; t = P/4 puts the P-period pair at (1, 0)', () => {
    assert.deepEqual(values(sinusoidalTimeEmbedding(tensor([0], { dtype: 'float64' }), 6)), [0, 0, 0, 1, 1, 1]);
    const phi = values(sinusoidalTimeEmbedding(tensor([1], { dtype: 'float64' }), 4, { minPeriod: 0.5, maxPeriod: 4 }));
    // Periods 0.5 and 4: at t = 1, sin(4π) = 0, cos(4π) = 1, sin(π/2) = 1, cos(π/2) = 0.
    const expected = [Math.sin(4 * Math.PI), Math.sin(Math.PI / 2), Math.cos(4 * Math.PI), Math.cos(Math.PI / 2)];
    phi.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-12));
  });

  test('distinct times in [0, 1] get distinct embeddings (the longest period, 4, is one-to-one there)', () => {
    fc.assert(
      fc.property(unit, unit, (a, b) => {
        fc.pre(Math.abs(a - b) > 1e-9);
        const phi = values(sinusoidalTimeEmbedding(tensor([a, b], { dtype: 'float64' }), 16));
        const gap = Math.max(...phi.slice(0, 16).map((v, i) => Math.abs(v - phi[16 + i]!)));
        assert.ok(gap > 0, `φ(${a}) = φ(${b})`);
      }),
      RUNS,
    );
  });

  test('keeps the shape of t and appends dim; rejects odd dims and bad periods', () => {
    assert.deepEqual(sinusoidalTimeEmbedding(tensor([[0.1, 0.2, 0.3]]), 8).shape, [1, 3, 8]);
    assert.deepEqual(sinusoidalTimeEmbedding(0.5, 4).shape, [4]);
    assert.throws(() => sinusoidalTimeEmbedding(0.5, 5), /sinusoidalTimeEmbedding: dim must be an even integer ≥ 2, got 5/);
    assert.throws(() => sinusoidalTimeEmbedding(0.5, 4, { minPeriod: 2, maxPeriod: 1 }), /minPeriod 2, maxPeriod 1/);
  });
});

const [D, H] = [3, 4];
const encoder = (seed: number): ActionEncoder => new ActionEncoder(D, H, { dtype: 'float64', generator: new Generator(seed) });

describe('ActionEncoder', () => {
  test('e = W3·swish(W2·[W1·x ; φ(t)]), recomputed from the weights', () => {
    const enc = encoder(0);
    const x = f64([2, 3, D], 1);
    const t = tensor([[0.1, 0.5, 1], [0, 0.3, 0.9]], { dtype: 'float64' });
    const got = values(noGrad(() => enc.forward(x, t)));
    const w = (l: { weight: Tensor; bias: Tensor | null }): [number[], number[]] => [values(l.weight), values(l.bias!)];
    const affine = ([W, b]: [number[], number[]], v: number[]): number[] => b.map((bi, o) => v.reduce((s, vi, i) => s + W[o * v.length + i]! * vi, bi));
    const swish = (v: number): number => v / (1 + Math.exp(-v));
    const xs = values(x);
    const ts = values(t);
    for (let k = 0; k < 6; k++) {
      const phi = values(sinusoidalTimeEmbedding(tensor([ts[k]!], { dtype: 'float64' }), H));
      const hidden = affine(w(enc.mlpIn), [...affine(w(enc.inProj), xs.slice(k * D, (k + 1) * D)), ...phi]).map(swish);
      affine(w(enc.mlpOut), hidden).forEach((v, i) => assert.ok(Math.abs(v - got[k * H + i]!) < 1e-12));
    }
  });

  test('Eq. 18: a per-token time changes exactly its own token; a time per sample equals that time on every token', () => {
    const enc = encoder(2);
    const x = f64([2, 4, D], 3);
    fc.assert(
      fc.property(fc.array(unit, { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 7 }), unit, (ts, k, tk) => {
        fc.pre(Math.abs(tk - ts[k]!) > 1e-6);
        const base = values(noGrad(() => enc.forward(x, tensor(ts, { shape: [2, 4], dtype: 'float64' }))));
        const moved = ts.slice();
        moved[k] = tk;
        const out = values(noGrad(() => enc.forward(x, tensor(moved, { shape: [2, 4], dtype: 'float64' }))));
        for (let tok = 0; tok < 8; tok++) {
          const a = base.slice(tok * H, (tok + 1) * H);
          const b = out.slice(tok * H, (tok + 1) * H);
          if (tok === k) assert.notDeepEqual(a, b);
          else assert.deepEqual(a, b);
        }
      }),
      RUNS,
    );
    const perSample = values(noGrad(() => enc.forward(x, tensor([0.2, 0.7], { dtype: 'float64' }))));
    const perToken = values(noGrad(() => enc.forward(x, tensor([0.2, 0.2, 0.2, 0.2, 0.7, 0.7, 0.7, 0.7], { shape: [2, 4], dtype: 'float64' }))));
    assert.deepEqual(perSample, perToken);
    assert.deepEqual(values(noGrad(() => enc.forward(x, 0.4))), values(noGrad(() => enc.forward(x, tensor([0.4, 0.4], { dtype: 'float64' })))));
  });

  test('gradients with respect to actions and per-token times match finite differences (float64)', () => {
    // Periods from 0.05 up: with the default 4e-3, φ's third derivative (~(2π/0.004)³) swamps central differences.
    const enc = new ActionEncoder(D, H, { dtype: 'float64', generator: new Generator(4), minPeriod: 0.05 });
    gradcheck((x, t) => enc.forward(x, t), [f64([2, 3, D], 5), tensor([[0.1, 0.6, 1], [0.4, 0.2, 0.8]], { dtype: 'float64' })]);
  });

  test('gradients with respect to every parameter match finite differences (float64)', () => {
    const enc = encoder(6);
    const x = f64([2, 3, D], 7);
    const t = tensor([[0.1, 0.6, 1], [0.4, 0.2, 0.8]], { dtype: 'float64' });
    const params = enc.parameters();
    const v = f64([2, 3, H], 8);
    const loss = (): number => values(noGrad(() => enc.forward(x, t).mul(v).sum()))[0]!;
    enc.zeroGrad();
    enc.forward(x, t).mul(v).sum().backward();
    const eps = 1e-6;
    let checked = 0;
    for (const [i, p] of params.entries()) {
      const analytic = values(p.grad!);
      const base = values(p);
      const set = (vals: number[]): void => noGrad(() => void p.copy_(tensor(vals, { shape: p.shape, dtype: 'float64' })));
      base.forEach((b, j) => {
        const moved = base.slice();
        moved[j] = b + eps;
        set(moved);
        const up = loss();
        moved[j] = b - eps;
        set(moved);
        const down = loss();
        set(base);
        const numeric = (up - down) / (2 * eps);
        assert.ok(Math.abs(analytic[j]! - numeric) <= 1e-6 + 1e-5 * Math.abs(numeric), `parameter ${i} entry ${j}: ${analytic[j]} vs ${numeric}`);
        checked++;
      });
    }
    assert.equal(checked, enc.numParameters());
  });

  test('bad shapes and times are named', () => {
    const enc = encoder(0);
    assert.throws(() => enc.forward(f64([2, 3, D + 1], 0), 0.5), /ActionEncoder: expected actions \[B, T, 3\], got \[2, ?3, ?4\]/);
    assert.throws(() => enc.forward(f64([2, 3, D], 0), tensor([0.1, 0.2, 0.3])), /t must be a number, \[\], \[2\] or \[2, 3\]/);
    assert.throws(() => new ActionEncoder(D, 5), /hidden must be an even integer ≥ 2, got 5/);
  });
});

describe('ActionDecoder and StateEncoder', () => {
  test('the decoder maps [..., hidden] to the unified space [..., D] linearly', () => {
    const dec = new ActionDecoder(H, D, { dtype: 'float64', generator: new Generator(0) });
    const [a, b] = [f64([2, 5, H], 1), f64([2, 5, H], 2)];
    const sum = values(noGrad(() => dec.forward(a.add(b))));
    const parts = values(noGrad(() => dec.forward(a).add(dec.forward(b)).sub(dec.outProj.bias!)));
    sum.forEach((s, i) => assert.ok(Math.abs(s - parts[i]!) < 1e-12));
    assert.deepEqual(noGrad(() => dec.forward(a)).shape, [2, 5, D]);
    assert.throws(() => dec.forward(f64([2, D], 0)), /ActionDecoder: expected \[\.\.\., 4\], got \[2, ?3\]/);
  });

  test('the state encoder takes [B, D] or [B, S, D]; each state vector is encoded on its own; gradients check (float64)', () => {
    const enc = new StateEncoder(D, 6, H, { dtype: 'float64', generator: new Generator(3) });
    const s = f64([2, 3, D], 4);
    const all = values(noGrad(() => enc.forward(s)));
    const first = values(noGrad(() => enc.forward(s.narrow(1, 0, 1).reshape([2, D]))));
    assert.deepEqual([all.slice(0, H), all.slice(3 * H, 4 * H)], [first.slice(0, H), first.slice(H)]);
    assert.deepEqual(noGrad(() => enc.forward(s.narrow(1, 0, 1).reshape([2, D]))).shape, [2, H]);
    gradcheck((x) => enc.forward(x), [s]);
    assert.throws(() => enc.forward(f64([2, D + 1], 0)), /StateEncoder: expected states \[B, 3\] or \[B, S, 3\], got \[2, ?4\]/);
  });
});
