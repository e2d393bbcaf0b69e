/**
 * The human hand (MANO) as "a generalized embodiment" (§5.1.1), on the `MANO_HANDS` embodiment: per hand
 * the wrist translation (m) and global orientation (axis-angle) go to the end-effector slots and the
 * 15 finger joints' axis-angles (MANO θ, 45 numbers) to the `*_fingers` slots (Eq. 1): 2 × 51 = 102.
 *
 * Limits (conservative, by construction rather than anatomy): every axis-angle component lies in
 * [−π, π] (an axis-angle's norm is at most π); wrist translations within 2 m of the camera; speeds
 * 5 m/s and 30 rad/s, above human hand motion so only corrupt estimates are clipped.
 * Timing: 30 Hz video frames (assumed); latency budget 0 — human data is never executed, so d_max = 1
 * and UAC (Eq. 17) always draws d = 0 for it (plain flow matching).
 * @module
 */
import { MANO_HANDS } from '../../model/index.js';
import { joint, type JointSpec, type RobotSpec } from './robot.js';

const hand = (s: 'right' | 'left'): JointSpec[] => [
  ...['x', 'y', 'z'].map((a) => joint(`${s}_wrist_t${a}`, [-2, 2], 5, 'conservative', { unit: 'm' })),
  ...['x', 'y', 'z'].map((a) => joint(`${s}_global_orient_${a}`, [-Math.PI, Math.PI], 30, 'conservative')),
  ...Array.from({ length: 45 }, (_, k) => joint(`${s}_pose_j${Math.floor(k / 3) + 1}_${'xyz'[k % 3]}`, [-Math.PI, Math.PI], 30, 'conservative')),
];

/** The MANO (two human hands) spec. */
export const MANO_ROBOT: RobotSpec = {
  name: 'mano-hands',
  description: 'human hands (MANO): wrist translation, global orientation and 15 finger-joint axis-angles per hand',
  embodiment: MANO_HANDS,
  joints: [...hand('right'), ...hand('left')],
  controlPeriod: 1 / 30,
  latencyBudget: 0,
  chunkLength: 16,
  delayWeighting: 'exponential',
  safetyMargin: 0,
  notes: 'a data embodiment (no driver); limits by construction; 30 Hz assumed; no inference latency',
};
