/**
 * The ops with fused backend kernels — softmax, logSoftmax, layerNorm, rmsNorm, exact GELU, and the
 * AdamW step — against the compositions of primitive ops they replace (the formulas the ops used before
 * fusion, differentiated by autograd), on the cpu backend (no fused kernels: the composed forward and the
 * ops' own backward formulas) and on the wasm backend (the fused float32 kernels): values and gradients
 * within float32 tolerance, AdamW bitwise. The backward formulas are also checked in float64 against
 * finite differences, to second order (Hessian-vector products), where no fused kernel runs.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Generator,
  adamwUpdate,
  erf,
  exp,
  gelu,
  grad,
  layerNorm,
  logSoftmax,
  logsumexp,
  matmul,
  noGrad,
  randn,
  rmsNorm,
  rsqrt,
  getBackend,
  setBackend,
  softmax,
  tensor,
  type Tensor,
} from '../../src/tensor/index.js';
import { AdamW } from '../../src/nn/index.js';
import { gradcheck, hvpcheck } from '../helpers/gradcheck.js';


afterEach(() => setBackend('cpu'));

function on<T>(backend: string, f: () => T): T {
  setBackend(backend);
  try {
    return f();
  } finally {
    setBackend('cpu');
  }
}

const FUSED = ['softmax', 'softmaxBackward', 'norm', 'normBackward', 'gelu', 'adamwUpdate'] as const;

/**
 * The fused kernels of the current backend that computed something (returned non-null) while `f` ran,
 * as `softmax`, `softmaxBackward:log`, `norm:layer`, `normBackward:rms`, `gelu`, `gelu:backward`, `adamwUpdate`.
 */
function fusedRuns(f: () => void): string[] {
  const be = getBackend() as unknown as Record<string, unknown>;
  const ran: string[] = [];
  for (const name of FUSED) {
    const orig = be[name] as ((...a: unknown[]) => unknown) | undefined;
    if (orig === undefined) continue;
    be[name] = (...a: unknown[]) => {
      const r = orig.apply(be, a);
      const detail = name.startsWith('softmax') ? (a[name === 'softmax' ? 1 : 2] ? ':log' : '') : name.startsWith('norm') ? `:${String(a[0])}` : name === 'gelu' && a[1] !== null ? ':backward' : '';
      if (r !== null) ran.push(name + detail);
      return r;
    };
  }
  try {
    f();
  } finally {
    for (const name of FUSED) delete be[name];
  }
  return ran;
}

/** |a − b| ≤ atol + rtol·|b| elementwise, NaN matching NaN. */
function assertClose(what: string, a: Tensor, b: Tensor, atol = 2e-6, rtol = 2e-5): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const [x, y] = [a.dataSync(), b.dataSync()];
  for (let i = 0; i < y.length; i++) {
    if (Number.isNaN(y[i]!)) assert.ok(Number.isNaN(x[i]!), `${what}[${i}]: ${x[i]}, expected NaN`);
    else if (!Number.isFinite(y[i]!)) assert.equal(x[i], y[i], `${what}[${i}]`);
    else assert.ok(Math.abs(x[i]! - y[i]!) <= atol + rtol * Math.abs(y[i]!), `${what}[${i}]: ${x[i]} vs ${y[i]}`);
  }
}

// The compositions the fused ops replace, differentiated by autograd.
const composed = {
  softmax: (x: Tensor) => {
    const e = exp(x.sub(x.max(-1, true)));
    return e.div(e.sum(-1, true));
  },
  logSoftmax: (x: Tensor) => x.sub(logsumexp(x, -1, true)),
  layerNorm: (x: Tensor, axes: number[], w: Tensor | null, b: Tensor | null, eps: number) => {
    const c = x.sub(x.mean(axes, true));
    let y = c.mul(rsqrt(c.mul(c).mean(axes, true).add(eps)));
    if (w) y = y.mul(w);
    return b ? y.add(b) : y;
  },
  rmsNorm: (x: Tensor, axes: number[], w: Tensor | null, eps: number) => {
    const y = x.mul(rsqrt(x.mul(x).mean(axes, true).add(eps)));
    return w ? y.mul(w) : y;
  },
  gelu: (x: Tensor) => x.mul(0.5).mul(erf(x.mul(Math.SQRT1_2)).add(1)),
};

/** Values and input gradients (for cotangent `ct`) of `f` at fresh leaves copied from `inputs`. */
function valueAndGrads(f: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], seed: string): Tensor[] {
  const leaves = inputs.map((t) => t.detach().requiresGrad_(true));
  const y = f(...leaves);
  y.backward(randn(y.shape, { generator: new Generator(seed) }));
  return [y, ...leaves.map((l) => l.grad!)];
}

/** Checks `fused` against `reference` on cpu and wasm: values and gradients of every input. */
function checkAgainstComposed(name: string, fused: (...xs: Tensor[]) => Tensor, reference: (...xs: Tensor[]) => Tensor, make: () => Tensor[], tol?: [number, number]): void {
  for (const backend of ['cpu', 'wasm']) {
    on(backend, () => {
      const inputs = make();
      const got = valueAndGrads(fused, inputs, name);
      const want = valueAndGrads(reference, inputs, name);
      got.forEach((t, i) => assertClose(`${name} on ${backend}, ${i === 0 ? 'value' : `gradient ${i - 1}`}`, t, want[i]!, ...(tol ?? [])));
    });
  }
}

const rowsArb = fc.record({ rows: fc.integer({ min: 1, max: 6 }), n: fc.integer({ min: 1, max: 70 }), seed: fc.integer({ min: 0, max: 1e6 }), scale: fc.constantFrom(0.1, 1, 8) });
const inputOf = ({ rows, n, seed, scale }: { rows: number; n: number; seed: number; scale: number }, shift = 0): Tensor =>
  randn([rows, n], { generator: new Generator(`x${seed}`) }).mul(scale).add(shift);

test('softmax and logSoftmax (last axis, float32): fused on wasm, composed on cpu, both equal the primitive composition in value and gradient', () => {
  fc.assert(
    fc.property(rowsArb, fc.constantFrom(0, 300), (spec, shift) => {
      checkAgainstComposed('softmax', (x) => softmax(x, -1), composed.softmax, () => [inputOf(spec, shift)]);
      checkAgainstComposed('logSoftmax', (x) => logSoftmax(x, -1), composed.logSoftmax, () => [inputOf(spec, shift)], [2e-6, 1e-5]);
    }),
    { numRuns: 25 },
  );
});

test('softmax rows with −∞, all −∞ (NaN, as composed) and NaN entries; logSoftmax of a +∞ row (composed: logsumexp treats it specially)', () => {
  for (const backend of ['cpu', 'wasm']) {
    on(backend, () => {
      const x = tensor([[0, -Infinity, 1, 2, -Infinity], [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity], [1, NaN, 0, 0, 0], [Infinity, 0, 1, 2, 3]]);
      assertClose(`softmax on ${backend}`, softmax(x, -1), composed.softmax(x));
      assertClose(`logSoftmax on ${backend}`, logSoftmax(x, -1), composed.logSoftmax(x));
      const s = softmax(x, -1).dataSync();
      assert.equal(s[1], 0, 'e^−∞ is exactly 0');
      assert.ok(Number.isNaN(s[5]!), 'an all −∞ row is NaN');
    });
  }
});

test('the fused kernels run on wasm for float32 last-axis softmax, norms and GELU, forward and first-order backward', () => {
  on('wasm', () => {
    const x = randn([6, 33], { generator: new Generator('k') }).requiresGrad_();
    const w = randn([33], { generator: new Generator('w') }).requiresGrad_();
    const b = randn([33], { generator: new Generator('b') }).requiresGrad_();
    const names = fusedRuns(() => {
      const y = softmax(x, -1).add(logSoftmax(x, -1)).add(layerNorm(x, 33, w, b)).add(rmsNorm(x, 33, w)).add(gelu(x));
      y.sum().backward();
    });
    const all = ['softmax', 'softmax:log', 'norm:layer', 'norm:rms', 'gelu', 'softmaxBackward', 'softmaxBackward:log', 'normBackward:layer', 'normBackward:rms', 'gelu:backward'];
    assert.deepEqual([...new Set(names)].sort(), all.sort());
    // Not along the last axis, or not float32, or a recorded (second-order) backward: composed.
    const other = fusedRuns(() => {
      softmax(x, 0);
      softmax(x.cast('float64'), -1);
      layerNorm(x, 33, w, b).sum().backward(undefined, { createGraph: true });
    });
    assert.deepEqual(other, ['norm:layer'], 'only the forward of the last line is fused');
  });
});

test('softmax of a strided view and along another axis take the composed path and agree with it', () => {
  on('wasm', () => {
    const x = randn([5, 40], { generator: new Generator('t') });
    assertClose('transposed', softmax(x.transpose(), -1), composed.softmax(x.transpose().contiguous()));
    assertClose('axis 0', softmax(x, 0), composed.softmax(x.transpose().contiguous()).transpose());
  });
});

test('layerNorm and rmsNorm (float32): fused on wasm, composed on cpu, equal the module’s old composition, with and without weight and bias', () => {
  fc.assert(
    fc.property(rowsArb, fc.boolean(), fc.boolean(), (spec, withWeight, withBias) => {
      const n = spec.n;
      const params = (): Tensor[] => [
        randn([n], { generator: new Generator(`w${spec.seed}`) }),
        randn([n], { generator: new Generator(`b${spec.seed}`) }),
      ];
      const make = (): Tensor[] => [inputOf(spec, 3), ...params()];
      const pick = (w: Tensor, b: Tensor): [Tensor | null, Tensor | null] => [withWeight ? w : null, withWeight && withBias ? b : null];
      checkAgainstComposed(
        'layerNorm',
        (x, w, b) => layerNorm(x, n, ...pick(w!, b!), 1e-5).add(w!.mul(0)).add(b!.mul(0)),
        (x, w, b) => composed.layerNorm(x, [1], ...pick(w!, b!), 1e-5).add(w!.mul(0)).add(b!.mul(0)),
        make,
        [1e-5, 1e-4],
      );
      checkAgainstComposed(
        'rmsNorm',
        (x, w) => rmsNorm(x, n, withWeight ? w! : null, 1e-6).add(w!.mul(0)),
        (x, w) => composed.rmsNorm(x, [1], withWeight ? w! : null, 1e-6).add(w!.mul(0)),
        () => make().slice(0, 2),
        [1e-5, 1e-4],
      );
    }),
    { numRuns: 20 },
  );
});

test('layerNorm over two trailing axes of a 3-D input equals the composition on both backends', () => {
  checkAgainstComposed(
    'layerNorm [2, 5]',
    (x, w, b) => layerNorm(x, [2, 5], w!, b!),
    (x, w, b) => composed.layerNorm(x, [1, 2], w!, b!, 1e-5),
    () => [randn([3, 2, 5], { generator: new Generator('3d') }), randn([2, 5], { generator: new Generator('3w') }), randn([2, 5], { generator: new Generator('3b') })],
    [1e-5, 1e-4],
  );
});

test('exact GELU (float32): fused on wasm, equal to ½x(1 + erf(x/√2)) composed, in value and gradient', () => {
  fc.assert(
    fc.property(rowsArb, (spec) => checkAgainstComposed('gelu', (x) => gelu(x), composed.gelu, () => [inputOf(spec)])),
    { numRuns: 15 },
  );
});

test('gradcheck (float64): layerNorm and rmsNorm with weight and bias over one and two trailing axes', () => {
  const g = (shape: number[], seed: string): Tensor => randn(shape, { dtype: 'float64', generator: new Generator(seed) });
  gradcheck((x, w, b) => layerNorm(x, 6, w!, b!), [g([4, 6], 'a'), g([6], 'b'), g([6], 'c')]);
  gradcheck((x, w, b) => layerNorm(x, [2, 3], w!, b!, 1e-3), [g([2, 2, 3], 'd'), g([2, 3], 'e'), g([2, 3], 'f')]);
  gradcheck((x) => layerNorm(x, 5), [g([3, 5], 'g')]);
  gradcheck((x, w) => rmsNorm(x, 6, w!), [g([4, 6], 'h'), g([6], 'i')]);
  gradcheck((x) => rmsNorm(x, [2, 3]), [g([2, 2, 3], 'j')]);
  gradcheck((x) => gelu(x), [g([3, 7], 'k')]);
});

test('second order (float64): Hessian-vector products of layerNorm, rmsNorm, GELU, softmax and logSoftmax match finite differences', () => {
  const g = (shape: number[], seed: string): Tensor => randn(shape, { dtype: 'float64', generator: new Generator(seed) });
  const [w, b, c] = [g([6], 'w'), g([6], 'b'), g([3, 6], 'c')];
  hvpcheck((x) => layerNorm(x, 6, w, b).mul(c).sum(), g([3, 6], 'x1'));
  hvpcheck((x) => rmsNorm(x, 6, w).mul(c).sum(), g([3, 6], 'x2'));
  hvpcheck((x) => gelu(x).mul(c).sum(), g([3, 6], 'x3'));
  hvpcheck((x) => softmax(x, -1).mul(c).sum(), g([3, 6], 'x4'));
  hvpcheck((x) => logSoftmax(x, -1).mul(c).sum(), g([3, 6], 'x5'));
  // The weight's second derivatives too (the backward is recorded in terms of x, w and g).
  hvpcheck((wt) => layerNorm(g([3, 6], 'x6'), 6, wt, b).pow(2).sum(), w);
});

test('second order in float32 on wasm (recorded backward, composed) equals the cpu result', () => {
  const run = (): Tensor[] => {
    const x = randn([4, 9], { generator: new Generator('so') });
    const w = randn([9], { generator: new Generator('sw') });
    const f = (t: Tensor): Tensor => layerNorm(t, 9, w).mul(softmax(t, -1)).add(gelu(t)).pow(2).sum();
    const g1 = grad(f);
    const g2 = grad((t: Tensor) => (g1(t) as Tensor).pow(2).sum());
    return [g1(x) as Tensor, g2(x) as Tensor];
  };
  const [cpu, wasm] = [on('cpu', run), on('wasm', run)];
  cpu.forEach((t, i) => assertClose(`order ${i + 1}`, wasm[i]!, t, 1e-4, 1e-4));
});

test('layerNorm / rmsNorm reject a weight of the wrong shape, a negative eps and an input too short, naming the function', () => {
  const x = randn([2, 4]);
  assert.throws(() => layerNorm(x, 4, randn([3])), /layerNorm: weight must have the normalized shape \[4\], got \[3\]/);
  assert.throws(() => layerNorm(x, 4, null, null, -1), /layerNorm: eps must be/);
  assert.throws(() => rmsNorm(x, [3, 4]), /rmsNorm: expected input \[\.\.\., 3, 4\], got \[2,4\]/);
  assert.throws(() => layerNorm(tensor([1, 2], { dtype: 'int32' }), 2), /layerNorm: expected a float32 or float64 tensor/);
});

/**
 * Runs AdamW for a few steps on wasm, with its fused step or (`fused` false, the method hidden) without,
 * and returns the parameters and moments after each step and the fused kernels that ran.
 */
function adamwTrace(fused: boolean, opts: { weightDecay: number; betas: [number, number]; maximize: boolean; amsgrad?: boolean }): { values: Float32Array[]; names: string[] } {
  return on('wasm', () => {
    const be = getBackend() as unknown as Record<string, unknown>;
    if (!fused) be['adamwUpdate'] = undefined;
    const w = randn([9, 7], { generator: new Generator('aw') }).requiresGrad_();
    const b = randn([7], { generator: new Generator('ab') }).requiresGrad_();
    const opt = new AdamW([w, b], { lr: 0.01, ...opts });
    const x = randn([5, 9], { generator: new Generator('ax') });
    const values: Float32Array[] = [];
    const names = fusedRuns(() => {
      for (let step = 0; step < 4; step++) {
        opt.zeroGrad();
        // w·xᵀ makes w's gradient a transposed (strided) view.
        matmul(w.transpose(), x.transpose()).transpose().add(b).pow(2).mean().backward();
        opt.step();
        const st = opt.stateDict().tensors;
        values.push(...[w, b, ...Object.values(st)].map((t) => Float32Array.from(t.dataSync())));
      }
    });
    delete be['adamwUpdate'];
    return { values, names };
  });
}

test('AdamW: the fused wasm step equals the composed step bitwise (weight decay, both lerp forms, maximize, strided gradients)', () => {
  for (const opts of [
    { weightDecay: 0.01, betas: [0.9, 0.999] as [number, number], maximize: false },
    { weightDecay: 0, betas: [0.3, 0.95] as [number, number], maximize: true },
  ]) {
    const fused = adamwTrace(true, opts);
    const plain = adamwTrace(false, opts);
    assert.equal(fused.names.filter((n) => n === 'adamwUpdate').length, 8, 'the fused kernel ran for both parameters at each step');
    assert.deepEqual(plain.names, [], 'without the method the step is composed');
    assert.equal(fused.values.length, plain.values.length);
    fused.values.forEach((v, i) => assert.deepEqual(v, plain.values[i], `array ${i} (${JSON.stringify(opts)})`));
  }
  const ams = adamwTrace(true, { weightDecay: 0.01, betas: [0.9, 0.999], maximize: false, amsgrad: true });
  assert.deepEqual(ams.names, [], 'AMSGrad is composed');
});

test('AdamW with the fused step keeps earlier state dicts as snapshots (moments are replaced, not overwritten)', () => {
  on('wasm', () => {
    const w = randn([4, 4], { generator: new Generator('s') }).requiresGrad_();
    const opt = new AdamW([w], { lr: 0.1 });
    const stepOnce = (): void => {
      opt.zeroGrad();
      w.pow(2).sum().backward();
      opt.step();
    };
    stepOnce();
    const snap = opt.stateDict().tensors;
    const before = Object.fromEntries(Object.entries(snap).map(([k, t]) => [k, Float32Array.from(t.dataSync())]));
    stepOnce();
    for (const [k, t] of Object.entries(snap)) assert.deepEqual(Float32Array.from(t.dataSync()), before[k], `${k} changed`);
    assert.notDeepEqual(Float32Array.from(opt.stateDict().tensors['state.0.expAvg']!.dataSync()), before['state.0.expAvg']);
  });
});

test('adamwUpdate refuses an in-place write into a parameter that requires a gradient while recording, and returns null on cpu', () => {
  const p = randn([3]).requiresGrad_();
  const s = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, maximize: false };
  assert.throws(() => adamwUpdate(p, randn([3]), randn([3]), randn([3]), s), /adamwUpdate: in-place write/);
  assert.equal(noGrad(() => adamwUpdate(p, randn([3]), randn([3]), randn([3]), s)), null);
});
