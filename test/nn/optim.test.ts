/**
 * Optimisers, gradient clipping and schedules: bit-for-bit agreement with float64 re-implementations of
 * PyTorch's update rules written here, agreement with PyTorch's own trajectories
 * (test/fixtures/torch-nn.json, from scripts/fixtures/make_nn_fixtures.py), parameter groups, frozen
 * parameters, state dicts, and errors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { Generator, tensor, zeros, type DType, type Tensor } from '../../src/tensor/index.js';
import { AdamW, type AdamWOptions } from '../../src/nn/optim/adamw.js';
import { SGD, type SGDOptions } from '../../src/nn/optim/sgd.js';
import { clipGradNorm } from '../../src/nn/optim/clip.js';
import { LRScheduler, constantSchedule, warmupCosine } from '../../src/nn/optim/schedule.js';
import type { ParamGroupSpec } from '../../src/nn/optim/optimizer.js';

interface Packed {
  shape: number[];
  dtype: 'float64' | 'float32';
  data: number[];
}

interface OptimCase {
  name: string;
  kind: 'AdamW' | 'SGD';
  dtype: 'float64' | 'float32';
  defaults: Record<string, unknown>;
  groups: { count: number; settings: Record<string, unknown> }[];
  init: Packed[];
  steps: { grads: (Packed | null)[]; params: Packed[] | null }[];
}

interface ClipCase {
  maxNorm: number;
  normType: number | 'Infinity';
  grads: Packed[];
  total: number;
  clipped: Packed[];
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fixture = JSON.parse(readFileSync(resolve(REPO_ROOT, 'test', 'fixtures', 'torch-nn.json'), 'utf8')) as {
  optimizers: OptimCase[];
  clip: ClipCase[];
};

const unpack = (p: Packed, requiresGrad = false): Tensor => tensor(p.data, { shape: p.shape, dtype: p.dtype as DType, requiresGrad });

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= rtol * Math.max(1, Math.abs(e)), `${what}[${i}]: ${a} vs ${e} (rtol ${rtol})`);
  }
}

/** Seeded float64 data of `n` values. */
function randomValues(n: number, seed: number, scale = 1): Float64Array {
  const g = new Generator(seed);
  return Float64Array.from({ length: n }, () => scale * g.normal());
}

// --- float64 re-implementations of torch.optim's single-tensor updates, element by element ---------------

interface AdamRef {
  p: Float64Array;
  m: Float64Array;
  v: Float64Array;
  vMax: Float64Array;
  step: number;
}

function adamwRef(s: AdamRef, g: Float64Array, o: AdamWOptions): void {
  s.step++;
  const [b1, b2] = o.betas;
  const bc1 = 1 - b1 ** s.step;
  const bc2Sqrt = Math.sqrt(1 - b2 ** s.step);
  const stepSize = o.lr / bc1;
  for (let i = 0; i < s.p.length; i++) {
    const gi = o.maximize ? -g[i]! : g[i]!;
    let p = s.p[i]!;
    if (o.weightDecay !== 0) p = p * (1 - o.lr * o.weightDecay);
    const w = 1 - b1;
    const m = w < 0.5 ? s.m[i]! + (gi - s.m[i]!) * w : gi - (gi - s.m[i]!) * (1 - w);
    const v = s.v[i]! * b2 + (1 - b2) * gi * gi;
    s.m[i] = m;
    s.v[i] = v;
    let vHat = v;
    if (o.amsgrad) vHat = s.vMax[i] = Math.max(s.vMax[i]!, v);
    const denom = Math.sqrt(vHat) / bc2Sqrt + o.eps;
    s.p[i] = p + (-stepSize * m) / denom;
  }
}

interface SGDRef {
  p: Float64Array;
  buf: Float64Array | null;
}

function sgdRef(s: SGDRef, g: Float64Array, o: SGDOptions): void {
  const d = Float64Array.from(g, (x, i) => {
    const y = o.maximize ? -x : x;
    return o.weightDecay !== 0 ? y + s.p[i]! * o.weightDecay : y;
  });
  if (o.momentum !== 0) {
    if (s.buf === null) s.buf = Float64Array.from(d);
    else for (let i = 0; i < d.length; i++) s.buf[i] = s.buf[i]! * o.momentum + d[i]! * (1 - o.dampening);
    for (let i = 0; i < d.length; i++) d[i] = o.nesterov ? d[i]! + s.buf[i]! * o.momentum : s.buf[i]!;
  }
  for (let i = 0; i < d.length; i++) s.p[i] = s.p[i]! + d[i]! * -o.lr;
}

const ADAMW_DEFAULTS: AdamWOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false };
const SGD_DEFAULTS: SGDOptions = { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };

describe('AdamW equals a float64 re-implementation of its update, bit for bit, over 20 steps', () => {
  const configs: [string, Partial<AdamWOptions>][] = [
    ['PyTorch defaults', {}],
    ['large lr, weight decay, eps, betas', { lr: 0.05, weightDecay: 0.1, eps: 1e-6, betas: [0.8, 0.99] }],
    ['AMSGrad', { lr: 0.02, amsgrad: true }],
    ['maximize, β₁ < 0.5 (the other lerp branch), no weight decay', { lr: 0.01, betas: [0.3, 0.9], maximize: true, weightDecay: 0 }],
  ];
  for (const [name, opts] of configs) {
    test(name, () => {
      const o = { ...ADAMW_DEFAULTS, ...opts };
      const init = randomValues(12, 1);
      const p = tensor(init, { shape: [3, 4], dtype: 'float64', requiresGrad: true });
      const ref: AdamRef = { p: Float64Array.from(init), m: new Float64Array(12), v: new Float64Array(12), vMax: new Float64Array(12), step: 0 };
      const opt = new AdamW([p], opts);
      for (let t = 0; t < 20; t++) {
        // The gradient shrinks over time so that AMSGrad's maximum differs from v.
        const g = randomValues(12, 100 + t, 1 / (1 + t));
        p.grad = tensor(g, { shape: [3, 4], dtype: 'float64' });
        opt.step();
        adamwRef(ref, g, o);
        assert.deepEqual(Array.from(p.dataSync()), Array.from(ref.p), `step ${t + 1}`);
      }
      assert.equal(opt.stateOf(p)!.numbers.step, 20);
    });
  }
});

describe('SGD equals a float64 re-implementation of its update, bit for bit, over 20 steps', () => {
  const configs: [string, Partial<SGDOptions>][] = [
    ['plain', { lr: 0.1 }],
    ['momentum (first buffer = gradient), dampening, weight decay', { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }],
    ['Nesterov with weight decay', { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 1e-3 }],
    ['maximize with momentum', { lr: 0.05, momentum: 0.5, maximize: true }],
  ];
  for (const [name, opts] of configs) {
    test(name, () => {
      const o = { ...SGD_DEFAULTS, ...opts };
      const init = randomValues(6, 2);
      const p = tensor(init, { shape: [6], dtype: 'float64', requiresGrad: true });
      const ref: SGDRef = { p: Float64Array.from(init), buf: null };
      const opt = new SGD([p], opts);
      for (let t = 0; t < 20; t++) {
        const g = randomValues(6, 200 + t);
        p.grad = tensor(g, { dtype: 'float64' });
        opt.step();
        sgdRef(ref, g, o);
        assert.deepEqual(Array.from(p.dataSync()), Array.from(ref.p), `step ${t + 1}`);
      }
    });
  }
});

describe('trajectories match torch.optim (torch fixtures)', () => {
  // torch's CPU kernels fuse multiply-adds (FMA), so agreement is to rounding, not bit for bit.
  for (const c of fixture.optimizers) {
    test(`${c.kind}: ${c.name}`, () => {
      const params = c.init.map((p) => unpack(p, true));
      let at = 0;
      const groups = c.groups.map((g) => {
        const spec = { params: params.slice(at, at + g.count), ...g.settings };
        at += g.count;
        return spec;
      });
      const opt =
        c.kind === 'AdamW'
          ? new AdamW(groups as ParamGroupSpec<AdamWOptions>[], c.defaults as Partial<AdamWOptions>)
          : new SGD(groups as ParamGroupSpec<SGDOptions>[], c.defaults as Partial<SGDOptions>);
      const rtol = c.dtype === 'float64' ? 1e-12 : 1e-5;
      c.steps.forEach((s, t) => {
        params.forEach((p, i) => (p.grad = s.grads[i] ? unpack(s.grads[i]!) : null));
        opt.step();
        if (s.params) params.forEach((p, i) => assertClose(p.dataSync(), s.params![i]!.data, rtol, `step ${t + 1} param ${i}`));
      });
    });
  }
});

describe('parameter groups and frozen parameters', () => {
  test('each group uses its own lr and weight decay', () => {
    const a = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const b = tensor([3, 4], { dtype: 'float64', requiresGrad: true });
    const opt = new SGD([{ params: [a], lr: 0.5 }, { params: [b], weightDecay: 0.1 }], { lr: 0.1 });
    assert.equal(opt.paramGroups[0]!.lr, 0.5);
    assert.equal(opt.paramGroups[1]!.lr, 0.1);
    assert.equal(opt.paramGroups[1]!.weightDecay, 0.1);
    a.grad = tensor([1, 1], { dtype: 'float64' });
    b.grad = tensor([1, 1], { dtype: 'float64' });
    opt.step();
    assert.deepEqual(a.toArray(), [1 - 0.5, 2 - 0.5]);
    assert.deepEqual(b.toArray(), [3 - 0.1 * (1 + 0.3), 4 - 0.1 * (1 + 0.4)]);
  });

  test('AdamW: a weight-decay-free group is not decayed, a decayed one is, at the same lr', () => {
    const a = tensor([1, -2], { dtype: 'float64', requiresGrad: true });
    const b = tensor([1, -2], { dtype: 'float64', requiresGrad: true });
    const opt = new AdamW([{ params: [a], weightDecay: 0 }, { params: [b], weightDecay: 0.5 }], { lr: 0.1 });
    a.grad = zeros([2], { dtype: 'float64' });
    b.grad = zeros([2], { dtype: 'float64' });
    opt.step();
    assert.deepEqual(a.toArray(), [1, -2]);
    assert.deepEqual(b.toArray(), [1 * (1 - 0.05), -2 * (1 - 0.05)]);
  });

  test('parameters without a gradient (frozen, or unused) are untouched, even by weight decay, and get no state', () => {
    const live = tensor([1, 2, 3], { requiresGrad: true });
    const frozen = tensor([4, 5, 6]); // requiresGrad false: never gets a gradient
    const unused = tensor([7, 8, 9], { requiresGrad: true });
    for (const opt of [new AdamW([live, frozen, unused], { weightDecay: 0.5, lr: 0.1 }), new SGD([live, frozen, unused], { weightDecay: 0.5, momentum: 0.9 })]) {
      live.mul(tensor([1, -1, 2])).sum().backward();
      opt.step();
      opt.zeroGrad();
      assert.deepEqual(frozen.toArray(), [4, 5, 6]);
      assert.deepEqual(unused.toArray(), [7, 8, 9]);
      assert.equal(opt.stateOf(frozen), undefined);
      assert.equal(opt.stateOf(unused), undefined);
      assert.notEqual(opt.stateOf(live), undefined);
      assert.equal(live.grad, null);
    }
  });

  test('a parameter skipped on some steps keeps its own step count (AdamW bias correction)', () => {
    const a = tensor([1], { dtype: 'float64', requiresGrad: true });
    const b = tensor([1], { dtype: 'float64', requiresGrad: true });
    const opt = new AdamW([a, b]);
    for (let t = 0; t < 5; t++) {
      a.grad = tensor([1], { dtype: 'float64' });
      b.grad = t % 2 === 0 ? tensor([1], { dtype: 'float64' }) : null;
      opt.step();
    }
    assert.equal(opt.stateOf(a)!.numbers.step, 5);
    assert.equal(opt.stateOf(b)!.numbers.step, 3);
  });

  test('zeroGrad clears every gradient; in-place updates keep the parameter tensors', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const opt = new SGD([p], { lr: 1 });
    p.grad = tensor([1, 1]);
    opt.step();
    assert.equal(opt.paramGroups[0]!.params[0], p);
    assert.deepEqual(p.toArray(), [0, 1]);
    opt.zeroGrad();
    assert.equal(p.grad, null);
  });
});

describe('clipGradNorm', () => {
  test('matches torch.nn.utils.clip_grad_norm_ (torch fixtures: 2-, 1- and ∞-norms)', () => {
    for (const c of fixture.clip) {
      const params = c.grads.map((g) => zeros(g.shape, { dtype: 'float64', requiresGrad: true }));
      params.forEach((p, i) => (p.grad = unpack(c.grads[i]!)));
      const normType = c.normType === 'Infinity' ? Infinity : c.normType;
      const total = clipGradNorm(params, c.maxNorm, normType);
      assertClose([total.item()], [c.total], 1e-12, `total (p = ${normType})`);
      params.forEach((p, i) => assertClose(p.grad!.dataSync(), c.clipped[i]!.data, 1e-12, `grad ${i} (p = ${normType})`));
    }
  });

  test('by hand: gradients (3, 4) have norm 5 and are scaled by maxNorm/(5 + 1e-6); below maxNorm nothing changes', () => {
    const a = tensor([0], { dtype: 'float64', requiresGrad: true });
    const b = tensor([0], { dtype: 'float64', requiresGrad: true });
    const frozen = tensor([0], { dtype: 'float64' });
    a.grad = tensor([3], { dtype: 'float64' });
    b.grad = tensor([4], { dtype: 'float64' });
    assert.equal(clipGradNorm([a, b, frozen], 1).item(), 5);
    const k = (1 / (5 + 1e-6)) * 1;
    assertClose([a.grad.item(), b.grad.item()], [3 * k, 4 * k], 1e-15, 'clipped');
    a.grad = tensor([3], { dtype: 'float64' });
    b.grad = tensor([4], { dtype: 'float64' });
    clipGradNorm([a, b], 10);
    assert.deepEqual([a.grad.item(), b.grad.item()], [3, 4]);
  });

  test('no gradients: norm 0; mixed float32/float64 gradients keep their dtypes', () => {
    assert.equal(clipGradNorm([tensor([1], { requiresGrad: true })], 1).item(), 0);
    const a = tensor([0, 0], { requiresGrad: true });
    const b = tensor([0], { dtype: 'float64', requiresGrad: true });
    a.grad = tensor([6, 0]);
    b.grad = tensor([8], { dtype: 'float64' });
    const total = clipGradNorm([a, b], 5);
    assert.equal(total.dtype, 'float64');
    assert.equal(total.item(), 10);
    assert.equal(a.grad.dtype, 'float32');
    assertClose(b.grad.dataSync(), [4], 1e-6, 'b');
    assert.throws(() => clipGradNorm([a], -1), /clipGradNorm: maxNorm must be non-negative/);
  });
});

describe('schedules', () => {
  test('warmupCosine: 0 at step 0, linear to the base rate, cosine to the floor, then the floor', () => {
    const s = warmupCosine({ warmupSteps: 10, totalSteps: 110 });
    assert.equal(s(0, 1), 0);
    assert.equal(s(5, 1), 0.5);
    assert.equal(s(10, 1), 1);
    assertClose([s(60, 1)], [0.5], 1e-15, 'half-way');
    assertClose([s(35, 1)], [0.5 * (1 + Math.cos(Math.PI / 4))], 1e-15, 'quarter-way');
    assert.equal(s(110, 1), 0);
    assert.equal(s(500, 1), 0);
    const floor = warmupCosine({ warmupSteps: 0, totalSteps: 100, minLrRatio: 0.1 });
    assert.equal(floor(0, 2), 2);
    assertClose([floor(50, 2)], [0.2 + 1.8 * 0.5], 1e-15, 'ratio floor half-way');
    assertClose([floor(100, 2), floor(1000, 2)], [0.2, 0.2], 1e-15, 'ratio floor end');
    const abs = warmupCosine({ warmupSteps: 4, totalSteps: 8, minLr: 0.01 });
    assert.equal(abs(2, 1), 0.5);
    assert.equal(abs(8, 1), 0.01);
  });

  test('LRScheduler sets every group at construction and after each step, from each group’s base rate', () => {
    const opt = new AdamW([{ params: [tensor([1], { requiresGrad: true })], lr: 0.1 }, { params: [tensor([1], { requiresGrad: true })] }], { lr: 0.01 });
    const sched = new LRScheduler(opt, warmupCosine({ warmupSteps: 2, totalSteps: 4 }));
    assert.deepEqual(sched.getLastLr(), [0, 0]);
    sched.step();
    assert.deepEqual(sched.getLastLr(), [0.05, 0.005]);
    sched.step();
    assert.deepEqual(sched.getLastLr(), [0.1, 0.01]);
    sched.step();
    sched.step();
    assert.deepEqual(sched.getLastLr(), [0, 0]);
    assert.equal(sched.lastStep, 4);
    assert.deepEqual(sched.baseLrs, [0.1, 0.01]);
    const c = new LRScheduler(new SGD([tensor([1])], { lr: 0.3 }), constantSchedule());
    c.step();
    assert.deepEqual(c.getLastLr(), [0.3]);
  });

  test('bad schedule settings throw', () => {
    assert.throws(() => warmupCosine({ warmupSteps: 10, totalSteps: 5 }), /warmupCosine: totalSteps must be an integer ≥ warmupSteps/);
    assert.throws(() => warmupCosine({ warmupSteps: 1, totalSteps: 5, minLr: 0.1, minLrRatio: 0.1 }), /not both/);
  });
});

describe('state dicts', () => {
  test('keys follow PyTorch’s parameter numbering; meta is plain JSON; loading restores the exact trajectory', () => {
    const make = (): [Tensor[], AdamW] => {
      const ps = [tensor([[1, 2], [3, 4]], { dtype: 'float64', requiresGrad: true }), tensor([5], { dtype: 'float64', requiresGrad: true })];
      return [ps, new AdamW([{ params: [ps[0]!], weightDecay: 0 }, { params: [ps[1]!], amsgrad: true }], { lr: 0.1 })];
    };
    const grads = (t: number): Tensor[] => [tensor([[t, 1], [-t, 2]], { dtype: 'float64' }), tensor([Math.sin(t)], { dtype: 'float64' })];
    const [ps, opt] = make();
    for (let t = 0; t < 3; t++) {
      grads(t).forEach((g, i) => (ps[i]!.grad = g));
      opt.step();
    }
    const sd = opt.stateDict();
    assert.deepEqual(Object.keys(sd.tensors).sort(), ['state.0.expAvg', 'state.0.expAvgSq', 'state.1.expAvg', 'state.1.expAvgSq', 'state.1.maxExpAvgSq']);
    const meta = JSON.parse(JSON.stringify(sd.meta)) as typeof sd.meta;
    assert.deepEqual(meta.state, { 0: { step: 3 }, 1: { step: 3 } });
    assert.deepEqual(meta.paramGroups[1], { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, amsgrad: true, maximize: false, params: [1] });
    assert.equal(meta.type, 'AdamW');
    const saved = Object.fromEntries(Object.entries(sd.tensors).map(([k, t]) => [k, t.clone()]));
    const values = ps.map((p) => p.clone());

    for (let t = 3; t < 6; t++) {
      grads(t).forEach((g, i) => (ps[i]!.grad = g));
      opt.step();
    }
    // The earlier state dict is a snapshot: later steps did not write into it.
    for (const [k, t] of Object.entries(sd.tensors)) assert.deepEqual(t.toArray(), saved[k]!.toArray(), k);

    const [qs, fresh] = make();
    qs.forEach((q, i) => q.detach().copy_(values[i]!));
    fresh.paramGroups[0]!.lr = 123; // overwritten by the loaded group settings
    fresh.loadStateDict({ tensors: saved, meta });
    assert.equal(fresh.paramGroups[0]!.lr, 0.1);
    for (let t = 3; t < 6; t++) {
      grads(t).forEach((g, i) => (qs[i]!.grad = g));
      fresh.step();
    }
    qs.forEach((q, i) => assert.deepEqual(q.toArray(), ps[i]!.toArray()));
  });

  test('loading checks the optimiser kind, the groups and the shapes before changing anything', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const opt = new AdamW([p]);
    p.grad = tensor([1, 1]);
    opt.step();
    const sd = opt.stateDict();
    assert.throws(() => new SGD([p]).loadStateDict(sd), /SGD.loadStateDict: the state was saved by AdamW, not SGD/);
    assert.throws(() => new AdamW([p, tensor([1], { requiresGrad: true })]).loadStateDict(sd), /group 0 has 1 parameters in the state, 2 here/);
    const q = tensor([1, 2, 3], { requiresGrad: true });
    const other = new AdamW([q]);
    assert.throws(() => other.loadStateDict(sd), /state.0.expAvg: expected \[3\], got \[2\]/);
    assert.equal(other.stateOf(q), undefined);
    assert.throws(() => opt.loadStateDict({ ...sd, tensors: { ...sd.tensors, 'state.7.expAvg': tensor([1, 2]) } }), /unexpected key 'state.7.expAvg'/);
  });

  test('float64 state loads into float32 parameters, converted', () => {
    const p = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const opt = new SGD([p], { momentum: 0.9 });
    p.grad = tensor([0.5, 1], { dtype: 'float64' });
    opt.step();
    const q = tensor([1, 2], { requiresGrad: true });
    const o32 = new SGD([q], { momentum: 0.9 });
    o32.loadStateDict(opt.stateDict());
    assert.equal(o32.stateOf(q)!.tensors.momentumBuffer!.dtype, 'float32');
  });
});

describe('construction errors', () => {
  test('bad settings, shared or non-leaf parameters, unknown settings, empty lists', () => {
    const p = tensor([1], { requiresGrad: true });
    assert.throws(() => new AdamW([p], { lr: -1 }), /AdamW: invalid learning rate -1/);
    assert.throws(() => new AdamW([p], { betas: [0.9, 1] }), /AdamW: invalid beta parameter at index 1: 1/);
    assert.throws(() => new SGD([p], { nesterov: true }), /SGD: Nesterov momentum requires a momentum > 0 and zero dampening/);
    assert.throws(() => new SGD([{ params: [p] }, { params: [p] }]), /appears in more than one place/);
    assert.throws(() => new SGD([p.mul(2)]), /SGD: params\[0\] \[1\] is not a leaf tensor/);
    assert.throws(() => new SGD([{ params: [p], momentun: 0.9 } as ParamGroupSpec<SGDOptions>]), /SGD: unknown setting 'momentun'/);
    assert.throws(() => new AdamW([]), /AdamW: got an empty parameter list/);
    assert.throws(() => new SGD([tensor([1], { dtype: 'int32' })]), /SGD: params\[0\] must be float32 or float64, got int32/);
  });

  test('a gradient of the wrong shape is reported by step', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const opt = new SGD([p]);
    p.grad = tensor([1, 2, 3]);
    assert.throws(() => opt.step(), /SGD.step: gradient \[3\] does not match parameter \[2\]/);
  });
});
