// The training loop: gradient accumulation over k micro-batches equals one step on their k·n samples (the
// objective is a per-sample mean and each sample's draws are keyed by its index in the step), and the
// progress display redraws one line on a terminal and prints plain lines elsewhere, with steps/s, ETA
// and the loss terms.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BeingPolicy } from '../../../src/model/policy/policy.js';
import { PolicyTrainer } from '../../../src/model/policy/trainer.js';
import { ProgressDisplay, formatDuration } from '../../../src/model/policy/progress.js';
import { Samples, mano, snapshot, so101, tinier } from './policy-fixtures.js';

describe('PolicyTrainer', () => {
  test('gradient accumulation: k micro-batches of n samples make the step of one batch of k·n (within float tolerance)', () => {
    // Router losses are batch statistics, so they are weighted 0 here; everything else is a per-sample mean.
    const cfg = tinier({ mof: { auxLossWeight: 0, zLossWeight: 0 }, mpg: { refineRounds: 1 } });
    const data = new Samples(cfg, 11);
    const samples = [data.action(so101), data.vqa(), data.action(mano, 'hybrid'), data.description(so101), data.action(so101, 'motion-continuation'), data.action(mano)];
    // With ε ≫ |g| and no decay or clipping, AdamW's first step is −lr·g/(|g| + ε): a near-linear view of the gradient.
    const opts = { lr: 1e3, eps: 1e3, weightDecay: 0, clipNorm: null, seed: 'acc' };
    const steps = [
      [0, 2, 4, 6],
      [0, 6],
      [0, 1, 2, 3, 4, 5, 6],
    ].map((cuts) => {
      const policy = new BeingPolicy(cfg, { seed: 11 });
      const before = snapshot(policy.namedParameters());
      const trainer = new PolicyTrainer(policy, opts);
      const micro = cuts.slice(1).map((end, i) => policy.batch(samples.slice(cuts[i], end)));
      const r = trainer.trainStep(micro);
      const delta = policy.namedParameters().map(([n, p]) => Array.from(p.dataSync(), (v, i) => v - before.get(n)![i]!));
      return { r, delta: delta.flat() };
    });
    const [three, one, six] = steps;
    const scale = one!.delta.reduce((m, d) => Math.max(m, Math.abs(d)), 0);
    assert.ok(scale > 0);
    for (const other of [three!, six!]) {
      assert.equal(other.r.samples, 6);
      assert.ok(Math.abs(other.r.loss - one!.r.loss) <= 1e-5 * Math.abs(one!.r.loss), `loss ${other.r.loss} vs ${one!.r.loss}`);
      for (const k of ['text', 'flowMatching', 'maskedMotion'] as const) {
        assert.ok(Math.abs(other.r.terms[k]! - one!.r.terms[k]!) <= 1e-5 * (1 + Math.abs(one!.r.terms[k]!)), k);
      }
      let worst = 0;
      other.delta.forEach((d, i) => (worst = Math.max(worst, Math.abs(d - one!.delta[i]!))));
      assert.ok(worst <= 1e-4 * scale, `parameter updates differ by ${worst} (scale ${scale})`);
    }
  });

  test('progress: on a terminal one line is redrawn in place; elsewhere plain lines every few steps; both show steps/s, ETA and the loss terms', () => {
    let clock = 0;
    const now = (): number => (clock += 250); // each reading: 0.25 s later
    const tty: string[] = [];
    const plain: string[] = [];
    const a = new ProgressDisplay(40, { write: (s) => tty.push(s), isTTY: true, now });
    const b = new ProgressDisplay(40, { write: (s) => plain.push(s), isTTY: false, every: 10, now });
    for (let step = 1; step <= 40; step++) {
      a.update(step, { loss: 2 / step, fm: null, lr: 3e-4 });
      b.update(step, { loss: 2 / step, fm: 0.5, lr: 3e-4 });
    }
    a.finish();
    b.finish();
    assert.equal(tty.length, 41);
    assert.ok(tty.slice(0, 40).every((s) => s.startsWith('\r') && !s.includes('\n')));
    assert.equal(tty[40], '\n');
    assert.deepEqual(plain.map((s) => Number(/step +(\d+)\/40/.exec(s)![1])), [1, 10, 20, 30, 40]);
    assert.ok(plain.every((s) => s.endsWith('\n') && !s.includes('\r')));
    const last = plain[4]!;
    assert.match(last, /steps\/s/);
    assert.match(last, /ETA 0s/);
    assert.match(last, /loss 0\.05000/);
    assert.match(last, /fm 0\.5000/);
    assert.doesNotMatch(tty[39]!, /fm/, 'null terms are left out');
    assert.match(plain[1]!, /ETA \d+s/);
    assert.deepEqual([formatDuration(42), formatDuration(187), formatDuration(7500)], ['42s', '3m07s', '2h05m']);
  });

  test('fit: trains to a step count, one progress line per step on a terminal, resumable from any step', () => {
    const cfg = tinier({ mof: { enabled: false }, mpg: { enabled: false } });
    const policy = new BeingPolicy(cfg, { seed: 12 });
    const data = new Samples(cfg, 12);
    const batch = policy.batch([data.action(so101), data.vqa()]);
    const trainer = new PolicyTrainer(policy, { lr: 1e-3, warmupSteps: 2, totalSteps: 6 });
    const out: string[] = [];
    const seen: number[] = [];
    const results = trainer.fit(3, () => batch, { progress: { write: (s) => out.push(s), isTTY: true, now: () => 0 }, onStep: (r) => seen.push(r.step) });
    assert.deepEqual(results.map((r) => r.step), [1, 2, 3]);
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(results.map((r) => r.lr), [0, 5e-4, 1e-3], 'linear warm-up from 0');
    assert.equal(out.filter((s) => s.startsWith('\r')).length, 3);
    assert.equal(trainer.fit(3, () => batch).length, 0);
    assert.deepEqual(trainer.fit(5, () => batch).map((r) => r.step), [4, 5]);
    assert.throws(() => trainer.fit(2, () => batch), /steps must be an integer ≥ the current step 5/);
  });
});
