// Collating samples into policy inputs (§5.2, Eq. 2-5, 9-10): each task kind becomes its Query-Answer
// (or hybrid) sequence whose context ends with the state, so the suffix starts at <state_begin> and the
// cached prefix never ends with <action_begin>; every content position points at its own source row
// (image token, state, history row, target step, motion token), each used once, by its own sample, in
// order; Ω_text holds the answer's bytes with their predecessors; rows are padded so the streams fit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BeingPolicy } from '../../../src/model/policy/policy.js';
import { SLOT_KIND } from '../../../src/model/policy/batch.js';
import type { PolicySample } from '../../../src/model/policy/samples.js';
import { MoTLayout } from '../../../src/model/policy/mot-layout.js';
import { Samples, mano, so101, tinier, values } from './policy-fixtures.js';

describe('collatePolicyBatch', () => {
  const cfg = tinier();
  const policy = new BeingPolicy(cfg, { seed: 1 });
  const data = new Samples(cfg, 1);
  const samples: PolicySample[] = [...data.mixed(), data.action(mano, 'motion-continuation'), data.description(so101)];
  const batch = policy.batch(samples);
  const L = batch.length;
  const sp = policy.tokenizer.specials;
  const ids = values(batch.sequences.tokenIds);

  test('§5.2.1: an action task’s context ends with its state: the suffix is <state_begin> s <state_end> and the answer, and holds no image or history', () => {
    batch.tasks.forEach((task, b) => {
      const s = batch.suffixStart[b]!;
      if (task === 'vqa' || task === 'motion-description') return assert.equal(s, L);
      assert.equal(ids[b * L + s], sp.stateBegin);
      assert.equal(ids[b * L + s + 2], sp.stateEnd);
      assert.equal(ids[b * L + s + 3], sp.actionBegin, 'the prefix stops before <action_begin>');
      for (let p = s; p < batch.sequences.sequences[b]!.length; p++) {
        assert.ok(![SLOT_KIND.vision, SLOT_KIND.history].includes(batch.slotKind[b * L + p] as 1 | 3), `position ${p} of sample ${b}`);
      }
    });
  });

  test('Eq. 2-3: every content position points at its own source row; each row is used once, by its sample, in order', () => {
    const T = cfg.flow.chunkLength;
    const Tz = cfg.maskedMotion.numTokens;
    const P = policy.imageTokens;
    const imageOwner = samples.flatMap((s, b) => (s.images ?? []).map(() => b));
    const owner: Record<number, (r: number) => number> = {
      [SLOT_KIND.vision]: (r) => imageOwner[Math.floor(r / P)]!,
      [SLOT_KIND.state]: (r) => batch.stateOwner[r]!,
      [SLOT_KIND.history]: (r) => batch.historyOwner[r]!,
      [SLOT_KIND.target]: (r) => batch.targetOwner[Math.floor(r / T)]!,
      [SLOT_KIND.motion]: (r) => batch.motionOwner[Math.floor(r / Tz)]!,
    };
    const rows = new Map<number, number[]>();
    for (let b = 0; b < batch.size; b++) {
      const seq = batch.sequences.sequences[b]!;
      for (let p = 0; p < L; p++) {
        const k = batch.slotKind[b * L + p]!;
        if (p >= seq.length) assert.equal(k, SLOT_KIND.pad);
        if (k === SLOT_KIND.token || k === SLOT_KIND.pad) continue;
        const r = batch.slotIndex[b * L + p]!;
        assert.equal(owner[k]!(r), b, `kind ${k} row ${r} at ${b}:${p}`);
        rows.set(k, [...(rows.get(k) ?? []), r]);
      }
    }
    const sizes = { [SLOT_KIND.vision]: imageOwner.length * P, [SLOT_KIND.state]: batch.states!.shape[0]!, [SLOT_KIND.history]: batch.history!.shape[0]!, [SLOT_KIND.target]: batch.targets!.shape[0]! * T, [SLOT_KIND.motion]: batch.motion!.shape[0]! * Tz };
    for (const [k, n] of Object.entries(sizes)) assert.deepEqual(rows.get(Number(k)), Array.from({ length: n }, (_, i) => i), `kind ${k}: every row once, in order`);
    // The history rows are the samples' own values: the continuation's history and the descriptions' traces.
    const hist = values(batch.history!);
    const D = cfg.unifiedDim;
    let r = 0;
    samples.forEach((s) => {
      const h = s.task === 'motion-continuation' ? s.history : s.task === 'motion-description' ? s.actions : undefined;
      if (h === undefined) return;
      const v = values(h as never);
      assert.deepEqual(hist.slice(r * D, r * D + v.length), v);
      r += v.length / D;
    });
  });

  test('Eq. 5: Ω_text is each text answer’s bytes, predicted from the position before each', () => {
    const texts = samples.map((s) => (s.task === 'vqa' || s.task === 'motion-description' ? s.answer : ''));
    const want = texts.flatMap((t) => Array.from(new TextEncoder().encode(t)));
    assert.deepEqual(Array.from(batch.textTargets), want);
    batch.textPositions.forEach((i, n) => assert.equal(ids[i + 1], batch.textTargets[n]));
  });

  test('§5.1: rows are padded so that every row’s understanding and action positions fit the MoT streams', () => {
    const layout = MoTLayout.fromBatch(batch.sequences);
    assert.equal(layout.length, L);
  });

  test('bad samples throw at once, naming the sample and the field', () => {
    const a = data.action(so101);
    assert.throws(() => policy.batch([a, { ...a, state: undefined as never }]), /sample 1 \(motion-generation\): needs a state/);
    assert.throws(() => policy.batch([{ ...a, images: [data.image().narrow(1, 0, 8)] }]), /sample 0 \(motion-generation\): images\[0\] must be \[3, 32, 32\], got \[3,8,32\]/);
    assert.throws(() => policy.batch([{ ...a, task: 'motion-continuation' }]), /motion continuation needs a history chunk/);
    assert.throws(() => policy.batch([{ task: 'vqa', answer: 'yes' }]), /a text answer needs a context/);
    assert.throws(() => policy.batch([{ ...a, task: 'dance' as never }]), /task must be one of/);
  });
});
