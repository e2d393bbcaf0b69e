// Properties of one Mixture-of-Transformers layer (§5.1): with both experts given one block's weights it
// is that block; under a mask that separates the experts each stream is its own expert's block; a
// position's loss reaches another expert's parameters only through the keys and values it attends to;
// the Mixture-of-Flow action FFN (§5.1.2) routes each unit to exactly K experts; finite differences.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, tensor, type Tensor } from '../../../src/tensor/index.js';
import { TransformerBlock } from '../../../src/nn/index.js';
import { SpecializedExpertLayer } from '../../../src/model/mof.js';
import { MoTLayer, type MoTLayerOptions } from '../../../src/model/policy/mot-layer.js';
import { MoTLayout } from '../../../src/model/policy/mot-layout.js';
import { gradcheck } from '../../helpers/gradcheck.js';
import { assertClose, gauss, noGradient, pack, paramsWhere, someGradient, values } from './mot-fixtures.js';

const RUNS = { numRuns: 15, includeErrorInReport: true } as const;

function layerOf(opts: Partial<MoTLayerOptions> = {}, seed = 0): MoTLayer {
  return new MoTLayer({
    understandingDim: 8,
    actionDim: 6,
    numHeads: 2,
    numKvHeads: 1,
    headDim: 4,
    understandingHidden: 8,
    actionHidden: 6,
    dtype: 'float64',
    generator: new Generator(seed),
    ...opts,
  });
}

/** B rows of T positions, `ta` of each row owned by the action expert; a seed for the data. */
const caseArb = fc
  .record({ B: fc.integer({ min: 1, max: 2 }), T: fc.integer({ min: 2, max: 6 }), seed: fc.integer({ min: 0, max: 1e6 }) })
  .chain(({ B, T, seed }) =>
    fc.integer({ min: 1, max: T - 1 }).chain((ta) =>
      fc
        .array(fc.shuffledSubarray(Array.from({ length: T }, (_, i) => i), { minLength: ta, maxLength: ta }), { minLength: B, maxLength: B })
        .map((rows) => ({ B, T, seed, isAction: (b: number, p: number) => rows[b]!.includes(p) })),
    ),
  );

function layoutOf(B: number, T: number, isAction: (b: number, p: number) => boolean): MoTLayout {
  return MoTLayout.fromExpertMask(tensor(Array.from({ length: B * T }, (_, k) => isAction(Math.floor(k / T), k % T)), { shape: [B, T], dtype: 'bool' }));
}

/** A random bool mask `[B, 1, T, T]` (each query sees itself), restricted by `allow(b, i, j)`. */
function randomMask(B: number, T: number, seed: number, allow: (b: number, i: number, j: number) => boolean = () => true): Tensor {
  const r = values(gauss([B * T * T], seed));
  const bits = r.map((v, k) => {
    const [b, i, j] = [Math.floor(k / (T * T)), Math.floor(k / T) % T, k % T];
    return (i === j || v > -0.3) && allow(b, i, j);
  });
  return tensor(bits, { shape: [B, 1, T, T], dtype: 'bool' });
}

function randomPositions(B: number, T: number, seed: number): Tensor {
  return tensor(Int32Array.from(values(gauss([B * T], seed)), (v) => Math.floor(Math.abs(v) * 5)), { shape: [B, T], dtype: 'int32' });
}

describe('MoTLayer', () => {
  test('§5.1: with both experts given one TransformerBlock\'s weights and equal widths, the MoT layer is that block (mask, RoPE positions)', () => {
    fc.assert(
      fc.property(caseArb, ({ B, T, seed, isAction }) => {
        const d = 8;
        const block = new TransformerBlock(d, {
          numHeads: 2, numKvHeads: 1, headDim: 4, norm: 'rms', mlp: 'swiglu', mlpHidden: 8, bias: false, qkNorm: true, rope: true,
          dtype: 'float64', generator: new Generator(seed),
        });
        const layer = layerOf({ understandingDim: d, actionDim: d, understandingHidden: 8, actionHidden: 8 }, seed + 1);
        layer.understanding.loadStateDict(block.stateDict());
        layer.action.loadStateDict(block.stateDict());
        const layout = layoutOf(B, T, isAction);
        const [mask, positionIds, x] = [randomMask(B, T, seed + 2), randomPositions(B, T, seed + 3), gauss([B, T, d], seed + 4)];
        const want = block.forward(x, { mask, positionIds });
        const out = layer.forward(pack(layout, x, x), { layout, mask, positionIds });
        assertClose(layout.merge(out.understanding, out.action), want, 1e-12, 'MoT vs TransformerBlock');
      }),
      RUNS,
    );
  });

  test('§5.1: under a mask that separates the experts, each stream is exactly its own expert run as a block over its positions', () => {
    fc.assert(
      fc.property(caseArb, ({ B, T, seed, isAction }) => {
        const layer = layerOf({ rope: false }, seed);
        const layout = layoutOf(B, T, isAction);
        const mask = randomMask(B, T, seed + 1, (b, i, j) => isAction(b, i) === isAction(b, j));
        const streams = pack(layout, gauss([B, T, 8], seed + 2), gauss([B, T, 6], seed + 3));
        const out = layer.forward(streams, { layout, mask });
        const bits = values(mask);
        for (const expert of ['understanding', 'action'] as const) {
          const idx = values(expert === 'understanding' ? layout.understandingIndex : layout.actionIndex);
          const n = layout.lengthOf(expert);
          const sub = Array.from({ length: B * n * n }, (_, k) => {
            const [b, i, j] = [Math.floor(k / (n * n)), Math.floor(k / n) % n, k % n];
            return bits[b * T * T + idx[b * n + i]! * T + idx[b * n + j]!] === 1;
          });
          const block = expert === 'understanding' ? layer.understanding : (layer.action as TransformerBlock);
          const want = block.forward(streams[expert], { mask: tensor(sub, { shape: [B, 1, n, n], dtype: 'bool' }) });
          assertClose(out[expert], want, 1e-12, `${expert} stream`);
        }
      }),
      RUNS,
    );
  });

  test('§5.1: a loss on one stream reaches the other expert only through the keys and values it attends to; under a mask that hides the action positions, not at all', () => {
    fc.assert(
      fc.property(caseArb, ({ B, T, seed, isAction }) => {
        const layer = layerOf({}, seed);
        const layout = layoutOf(B, T, isAction);
        const streams = pack(layout, gauss([B, T, 8], seed + 1), gauss([B, T, 6], seed + 2));
        const positionIds = randomPositions(B, T, seed + 3);
        // Every position sees every other: the action loss reaches the understanding keys and values only.
        let out = layer.forward(streams, { layout, positionIds });
        out.action.mul(gauss(out.action.shape, seed + 4)).sum().backward();
        const u = (names: string[]) => paramsWhere(layer, (n) => names.some((s) => n.startsWith(`understanding.${s}`)));
        assert.ok(noGradient(u(['attn.qProj', 'attn.qNorm', 'attn.oProj', 'norm2', 'mlp'])), 'understanding queries, output and FFN');
        assert.ok(someGradient(u(['attn.kProj'])) && someGradient(u(['attn.vProj'])) && someGradient(u(['norm1'])), 'understanding keys and values');
        for (const s of ['attn.qProj', 'attn.kProj', 'attn.vProj', 'attn.oProj', 'mlp']) assert.ok(someGradient(paramsWhere(layer, (n) => n.startsWith(`action.${s}`))), s);
        layer.zeroGrad();
        // Understanding positions never see action positions: an understanding loss leaves the action expert untouched.
        const mask = randomMask(B, T, seed + 5, (b, i, j) => isAction(b, i) || !isAction(b, j));
        out = layer.forward(streams, { layout, positionIds, mask });
        out.understanding.mul(gauss(out.understanding.shape, seed + 6)).sum().backward();
        assert.ok(noGradient(paramsWhere(layer, (n) => n.startsWith('action.'))), 'action expert');
        assert.ok(someGradient(paramsWhere(layer, (n) => n.startsWith('understanding.mlp'))), 'understanding FFN');
      }),
      RUNS,
    );
  });

  test('§5.1.2 MoF inside the MoT: each routing unit (a group of action positions) gets exactly K distinct experts, and only those receive gradient', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 1, max: 3 }), ({ B, T, seed, isAction }, topK) => {
        const N = 3;
        const layer = layerOf({ mixtureOfFlow: { numExperts: N, topK, contextDim: 2, routingUnit: 'sample' } }, seed);
        assert.ok(layer.isMixtureOfFlow && layer.action instanceof SpecializedExpertLayer);
        const layout = layoutOf(B, T, isAction);
        const groups = tensor(Int32Array.from({ length: B * T }, (_, k) => 2 * Math.floor(k / T) + (k % T < T / 2 ? 0 : 1)), { shape: [B, T], dtype: 'int32' });
        const out = layer.forward(pack(layout, gauss([B, T, 8], seed + 1), gauss([B, T, 6], seed + 2)), { layout, context: gauss([B, 2], seed + 3), groups });
        const routing = out.routing!;
        assert.deepEqual(routing.indices.shape, [B, layout.actionLength, topK]);
        const chosen = values(routing.indices);
        const unit = values(routing.unitOf);
        const wantGroups = values(layout.select(groups, 'action'));
        const byGroup = new Map<number, string>();
        wantGroups.forEach((g, t) => {
          const ks = chosen.slice(t * topK, (t + 1) * topK);
          assert.equal(new Set(ks).size, topK, 'K distinct experts');
          assert.ok(ks.every((e) => e >= 0 && e < N));
          const key = ks.join(',');
          assert.equal(byGroup.get(g) ?? key, key, `tokens of group ${g} share their experts`);
          byGroup.set(g, key);
        });
        assert.equal(new Set(unit).size, byGroup.size, 'one routing unit per group of action positions');
        out.action.sum().backward();
        const used = new Set(chosen);
        const experts = (layer.action as SpecializedExpertLayer).moe.experts;
        for (let e = 0; e < N; e++) {
          const ps = experts.at(e).parameters();
          if (used.has(e)) assert.ok(someGradient(ps), `expert ${e} was chosen`);
          else assert.ok(ps.every((p) => p.grad === null), `expert ${e} was not chosen`);
        }
        assert.ok(out.auxLoss !== null && out.zLoss !== null);
      }),
      RUNS,
    );
  });

  test('§5.1: the layer is differentiable in both streams and the routing context (finite differences, float64)', () => {
    const layer = layerOf({ mixtureOfFlow: { numExperts: 3, topK: 2, contextDim: 2, routingUnit: 'token' } }, 7);
    const [B, T] = [2, 4];
    const layout = layoutOf(B, T, (b, p) => (b === 0 ? p === 1 || p === 3 : p >= 2));
    const mask = randomMask(B, T, 8);
    const positionIds = randomPositions(B, T, 9);
    gradcheck(
      (u, a, c) => {
        const out = layer.forward({ understanding: u, action: a }, { layout, mask, positionIds, context: c });
        return tensor(0, { dtype: 'float64' }).add(out.understanding.sum()).add(out.action.mul(out.action).sum());
      },
      [gauss([B, 2, 8], 1), gauss([B, 2, 6], 2), gauss([B, 2], 3)],
    );
  });

  test('§5.1: an expert with no positions is skipped; its output is an empty stream', () => {
    const layer = layerOf({}, 3);
    const layout = MoTLayout.fromExpertMask(tensor([true, true, true], { dtype: 'bool' }));
    const out = layer.forward({ action: gauss([2, 3, 6], 1) }, { layout, causal: true });
    assert.deepEqual(out.understanding.shape, [2, 0, 8]);
    assert.deepEqual(out.action.shape, [2, 3, 6]);
    const again = layer.forward({ understanding: gauss([2, 0, 8], 5), action: gauss([2, 3, 6], 1) }, { layout, causal: true });
    assert.deepEqual(values(again.action), values(out.action));
  });

  test('§5.1: bad shapes and options throw, naming the layer and the values', () => {
    assert.throws(() => layerOf({ numKvHeads: 3 }), /numKvHeads must be a positive divisor of numHeads = 2, got 3/);
    assert.throws(() => layerOf({ headDim: undefined, understandingDim: 7 }), /understandingDim 7 is not divisible by numHeads 2/);
    assert.throws(() => layerOf({ attentionDropout: 1 }), /attentionDropout must be in \[0, 1\)/);
    const layer = layerOf({ mixtureOfFlow: { numExperts: 2, contextDim: 2 } });
    const layout = MoTLayout.fromExpertMask(tensor([false, true], { dtype: 'bool' }));
    const s = { understanding: gauss([1, 1, 8], 0), action: gauss([1, 1, 6], 1) };
    const context = gauss([1, 2], 2);
    assert.throws(() => layer.forward({ understanding: gauss([1, 1, 7], 0), action: s.action }, { layout, context }), /understanding stream \[B, 1, 8\], got \[1,1,7\]/);
    assert.throws(() => layer.forward({ understanding: s.understanding }, { layout, context }), /gives the action expert 1 positions but no action stream/);
    assert.throws(() => layer.forward(s, { layout }), /router needs a context \[1, 2\]/);
    assert.throws(() => layer.forward(s, { layout, context: gauss([1, 3], 0) }), /context must be \[1, 2\] or \[1, 2\], got \[1,3\]/);
    assert.throws(() => layer.forward(s, { layout, context, positionIds: tensor([0, 1, 2], { dtype: 'int32' }) }), /positionIds must be int32 \[2\]/);
    assert.throws(() => layer.forward(s, { layout, context, groups: tensor([0, 1], { dtype: 'float64' }) }), /groups must be int32/);
    const noRope = layerOf({ rope: false });
    assert.throws(() => noRope.forward(s, { layout, positionIds: tensor([0, 1], { dtype: 'int32' }) }), /no rotary embedding/);
  });
});
