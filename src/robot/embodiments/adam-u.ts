/**
 * PND Adam-U (Table 2: upper-body humanoid, 31 DoF = 2 × 7 arm + 2 × 6 hand + 2 head + 3 waist), on the
 * `UPPER_BODY_HUMANOID` layout of Eq. 1 (arms to `*_arm_joints`, hands to `*_dexhand`, `head`, `waist`).
 *
 * Limits: all conservative — no joint-limit table was at hand; the ranges are narrow symmetric
 * windows around the zero pose that a humanoid arm of this class reaches without self-contact, and
 * speeds are 1.5 rad/s (arms), 1 rad/s (head), 0.5 rad/s (waist). Replace with PNDbotics' figures when
 * available. Arm joint order assumed: shoulder pitch, roll, yaw, elbow, wrist yaw, pitch, roll.
 * Timing: 50 Hz (§6.3: "50 Hz humanoids"); a 150 ms latency budget (assumed).
 * @module
 */
import { UPPER_BODY_HUMANOID } from '../../model/index.js';
import { GENERIC_HAND_LIMITS, handJoints } from './hands.js';
import { joint, type JointSpec, type RobotSpec } from './robot.js';

const arm = (s: 'left' | 'right'): JointSpec[] => {
  const m = s === 'left' ? 1 : -1; // shoulder roll away from the body is positive on the left, negative on the right
  return [
    joint(`${s}_shoulder_pitch`, [-2.0, 1.5], 1.5, 'conservative'),
    joint(`${s}_shoulder_roll`, m > 0 ? [-0.3, 1.5] : [-1.5, 0.3], 1.5, 'conservative'),
    joint(`${s}_shoulder_yaw`, [-1.5, 1.5], 1.5, 'conservative'),
    joint(`${s}_elbow`, [-0.2, 2.0], 1.5, 'conservative'),
    joint(`${s}_wrist_yaw`, [-1.5, 1.5], 1.5, 'conservative'),
    joint(`${s}_wrist_pitch`, [-0.8, 0.8], 1.5, 'conservative'),
    joint(`${s}_wrist_roll`, [-0.8, 0.8], 1.5, 'conservative'),
  ];
};

/** The Adam-U robot spec. */
export const ADAM_U_ROBOT: RobotSpec = {
  name: 'adam-u',
  description: 'PND Adam-U upper body: two 7-DoF arms, two 6-DoF hands, 2-DoF head, 3-DoF waist',
  embodiment: { ...UPPER_BODY_HUMANOID, name: 'adam-u', description: 'PND Adam-U: left arm, right arm, left hand, right hand, head, waist' },
  joints: [
    ...arm('left'),
    ...arm('right'),
    ...handJoints('left_hand_', GENERIC_HAND_LIMITS),
    ...handJoints('right_hand_', GENERIC_HAND_LIMITS),
    joint('head_pan', [-1.0, 1.0], 1, 'conservative'),
    joint('head_tilt', [-0.5, 0.5], 1, 'conservative'),
    joint('waist_yaw', [-1.0, 1.0], 0.5, 'conservative'),
    joint('waist_pitch', [-0.4, 0.4], 0.5, 'conservative'),
    joint('waist_roll', [-0.3, 0.3], 0.5, 'conservative'),
  ],
  controlPeriod: 1 / 50,
  latencyBudget: 0.15,
  chunkLength: 16,
  delayWeighting: 'exponential',
  safetyMargin: 1,
  notes: 'all limits conservative (no datasheet); 50 Hz from §6.3; 150 ms latency assumed',
};
