/**
 * LeRobot SO-101 (Table 2: single arm + gripper, 6 DoF), on the `SO101_ARM` embodiment: five arm joints
 * to `right_arm_joints`, the gripper opening width to `right_gripper` (Eq. 1).
 *
 * Limits: arm ranges are published — the joint limits of `so101_new_calib.urdf` (TheRobotStudio/SO-ARM100);
 * speeds are conservative: 3 rad/s, below the STS3215's no-load speed (≈ 0.222 s/60° at 7.4 V, ≈ 4.7 rad/s).
 * The gripper width (0–0.08 m) and its speed are conservative; {@link so101JawToWidth} maps the URDF's
 * jaw angle (−0.174533 … 1.74533 rad) to it linearly.
 * Timing (assumed): 30 Hz, LeRobot's recording rate for SO-100/101 data; a 150 ms latency budget.
 * @module
 */
import { SO101_ARM } from '../../model/index.js';
import { joint, type RobotSpec } from './robot.js';

/** Jaw angle range of the URDF (rad): closed, fully open. */
export const SO101_JAW_RANGE: readonly [number, number] = [-0.174533, 1.74533];
/** Opening width at the fully open jaw (m), conservative. */
export const SO101_MAX_WIDTH = 0.08;

/** Gripper width (m) from the jaw angle (rad): linear over {@link SO101_JAW_RANGE}, clamped to [0, max width]. */
export function so101JawToWidth(angle: number): number {
  const [lo, hi] = SO101_JAW_RANGE;
  return Math.min(SO101_MAX_WIDTH, Math.max(0, ((angle - lo) / (hi - lo)) * SO101_MAX_WIDTH));
}

/** Jaw angle (rad) from the gripper width (m): the inverse of {@link so101JawToWidth} on [0, max width]. */
export function so101WidthToJaw(width: number): number {
  const [lo, hi] = SO101_JAW_RANGE;
  return lo + (Math.min(SO101_MAX_WIDTH, Math.max(0, width)) / SO101_MAX_WIDTH) * (hi - lo);
}

/** The SO-101 robot spec. */
export const SO101_ROBOT: RobotSpec = {
  name: 'so101',
  description: 'LeRobot SO-101: 5 STS3215 revolute joints + parallel gripper (width), joint-position control',
  embodiment: SO101_ARM,
  joints: [
    joint('shoulder_pan', [-1.91986, 1.91986], 3, 'published', { velocitySource: 'conservative' }),
    joint('shoulder_lift', [-1.74533, 1.74533], 3, 'published', { velocitySource: 'conservative' }),
    joint('elbow_flex', [-1.69, 1.69], 3, 'published', { velocitySource: 'conservative' }),
    joint('wrist_flex', [-1.65806, 1.65806], 3, 'published', { velocitySource: 'conservative' }),
    joint('wrist_roll', [-2.79253, 2.79253], 3, 'published', { velocitySource: 'conservative' }),
    joint('gripper', [0, SO101_MAX_WIDTH], 0.1, 'conservative', { unit: 'm' }),
  ],
  controlPeriod: 1 / 30,
  latencyBudget: 0.15,
  chunkLength: 16,
  delayWeighting: 'exponential',
  safetyMargin: 1,
  notes: 'arm ranges: so101_new_calib.urdf; speeds, gripper width and timing: conservative assumptions (30 Hz, 150 ms)',
};
