// Action inference (§6.1-6.2): the cached vision-language prefix gives the actions of full recomputation
// and the Euler steps rerun only the suffix (Eq. 20); hard prefix locking makes the output's first d
// actions the committed ones bit for bit (Eq. 23); MPG refinement runs N_ref rounds after a stage-1
// baseline that equals the MPG-off policy's (Eq. 21).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, type Tensor } from '../../../src/tensor/index.js';
import { BeingPolicy } from '../../../src/model/policy/policy.js';
import { sampleActions } from '../../../src/model/policy/sample.js';
import { Samples, assertClose, mano, sameBits, so101, tinier, values } from './policy-fixtures.js';

/** Counts calls of the ViT while `fn` runs. */
function countVision<T>(policy: BeingPolicy, fn: () => T): [T, number] {
  const vit = policy.vision;
  const orig = vit.forward.bind(vit);
  let calls = 0;
  vit.forward = (x: Tensor) => {
    calls++;
    return orig(x);
  };
  try {
    return [fn(), calls];
  } finally {
    vit.forward = orig;
  }
}

describe('sampleActions', () => {
  const configs = [
    ['MoF per-sample routing, MPG, UAC', tinier({ mpg: { refineRounds: 2 } })],
    ['MoF in runs of 2 tokens with an embodiment context', tinier({ mof: { routingUnit: 2, contextDim: 3, numExperts: 3, topK: 2 }, mpg: { enabled: false } })],
  ] as const;
  for (const [name, cfg] of configs) {
    test(`Eq. 20: the KV-cached prefix gives the actions of full recomputation within 1e-5, and the K steps rerun only the suffix (${name})`, () => {
      const policy = new BeingPolicy(cfg, { seed: 3 });
      const data = new Samples(cfg, 5);
      const obs = data.observation(so101, 'stack the blocks', true);
      const committed = data.chunk(so101, 2);
      const opts = { committedPrefix: committed, generator: new Generator(9) };
      const [cached, withCache] = countVision(policy, () => sampleActions(policy, obs, opts));
      const [full, without] = countVision(policy, () => sampleActions(policy, obs, { ...opts, generator: new Generator(9), cache: false }));
      const rounds = 1 + (cfg.mpg.enabled ? cfg.mpg.refineRounds : 0);
      assert.equal(withCache, 1, 'the image is encoded once, into the cache');
      assert.equal(without, cfg.flow.steps * rounds, 'without the cache every Euler step of every round reruns the prefix');
      assert.equal(cached.rounds.length, rounds);
      cached.rounds.forEach((r, i) => assertClose(r, full.rounds[i]!, 1e-5, `round ${i}`));
      assertClose(cached.raw, full.raw, 1e-5, 'raw actions');
      assert.ok(values(cached.unified).some((v) => v !== 0));
    });
  }

  test('Eq. 23: with a committed prefix of d actions, the first d output actions equal it bit for bit (unified and raw, every round)', () => {
    const cfg = tinier({ mpg: { refineRounds: 1 } });
    const policy = new BeingPolicy(cfg, { seed: 4 });
    const data = new Samples(cfg, 6);
    const T = cfg.flow.chunkLength;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: T - 1 }), fc.boolean(), fc.integer({ min: 0, max: 1e6 }), (d, raw, seed) => {
        const e = seed % 2 === 0 ? so101 : mano;
        const buffer = data.chunk(e, T);
        const committed = raw ? e.fromUnified(buffer) : buffer;
        const out = sampleActions(policy, data.observation(e), { committedPrefix: committed, delay: d, generator: new Generator(seed) });
        assert.equal(out.delay, d);
        const D = cfg.unifiedDim;
        for (const r of out.rounds) assert.ok(sameBits(values(r).slice(0, d * D), values(buffer).slice(0, d * D)), 'unified prefix');
        const rawWant = values(e.fromUnified(buffer)).slice(0, d * e.rawDim);
        assert.ok(sameBits(values(out.raw).slice(0, d * e.rawDim), rawWant), 'raw prefix');
        assert.ok(!sameBits(values(out.raw).slice(d * e.rawDim), values(e.fromUnified(buffer)).slice(d * e.rawDim)), 'the postfix is generated');
      }),
      { numRuns: 4 },
    );
  });

  test('Eq. 21: N_ref refinement rounds follow a stage-1 baseline that is exactly the MPG-off prediction; each round is anchored on the one before', () => {
    const on = tinier({ mpg: { refineRounds: 2 } });
    const off = tinier({ mpg: { enabled: false } });
    const data = new Samples(on, 7);
    const obs = data.observation(mano);
    const withMpg = new BeingPolicy(on, { seed: 5 });
    const withoutMpg = new BeingPolicy(off, { seed: 5 });
    const two = sampleActions(withMpg, obs, { generator: new Generator(1) });
    const one = sampleActions(withMpg, obs, { generator: new Generator(1), refine: 1 });
    const none = sampleActions(withoutMpg, obs, { generator: new Generator(1) });
    assert.equal(two.rounds.length, 3);
    assert.deepEqual(two.gates.map((g) => g.length), [on.flow.steps, on.flow.steps], 'one gate per Euler step of each refinement round');
    for (const g of two.gates.flat()) assert.ok(g > 0 && g <= 1, `g ∈ (0, 1] (Eq. 15), got ${g}`);
    assert.ok(sameBits(values(two.rounds[0]!), values(none.unified)), 'stage 1 runs without MPG: H̃ = H');
    assert.ok(sameBits(values(one.rounds[1]!), values(two.rounds[1]!)), 'round 1 depends only on stage 1');
    assert.ok(!sameBits(values(two.rounds[1]!), values(two.rounds[0]!)), 'MPG changes the prediction');
    assert.ok(!sameBits(values(two.rounds[2]!), values(two.rounds[1]!)), 'round 2 is anchored on round 1');
    assert.ok(sameBits(values(two.unified), values(two.rounds[2]!)), 'the last round is the answer');
    assert.deepEqual(two.raw.shape, [on.flow.chunkLength, mano.rawDim]);
  });

  test('bad requests throw at once, naming the value', () => {
    const off = new BeingPolicy(tinier({ mpg: { enabled: false } }), { seed: 1 });
    const obs = new Samples(off.config).observation(so101);
    assert.throws(() => sampleActions(off, obs, { refine: 1 }), /refine = 1 needs MPG/);
    assert.throws(() => sampleActions(off, obs, { delay: 2 }), /delay 2 needs a committedPrefix/);
    assert.throws(() => sampleActions(off, obs, { delay: 8, committedPrefix: new Samples(off.config).chunk(so101) }), /delay must be an integer in \[0, 7\]/);
    assert.throws(() => sampleActions(off, obs, { steps: 0 }), /steps must be an integer ≥ 1, got 0/);
  });
});
