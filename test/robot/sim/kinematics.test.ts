/**
 * Planar kinematics of the tabletop arms: forward kinematics agrees with the joint points, inverse
 * kinematics reaches every reachable pose (the forward image of joint angles inside the limits) and never
 * leaves the joint limits, and an unreachable target leaves the arm as close as it can get.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chainPoints, forwardKinematics, simBody, solveIK, wrapAngle, type PlanarChain } from '../../../src/robot/index.js';

const ARMS = (['arm2', 'arm3', 'arm4'] as const).map((n) => simBody(n));
const jointsIn = (c: PlanarChain) => fc.tuple(...c.lower.map((lo, i) => fc.double({ min: lo, max: c.upper[i]!, noNaN: true })));
const inLimits = (c: PlanarChain, q: ArrayLike<number>) => Array.from(q).every((v, i) => v >= c.lower[i]! - 1e-12 && v <= c.upper[i]! + 1e-12);

describe('tabletop kinematics', () => {
  test('wrapAngle maps to (−π, π] and keeps the angle modulo 2π', () => {
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }), (a) => {
        const w = wrapAngle(a);
        assert.ok(w > -Math.PI && w <= Math.PI, `${w}`);
        const k = (a - w) / (2 * Math.PI);
        assert.ok(Math.abs(k - Math.round(k)) < 1e-9);
      }),
    );
  });

  test('forward kinematics: the tip is the last joint point and the heading is the wrapped sum of the angles', () => {
    for (const b of ARMS) {
      fc.assert(
        fc.property(jointsIn(b.chain!), (q) => {
          const p = forwardKinematics(b.chain!, q);
          const pts = chainPoints(b.chain!, q);
          assert.equal(pts.length, b.chain!.links.length + 1);
          assert.deepEqual([pts[0]!.x, pts[0]!.y], [b.chain!.base.x, b.chain!.base.y]);
          assert.ok(Math.abs(pts.at(-1)!.x - p.x) < 1e-12 && Math.abs(pts.at(-1)!.y - p.y) < 1e-12);
          pts.slice(1).forEach((pt, i) => assert.ok(Math.abs(Math.hypot(pt.x - pts[i]!.x, pt.y - pts[i]!.y) - b.chain!.links[i]!) < 1e-12));
          assert.ok(Math.abs(wrapAngle(q.reduce((s, v) => s + v, 0) - p.yaw)) < 1e-12);
        }),
        { numRuns: 50 },
      );
    }
  });

  test('IK reaches every reachable pose (position, and heading for 3+ links) within 1e-6 and stays inside the joint limits', () => {
    for (const b of ARMS) {
      const c = b.chain!;
      fc.assert(
        fc.property(jointsIn(c), (q) => {
          const target = forwardKinematics(c, q);
          const r = solveIK(c, target, b.homeJoints, { restarts: true });
          assert.ok(inLimits(c, r.q), `${b.name}: ${Array.from(r.q)} outside the limits`);
          assert.ok(r.positionError < 1e-6, `${b.name}: position error ${r.positionError} for ${JSON.stringify(target)}`);
          assert.ok(r.yawError < 1e-6, `${b.name}: heading error ${r.yawError}`);
          const reached = forwardKinematics(c, r.q);
          assert.ok(Math.hypot(reached.x - target.x, reached.y - target.y) === r.positionError);
        }),
        { numRuns: 60 },
      );
    }
  });

  test('IK from any start stays inside the joint limits, even for targets off the table', () => {
    for (const b of ARMS) {
      const c = b.chain!;
      fc.assert(
        fc.property(jointsIn(c), fc.double({ min: -1, max: 2, noNaN: true }), fc.double({ min: -1, max: 2, noNaN: true }), fc.double({ min: -4, max: 4, noNaN: true }), (q0, x, y, yaw) => {
          const r = solveIK(c, { x, y, yaw }, q0, { maxIterations: 20 });
          assert.ok(inLimits(c, r.q));
          assert.ok(Number.isFinite(r.positionError));
        }),
        { numRuns: 40 },
      );
    }
  });

  test('an unreachable target: the two-link arm stretches toward it, as far as it can', () => {
    const b = simBody('arm2');
    const c = b.chain!;
    const reach = c.links[0]! + c.links[1]!;
    for (const target of [{ x: 0, y: 1 }, { x: 1, y: 1 }, { x: 0.5, y: 1.2 }]) {
      const r = solveIK(c, target, b.homeJoints);
      const p = forwardKinematics(c, r.q);
      const dist = Math.hypot(target.x - c.base.x, target.y - c.base.y);
      assert.ok(dist > reach);
      assert.ok(Math.abs(Math.hypot(p.x - c.base.x, p.y - c.base.y) - reach) < 1e-6, 'fully stretched');
      assert.ok(Math.abs(r.positionError - (dist - reach)) < 1e-6, 'the closest reachable point');
    }
  });

  test('bad inputs throw naming the function and the values', () => {
    const c = simBody('arm3').chain!;
    assert.throws(() => solveIK(c, { x: Number.NaN, y: 0 }, [0, 0, 0]), /solveIK: target must have finite x, y/);
    assert.throws(() => solveIK(c, { x: 0, y: 0 }, [0, 0]), /solveIK: expected 3 joint angles, got 2/);
    assert.throws(() => forwardKinematics(c, [0, Number.POSITIVE_INFINITY, 0]), /forwardKinematics: joint angle 1 is Infinity/);
  });
});
