// Properties of the Mixture-of-Transformers backbone (§5.1, §5.1.2): under the Eq. 9 mask, changing one
// target leaves the other target and the context bit-identical through every layer; the context never
// depends on the answer's action tokens; the action expert gets no gradient from a loss on understanding
// positions that never see it; a frozen KV-cached prefix gives each suffix the outputs of the full
// sequence (Eq. 20's cached sampler) and stays unchanged; analytic parameter counts, total and active;
// Mixture-of-Flow routing in the upper layers; finite differences.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, noGrad, tensor, type DType, type Tensor } from '../../../src/tensor/index.js';
import { KVCache } from '../../../src/nn/index.js';
import { buildHybridSequence, buildSequence, sequenceMask, type UnifiedSequence } from '../../../src/model/sequence.js';
import { collateSequences } from '../../../src/model/sequence-batch.js';
import { MoTBackbone, countBackboneParameters, type MoTBackboneOptions } from '../../../src/model/policy/backbone.js';
import { MoTLayout, routingGroupsByPart } from '../../../src/model/policy/mot-layout.js';
import { gradcheck } from '../../helpers/gradcheck.js';
import { assertClose, gauss, noGradient, outputAt, pack, paramsWhere, replaceAt, someGradient, values } from './mot-fixtures.js';

const [DU, DA] = [8, 6];

function backboneOf(dtype: DType, seed: number, opts: Partial<MoTBackboneOptions> = {}): MoTBackbone {
  return new MoTBackbone({
    numLayers: 3,
    understandingDim: DU,
    actionDim: DA,
    numHeads: 2,
    numKvHeads: 1,
    headDim: 4,
    understandingHidden: 8,
    actionHidden: 6,
    mixtureOfFlow: { layers: 2, numExperts: 3, topK: 2, contextDim: 2 },
    dtype,
    generator: new Generator(seed),
    ...opts,
  });
}

/** {@link routingGroupsByPart} of sequences collated to length T. */
function partGroups(seqs: readonly UnifiedSequence[], T: number): Tensor {
  return routingGroupsByPart(collateSequences(seqs, { length: T }));
}

const queryArb = fc.record({ patches: fc.integer({ min: 1, max: 2 }), text: fc.string({ minLength: 1, maxLength: 3, unit: 'binary-ascii' }), states: fc.integer({ min: 1, max: 2 }) });

describe('MoTBackbone', () => {
  test('Eq. 9: changing one target\'s inputs leaves the other target and the context bit-identical through the whole backbone (both streams, MoF routing per segment)', () => {
    fc.assert(
      fc.property(fc.array(queryArb, { minLength: 2, maxLength: 2 }), fc.constantFrom('fm', 'mask'), fc.integer({ min: 0, max: 1e6 }), (qs, target, seed) => {
        const seqs = qs.map((q, i) =>
          buildHybridSequence({
            query: [{ modality: 'vision', patches: q.patches }, { modality: 'text', text: q.text }, { modality: 'state', vectors: q.states }],
            flowSteps: 2 + i,
            motionTokens: 3 - i,
          }),
        );
        const counts = seqs.map((s) => s.expert.filter((e) => e === 'action').length);
        const batch = collateSequences(seqs, { length: Math.max(...seqs.map((s) => s.length)) + Math.max(...counts) });
        const T = batch.length;
        const layout = MoTLayout.fromBatch(batch);
        const backbone = backboneOf('float32', seed);
        const opts = { layout, mask: batch.attentionMask, positionIds: batch.positionIds, context: gauss([2, 2], seed + 1, 'float32'), groups: routingGroupsByPart(batch) };
        const [u, a] = [gauss([2, T, DU], seed + 2, 'float32'), gauss([2, T, DA], seed + 3, 'float32')];
        const hit = (b: number, p: number) => p < seqs[b]!.length && seqs[b]!.part[p] === target;
        const u2 = replaceAt(u, gauss([2, T, DU], seed + 4, 'float32'), hit);
        const a2 = replaceAt(a, gauss([2, T, DA], seed + 5, 'float32'), hit);
        const before = backbone.forward(pack(layout, u, a), opts);
        const after = backbone.forward(pack(layout, u2, a2), opts);
        const [x, y] = [outputAt(layout, before.understanding, before.action), outputAt(layout, after.understanding, after.action)];
        let changed = 0;
        seqs.forEach((s, b) => {
          for (let p = 0; p < s.length; p++) {
            if (hit(b, p)) changed += x(b, p).some((v, k) => v !== y(b, p)[k]) ? 1 : 0;
            else assert.deepEqual(y(b, p), x(b, p), `row ${b} position ${p} (${s.part[p]}, ${s.expert[p]}) changed when the ${target} target did`);
          }
        });
        assert.ok(changed > 0, 'the changed target itself changes');
      }),
      { numRuns: 6, includeErrorInReport: true },
    );
  });

  test('Eq. 9, §5.1: the context — its understanding stream included — is bit-identical whatever the answer\'s action tokens are; the answer\'s end token sees them', () => {
    const seq = buildSequence({ query: [{ modality: 'vision', patches: 2 }, { modality: 'text', text: 'lift' }, { modality: 'state' }], answer: [{ modality: 'action', steps: 3 }] });
    const T = seq.length;
    const layout = MoTLayout.fromExpertMask(tensor(seq.expert.map((e) => e === 'action'), { dtype: 'bool' }));
    const backbone = backboneOf('float32', 4);
    const opts = { layout, mask: sequenceMask(seq), positionIds: tensor(seq.positionIds), context: gauss([2, 2], 1, 'float32'), groups: partGroups([seq, seq], T) };
    const [u, a] = [gauss([2, T, DU], 2, 'float32'), gauss([2, T, DA], 3, 'float32')];
    const inAnswer = (p: number) => seq.part[p] === 'answer';
    const a2 = replaceAt(a, gauss([2, T, DA], 4, 'float32'), (_, p) => inAnswer(p) && seq.expert[p] === 'action');
    const before = backbone.forward(pack(layout, u, a), opts);
    const after = backbone.forward(pack(layout, u, a2), opts);
    const [x, y] = [outputAt(layout, before.understanding, before.action), outputAt(layout, after.understanding, after.action)];
    for (let b = 0; b < 2; b++) {
      for (let p = 0; p < T; p++) if (!inAnswer(p)) assert.deepEqual(y(b, p), x(b, p), `context position ${p} (${seq.expert[p]})`);
      assert.notDeepEqual(y(b, T - 1), x(b, T - 1), '<action_end> attends to the action tokens');
    }
  });

  test('§5.1: a loss on understanding positions that never see action positions leaves every action-expert parameter without gradient', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1e6 }), (tu, ta, seed) => {
        const T = tu + ta;
        const layout = MoTLayout.fromExpertMask(tensor(Array.from({ length: T }, (_, p) => p >= tu), { dtype: 'bool' }));
        const backbone = backboneOf('float64', seed);
        const streams = pack(layout, gauss([2, T, DU], seed + 1), gauss([2, T, DA], seed + 2));
        const opts = { layout, causal: true, context: gauss([2, 2], seed + 3) };
        const out = backbone.forward(streams, opts);
        out.understanding.mul(gauss(out.understanding.shape, seed + 4)).sum().backward();
        const isAction = (n: string) => n.startsWith('actionNorm') || /^layers\.\d+\.action\./.test(n);
        assert.ok(noGradient(paramsWhere(backbone, isAction)), 'action expert');
        assert.ok(someGradient(paramsWhere(backbone, (n) => n.startsWith('layers.0.understanding.'))), 'understanding expert');
        // The other way round: the action loss reaches the understanding expert only through keys and values,
        // so the top layer's understanding queries, output projection and FFN get none.
        backbone.zeroGrad();
        const again = backbone.forward(streams, opts);
        again.action.mul(gauss(again.action.shape, seed + 5)).sum().backward();
        const top = `layers.${backbone.numLayers - 1}.understanding.`;
        const after = ['attn.qProj', 'attn.qNorm', 'attn.oProj', 'norm2', 'mlp'].map((s) => top + s);
        assert.ok(noGradient(paramsWhere(backbone, (n) => n.startsWith('understandingNorm') || after.some((s) => n.startsWith(s)))));
        assert.ok(someGradient(paramsWhere(backbone, (n) => n.startsWith(`${top}attn.vProj`))));
      }),
      { numRuns: 8, includeErrorInReport: true },
    );
  });

  for (const [dtype, tol] of [['float64', 1e-12], ['float32', 1e-5]] as const) {
    test(`Eq. 20: a frozen KV-cached prefix gives every suffix the outputs of full recomputation (${dtype}, within ${tol}) and stays unchanged`, () => {
      const seq = buildSequence({ query: [{ modality: 'vision', patches: 2 }, { modality: 'text', text: 'pour' }, { modality: 'state', vectors: 2 }], answer: [{ modality: 'action', steps: 4 }] });
      const answer = seq.segments.at(-1)!;
      // Two splits: the sampler's (the prefix ends with <action_begin>, the suffix is the action steps alone,
      // no understanding position), and a mixed one (the suffix is the whole answer segment, both experts).
      // A cached prefix cannot see its suffix: the first split keeps <action_begin> out of the action chunk's
      // bidirectional span, as a sampler must.
      for (const [P, T] of [[answer.contentStart, answer.contentEnd], [answer.start, seq.length]] as const) {
        const B = 2;
        const S = T - P;
        const actionMask = tensor(seq.expert.slice(0, T).map((e) => e === 'action'), { dtype: 'bool' });
        const bits = values(sequenceMask(seq));
        const mask = tensor(Array.from({ length: T * T }, (_, k) => bits[Math.floor(k / T) * seq.length + (k % T)] === 1 && !(Math.floor(k / T) < P && k % T >= P)), { shape: [T, T], dtype: 'bool' });
        const pos = tensor(seq.positionIds.slice(0, T));
        const groups = partGroups([seq, seq], seq.length).narrow(1, 0, T);
        const backbone = backboneOf(dtype, 7, { mixtureOfFlow: { layers: 2, numExperts: 3, topK: 1, contextDim: 2 } });
        const context = gauss([B, 2], 1, dtype);
        const u = gauss([B, T, DU], 2, dtype);
        const full = MoTLayout.fromExpertMask(actionMask);
        const prefix = MoTLayout.fromExpertMask(actionMask.narrow(0, 0, P));
        const suffix = MoTLayout.fromExpertMask(actionMask.narrow(0, P, S));
        const cache = new KVCache();
        const a0 = gauss([B, T, DA], 3, dtype);
        const pre = noGrad(() =>
          backbone.forward(pack(prefix, u.narrow(1, 0, P), a0.narrow(1, 0, P)), { layout: prefix, mask: mask.narrow(0, 0, P).narrow(1, 0, P), positionIds: pos.narrow(0, 0, P), cache, context, groups: groups.narrow(1, 0, P) }),
        );
        cache.freeze();
        const stored = Array.from({ length: backbone.numLayers }, (_, i) => cache.layer(i)).map((l) => [l.keys!, l.values!, values(l.keys!), values(l.values!)] as const);
        for (let step = 0; step < 3; step++) {
          // Each Euler step brings new action inputs for the suffix; the prefix stays.
          const a = replaceAt(a0, gauss([B, T, DA], 10 + step, dtype), (_, p) => p >= P);
          const want = backbone.forward(pack(full, u, a), { layout: full, mask, positionIds: pos, context, groups });
          const got = backbone.forward(pack(suffix, u.narrow(1, P, S), a.narrow(1, P, S)), {
            layout: suffix, mask: mask.narrow(0, P, S), positionIds: pos.narrow(0, P, S), cache, context, groups: groups.narrow(1, P, S),
          });
          assert.equal(suffix.understandingLength === 0, P === answer.contentStart);
          const [w, g] = [outputAt(full, want.understanding, want.action), outputAt(suffix, got.understanding, got.action)];
          const [pw, pg] = [w, outputAt(prefix, pre.understanding, pre.action)];
          for (let b = 0; b < B; b++) {
            for (let p = 0; p < S; p++) assertClose(tensor(g(b, p)), tensor(w(b, P + p)), tol, `suffix position ${P + p}, step ${step}`);
            for (let p = 0; p < P; p++) assertClose(tensor(pg(b, p)), tensor(pw(b, p)), tol, `prefix position ${p}`);
          }
        }
        // A writable fork appends the suffix (incremental decoding) with the same outputs; the frozen original keeps P tokens.
        const fork = cache.fork();
        const sOpts = { layout: suffix, mask: mask.narrow(0, P, S), positionIds: pos.narrow(0, P, S), context, groups: groups.narrow(1, P, S) };
        const sIn = pack(suffix, u.narrow(1, P, S), a0.narrow(1, P, S));
        const viaFork = backbone.forward(sIn, { ...sOpts, cache: fork });
        const viaFrozen = backbone.forward(sIn, { ...sOpts, cache });
        assert.deepEqual(values(viaFork.action), values(viaFrozen.action));
        assert.deepEqual([fork.length, cache.length], [T, P]);
        stored.forEach(([k, v, kv, vv], i) => {
          assert.ok(cache.layer(i).keys === k && cache.layer(i).values === v, `layer ${i} keeps its cached tensors`);
          assert.deepEqual(values(k), kv);
          assert.deepEqual(values(v), vv);
        });
      }
    });
  }

  test('§5.1.2: the upper layers route each unit to exactly K experts (routing returned per MoF layer); the foundation layers do not route', () => {
    const backbone = backboneOf('float64', 2, { numLayers: 3, mixtureOfFlow: { layers: 2, numExperts: 4, topK: 2, contextDim: 2, routingUnit: 'token' } });
    assert.deepEqual([backbone.foundationLayers, backbone.specializedLayers], [1, 2]);
    assert.deepEqual(Array.from(backbone.layers, (l) => l.isMixtureOfFlow), [false, true, true]);
    const layout = MoTLayout.fromExpertMask(tensor([false, true, false, true, true], { dtype: 'bool' }));
    const out = backbone.forward(pack(layout, gauss([2, 5, DU], 1), gauss([2, 5, DA], 2)), { layout, causal: true, context: gauss([2, 2], 3) });
    assert.equal(out.routing.length, 2);
    for (const r of out.routing) {
      const ks = values(r.indices);
      for (let t = 0; t < ks.length / 2; t++) assert.equal(new Set(ks.slice(2 * t, 2 * t + 2)).size, 2);
      assert.deepEqual(r.indices.shape, [2, 3, 2]);
    }
    assert.ok(values(out.auxLoss)[0]! >= 1 - 1e-12, 'the Switch load-balancing loss is at least 1');
    const dense = backboneOf('float64', 2, { mixtureOfFlow: undefined });
    const plain = dense.forward(pack(layout, gauss([2, 5, DU], 1), gauss([2, 5, DA], 2)), { layout, causal: true });
    assert.deepEqual([plain.routing.length, values(plain.auxLoss)[0], values(plain.zLoss)[0]], [0, 0, 0]);
  });

  test('§5.1, §5.1.2: countBackboneParameters equals numParameters() (total, per expert) and activeParameters() (N − K experts idle per MoF layer)', () => {
    const optsArb = fc
      .record({
        numLayers: fc.integer({ min: 1, max: 3 }),
        understandingDim: fc.integer({ min: 1, max: 6 }),
        actionDim: fc.integer({ min: 1, max: 6 }),
        numKvHeads: fc.integer({ min: 1, max: 2 }),
        group: fc.integer({ min: 1, max: 2 }),
        headDim: fc.integer({ min: 1, max: 3 }).map((h) => 2 * h),
        understandingHidden: fc.integer({ min: 1, max: 5 }),
        actionHidden: fc.integer({ min: 1, max: 5 }),
        bias: fc.boolean(),
        qkNorm: fc.boolean(),
        mof: fc.option(fc.record({ layers: fc.nat(3), numExperts: fc.integer({ min: 1, max: 4 }), k: fc.nat(3), contextDim: fc.nat(3), expertHidden: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }) }), { nil: undefined }),
      })
      .map(({ group, mof, ...o }): MoTBackboneOptions => ({
        ...o,
        numHeads: o.numKvHeads * group,
        ...(mof ? { mixtureOfFlow: { layers: Math.min(mof.layers, o.numLayers), numExperts: mof.numExperts, topK: 1 + (mof.k % mof.numExperts), contextDim: mof.contextDim, expertHidden: mof.expertHidden } } : {}),
      }));
    fc.assert(
      fc.property(optsArb, (opts) => {
        const m = new MoTBackbone({ ...opts, generator: new Generator(0) });
        const c = countBackboneParameters(opts);
        assert.equal(c.total, m.numParameters());
        assert.equal(c.total, m.totalParameters());
        assert.equal(c.active, m.activeParameters());
        const count = (pick: (n: string) => boolean) => paramsWhere(m, pick).reduce((s, p) => s + p.size, 0);
        assert.equal(c.understanding, count((n) => n.startsWith('understandingNorm') || /^layers\.\d+\.understanding\./.test(n)));
        assert.equal(c.action, count((n) => n.startsWith('actionNorm') || /^layers\.\d+\.action\./.test(n)));
        assert.equal(c.total, c.understanding + c.action);
        const mof = opts.mixtureOfFlow;
        const idle = mof && mof.layers > 0 ? mof.layers * (mof.numExperts - mof.topK!) * count((n) => /^layers\.\d+\.action\.moe\.experts\.0\./.test(n)) / mof.layers : 0;
        assert.equal(c.total - c.active, idle);
      }),
      { numRuns: 40, includeErrorInReport: true },
    );
  });

  test('§5.1: the paper\'s shapes count as a Qwen3-1.7B-like understanding expert (1.4B non-embedding) beside a Qwen3-0.6B-like action expert (0.44B)', () => {
    const paper: MoTBackboneOptions = { numLayers: 28, understandingDim: 2048, actionDim: 1024, numHeads: 16, numKvHeads: 8, headDim: 128, understandingHidden: 6144, actionHidden: 3072 };
    const c = countBackboneParameters(paper);
    // The Qwen3 model cards give the non-embedding parameters: 1.4B (Qwen3-1.7B) and 0.44B (Qwen3-0.6B).
    assert.equal(Math.round(c.understanding / 1e8) / 10, 1.4);
    assert.equal(Math.round(c.action / 1e7) / 100, 0.44);
    const mof = countBackboneParameters({ ...paper, mixtureOfFlow: { layers: 14, numExperts: 8, topK: 2, contextDim: 64 } });
    assert.ok(mof.total > c.total && mof.active < mof.total && mof.understanding === c.understanding);
  });

  test('§5.1: the backbone is differentiable in both streams and the routing context (finite differences, float64)', () => {
    const backbone = backboneOf('float64', 5, { numLayers: 2, mixtureOfFlow: { layers: 1, numExperts: 3, topK: 2, contextDim: 2, routingUnit: 'token' } });
    const layout = MoTLayout.fromExpertMask(tensor([[true, false, false, true], [false, true, false, true]], { dtype: 'bool' }));
    const positionIds = tensor(Int32Array.from([0, 1, 2, 2, 0, 1, 1, 2]), { shape: [2, 4], dtype: 'int32' });
    gradcheck(
      (u, a, c) => {
        const out = backbone.forward({ understanding: u, action: a }, { layout, causal: true, positionIds, context: c });
        return out.understanding.sum().add(out.action.mul(out.action).sum());
      },
      [gauss([2, 2, DU], 1), gauss([2, 2, DA], 2), gauss([2, 2], 3)],
    );
  });

  test('§5.1: bad options throw, naming the backbone and the values', () => {
    assert.throws(() => backboneOf('float64', 0, { numLayers: 0 }), /MoTBackbone: numLayers must be an integer ≥ 1, got 0/);
    assert.throws(() => backboneOf('float64', 0, { numLayers: 2, mixtureOfFlow: { layers: 3, numExperts: 2 } }), /mixtureOfFlow.layers must be an integer in \[0, numLayers = 2\], got 3/);
    assert.throws(() => countBackboneParameters({ numLayers: 1, understandingDim: 8, actionDim: 4, numHeads: 4, numKvHeads: 3 }), /numKvHeads 3 must divide numHeads 4/);
    assert.throws(() => countBackboneParameters({ numLayers: 1, understandingDim: 8, actionDim: 4, numHeads: 4, mixtureOfFlow: { layers: 1, numExperts: 2, topK: 3 } }), /topK in \[1, numExperts\].*got 2, 3/);
  });
});
