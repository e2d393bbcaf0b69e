// Properties of Mixture of Flow (§5.1.2): K experts per routing unit with weights summing to 1; experts
// a sample is routed away from get no gradient from it; the router reads the embodiment/task context;
// total vs active parameter counts; the dense limit (K = N, equal logits) is the plain average of the
// experts; the foundation tier is exactly a TransformerBlock stack; and the attention options (Eq. 9 mask,
// Eq. 10 positions, a KV-cached prefix) pass through every layer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, concat, noGrad, randn, tensor, type Tensor } from '../../src/tensor/index.js';
import { KVCache, TransformerBlock, type GatingMode } from '../../src/nn/index.js';
import {
  MixtureOfFlow,
  SpecializedExpertLayer,
  type MixtureOfFlowOptions,
  type RoutingUnit,
  type SpecializedExpertOutput,
} from '../../src/model/mof.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { assertTensorsClose as assertClose } from '../helpers/tensor-close.js';

const D = 8;
const RUNS = { numRuns: 12, includeErrorInReport: true } as const;

const f64 = (shape: number[], seed: number): Tensor => randn(shape, { dtype: 'float64', generator: new Generator(seed) });
const values = (t: Tensor): number[] => Array.from(t.dataSync(), Number);
const ints = (t: Tensor): number[] => Array.from(t.dataSync(), Number);

function mofOf(opts: Partial<MixtureOfFlowOptions> & { numExperts: number }, seed = 0): MixtureOfFlow {
  return new MixtureOfFlow(D, {
    numHeads: 2,
    mlpHidden: 8,
    foundationLayers: 1,
    specializedLayers: 1,
    dtype: 'float64',
    generator: new Generator(seed),
    ...opts,
  });
}


/** Overwrites a parameter in place (outside autograd). */
function setParam(p: Tensor, data: number[]): void {
  noGrad(() => p.copy_(tensor(Float64Array.from(data), { shape: p.shape, dtype: 'float64' })));
}

/** The chosen experts of each token of one layer: `[B·T][K]`. */
function chosenPerToken(layer: SpecializedExpertOutput): number[][] {
  const k = layer.routing.indices.shape.at(-1)!;
  const flat = ints(layer.routing.indices);
  return Array.from({ length: flat.length / k }, (_, i) => flat.slice(i * k, (i + 1) * k));
}

/** True when an expert's parameters got no gradient: every `.grad` null or exactly zero. */
function gradIsZero(layer: SpecializedExpertLayer, e: number): boolean {
  return layer.moe.experts
    .at(e)
    .parameters()
    .every((p) => p.grad === null || values(p.grad).every((v) => v === 0));
}

interface Config {
  numExperts: number;
  topK: number;
  routingUnit: RoutingUnit;
  contextDim: number;
  mlp: 'gelu' | 'swiglu';
  specializedLayers: number;
  B: number;
  T: number;
  seed: number;
}

const configArb: fc.Arbitrary<Config> = fc.integer({ min: 1, max: 4 }).chain((numExperts) =>
  fc.record({
    numExperts: fc.constant(numExperts),
    topK: fc.integer({ min: 1, max: numExperts }),
    routingUnit: fc.constantFrom<RoutingUnit>('sample', 'token', 2),
    contextDim: fc.integer({ min: 0, max: 3 }),
    mlp: fc.constantFrom<'gelu' | 'swiglu'>('gelu', 'swiglu'),
    specializedLayers: fc.integer({ min: 1, max: 2 }),
    B: fc.integer({ min: 1, max: 3 }),
    T: fc.integer({ min: 1, max: 4 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  }),
);

function run(c: Config): { mof: MixtureOfFlow; out: ReturnType<MixtureOfFlow['forward']>; x: Tensor } {
  const mof = mofOf({ ...c }, c.seed);
  const x = f64([c.B, c.T, D], c.seed + 1);
  const context = c.contextDim > 0 ? f64([c.B, c.contextDim], c.seed + 2) : undefined;
  return { mof, x, out: mof.forward(x, { causal: true, ...(context ? { context } : {}) }) };
}

describe('§5.1.2 Mixture of Flow', () => {
  test('§5.1.2 MoF: exactly K distinct experts are active per routing unit, shared by its tokens, and only they run', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const { mof, out } = run(c);
        const perSample = c.routingUnit === 'sample' ? c.T : c.routingUnit === 'token' ? 1 : 2;
        const expectedUnits = c.B * Math.ceil(c.T / perSample);
        out.output.mul(f64([...out.output.shape], c.seed + 3)).sum().backward();
        out.layers.forEach((layer, l) => {
          const chosen = chosenPerToken(layer);
          const unitOf = ints(layer.routing.unitOf);
          assert.equal(new Set(unitOf).size, expectedUnits);
          const byUnit = new Map<number, string>();
          chosen.forEach((ks, i) => {
            assert.equal(new Set(ks).size, c.topK, `token ${i}: ${ks} is not K = ${c.topK} distinct experts`);
            assert.ok(ks.every((e) => e >= 0 && e < c.numExperts));
            const key = ks.slice().sort().join(',');
            assert.equal(byUnit.get(unitOf[i]!) ?? key, key, `the tokens of unit ${unitOf[i]} disagree`);
            byUnit.set(unitOf[i]!, key);
          });
          const used = new Set(chosen.flat());
          const spec = mof.specialized.at(l);
          for (let e = 0; e < c.numExperts; e++) {
            const ran = spec.moe.experts.at(e).parameters().some((p) => p.grad !== null);
            assert.equal(ran, used.has(e), `layer ${l} expert ${e}: ran ${ran}, chosen ${used.has(e)}`);
          }
        });
      }),
      RUNS,
    );
  });

  test('§5.1.2 MoF: the K routing weights of every token are positive and sum to 1', () => {
    fc.assert(
      fc.property(configArb, fc.constantFrom<GatingMode>('topk-softmax', 'softmax-topk'), (c, gating) => {
        const mof = mofOf({ ...c, gating, renormalize: true }, c.seed);
        const context = c.contextDim > 0 ? f64([c.B, c.contextDim], c.seed + 2) : undefined;
        const out = mof.forward(f64([c.B, c.T, D], c.seed + 1), context ? { context } : {});
        for (const layer of out.layers) {
          const w = values(layer.routing.weights);
          for (let i = 0; i < w.length; i += c.topK) {
            const row = w.slice(i, i + c.topK);
            assert.ok(row.every((v) => v > 0));
            assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-12, `weights ${row} do not sum to 1`);
          }
        }
      }),
      RUNS,
    );
  });

  // "Zero" here: the gradient of one sample's loss w.r.t. every parameter of an expert that sample was
  // routed away from is null (no unit chose the expert, so it never ran) or exactly 0 in every entry (it
  // ran for other samples, whose rows get a zero cotangent).
  test('§5.1.2 MoF: a sample routed away from an expert sends it exactly zero gradient (null or all zeros)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (topK, seed) => {
        const B = 3;
        const mof = mofOf({ numExperts: 4, topK, specializedLayers: 2, contextDim: 2 }, seed);
        const x = f64([B, 3, D], seed + 1);
        const context = f64([B, 2], seed + 2);
        const r = f64([1, 3, D], seed + 3);
        for (let b = 0; b < B; b++) {
          mof.zeroGrad();
          const out = mof.forward(x, { context, causal: true });
          out.output.narrow(0, b, 1).mul(r).sum().backward();
          out.layers.forEach((layer, l) => {
            const mine = new Set(chosenPerToken(layer).slice(b * 3, b * 3 + 3).flat());
            assert.equal(mine.size, topK);
            for (let e = 0; e < 4; e++) {
              const zero = gradIsZero(mof.specialized.at(l), e);
              assert.equal(zero, !mine.has(e), `sample ${b}, layer ${l}, expert ${e}: zero ${zero}, routed ${mine.has(e)}`);
            }
          });
        }
      }),
      RUNS,
    );
  });

  test('§5.1.2 MoF: with per-token routing, a token routed away from an expert of the top layer sends it zero gradient', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const mof = mofOf({ numExperts: 3, topK: 1, routingUnit: 'token', specializedLayers: 1 }, seed);
        const x = f64([1, 4, D], seed + 1);
        for (let t = 0; t < 4; t++) {
          mof.zeroGrad();
          const out = mof.forward(x, { causal: true });
          out.output.narrow(1, t, 1).sum().backward();
          const mine = chosenPerToken(out.layers[0]!)[t]![0]!;
          for (let e = 0; e < 3; e++) assert.equal(gradIsZero(mof.specialized.at(0), e), e !== mine, `token ${t}, expert ${e}`);
        }
      }),
      RUNS,
    );
  });

  test('§5.1.2 MoF: the router depends on the context — the same tokens with different contexts go to different experts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 2, maxLength: 4 }),
        fc.constantFrom<RoutingUnit>('sample', 'token'),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (wanted, routingUnit, seed) => {
          const N = 3;
          const B = wanted.length;
          const mof = mofOf({ numExperts: N, topK: 1, contextDim: N, routingUnit, foundationLayers: 0 }, seed);
          // Router [N, D + N]: token columns 0, context columns the identity, so logits = context.
          const w: number[] = [];
          for (let e = 0; e < N; e++) for (let j = 0; j < D + N; j++) w.push(j === D + e ? 1 : 0);
          setParam(mof.specialized.at(0).moe.router.weight, w);
          const x = f64([1, 3, D], seed + 1).expand([B, 3, D]); // every sample has the same tokens
          const context = tensor(Float64Array.from(wanted.flatMap((j) => Array.from({ length: N }, (_, e) => (e === j ? 1 : 0)))), {
            shape: [B, N],
            dtype: 'float64',
          });
          const out = mof.forward(x, { context });
          const chosen = chosenPerToken(out.layers[0]!);
          chosen.forEach((ks, i) => assert.equal(ks[0], wanted[Math.floor(i / 3)], `token ${i}`));
          const rows = Array.from({ length: B }, (_, b) => values(out.output.narrow(0, b, 1)));
          for (let a = 0; a < B; a++) {
            for (let b = 0; b < B; b++) {
              const gap = Math.max(...rows[a]!.map((v, i) => Math.abs(v - rows[b]![i]!)));
              if (wanted[a] === wanted[b]) assert.ok(gap < 1e-12, `samples ${a}, ${b}: same context, outputs differ by ${gap}`);
              else assert.ok(gap > 1e-6, `samples ${a}, ${b}: different experts, same outputs`);
            }
          }
        },
      ),
      RUNS,
    );
  });

  test('§5.1.2 MoF: total and active parameter counts equal the hand count of each tier', () => {
    fc.assert(
      fc.property(
        fc.record({
          dim: fc.constantFrom(4, 8),
          numHeads: fc.constantFrom(1, 2, 4),
          mlpHidden: fc.integer({ min: 1, max: 12 }),
          expertHidden: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
          numExperts: fc.integer({ min: 1, max: 5 }),
          k: fc.integer({ min: 1, max: 5 }),
          contextDim: fc.integer({ min: 0, max: 4 }),
          foundationLayers: fc.integer({ min: 0, max: 2 }),
          specializedLayers: fc.integer({ min: 1, max: 2 }),
          norm: fc.constantFrom<'layer' | 'rms'>('layer', 'rms'),
          mlp: fc.constantFrom<'gelu' | 'swiglu'>('gelu', 'swiglu'),
          bias: fc.option(fc.boolean(), { nil: undefined }),
        }),
        (c) => {
          const topK = Math.min(c.k, c.numExperts);
          const { dim: d, bias } = c;
          const mof = new MixtureOfFlow(d, { ...c, topK, ...(c.expertHidden === undefined ? {} : { expertHidden: c.expertHidden }) });
          const norm = c.norm === 'layer' ? 2 * d : d;
          const attnBias = bias ?? true;
          const attn = 4 * d * d + (attnBias ? 4 * d : 0);
          const ffn = (h: number): number =>
            c.mlp === 'gelu' ? 2 * d * h + ((bias ?? true) ? h + d : 0) : 3 * d * h + ((bias ?? false) ? 2 * h + d : 0);
          const block = 2 * norm + attn + ffn(c.mlpHidden);
          const expert = ffn(c.expertHidden ?? c.mlpHidden);
          const router = (d + c.contextDim) * c.numExperts;
          const shared = 2 * norm + attn + router;
          const total = c.foundationLayers * block + c.specializedLayers * (shared + c.numExperts * expert);
          const active = c.foundationLayers * block + c.specializedLayers * (shared + topK * expert);
          assert.equal(mof.totalParameters(), total);
          assert.equal(mof.activeParameters(), active);
          assert.equal(mof.totalParameters(), mof.numParameters());
        },
      ),
      { numRuns: 40 },
    );
  });

  test('§5.1.2 MoF: with K = N and equal router weights, a specialised layer adds the plain average of its experts', () => {
    fc.assert(
      fc.property(configArb, fc.constantFrom<GatingMode>('topk-softmax', 'softmax-topk'), (c, gating) => {
        const N = c.numExperts;
        const layer = new SpecializedExpertLayer(D, {
          numHeads: 2,
          numExperts: N,
          topK: N,
          gating,
          contextDim: c.contextDim,
          routingUnit: c.routingUnit,
          mlp: c.mlp,
          dtype: 'float64',
          generator: new Generator(c.seed),
        });
        // Every expert's router row is the same random row: equal logits, whatever the token and context.
        const row = values(f64([D + c.contextDim], c.seed + 5));
        setParam(layer.moe.router.weight, Array.from({ length: N }, () => row).flat());
        const x = f64([c.B, c.T, D], c.seed + 1);
        const context = c.contextDim > 0 ? f64([c.B, c.contextDim], c.seed + 2) : undefined;
        const got = layer.forward(x, { causal: true, ...(context ? { context } : {}) }).output;
        const h = x.add(layer.attn.forward(layer.norm1.forward(x), { causal: true }));
        const u = layer.norm2.forward(h);
        let sum = layer.moe.experts.at(0).forward(u);
        for (let e = 1; e < N; e++) sum = sum.add(layer.moe.experts.at(e).forward(u));
        assertClose(got, h.add(sum.div(N)), 1e-12, 'layer output');
      }),
      RUNS,
    );
  });

  test('§5.1.2 MoF: the foundation layers are exactly a plain TransformerBlock stack (mask, positions, cache)', () => {
    fc.assert(
      fc.property(
        fc.record({
          layers: fc.integer({ min: 1, max: 3 }),
          norm: fc.constantFrom<'layer' | 'rms'>('layer', 'rms'),
          mlp: fc.constantFrom<'gelu' | 'swiglu'>('gelu', 'swiglu'),
          T: fc.integer({ min: 2, max: 5 }),
          maskBits: fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
          positions: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 5, maxLength: 5 }),
          seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        }),
        (c) => {
          const opts = { numHeads: 2, norm: c.norm, mlp: c.mlp, rope: true, dtype: 'float64' as const };
          const mof = new MixtureOfFlow(D, { ...opts, foundationLayers: c.layers, specializedLayers: 1, numExperts: 2, generator: new Generator(c.seed) });
          const plain = Array.from({ length: c.layers }, (_, i) => {
            const block = new TransformerBlock(D, { ...opts, generator: new Generator(c.seed + 7) });
            block.loadStateDict(mof.foundation.at(i).stateDict());
            return block;
          });
          const T = c.T;
          const mask = tensor(c.maskBits.slice(0, T * T).map((b, i) => b || i % (T + 1) === 0), { shape: [T, T], dtype: 'bool' });
          const positionIds = tensor(Int32Array.from(c.positions.slice(0, T)), { dtype: 'int32' });
          const x = f64([2, T, D], c.seed + 1);
          let y = x;
          for (const b of plain) y = b.forward(y, { mask, positionIds });
          assert.deepEqual(values(mof.forward(x, { mask, positionIds }).foundation), values(y));

          // With a KV cache: the prefix then the rest, through layer caches 0..layers-1.
          const [cm, cp] = [new KVCache(), new KVCache()];
          const pre = x.narrow(1, 0, 1);
          const rest = x.narrow(1, 1, T - 1);
          mof.forward(pre, { cache: cm });
          let z = pre;
          plain.forEach((b, i) => (z = b.forward(z, { cache: cp.layer(i) })));
          let w = rest;
          plain.forEach((b, i) => (w = b.forward(w, { cache: cp.layer(i), causal: true })));
          assert.deepEqual(values(mof.forward(rest, { cache: cm, causal: true }).foundation), values(w));
          assert.equal(cm.numLayers, c.layers + 1);
        },
      ),
      RUNS,
    );
    const mof = mofOf({ numExperts: 2, foundationLayers: 2, specializedLayers: 0 });
    const out = mof.forward(f64([1, 3, D], 1));
    assert.equal(out.output, out.foundation);
    assert.equal(values(out.auxLoss)[0], 0);
    assert.equal(out.layers.length, 0);
  });

  test('Eq. 20: a KV-cached prefix gives the suffix the outputs of the full sequence (per-token routing, and per-sample with groups)', () => {
    fc.assert(
      fc.property(fc.constantFrom<RoutingUnit>('token', 'sample'), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (routingUnit, seed) => {
        const mof = mofOf({ numExperts: 3, topK: 2, routingUnit, contextDim: 2, foundationLayers: 1, specializedLayers: 2, rope: true }, seed);
        const [B, P, S] = [2, 3, 2];
        const x = f64([B, P + S, D], seed + 1);
        const context = f64([B, 2], seed + 2);
        // Full run: with per-sample routing, each sample's prefix and suffix are separate routing units
        // (group ids are global across the batch), as they are when the prefix is cached.
        const ids = Int32Array.from({ length: B * (P + S) }, (_, i) => 2 * Math.floor(i / (P + S)) + (i % (P + S) < P ? 0 : 1));
        const groups = routingUnit === 'sample' ? { groups: tensor(ids, { shape: [B, P + S], dtype: 'int32' }) } : {};
        const full = mof.forward(x, { context, causal: true, ...groups }).output.narrow(1, P, S);
        const cache = new KVCache();
        noGrad(() => mof.forward(x.narrow(1, 0, P), { context, cache, causal: true }));
        cache.freeze();
        const once = mof.forward(x.narrow(1, P, S), { context, cache, causal: true }).output;
        const twice = mof.forward(x.narrow(1, P, S), { context, cache, causal: true }).output;
        assertClose(once, full, 1e-10, 'cached suffix');
        assert.deepEqual(values(twice), values(once));
        assert.equal(cache.length, P);
      }),
      RUNS,
    );
  });

  test('Eq. 9: under the hybrid mask with one routing group per segment, FM and MASK targets never see each other', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.boolean(), (seed, perturbMask) => {
        const [Q, F, M] = [2, 2, 2];
        const T = Q + F + M;
        const seg = (i: number): number => (i < Q ? 0 : i < Q + F ? 1 : 2);
        // Eq. 9's G: Q sees Q; FM sees Q and FM; MASK sees Q and MASK.
        const G = [
          [1, 0, 0],
          [1, 1, 0],
          [1, 0, 1],
        ];
        const mask = tensor(
          Array.from({ length: T * T }, (_, k) => G[seg(Math.floor(k / T))]![seg(k % T)] === 1),
          { shape: [T, T], dtype: 'bool' },
        );
        // Eq. 10: both targets start at p0 = Q.
        const positionIds = tensor(Int32Array.from({ length: T }, (_, i) => (i < Q ? i : i < Q + F ? i : i - F)), { dtype: 'int32' });
        const groups = tensor(Int32Array.from({ length: T }, (_, i) => seg(i)), { shape: [1, T], dtype: 'int32' });
        const mof = mofOf({ numExperts: 3, topK: 1, routingUnit: 'sample', contextDim: 2, specializedLayers: 2, rope: true }, seed);
        const context = f64([1, 2], seed + 2);
        const x = f64([1, T, D], seed + 1);
        const [lo, len] = perturbMask ? [Q + F, M] : [Q, F];
        const y = concat([x.narrow(1, 0, lo), f64([1, len, D], seed + 9), x.narrow(1, lo + len, T - lo - len)], 1);
        const a = mof.forward(x, { mask, positionIds, groups, context }).output;
        const b = mof.forward(y, { mask, positionIds, groups, context }).output;
        for (let i = 0; i < T; i++) {
          const same = values(a.narrow(1, i, 1)).every((v, j) => v === values(b.narrow(1, i, 1))[j]);
          const touched = i >= lo && i < lo + len;
          if (!touched) assert.ok(same, `token ${i} (segment ${seg(i)}) changed when segment ${seg(lo)} changed`);
        }
      }),
      RUNS,
    );
  });

  test('§5.1.2 MoF: the load-balancing and z losses are the means over specialised layers, and reach every router', () => {
    const mof = mofOf({ numExperts: 4, topK: 2, contextDim: 2, specializedLayers: 3 }, 3);
    const out = mof.forward(f64([3, 4, D], 1), { context: f64([3, 2], 2) });
    const mean = (pick: (l: SpecializedExpertOutput) => Tensor): number => out.layers.reduce((s, l) => s + values(pick(l))[0]!, 0) / 3;
    assert.ok(Math.abs(values(out.auxLoss)[0]! - mean((l) => l.auxLoss)) < 1e-12);
    assert.ok(Math.abs(values(out.zLoss)[0]! - mean((l) => l.zLoss)) < 1e-12);
    assert.ok(values(out.auxLoss)[0]! >= 1 - 1e-12, 'the Switch loss is at least 1');
    out.auxLoss.add(out.zLoss).backward();
    for (const layer of mof.specialized) assert.ok(values(layer.moe.router.weight.grad!).some((v) => v !== 0));
  });

  test('§5.1.2 MoF: the output is differentiable in the tokens and the context (finite differences, float64)', () => {
    const mof = mofOf({ numExperts: 3, topK: 2, contextDim: 2, routingUnit: 'token', specializedLayers: 2 }, 11);
    gradcheck((x, c) => mof.forward(x, { context: c, causal: true }).output, [f64([2, 2, D], 1), f64([2, 2], 2)]);
  });

  test('§5.1.2 MoF: experts read only the token, the router token and context; parameter names follow TransformerBlock', () => {
    const mof = mofOf({ numExperts: 3, contextDim: 5, mlp: 'swiglu', expertHidden: 6 });
    const names = new Map(mof.namedParameters().map(([n, p]) => [n, p.shape]));
    assert.deepEqual(names.get('specialized.0.moe.router.weight'), [3, D + 5]);
    assert.deepEqual(names.get('specialized.0.moe.experts.2.gateProj.weight'), [6, D]);
    assert.deepEqual(names.get('foundation.0.mlp.gateProj.weight'), [8, D]);
    assert.ok(names.has('specialized.0.attn.qProj.weight') && names.has('specialized.0.norm2.weight'));
    assert.equal(mof.numLayers, 2);
  });

  test('§5.1.2 MoF: bad shapes and options throw, naming the layer and the values', () => {
    const mof = mofOf({ numExperts: 3, contextDim: 2 });
    const x = f64([2, 3, D], 1);
    assert.throws(() => mof.forward(x), /SpecializedExpertLayer: a context \[2, 2\] is required/);
    assert.throws(() => mof.forward(x, { context: f64([2, 3], 2) }), /context must be \[2, 2\] or \[1, 2\], got \[2,3\]/);
    assert.throws(() => mof.forward(x, { context: f64([3, 2], 2) }), /context must be/);
    assert.throws(() => mof.forward(f64([2, 3, 4], 1), { context: f64([2, 2], 2) }), /MixtureOfFlow: expected input \[B, T, 8\]/);
    assert.doesNotThrow(() => mof.forward(x, { context: f64([1, 2], 2) }));
    const plain = mofOf({ numExperts: 2 });
    assert.throws(() => plain.forward(x, { context: f64([2, 2], 2) }), /MixtureOfFlow: got a context \[2,2\] but contextDim is 0/);
    assert.throws(() => mofOf({ numExperts: 2, topK: 3 }), /MixtureOfFlow: topK must be an integer in \[1, 2\], got 3/);
    assert.throws(() => mofOf({ numExperts: 0 }), /numExperts must be an integer ≥ 1, got 0/);
    assert.throws(() => mofOf({ numExperts: 2, foundationLayers: 0, specializedLayers: 0 }), /at least one layer/);
    assert.throws(() => mofOf({ numExperts: 2, foundationLayers: -1 }), /foundationLayers must be an integer ≥ 0, got -1/);
    assert.throws(() => mofOf({ numExperts: 2, routingUnit: 0 }), /routingUnit must be 'sample', 'token' or a positive integer, got 0/);
    assert.throws(() => mofOf({ numExperts: 2, contextDim: 1.5 }), /contextDim must be an integer ≥ 0, got 1.5/);
  });
});
