/**
 * Calibration: ticks ↔ radians (θ = direction · (ticks − zeroTicks) · 2π/4096) and ticks ↔ gripper
 * width round trips, file validation naming the joint and field, the JSON round trip, LeRobot's
 * calibration format, and the nominal SO-101 calibration against the robot's joint limits.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CALIBRATION_FORMAT,
  calibrationToJSON,
  clampTicks,
  fromLeRobotCalibration,
  parseCalibration,
  positionRange,
  positionToTicks,
  ticksToPosition,
  SO101_JOINT_NAMES,
  type JointCalibration,
} from '../../../src/robot/drivers/feetech/calibration.js';
import { nominalSo101Calibration, nominalSo101CalibrationJSON } from '../../../src/robot/drivers/feetech/so101-calibration.js';
import { getRobot } from '../../../src/robot/embodiments/registry.js';

const tickPair = fc.tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 4095 })).filter(([a, b]) => a !== b);
const revolute = fc.record({ zeroTicks: fc.integer({ min: 0, max: 4095 }), direction: fc.constantFrom(1, -1), range: tickPair });
const width = fc.record({ ends: tickPair, closedWidth: fc.double({ min: 0, max: 0.05, noNaN: true }), span: fc.double({ min: 1e-3, max: 0.2, noNaN: true }), range: tickPair });

/** A one-joint calibration file from generated fields. */
function file(j: Record<string, unknown>, name = 'j'): unknown {
  return { format: CALIBRATION_FORMAT, version: 1, joints: { [name]: j } };
}

const sorted = ([a, b]: [number, number]): [number, number] => (a < b ? [a, b] : [b, a]);

const anyJoint: fc.Arbitrary<JointCalibration> = fc.oneof(
  revolute.map(({ zeroTicks, direction, range }) => {
    const [minTicks, maxTicks] = sorted(range);
    return parseCalibration(file({ id: 1, zeroTicks, direction, minTicks, maxTicks })).joints.get('j')!;
  }),
  width.map(({ ends, closedWidth, span, range }) => {
    const [minTicks, maxTicks] = sorted(range);
    return parseCalibration(file({ id: 1, minTicks, maxTicks, width: { closedTicks: ends[0], openTicks: ends[1], closedWidth, openWidth: closedWidth + span } })).joints.get('j')!;
  }),
);

describe('Feetech calibration', () => {
  test('ticks → position → ticks is the identity for every tick in range (radians and widths)', () => {
    fc.assert(
      fc.property(anyJoint, fc.nat(), (j, k) => {
        const t = j.minTicks + (k % (j.maxTicks - j.minTicks + 1));
        assert.equal(positionToTicks(j, ticksToPosition(j, t)), t);
      }),
    );
  });

  test('position → ticks → position is within half a tick', () => {
    fc.assert(
      fc.property(anyJoint, fc.double({ min: 0, max: 1, noNaN: true }), (j, u) => {
        const [lo, hi] = positionRange(j);
        const x = lo + u * (hi - lo);
        const back = ticksToPosition(j, positionToTicks(j, x));
        const halfTick = Math.abs(ticksToPosition(j, 1) - ticksToPosition(j, 0)) / 2;
        assert.ok(Math.abs(back - x) <= halfTick * (1 + 1e-9), `${x} → ${back}`);
      }),
    );
  });

  test('θ = direction · (ticks − zeroTicks) · 2π/4096: a quarter turn is 1024 ticks, and direction −1 flips the sign', () => {
    const j = parseCalibration(file({ id: 3, zeroTicks: 2000, direction: -1, minTicks: 0, maxTicks: 4095 })).joints.get('j')!;
    assert.ok(Math.abs(ticksToPosition(j, 2000 + 1024) + Math.PI / 2) < 1e-12);
    assert.equal(positionToTicks(j, Math.PI / 2), 2000 - 1024);
    assert.equal(clampTicks(j, 5000), 4095);
    const w = parseCalibration(file({ id: 6, minTicks: 1000, maxTicks: 3000, width: { closedTicks: 3000, openTicks: 1000, closedWidth: 0, openWidth: 0.1 } })).joints.get('j')!;
    assert.ok(Math.abs(ticksToPosition(w, 2000) - 0.05) < 1e-12);
    assert.deepEqual(positionRange(w), [0, 0.1]);
  });

  test('calibrationToJSON → JSON text → parseCalibration gives the same calibration', () => {
    fc.assert(
      fc.property(fc.array(anyJoint, { minLength: 1, maxLength: 6 }), (joints) => {
        const cal = { joints: new Map(joints.map((j, i) => [`joint${i}`, { ...j, id: i + 1 }])) };
        const again = parseCalibration(JSON.stringify(calibrationToJSON(cal)));
        assert.deepEqual([...again.joints], [...cal.joints]);
      }),
    );
  });

  test('validation names the joint and the field of every bad entry', () => {
    const ok = { id: 1, zeroTicks: 2048, direction: 1, minTicks: 100, maxTicks: 4000 };
    const cases: [unknown, RegExp][] = [
      ['{', /parseCalibration: not JSON/],
      [{ ...(file(ok) as object), format: 'other' }, /format must be "being-ts\/feetech-calibration"/],
      [{ ...(file(ok) as object), version: 2 }, /version must be 1, got 2/],
      [file({ ...ok, id: 254 }), /joint "j"\.id must be an integer in \[0, 253\], got 254/],
      [file({ ...ok, minTicks: 4000, maxTicks: 100 }), /joint "j" needs minTicks < maxTicks, got 4000 and 100/],
      [file({ ...ok, maxTicks: 4096 }), /joint "j"\.maxTicks must be an integer in \[0, 4095\], got 4096/],
      [file({ ...ok, zeroTicks: 1.5 }), /joint "j"\.zeroTicks must be an integer/],
      [file({ ...ok, direction: 0 }), /joint "j"\.direction must be 1 or -1, got 0/],
      [file({ ...ok, offset: 3 }), /joint "j" has unknown key "offset"/],
      [file({ ...ok, homingOffsetRegister: 5000 }), /homingOffsetRegister must be an integer in \[-2047, 2047\]/],
      [file({ id: 6, minTicks: 1, maxTicks: 9, width: { closedTicks: 5, openTicks: 5, closedWidth: 0, openWidth: 1 } }), /closedTicks ≠ openTicks, both are 5/],
      [file({ id: 6, minTicks: 1, maxTicks: 9, width: { closedTicks: 1, openTicks: 5, closedWidth: 0.1, openWidth: 0.1 } }), /0 ≤ closedWidth < openWidth, got 0.1 and 0.1/],
      [file({ id: 6, zeroTicks: 3, minTicks: 1, maxTicks: 9, width: { closedTicks: 1, openTicks: 5, closedWidth: 0, openWidth: 0.1 } }), /maps to a width; zeroTicks and direction apply to revolute joints only/],
      [{ format: CALIBRATION_FORMAT, version: 1, joints: { a: ok, b: ok } }, /joints "a" and "b" both have id 1/],
      [{ format: CALIBRATION_FORMAT, version: 1, joints: {} }, /joints must be a non-empty object/],
    ];
    for (const [input, message] of cases) assert.throws(() => parseCalibration(input), message);
  });

  test('LeRobot files: homing_offset becomes the register check, 0 rad is mid-range, drive_mode 1 flips, widths on request', () => {
    const lerobot = {
      shoulder_pan: { id: 1, drive_mode: 0, homing_offset: -1385, range_min: 816, range_max: 3333 },
      elbow_flex: { id: 3, drive_mode: 1, homing_offset: 12, range_min: 900, range_max: 3100 },
      gripper: { id: 6, drive_mode: 0, homing_offset: 7, range_min: 2000, range_max: 3400 },
    };
    const cal = fromLeRobotCalibration(JSON.stringify(lerobot), { widths: { gripper: { closedWidth: 0, openWidth: 0.08 } } });
    const pan = cal.joints.get('shoulder_pan')!;
    assert.equal(pan.homingOffsetRegister, -1385);
    assert.equal(ticksToPosition(pan, Math.round((816 + 3333) / 2)), 0);
    assert.ok(ticksToPosition(cal.joints.get('elbow_flex')!, 3000) < 0);
    const grip = cal.joints.get('gripper')!;
    assert.equal(ticksToPosition(grip, 2000), 0);
    assert.ok(Math.abs(ticksToPosition(grip, 3400) - 0.08) < 1e-12);
    assert.throws(() => fromLeRobotCalibration(lerobot, { widths: { jaw: { closedWidth: 0, openWidth: 1 } } }), /widths names joint "jaw"/);
    assert.throws(() => fromLeRobotCalibration({ a: { ...lerobot.gripper, drive_mode: 2 } }), /joint "a"\.drive_mode must be 0 or 1, got 2/);
  });

  test('the nominal SO-101 calibration covers LeRobot’s six joints (ids 1…6) and its tick limits sit on the robot’s joint limits', () => {
    const robot = getRobot('so101');
    const cal = parseCalibration(nominalSo101CalibrationJSON());
    assert.deepEqual([...cal.joints.keys()], [...SO101_JOINT_NAMES]);
    assert.deepEqual([...cal.joints.keys()], [...robot.jointNames]);
    assert.deepEqual([...cal.joints.values()].map((j) => j.id), [1, 2, 3, 4, 5, 6]);
    robot.jointNames.forEach((name, i) => {
      const [lo, hi] = positionRange(cal.joints.get(name)!);
      const tick = Math.abs(ticksToPosition(cal.joints.get(name)!, 1) - ticksToPosition(cal.joints.get(name)!, 0));
      assert.ok(Math.abs(lo - robot.lower[i]!) <= tick && Math.abs(hi - robot.upper[i]!) <= tick, `${name}: [${lo}, ${hi}] vs [${robot.lower[i]}, ${robot.upper[i]}]`);
    });
    assert.deepEqual([...nominalSo101Calibration().joints], [...cal.joints]);
  });
});
