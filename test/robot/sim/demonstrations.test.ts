/**
 * Demonstrations and their motion-generation samples (§5.2.2): frames in the unified space (Eq. 1),
 * target chunks of the next T actions padded with the last one, their end-effector entries deltas from
 * the sample's state (§5.1.1), images and chunks as float32 tensors, the robot's Φ_e and timing (for
 * UAC's d_max, Eq. 17) attached.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../../../src/tensor/index.js';
import { fromDeltaActions } from '../../../src/model/index.js';
import { SIM_EMBODIMENTS, TabletopWorld, demonstrationSamples, expertAction, recordDemonstration, simBody, simRobot, type SimEmbodimentName } from '../../../src/robot/index.js';

/** The delta of §5.1.1 on a raw vector, written out for the planar bodies: x, y differences, the wrapped yaw difference, effector absolute. */
function rawDelta(e: SimEmbodimentName, action: ArrayLike<number>, state: ArrayLike<number>): number[] {
  const d = Array.from(action);
  d[0] = action[0]! - state[0]!;
  d[1] = action[1]! - state[1]!;
  if (simBody(e).commandsYaw) d[2] = Math.atan2(Math.sin(action[2]! - state[2]!), Math.cos(action[2]! - state[2]!));
  return d;
}

describe('recordDemonstration', () => {
  test('Eq. 1: frames hold the image, the unified state seen and the expert’s unified action; replaying the actions reproduces the states', () => {
    const demo = recordDemonstration({ embodiment: 'arm3', seed: 14, task: 'push', imageSize: 32 });
    assert.equal(demo.success, true);
    assert.equal(demo.steps, demo.frames.length);
    assert.equal(demo.task.kind, 'push');
    const phi = simRobot('arm3').embodiment;
    const w = new TabletopWorld({ embodiment: 'arm3', seed: 14, task: 'push' });
    for (const f of demo.frames) {
      assert.equal(f.image.length, 3 * 32 * 32);
      assert.deepEqual(Array.from(f.state), Array.from(w.unifiedState()));
      assert.deepEqual(Array.from(f.image), Array.from(w.render()));
      assert.deepEqual(Array.from(phi.fromUnified(f.action)), Array.from(w.clampAction(expertAction(w))));
      for (let i = 0; i < 200; i++) if (!phi.activeMask[i]) assert.equal(f.action[i], 0);
      w.step(phi.fromUnified(f.action));
    }
    assert.equal(w.success(), true);
  });

  test('noise: executed actions are perturbed (other states), recorded actions are the clean expert’s', () => {
    const clean = recordDemonstration({ embodiment: 'hand', seed: 3, task: 'pick-place' });
    const noisy = recordDemonstration({ embodiment: 'hand', seed: 3, task: 'pick-place', noise: 0.02 });
    assert.notDeepEqual(noisy.frames.map((f) => Array.from(f.state)), clean.frames.map((f) => Array.from(f.state)));
    const again = recordDemonstration({ embodiment: 'hand', seed: 3, task: 'pick-place', noise: 0.02 });
    assert.deepEqual(again.frames.map((f) => Array.from(f.action)), noisy.frames.map((f) => Array.from(f.action)));
    assert.throws(() => recordDemonstration({ embodiment: 'hand', seed: 3, noise: -1 }), /recordDemonstration: noise must be a finite number ≥ 0, got -1/);
    assert.throws(() => recordDemonstration({ embodiment: 'leg' as 'hand', seed: 3 }), /recordDemonstration: unknown embodiment "leg"/);
  });
});

describe('demonstrationSamples', () => {
  test('§5.1.1: target chunks are the next T actions with x, y and yaw as deltas from the sample’s state (gripper and fingers absolute); chunk + state gives the executed targets back', () => {
    for (const e of SIM_EMBODIMENTS) {
      const demo = recordDemonstration({ embodiment: e, seed: 21, task: 'pick-place' });
      assert.equal(demo.success, true, e);
      const phi = simRobot(e).embodiment;
      const n = demo.frames.length;
      const T = 6;
      demonstrationSamples(demo, { chunkLength: T, stride: 5 }).forEach((s, k) => {
        const i = k * 5;
        const state = s.state as Float64Array;
        const data = (s.actions as Tensor).dataSync();
        const rows = Array.from({ length: T }, (_, t) => Float64Array.from(data.subarray(t * 200, (t + 1) * 200)));
        rows.forEach((row, t) => {
          const executed = demo.frames[Math.min(i + t, n - 1)]!.action;
          const want = rawDelta(e, phi.fromUnified(executed), phi.fromUnified(state));
          const got = phi.fromUnified(row);
          want.forEach((v, j) => assert.ok(Math.abs(got[j]! - v) <= 1e-6, `${e} sample ${k} row ${t} raw ${j}: ${got[j]} vs ${v}`));
          for (let u = 0; u < 200; u++) if (!phi.activeMask[u]) assert.equal(row[u], 0);
        });
        // Chunk + state: the absolute targets the world executed (float32 storage: to 1e-6).
        fromDeltaActions(rows, state).forEach((abs, t) => {
          const executed = demo.frames[Math.min(i + t, n - 1)]!.action;
          for (let u = 0; u < 200; u++) assert.ok(Math.abs(abs[u]! - executed[u]!) <= 1e-6, `${e} sample ${k} row ${t} unified ${u}: ${abs[u]} vs ${executed[u]}`);
        });
      });
    }
  });

  test('one sample per stride frames; chunks are the next T actions, padded by repeating the last', () => {
    const demo = recordDemonstration({ embodiment: 'arm4', seed: 2, task: 'reach', imageSize: 64 });
    const n = demo.frames.length;
    const robot = simRobot('arm4');
    for (const [T, stride] of [[16, 1], [4, 3], [1, 2]] as const) {
      const samples = demonstrationSamples(demo, { chunkLength: T, stride });
      assert.equal(samples.length, Math.ceil(n / stride));
      samples.forEach((s, k) => {
        const i = k * stride;
        assert.equal(s.task, 'motion-generation');
        assert.equal(s.embodiment, robot.embodiment);
        assert.deepEqual(s.timing, { controlPeriod: robot.controlPeriod, latencyBudget: robot.latencyBudget });
        assert.equal(s.instruction, demo.task.instruction);
        assert.deepEqual(Array.from(s.state as Float64Array), Array.from(demo.frames[i]!.state));
        const img = s.images![0]!;
        assert.deepEqual(img.shape, [3, 64, 64]);
        assert.equal(img.dtype, 'float32');
        const chunk = s.actions as Tensor;
        assert.deepEqual(chunk.shape, [T, 200]);
        assert.equal(chunk.dtype, 'float32');
        const data = chunk.dataSync();
        const state = s.state as Float64Array;
        for (let t = 0; t < T; t++) {
          const src = demo.frames[Math.min(i + t, n - 1)]!.action;
          const want = rawDelta('arm4', robot.embodiment.fromUnified(src), robot.embodiment.fromUnified(state));
          const got = robot.embodiment.fromUnified(Float64Array.from(data.subarray(t * 200, (t + 1) * 200)));
          want.forEach((v, j) => assert.ok(Math.abs(got[j]! - v) <= 1e-6, `sample ${k}, row ${t}, raw ${j}: ${got[j]} vs ${v}`));
        }
      });
    }
    // The last sample of a long chunk is padded: its rows past the end repeat the final action.
    const last = demonstrationSamples(demo, { chunkLength: 8 }).at(-1)!.actions as Tensor;
    const rows = last.dataSync();
    for (let t = 1; t < 8; t++) assert.deepEqual(Array.from(rows.subarray(t * 200, (t + 1) * 200)), Array.from(rows.subarray(0, 200)));
  });

  test('bad options throw naming the function and the values', () => {
    const demo = recordDemonstration({ embodiment: 'arm2', seed: 1, task: 'reach' });
    assert.throws(() => demonstrationSamples(demo, { chunkLength: 0 }), /demonstrationSamples: chunkLength must be an integer ≥ 1, got 0/);
    assert.throws(() => demonstrationSamples(demo, { chunkLength: 4, stride: 1.5 }), /demonstrationSamples: stride must be an integer ≥ 1, got 1.5/);
    assert.throws(() => demonstrationSamples(null as never, { chunkLength: 4 }), /demonstrationSamples: expected a Demonstration/);
  });
});
