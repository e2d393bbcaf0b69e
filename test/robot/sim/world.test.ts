/**
 * The tabletop world: a pure function of seed and commands; Φ_e (Eq. 1) places each embodiment's state
 * in the shared end-effector slots with zeros elsewhere; the end effector respects its speed limit; a
 * closed gripper pushes blocks and never makes free blocks overlap; grasp and release; explicit success.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UNIFIED_LAYOUT } from '../../../src/model/index.js';
import {
  BLOCK_COLOURS,
  BLOCK_HALF,
  BLOCK_RADIUS,
  BLOCK_REGION,
  EEF_RADIUS,
  FINGER_SLOT_INDEX,
  SIM_EMBODIMENTS,
  SIM_LATENCY_BUDGET,
  TabletopWorld,
  expertAction,
  simBody,
  simRobot,
  type SimEmbodimentName,
} from '../../../src/robot/index.js';

type World = TabletopWorld;

const open = (w: World, x: number, y: number, close = false): number[] => {
  const a = Array.from(w.state());
  a[0] = x;
  a[1] = y;
  const o = w.body.effectorOffset;
  for (let i = 0; i < w.body.effectorSize; i++) a[o + i] = w.body.kind === 'arm' ? (close ? 0 : 0.1) : close ? 1.5 : 0.15;
  return a;
};
const freeBlocksApart = (w: World) => {
  const s = w.snapshot();
  const free = s.blocks.filter((b) => !b.held);
  for (let i = 0; i < free.length; i++) {
    const b = free[i]!;
    assert.ok(b.x >= BLOCK_HALF - 1e-12 && b.x <= 1 - BLOCK_HALF + 1e-12 && b.y >= BLOCK_HALF - 1e-12 && b.y <= 1 - BLOCK_HALF + 1e-12, `block ${b.colour} off the table`);
    for (let j = i + 1; j < free.length; j++) {
      const d = Math.hypot(b.x - free[j]!.x, b.y - free[j]!.y);
      assert.ok(d >= 2 * BLOCK_RADIUS - 1e-8, `blocks ${b.colour} and ${free[j]!.colour} overlap: ${d}`);
    }
  }
};

describe('TabletopWorld', () => {
  test('deterministic: the same seed and commands give bit-identical states, snapshots and images; other seeds differ', () => {
    for (const e of SIM_EMBODIMENTS) {
      const run = (seed: number) => {
        const w = new TabletopWorld({ embodiment: e, seed, task: 'pick-place' });
        for (let i = 0; i < 15; i++) w.step(expertAction(w));
        return { state: w.state(), snap: JSON.stringify(w.snapshot()), image: w.render() };
      };
      const a = run(11);
      const b = run(11);
      const c = run(12);
      assert.deepEqual(Buffer.from(a.state.buffer), Buffer.from(b.state.buffer));
      assert.equal(a.snap, b.snap);
      assert.deepEqual(Buffer.from(a.image.buffer), Buffer.from(b.image.buffer));
      assert.notEqual(a.snap, c.snap);
      assert.notDeepEqual(Buffer.from(a.image.buffer), Buffer.from(c.image.buffer));
    }
  });

  test('layout: the same seed gives the same scene for every embodiment and task kind; blocks lie apart in their region', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), (seed) => {
        const scenes = SIM_EMBODIMENTS.flatMap((e) => (['reach', 'push', 'pick-place'] as const).map((k) => new TabletopWorld({ embodiment: e, seed, task: k }).snapshot()));
        const key = (s: (typeof scenes)[number]) => JSON.stringify([s.blocks, s.targets, s.task.block]);
        for (const s of scenes) assert.equal(key(s), key(scenes[0]!));
        const w = new TabletopWorld({ embodiment: 'hand', seed });
        for (const b of w.snapshot().blocks) {
          assert.ok(b.x >= BLOCK_REGION.x[0] && b.x <= BLOCK_REGION.x[1] && b.y >= BLOCK_REGION.y[0] && b.y <= BLOCK_REGION.y[1]);
        }
        freeBlocksApart(w);
      }),
      { numRuns: 25 },
    );
  });

  test('the task: drawn from the seed unless given; instructions name block and target', () => {
    const kinds = new Set<string>();
    for (let s = 0; s < 30; s++) kinds.add(new TabletopWorld({ embodiment: 'arm2', seed: s }).task.kind);
    assert.equal(kinds.size, 3, 'every kind is drawn for some seed');
    const w = new TabletopWorld({ embodiment: 'arm3', seed: 5, task: { kind: 'push', block: 'blue', target: 'left' } });
    assert.deepEqual(w.task, { kind: 'push', block: 'blue', target: 'left', instruction: 'push the blue block to the left target' });
    assert.equal(new TabletopWorld({ embodiment: 'hand', seed: 5, task: { kind: 'pick-place', block: 'red', target: 'right' } }).task.instruction, 'put the red block on the right target');
    assert.equal(new TabletopWorld({ embodiment: 'hand', seed: 5, task: { kind: 'reach', block: 'green' } }).task.instruction, 'reach the green block');
    assert.equal(w.maxSteps, 100);
    assert.equal(new TabletopWorld({ embodiment: 'arm2', seed: 1, task: 'reach', maxSteps: 7 }).maxSteps, 7);
  });

  test('Eq. 1: Φ_e round trip — the unified state holds the raw state at the end-effector slots and zeros elsewhere', () => {
    const pos = UNIFIED_LAYOUT.slot('right_eef_pos').offset;
    const rot = UNIFIED_LAYOUT.slot('right_eef_rot').offset;
    const grip = UNIFIED_LAYOUT.slot('right_gripper').offset;
    const fingers = UNIFIED_LAYOUT.slot('right_fingers').offset;
    for (const e of SIM_EMBODIMENTS) {
      const w = new TabletopWorld({ embodiment: e, seed: 3, task: 'pick-place' });
      for (let i = 0; i < 9; i++) w.step(expertAction(w));
      const raw = w.state();
      const u = w.unifiedState();
      const phi = w.robot.embodiment;
      assert.equal(u.length, 200);
      assert.deepEqual(Array.from(phi.fromUnified(u)), Array.from(raw));
      for (let i = 0; i < 200; i++) if (!phi.activeMask[i]) assert.equal(u[i], 0, `${e}: unified dim ${i} is off I_e but ${u[i]}`);
      assert.equal(u[pos], raw[0]);
      assert.equal(u[pos + 1], raw[1]);
      assert.ok(!phi.activeMask[pos + 2], 'the z position is not written');
      if (e === 'arm2') assert.equal(u[grip], raw[2]);
      else assert.equal(u[rot + 2], raw[2]);
      if (e === 'hand') FINGER_SLOT_INDEX.forEach((k, f) => assert.equal(u[fingers + k], raw[3 + f]));
      else if (e !== 'arm2') assert.equal(u[grip], raw[3]);
    }
    // The arms and the hand share the end-effector slots.
    const shared = SIM_EMBODIMENTS.map((e) => new Set(simRobot(e).embodiment.activeIndices));
    for (const s of shared) assert.ok(s.has(pos) && s.has(pos + 1));
  });

  test('Eq. 17: every embodiment has Δt = 0.1 s and a 0.4 s latency budget, so d_max = 4 control steps cover it', () => {
    for (const e of SIM_EMBODIMENTS) {
      const r = simRobot(e);
      assert.equal(r.controlPeriod, 0.1);
      assert.equal(r.latencyBudget, SIM_LATENCY_BUDGET);
      assert.equal(r.dMax, Math.round(SIM_LATENCY_BUDGET / r.controlPeriod));
      assert.equal(r.dMax, 4);
      assert.ok(r.dMax < r.chunkLength);
    }
  });

  test('the end effector moves toward the command at most speed·Δt per step and the arm reaches reachable commands', () => {
    for (const e of SIM_EMBODIMENTS) {
      const body = simBody(e);
      fc.assert(
        fc.property(fc.double({ min: 0.2, max: 0.8, noNaN: true }), fc.double({ min: 0.3, max: 0.75, noNaN: true }), fc.integer({ min: 0, max: 100 }), (x, y, seed) => {
          const w = new TabletopWorld({ embodiment: e, seed });
          let p = w.eef();
          for (let i = 0; i < 40; i++) {
            w.step(open(w, x, y));
            const q = w.eef();
            assert.ok(Math.hypot(q.x - p.x, q.y - p.y) <= body.speed * w.dt + 1e-6, `${e}: moved ${Math.hypot(q.x - p.x, q.y - p.y)} in one step`);
            p = q;
          }
          assert.ok(Math.hypot(p.x - x, p.y - y) < 1e-4, `${e}: did not reach (${x}, ${y}); at (${p.x}, ${p.y})`);
        }),
        { numRuns: 8 },
      );
    }
  });

  test('an out-of-reach command: the arm goes as far as it can (stretched toward it)', () => {
    const w = new TabletopWorld({ embodiment: 'arm2', seed: 0 });
    const c = w.body.chain!;
    for (let i = 0; i < 60; i++) w.step(open(w, 0.02, 1));
    const p = w.eef();
    const reach = c.links[0]! + c.links[1]!;
    assert.ok(Math.abs(Math.hypot(p.x - c.base.x, p.y - c.base.y) - reach) < 1e-6);
    const dir = Math.atan2(1 - c.base.y, 0.02 - c.base.x);
    assert.ok(Math.abs(Math.atan2(p.y - c.base.y, p.x - c.base.x) - dir) < 1e-6);
  });

  test('a closed gripper pushes a block it runs into, out to contact distance; an open one passes over it', () => {
    for (const e of ['arm2', 'hand'] as SimEmbodimentName[]) {
      for (const closed of [true, false]) {
        const w = new TabletopWorld({ embodiment: e, seed: 4, task: 'reach' });
        const b0 = w.blockPosition('red');
        // Start below the block, close (or not), then drive straight up through it.
        for (let i = 0; i < 30; i++) w.step(open(w, b0.x, b0.y - 0.2, closed));
        for (let i = 0; i < 4; i++) w.step(open(w, b0.x, b0.y + 0.02, closed));
        const b1 = w.blockPosition('red');
        const p = w.eef();
        if (closed) {
          assert.ok(b1.y > b0.y + 0.01, `${e}: a closed gripper should push the block (moved ${b1.y - b0.y})`);
          assert.ok(Math.abs(Math.hypot(b1.x - p.x, b1.y - p.y) - (BLOCK_RADIUS + EEF_RADIUS)) < 1e-6, 'discs touch after the push');
        } else {
          assert.deepEqual(b1, b0, `${e}: an open gripper passes over`);
        }
        freeBlocksApart(w);
      }
    }
  });

  test('pushing never makes free blocks overlap or leave the table (random closed-gripper motions)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<SimEmbodimentName>('hand', 'arm2'),
        fc.integer({ min: 0, max: 1e5 }),
        fc.array(fc.tuple(fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.double({ min: 0.4, max: 0.9, noNaN: true }), fc.boolean()), { minLength: 5, maxLength: 25 }),
        (e, seed, cmds) => {
          const w = new TabletopWorld({ embodiment: e, seed });
          for (const [x, y, close] of cmds) {
            for (let k = 0; k < 3; k++) {
              w.step(open(w, x, y, close));
              freeBlocksApart(w);
            }
          }
        },
      ),
      { numRuns: 30 },
    );
    // Sweeping a closed gripper across the block row does move blocks (the invariant is not vacuous).
    const w = new TabletopWorld({ embodiment: 'hand', seed: 9 });
    const before = JSON.stringify(w.snapshot().blocks);
    for (const y of [0.5, 0.56, 0.62, 0.68, 0.74]) {
      for (let i = 0; i < 8; i++) w.step(open(w, 0.05, y, true));
      for (let i = 0; i < 12; i++) w.step(open(w, 0.95, y, true));
      freeBlocksApart(w);
    }
    assert.notEqual(JSON.stringify(w.snapshot().blocks), before);
  });

  test('grasp and release: closing over a block lifts it, it follows the hand, opening sets it down; closing far away grasps nothing', () => {
    for (const e of SIM_EMBODIMENTS) {
      const w = new TabletopWorld({ embodiment: e, seed: 21, task: 'pick-place' });
      const b = w.blockPosition(w.task.block);
      for (let i = 0; i < 40; i++) w.step(open(w, b.x + 0.05, b.y - 0.05));
      for (let i = 0; i < 3; i++) w.step(open(w, b.x + 0.05, b.y - 0.05, true));
      assert.equal(w.heldBlock(), null, `${e}: closing 0.07 m away grasps nothing`);
      for (let i = 0; i < 3; i++) w.step(open(w, b.x + 0.05, b.y - 0.05));
      for (let i = 0; i < 10; i++) w.step(open(w, b.x, b.y));
      for (let i = 0; i < 3; i++) w.step(open(w, b.x, b.y, true));
      assert.equal(w.heldBlock(), w.task.block, `${e}: closing over the block grasps it`);
      const drop = { x: 0.5, y: 0.4 };
      for (let i = 0; i < 30; i++) w.step(open(w, drop.x, drop.y, true));
      const carried = w.blockPosition(w.task.block);
      assert.ok(Math.hypot(carried.x - drop.x, carried.y - drop.y) < 0.031, `${e}: the block follows the end effector`);
      for (let i = 0; i < 5; i++) w.step(open(w, drop.x, drop.y));
      assert.equal(w.heldBlock(), null, `${e}: opening releases`);
      const placed = w.blockPosition(w.task.block);
      for (let i = 0; i < 10; i++) w.step(open(w, 0.5, 0.25));
      assert.deepEqual(w.blockPosition(w.task.block), placed, `${e}: moving away (open) leaves the block where it was set down`);
      freeBlocksApart(w);
    }
  });

  test('success is explicit: reach within 0.04 m; push/pick-place need the block inside the target and not held', () => {
    const w = new TabletopWorld({ embodiment: 'hand', seed: 2, task: 'reach' });
    const b = w.blockPosition(w.task.block);
    assert.equal(w.success(), false);
    for (let i = 0; i < 30; i++) w.step(open(w, b.x + 0.045, b.y));
    assert.equal(w.success(), false, '0.045 m away is not a reach');
    w.step(open(w, b.x + 0.035, b.y));
    assert.equal(w.success(), true);
    assert.equal(w.done(), true);

    const p = new TabletopWorld({ embodiment: 'hand', seed: 2, task: 'pick-place' });
    const t = p.target(p.task.target!);
    const pb = p.blockPosition(p.task.block);
    for (let i = 0; i < 30; i++) p.step(open(p, pb.x, pb.y));
    for (let i = 0; i < 3; i++) p.step(open(p, pb.x, pb.y, true));
    for (let i = 0; i < 30; i++) p.step(open(p, t.x, t.y, true));
    assert.equal(p.heldBlock(), p.task.block);
    assert.equal(p.success(), false, 'held over the target is not yet placed');
    p.step(open(p, t.x, t.y));
    assert.equal(p.success(), true);
  });

  test('done after maxSteps; reset restores the initial scene; clone evolves independently', () => {
    const w = new TabletopWorld({ embodiment: 'arm4', seed: 8, task: 'push', maxSteps: 5 });
    const first = JSON.stringify(w.snapshot());
    for (let i = 0; i < 5; i++) w.step(open(w, 0.1, 0.9, true));
    assert.equal(w.stepCount, 5);
    assert.equal(w.done(), true);
    const c = w.clone();
    assert.equal(JSON.stringify(c.snapshot()), JSON.stringify(w.snapshot()));
    c.step(open(c, 0.9, 0.9));
    assert.notEqual(JSON.stringify(c.snapshot()), JSON.stringify(w.snapshot()));
    w.reset();
    assert.equal(JSON.stringify(w.snapshot()), first);
    w.reset(9);
    assert.notEqual(JSON.stringify(w.snapshot()), first);
    assert.equal(w.seed, 9);
    assert.throws(() => w.reset(Number.POSITIVE_INFINITY), /TabletopWorld\.reset: seed must be a finite number or a string, got Infinity/);
  });

  test('commands are clamped to the limits; bad inputs throw naming the function and the values', () => {
    const w = new TabletopWorld({ embodiment: 'arm3', seed: 1 });
    w.step([5, -5, 9, 7]);
    assert.deepEqual(Array.from(w.command), [1, 0, Math.PI, 0.1]);
    assert.throws(() => w.step([0.5, 0.5, 0]), /TabletopWorld\.step: "arm3" takes 4 raw values \(eef_x, eef_y, eef_yaw, gripper\), got 3/);
    assert.throws(() => w.step([0.5, Number.NaN, 0, 0]), /TabletopWorld\.step: "arm3" action entry 1 \(eef_y\) is NaN/);
    assert.throws(() => new TabletopWorld({ embodiment: 'arm9' as SimEmbodimentName, seed: 1 }), /TabletopWorld: unknown embodiment "arm9"/);
    assert.throws(() => new TabletopWorld({ embodiment: 'arm2', seed: 1, imageSize: 48 as 32 }), /TabletopWorld: imageSize must be 32 or 64, got 48/);
    assert.throws(() => new TabletopWorld({ embodiment: 'arm2', seed: Number.NaN }), /TabletopWorld: seed must be a finite number or a string, got NaN/);
    assert.throws(() => new TabletopWorld({ embodiment: 'arm2', seed: 1, task: 'fly' as 'reach' }), /TabletopWorld: task kind must be one of reach, push, pick-place, got "fly"/);
    assert.throws(() => new TabletopWorld({ embodiment: 'arm2', seed: 1, task: { kind: 'push', block: 'red' } }), /a push task needs target 'left' or 'right', got undefined/);
    assert.throws(() => new TabletopWorld({ embodiment: 'arm2', seed: 1, task: { kind: 'reach', block: 'red', instruction: 'touch red' } }), /instruction "touch red" does not match/);
    assert.throws(() => w.blockPosition('pink' as 'red'), /TabletopWorld\.blockPosition: unknown block "pink"/);
    assert.ok(BLOCK_COLOURS.length === 3);
  });
});
