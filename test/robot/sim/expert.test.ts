/**
 * The scripted experts succeed: at least 95 % of 40 seeds per embodiment and task kind (explicit success
 * criteria of the world), also with position noise; their actions respect the robot's limits.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator } from '../../../src/tensor/index.js';
import { SIM_EMBODIMENTS, SIM_TASK_KINDS, TabletopWorld, expertAction, type SimEmbodimentName, type SimTaskKind } from '../../../src/robot/index.js';

function episode(embodiment: SimEmbodimentName, seed: number, task: SimTaskKind, noise?: number): TabletopWorld {
  const w = new TabletopWorld({ embodiment, seed, task });
  const g = noise === undefined ? undefined : new Generator(seed);
  while (!w.done()) {
    const a = expertAction(w, g, noise);
    for (let i = 0; i < a.length; i++) assert.ok(a[i]! >= w.robot.lower[i]! && a[i]! <= w.robot.upper[i]!, `${embodiment}: action ${i} = ${a[i]} outside the limits`);
    w.step(a);
  }
  return w;
}

describe('expertAction', () => {
  for (const e of SIM_EMBODIMENTS) {
    test(`${e}: the expert succeeds on ≥ 95 % of 40 seeds for every task kind, before the step limit`, () => {
      for (const kind of SIM_TASK_KINDS) {
        let ok = 0;
        for (let seed = 0; seed < 40; seed++) {
          const w = episode(e, 500 + seed, kind);
          if (w.success()) {
            ok++;
            assert.ok(w.stepCount < w.maxSteps);
          }
        }
        assert.ok(ok >= 38, `${e} ${kind}: ${ok}/40`);
      }
    });
  }

  test('with position noise (σ = 2 cm) the experts still succeed on ≥ 90 %, and the noise changes the path', () => {
    for (const e of SIM_EMBODIMENTS) {
      let ok = 0;
      for (let seed = 0; seed < 12; seed++) if (episode(e, seed, SIM_TASK_KINDS[seed % 3]!, 0.02).success()) ok++;
      assert.ok(ok >= 11, `${e}: ${ok}/12`);
    }
    const a = episode('arm3', 3, 'push', 0.02).snapshot();
    const b = episode('arm3', 3, 'push').snapshot();
    assert.notEqual(JSON.stringify(a), JSON.stringify(b));
  });

  test('the expert is stateless: from a clone it gives the same action', () => {
    const w = new TabletopWorld({ embodiment: 'hand', seed: 6, task: 'pick-place' });
    for (let i = 0; i < 7; i++) w.step(expertAction(w));
    assert.deepEqual(expertAction(w.clone()), expertAction(w));
    assert.throws(() => expertAction(w, new Generator(0), -1), /expertAction: noise must be a finite number ≥ 0, got -1/);
  });
});
