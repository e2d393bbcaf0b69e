// The basic layers and Module: shapes, PyTorch-default initialisation, normalisation statistics, seeded
// dropout, dotted parameter names, freezing, counting, state dicts and train/eval propagation.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, noGrad, ones, randn, tensor, zeros, type Tensor } from '../../src/tensor/index.js';
import { Module, ModuleList } from '../../src/nn/module.js';
import * as init from '../../src/nn/init.js';
import { Embedding, Linear } from '../../src/nn/layers/linear.js';
import { LayerNorm, RMSNorm } from '../../src/nn/layers/norm.js';
import { Dropout } from '../../src/nn/layers/dropout.js';
import { MLP, SwiGLU } from '../../src/nn/layers/mlp.js';
import { TransformerBlock } from '../../src/nn/layers/transformer-block.js';
import { assertTensorsClose as assertClose } from '../helpers/tensor-close.js';

function stats(t: Tensor): { mean: number; variance: number; min: number; max: number } {
  const v = t.dataSync();
  let s = 0;
  let s2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    s += x;
    s2 += x * x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = s / v.length;
  return { mean, variance: s2 / v.length - mean * mean, min, max };
}


describe('Linear and Embedding', () => {
  test('Linear maps [..., in] to [..., out] as x·Wᵀ + b with weight [out, in]', () => {
    const lin = new Linear(3, 2, { generator: new Generator(0), dtype: 'float64' });
    assert.deepEqual(lin.weight.shape, [2, 3]);
    assert.deepEqual(lin.bias!.shape, [2]);
    const x = randn([4, 5, 3], { dtype: 'float64', generator: new Generator(1) });
    const y = lin.forward(x);
    assert.deepEqual(y.shape, [4, 5, 2]);
    const [w, b, xd] = [lin.weight.dataSync(), lin.bias!.dataSync(), x.dataSync()];
    const yd = y.dataSync();
    for (let r = 0; r < 20; r++)
      for (let o = 0; o < 2; o++) {
        const want = b[o]! + xd[r * 3]! * w[o * 3]! + xd[r * 3 + 1]! * w[o * 3 + 1]! + xd[r * 3 + 2]! * w[o * 3 + 2]!;
        assert.ok(Math.abs(yd[r * 2 + o]! - want) < 1e-12);
      }
    assert.equal(new Linear(3, 2, { bias: false }).bias, null);
    assert.throws(() => lin.forward(x.narrow(-1, 0, 2)), /Linear: expected input \[\.\.\., 3\]/);
  });

  test('Linear initialises like PyTorch: weight and bias uniform in ±1/√in', () => {
    const inF = 64;
    const lin = new Linear(inF, 256, { generator: new Generator(2) });
    const bound = 1 / Math.sqrt(inF);
    for (const [t, n] of [
      [lin.weight, 'weight'],
      [lin.bias!, 'bias'],
    ] as const) {
      const s = stats(t);
      assert.ok(s.min >= -bound && s.max <= bound, `${n} within ±${bound}: [${s.min}, ${s.max}]`);
      assert.ok(s.max > 0.9 * bound && s.min < -0.9 * bound, `${n} fills the interval`);
    }
    const s = stats(lin.weight);
    assert.ok(Math.abs(s.mean) < 0.01 * bound * 3);
    assert.ok(Math.abs(s.variance / ((bound * bound) / 3) - 1) < 0.05, `variance of U(±b) is b²/3, got ratio ${s.variance / ((bound * bound) / 3)}`);
  });

  test('Embedding looks up rows of an N(0, 1) table for int32 ids of any shape', () => {
    const emb = new Embedding(500, 40, { generator: new Generator(3) });
    const s = stats(emb.weight);
    assert.ok(Math.abs(s.mean) < 0.02 && Math.abs(s.variance - 1) < 0.03, `mean ${s.mean}, variance ${s.variance}`);
    const ids = tensor([[3, 0], [499, 3]], { dtype: 'int32' });
    const y = emb.forward(ids);
    assert.deepEqual(y.shape, [2, 2, 40]);
    assert.deepEqual(Array.from(y.narrow(0, 1, 1).narrow(1, 1, 1).contiguous().dataSync()), Array.from(emb.weight.narrow(0, 3, 1).contiguous().dataSync()));
    assert.throws(() => emb.forward(tensor([1, 2])), /ids must be int32/);
  });
});

describe('LayerNorm and RMSNorm', () => {
  test('LayerNorm output has zero mean and unit (population) variance over the normalised axes', () => {
    const x = randn([6, 32], { dtype: 'float64', generator: new Generator(4) }).mul(3).add(5);
    const y = new LayerNorm(32, { dtype: 'float64', eps: 1e-12 }).forward(x);
    const m = y.mean(-1).dataSync();
    const v = y.var(-1, { correction: 0 }).dataSync();
    for (let i = 0; i < 6; i++) {
      assert.ok(Math.abs(m[i]!) < 1e-12 && Math.abs(v[i]! - 1) < 1e-9, `row ${i}: mean ${m[i]}, var ${v[i]}`);
    }
  });

  test('LayerNorm over two trailing axes, with its affine scale and shift applied after normalising', () => {
    const ln = new LayerNorm([2, 3], { dtype: 'float64' });
    assert.deepEqual(ln.weight!.shape, [2, 3]);
    const x = randn([4, 2, 3], { dtype: 'float64', generator: new Generator(5) });
    const plain = ln.forward(x);
    const m = plain.mean([1, 2]).dataSync();
    for (const v of m) assert.ok(Math.abs(v) < 1e-12);
    noGrad(() => {
      ln.weight!.copy_(ones([2, 3], { dtype: 'float64' }).mul(2));
      ln.bias!.copy_(ones([2, 3], { dtype: 'float64' }).mul(-1));
    });
    assertClose(ln.forward(x), plain.mul(2).sub(1), 1e-12);
    assert.equal(new LayerNorm(4, { elementwiseAffine: false }).parameters().length, 0);
    assert.equal(new LayerNorm(4, { bias: false }).bias, null);
    assert.equal(new LayerNorm(4).eps, 1e-5);
    assert.throws(() => ln.forward(x.narrow(-1, 0, 2)), /LayerNorm: expected input \[\.\.\., 2, 3\]/);
  });

  test('RMSNorm output has unit mean square over the last axis and is scaled by its weight', () => {
    const x = randn([5, 16], { dtype: 'float64', generator: new Generator(6) }).mul(4);
    const rms = new RMSNorm(16, { dtype: 'float64', eps: 1e-12 });
    const y = rms.forward(x);
    for (const ms of y.mul(y).mean(-1).dataSync()) assert.ok(Math.abs(ms - 1) < 1e-9, `mean square ${ms}`);
    assertClose(y.div(x), y.narrow(-1, 0, 1).div(x.narrow(-1, 0, 1)).expand([5, 16]).contiguous(), 1e-12, 'a per-row scale, no centring');
    noGrad(() => rms.weight!.copy_(ones([16], { dtype: 'float64' }).mul(3)));
    assertClose(rms.forward(x), y.mul(3), 1e-12);
    assert.equal(new RMSNorm(4).eps, 1e-6);
  });
});

describe('Dropout', () => {
  test('the same seed gives the same mask; kept values are scaled by 1/(1−p), the rest are zero', () => {
    const x = randn([20, 50], { generator: new Generator(7) });
    const a = new Dropout(0.3, new Generator(42)).forward(x).dataSync();
    const b = new Dropout(0.3, new Generator(42)).forward(x).dataSync();
    assert.deepEqual(Array.from(a), Array.from(b));
    const xd = x.dataSync();
    let dropped = 0;
    for (let i = 0; i < xd.length; i++) {
      if (a[i] === 0) dropped++;
      else assert.ok(Math.abs(a[i]! - xd[i]! / 0.7) < 1e-5 * (1 + Math.abs(xd[i]!)));
    }
    assert.ok(Math.abs(dropped / xd.length - 0.3) < 0.05, `dropped fraction ${dropped / xd.length}`);
    const c = new Dropout(0.3, new Generator(43)).forward(x).dataSync();
    assert.notDeepEqual(Array.from(c), Array.from(a));
  });

  test('dropout is the identity in eval mode and for p = 0; p outside [0, 1) is rejected', () => {
    const x = randn([3, 4]);
    assert.equal(new Dropout(0.5).eval().forward(x), x);
    assert.equal(new Dropout(0).forward(x), x);
    assert.throws(() => new Dropout(1), /p must be in \[0, 1\)/);
    assert.throws(() => new Dropout(-0.1), /p must be in/);
  });
});

describe('MLP and SwiGLU', () => {
  test('MLP is fc2(gelu(fc1(x))) with hidden width and optional output width', () => {
    const mlp = new MLP(4, 10, { generator: new Generator(8), dtype: 'float64', outDim: 3 });
    const x = randn([2, 5, 4], { dtype: 'float64', generator: new Generator(9) });
    const y = mlp.forward(x);
    assert.deepEqual(y.shape, [2, 5, 3]);
    assertClose(y, mlp.fc2.forward(mlp.fc1.forward(x).gelu()), 0);
    const tanhMlp = new MLP(4, 10, { generator: new Generator(8), dtype: 'float64', approximate: 'tanh' });
    assertClose(tanhMlp.forward(x), tanhMlp.fc2.forward(tanhMlp.fc1.forward(x).gelu('tanh')), 0);
  });

  test('SwiGLU is down(silu(gate(x)) · up(x)) without biases by default', () => {
    const sw = new SwiGLU(4, 6, { generator: new Generator(10), dtype: 'float64' });
    assert.deepEqual(
      sw.namedParameters().map(([n, p]) => [n, p.shape]),
      [
        ['gateProj.weight', [6, 4]],
        ['upProj.weight', [6, 4]],
        ['downProj.weight', [4, 6]],
      ],
    );
    const x = randn([3, 4], { dtype: 'float64', generator: new Generator(11) });
    const want = sw.downProj.forward(sw.gateProj.forward(x).silu().mul(sw.upProj.forward(x)));
    assertClose(sw.forward(x), want, 0);
    assert.equal(new SwiGLU(4, 6, { bias: true }).parameters().length, 6);
  });
});

class Tiny extends Module {
  readonly blocks: ModuleList<TransformerBlock>;
  readonly head: Linear;
  readonly scale: Tensor;
  readonly stats: Tensor;
  constructor() {
    super();
    this.blocks = this.module('blocks', new ModuleList([0, 1].map((i) => new TransformerBlock(8, { numHeads: 2, generator: new Generator(i) }))));
    this.head = this.module('head', new Linear(8, 3, { generator: new Generator(5) }));
    this.scale = this.param('scale', ones([3]));
    this.stats = this.buffer('stats', zeros([3]));
    this.buffer('scratch', zeros([2]), false);
  }
}

describe('Module', () => {
  test('namedParameters gives dotted names, own parameters first, then submodules depth first (blocks.0.attn.qProj.weight)', () => {
    const m = new Tiny();
    const names = m.namedParameters().map(([n]) => n);
    assert.deepEqual(names.slice(0, 4), ['scale', 'blocks.0.norm1.weight', 'blocks.0.norm1.bias', 'blocks.0.attn.qProj.weight']);
    assert.ok(names.indexOf('blocks.1.mlp.fc2.bias') > names.indexOf('blocks.0.mlp.fc2.bias'));
    assert.deepEqual(names.slice(-2), ['head.weight', 'head.bias']);
    assert.deepEqual(
      m.namedBuffers().map(([n]) => n),
      ['stats', 'scratch'],
    );
    for (const p of m.parameters()) assert.equal(p.requiresGrad, true);
  });

  test('a parameter shared by two modules is listed and counted once', () => {
    class Tied extends Module {
      readonly a = this.module('a', new Linear(4, 4, { bias: false }));
      readonly b = this.module('b', new Module());
    }
    const t = new Tied();
    (t.b as unknown as { param(n: string, x: Tensor): Tensor }).param('w', t.a.weight);
    assert.deepEqual(
      t.namedParameters().map(([n]) => n),
      ['a.weight'],
    );
    assert.equal(t.numParameters(), 16);
  });

  test('freeze by prefix and by predicate; numParameters counts all or only the trainable', () => {
    const m = new Tiny();
    const total = m.numParameters();
    const perBlock = m.blocks.at(0).numParameters();
    assert.equal(total, 2 * perBlock + 8 * 3 + 3 + 3);
    m.freeze('blocks.0');
    assert.equal(m.numParameters(true), total - perBlock);
    assert.equal(m.blocks.at(0).attn.qProj.weight.requiresGrad, false);
    assert.equal(m.blocks.at(1).attn.qProj.weight.requiresGrad, true);
    m.freeze((name) => name.endsWith('.bias'));
    assert.equal(m.head.bias!.requiresGrad, false);
    m.unfreeze('blocks');
    assert.equal(m.blocks.at(0).attn.qProj.weight.requiresGrad, true);
    assert.equal(m.blocks.at(0).attn.qProj.bias!.requiresGrad, true);
    assert.throws(() => m.freeze('block'), /no parameter is named 'block' or starts with 'block\.'/);
    m.freeze('scale');
    assert.equal(m.scale.requiresGrad, false);
  });

  test('stateDict has parameters and persistent buffers; loadStateDict copies values and round-trips', () => {
    const a = new Tiny();
    const sd = a.stateDict();
    assert.ok('stats' in sd && !('scratch' in sd));
    assert.ok('blocks.1.attn.oProj.weight' in sd);
    const b = new Tiny();
    noGrad(() => b.head.weight.copy_(zeros([3, 8])));
    b.loadStateDict(sd);
    assert.deepEqual(Array.from(b.head.weight.dataSync()), Array.from(a.head.weight.dataSync()));
    const x = randn([1, 2, 8]);
    assert.deepEqual(Array.from(b.blocks.at(0).forward(x).dataSync()), Array.from(a.blocks.at(0).forward(x).dataSync()));
  });

  test('loadStateDict names missing, unexpected and mis-shaped keys, and writes nothing on error', () => {
    const m = new Tiny();
    const before = Array.from(m.head.weight.dataSync());
    const sd = { ...new Tiny().stateDict() };
    sd['head.weight'] = zeros([3, 8]).add(7);
    delete sd['scale'];
    sd['extra.weight'] = zeros([1]);
    sd['head.bias'] = zeros([4]);
    assert.throws(
      () => m.loadStateDict(sd),
      (e: Error) =>
        /mis-shaped keys: head\.bias: expected \[3\], got \[4\]/.test(e.message) &&
        /missing keys: scale/.test(e.message) &&
        /unexpected keys: extra\.weight/.test(e.message),
    );
    assert.deepEqual(Array.from(m.head.weight.dataSync()), before);
    sd['head.bias'] = zeros([3]);
    const r = m.loadStateDict(sd, { strict: false });
    assert.deepEqual(r, { missing: ['scale'], unexpected: ['extra.weight'] });
    assert.deepEqual(Array.from(m.head.weight.dataSync()), [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]);
    sd['head.bias'] = zeros([4]);
    assert.throws(() => m.loadStateDict(sd, { strict: false }), /mis-shaped keys: head\.bias/);
  });

  test('train() and eval() propagate to every submodule', () => {
    const m = new Tiny();
    assert.equal(m.training, true);
    m.eval();
    for (const [n, sub] of m.namedModules()) assert.equal(sub.training, false, `'${n}' still training`);
    m.blocks.train();
    assert.equal(m.blocks.at(1).attn.training, true);
    assert.equal(m.head.training, false);
    m.train();
    for (const [, sub] of m.namedModules()) assert.equal(sub.training, true);
  });

  test('registration rejects dotted, empty and duplicate names, and non-leaf parameters', () => {
    class Bad extends Module {
      add(name: string, t: Tensor): void {
        this.param(name, t);
      }
    }
    const b = new Bad();
    b.add('w', zeros([1]));
    assert.throws(() => b.add('w', zeros([1])), /'w' is already registered/);
    assert.throws(() => b.add('a.b', zeros([1])), /invalid name 'a\.b'/);
    assert.throws(() => b.add('', zeros([1])), /invalid name/);
    const leaf = zeros([1]).requiresGrad_(true);
    assert.throws(() => b.add('nl', leaf.mul(2)), /must be a leaf tensor/);
    assert.throws(() => new ModuleList([]).at(0), /index 0 is out of range/);
  });
});

describe('init', () => {
  test('fans follow PyTorch: [out, in, ...k] has fanIn = in·Πk and fanOut = out·Πk', () => {
    assert.deepEqual(init.fans([8, 3]), [3, 8]);
    assert.deepEqual(init.fans([8, 3, 5, 2]), [30, 80]);
    assert.throws(() => init.fans([4]), /at least 2 axes/);
    assert.equal(init.calculateGain('relu'), Math.SQRT2);
    assert.equal(init.calculateGain('tanh'), 5 / 3);
    assert.equal(init.calculateGain('leaky_relu', Math.sqrt(5)), Math.sqrt(2 / 6));
  });

  test('uniform, Xavier and Kaiming initialisers stay within their bounds and fill them', () => {
    const cases: [string, (t: Tensor) => Tensor, number][] = [
      ['uniform_(-0.5, 2)', (t) => init.uniform_(t, -0.5, 2, { generator: new Generator(1) }), 2],
      ['xavierUniform_', (t) => init.xavierUniform_(t, 1, { generator: new Generator(2) }), Math.sqrt(6 / (100 + 200))],
      ['kaimingUniform_ (a = √5)', (t) => init.kaimingUniform_(t, { a: Math.sqrt(5), generator: new Generator(3) }), 1 / Math.sqrt(100)],
      ['kaimingUniform_ (relu)', (t) => init.kaimingUniform_(t, { nonlinearity: 'relu', generator: new Generator(4) }), Math.sqrt(6 / 100)],
    ];
    for (const [name, fill, bound] of cases) {
      const s = stats(fill(zeros([200, 100])));
      assert.ok(s.max <= bound * (1 + 1e-6) && s.max > 0.98 * bound, `${name}: max ${s.max} vs bound ${bound}`);
      if (!name.startsWith('uniform')) assert.ok(s.min >= -bound * (1 + 1e-6) && s.min < -0.98 * bound, `${name}: min ${s.min}`);
    }
    assert.throws(() => init.uniform_(zeros([2]), 1, 0), /need low ≤ high/);
  });

  test('normal initialisers have the requested moments; truncNormal_ respects its bounds; a seed repeats exactly', () => {
    const n = stats(init.normal_(zeros([100, 100], { dtype: 'float64' }), 1, 2, { generator: new Generator(5) }));
    assert.ok(Math.abs(n.mean - 1) < 0.05 && Math.abs(n.variance / 4 - 1) < 0.05, `normal mean ${n.mean}, var ${n.variance}`);
    const k = stats(init.kaimingNormal_(zeros([200, 50], { dtype: 'float64' }), { nonlinearity: 'relu', generator: new Generator(6) }));
    assert.ok(Math.abs(k.variance / (2 / 50) - 1) < 0.05);
    const x = stats(init.xavierNormal_(zeros([200, 50], { dtype: 'float64' }), 1, { generator: new Generator(7) }));
    assert.ok(Math.abs(x.variance / (2 / 250) - 1) < 0.05);
    const t = stats(init.truncNormal_(zeros([5000]), 0, 1, -0.5, 1.5, { generator: new Generator(8) }));
    assert.ok(t.min >= -0.5 && t.max <= 1.5 && t.min < -0.49 && t.max > 1.45);
    const a = init.normal_(zeros([10]), 0, 1, { generator: new Generator(9) }).dataSync();
    const b = init.normal_(zeros([10]), 0, 1, { generator: new Generator(9) }).dataSync();
    assert.deepEqual(Array.from(a), Array.from(b));
    assert.throws(() => init.truncNormal_(zeros([2]), 0, 1, 6, 7), /too far in the tail/);
  });
});
