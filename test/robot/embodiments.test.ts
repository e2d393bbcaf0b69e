/**
 * The robot registry: the five robots of Table 2 and the MANO hands, their Φ_e slot mappings (Eq. 1),
 * joint limits, and UAC timing (d_max of Eq. 17, §5.3.3); validation of new robot specs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UNIFIED_LAYOUT, maxDelay } from '../../src/model/index.js';
import {
  BUILTIN_ROBOTS,
  defineRobot,
  getRobot,
  hasRobot,
  joint,
  listRobots,
  registerRobot,
  so101JawToWidth,
  so101WidthToJaw,
  unregisterRobot,
  SO101_JAW_RANGE,
  SO101_MAX_WIDTH,
  type Robot,
  type RobotSpec,
} from '../../src/robot/embodiments/index.js';

/** Table 2: name → DoF. */
const TABLE_2: Record<string, number> = { 'adam-u': 31, 'g1-o6': 26, 'fr3-inspire': 13, 'being-d1': 14, so101: 6 };

/** The slots an embodiment writes, with how many entries each. */
const slotUse = (r: Robot): Map<string, number> => {
  const m = new Map<string, number>();
  for (const c of r.embodiment.components) m.set(c.slot, (m.get(c.slot) ?? 0) + c.size);
  return m;
};

/** A point inside the joint limits, from fractions in [0, 1]. */
const inside = (r: Robot, u: readonly number[]): Float64Array => Float64Array.from(u, (x, i) => r.lower[i]! + x * (r.upper[i]! - r.lower[i]!));

describe('embodiment registry', () => {
  test('Table 2: the five robots are registered with their DoF, and MANO with 2 × (3 + 3 + 45)', () => {
    for (const [name, dof] of Object.entries(TABLE_2)) {
      assert.ok(hasRobot(name), name);
      assert.equal(getRobot(name).dof, dof, name);
      assert.equal(getRobot(name).embodiment.rawDim, dof, name);
    }
    assert.equal(getRobot('mano-hands').dof, 2 * (3 + 3 + 45));
    assert.deepEqual(listRobots().map((r) => r.name).sort(), [...BUILTIN_ROBOTS.map((s) => s.name)].sort());
  });

  test('Table 2: structure — hands are 6-DoF, Adam-U has head and waist, SO-101 a gripper, bimanual robots use both sides', () => {
    const use = (n: string) => slotUse(getRobot(n));
    const adam = use('adam-u');
    assert.equal(adam.get('left_dexhand'), 6);
    assert.equal(adam.get('right_dexhand'), 6);
    assert.equal(adam.get('head'), 2);
    assert.equal(adam.get('waist'), 3);
    assert.equal(adam.get('left_arm_joints'), 7);
    const g1 = use('g1-o6');
    assert.equal(g1.get('left_dexhand'), 6);
    assert.equal(g1.get('right_dexhand'), 6);
    assert.ok(!g1.has('head') && !g1.has('waist'));
    for (const single of ['fr3-inspire', 'being-d1']) {
      const s = use(single);
      assert.equal(s.get('right_dexhand'), 6, single);
      assert.ok(!s.has('left_arm_joints') && !s.has('left_dexhand'), single);
    }
    const so = use('so101');
    assert.equal(so.get('right_gripper'), 1);
    assert.ok(!so.has('right_dexhand'));
    const mano = use('mano-hands');
    assert.equal(mano.get('right_fingers'), 45);
    assert.equal(mano.get('left_fingers'), 45);
    assert.equal(mano.get('right_eef_pos'), 3);
  });

  test('Eq. 1: every slot mapping is injective into the layout and Φ_e⁻¹(Φ_e(a)) = a; units match the slots', () => {
    for (const r of listRobots()) {
      const idx = r.embodiment.unifiedIndex;
      assert.equal(new Set(idx).size, r.dof, `${r.name}: unified indices repeat`);
      for (const [k, u] of idx.entries()) {
        const pos = UNIFIED_LAYOUT.slotAt(u);
        assert.ok(pos !== null, `${r.name}: raw ${k} goes to a reserved dimension`);
        assert.equal(r.spec.joints[k]!.unit, pos.slot.unit, `${r.name}: ${r.jointNames[k]} unit`);
      }
      fc.assert(
        fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: r.dof, maxLength: r.dof }), (u) => {
          const a = inside(r, u);
          const z = r.embodiment.toUnified(a);
          assert.equal(z.length, UNIFIED_LAYOUT.dim);
          assert.deepEqual(Array.from(r.embodiment.fromUnified(z)), Array.from(a));
          for (let d = 0; d < z.length; d++) if (!r.embodiment.activeMask[d]) assert.equal(z[d], 0);
        }),
        { numRuns: 20 },
      );
    }
  });

  test('every limit is finite with min < max, every speed finite and > 0, every home inside its range', () => {
    for (const r of listRobots()) {
      assert.equal(new Set(r.jointNames).size, r.dof, `${r.name}: joint names repeat`);
      for (let i = 0; i < r.dof; i++) {
        const what = `${r.name}.${r.jointNames[i]}`;
        assert.ok(Number.isFinite(r.lower[i]!) && Number.isFinite(r.upper[i]!), what);
        assert.ok(r.lower[i]! < r.upper[i]!, what);
        assert.ok(Number.isFinite(r.maxVelocity[i]!) && r.maxVelocity[i]! > 0, what);
        assert.ok(r.home[i]! >= r.lower[i]! && r.home[i]! <= r.upper[i]!, what);
        assert.ok(Math.abs(r.maxStep[i]! - r.maxVelocity[i]! * r.controlPeriod) < 1e-12, what);
        assert.ok(['published', 'conservative'].includes(r.spec.joints[i]!.source), what);
      }
    }
  });

  test('§6.3 and Eq. 17: robots run between 10 Hz and 50 Hz; d_max = min(T, max(1, ⌈L/Δt⌉)) and π over d_max delays', () => {
    for (const r of listRobots()) {
      if (r.name in TABLE_2) assert.ok(r.controlPeriod >= 1 / 50 - 1e-12 && r.controlPeriod <= 1 / 10 + 1e-12, r.name);
      assert.equal(r.dMax, maxDelay({ controlPeriod: r.controlPeriod, latencyBudget: r.latencyBudget, chunkLength: r.chunkLength }), r.name);
      assert.ok(r.dMax >= 1 && r.dMax <= r.chunkLength, r.name);
      if (r.latencyBudget > 0 && Math.ceil(r.latencyBudget / r.controlPeriod - 1e-9) <= r.chunkLength) {
        assert.ok(r.dMax * r.controlPeriod >= r.latencyBudget - 1e-9, `${r.name}: d_max steps do not cover the latency budget`);
      }
      assert.equal(r.delays.dMax, r.dMax);
      assert.ok(Math.abs(r.delays.probabilities.reduce((s, p) => s + p, 0) - 1) < 1e-12);
    }
    assert.equal(getRobot('mano-hands').dMax, 1, 'human data has no inference delay: d is always 0');
  });

  test('SO-101 gripper: jaw angle ↔ width are inverse, monotone, and stay inside the width limit', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: SO101_MAX_WIDTH, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), (w, a) => {
        assert.ok(Math.abs(so101JawToWidth(so101WidthToJaw(w)) - w) < 1e-12);
        const width = so101JawToWidth(a);
        assert.ok(width >= 0 && width <= SO101_MAX_WIDTH);
        assert.ok(so101JawToWidth(a + 0.01) >= width);
      }),
    );
    assert.equal(so101JawToWidth(SO101_JAW_RANGE[0]), 0);
    assert.equal(so101JawToWidth(SO101_JAW_RANGE[1]), SO101_MAX_WIDTH);
  });
});

/** A two-joint test robot spec. */
const tiny = (over: Partial<RobotSpec> = {}): RobotSpec => ({
  name: 'tiny-test',
  description: 'test robot',
  embodiment: { name: 'tiny-test', components: [{ name: 'j', slot: 'right_arm_joints', size: 1 }, { name: 'g', slot: 'right_gripper' }] },
  joints: [joint('j', [-1, 1], 2, 'conservative'), joint('g', [0, 0.05], 0.1, 'conservative', { unit: 'm' })],
  controlPeriod: 0.02,
  latencyBudget: 0.05,
  chunkLength: 8,
  safetyMargin: 1,
  ...over,
});

describe('registering and validating robots', () => {
  test('a new robot is one spec: registerRobot, getRobot, listRobots; names are unique unless replaced', () => {
    try {
      const r = registerRobot(tiny());
      assert.equal(getRobot('tiny-test'), r);
      assert.ok(listRobots().includes(r));
      assert.equal(r.dMax, 3);
      assert.throws(() => registerRobot(tiny()), /already registered.*replace/);
      const r2 = registerRobot(tiny({ chunkLength: 2 }), { replace: true });
      assert.equal(getRobot('tiny-test').dMax, 2);
      assert.notEqual(r2, r);
    } finally {
      unregisterRobot('tiny-test');
    }
    assert.ok(!hasRobot('tiny-test'));
    assert.throws(() => getRobot('tiny-test'), /no robot named "tiny-test"; registered: adam-u/);
  });

  test('invalid specs throw errors naming the robot, the joint and the value', () => {
    const [j, g] = tiny().joints as [ReturnType<typeof joint>, ReturnType<typeof joint>];
    const cases: [Partial<RobotSpec>, RegExp][] = [
      [{ joints: [j] }, /"tiny-test".*2 raw entries but 1 joints/],
      [{ joints: [{ ...j, min: 1, max: 1 }, g] }, /joint 0 "j" needs min < max, got min 1, max 1/],
      [{ joints: [{ ...j, max: Number.NaN }, g] }, /joint 0 "j" needs finite limits.*NaN/],
      [{ joints: [{ ...j, max: Infinity }, g] }, /joint 0 "j" needs finite limits.*Infinity/],
      [{ joints: [j, { ...g, maxVelocity: 0 }] }, /joint 1 "g" needs a finite maxVelocity > 0, got 0/],
      [{ joints: [j, { ...g, unit: 'rad' }] }, /joint 1 "g" is in "rad" but goes to slot "right_gripper" in "m"/],
      [{ joints: [j, { ...g, name: 'j' }] }, /joints 0 and 1 are both named "j"/],
      [{ joints: [{ ...j, home: 2 }, g] }, /joint 0 "j" has home 2 outside \[-1, 1\]/],
      [{ joints: [{ ...j, source: 'guess' as never }, g] }, /joint 0 "j" needs source/],
      [{ controlPeriod: 0 }, /controlPeriod must be.*> 0, got 0/],
      [{ latencyBudget: -1 }, /latencyBudget must be.*≥ 0, got -1/],
      [{ chunkLength: 0.5 }, /chunkLength must be an integer ≥ 1, got 0.5/],
      [{ safetyMargin: -1 }, /safetyMargin must be an integer/],
      [{ name: 'Bad Name' }, /name must be lowercase/],
    ];
    for (const [over, re] of cases) assert.throws(() => defineRobot(tiny(over)), re, re.source);
    assert.throws(() => defineRobot(tiny({ embodiment: { name: 'x', components: [{ name: 'j', slot: 'nope' }, { name: 'g', slot: 'right_gripper' }] } })), /defineRobot\("tiny-test"\): invalid embodiment: .*slot "nope"/);
  });
});
