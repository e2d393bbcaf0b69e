/**
 * Unitree G1 + LinkerBot O6 hands (Table 2: bimanual humanoid, 26 DoF = 2 × 7 arm + 2 × 6 hand). Raw
 * order: left arm, right arm, left hand, right hand; arms to `*_arm_joints`, hands to `*_dexhand` (Eq. 1).
 *
 * Limits: arm ranges are published (Unitree G1 29-DoF URDF, `g1_29dof`); the URDF's speeds (37 rad/s
 * shoulders and elbow, 22 rad/s wrists) are motor ratings, so the clamp uses conservative 2 rad/s;
 * hands are conservative (`GENERIC_HAND_LIMITS`).
 * Timing: 50 Hz (§6.3: "50 Hz humanoids"); a 150 ms latency budget (assumed).
 * @module
 */
import type { EmbodimentSpec } from '../../model/index.js';
import { GENERIC_HAND_LIMITS, handJoints } from './hands.js';
import { joint, type JointSpec, type RobotSpec } from './robot.js';

const arm = (s: 'left' | 'right'): JointSpec[] => {
  const o = { velocitySource: 'conservative' as const };
  return [
    joint(`${s}_shoulder_pitch`, [-3.0892, 2.6704], 2, 'published', o),
    joint(`${s}_shoulder_roll`, s === 'left' ? [-1.5882, 2.2515] : [-2.2515, 1.5882], 2, 'published', o),
    joint(`${s}_shoulder_yaw`, [-2.618, 2.618], 2, 'published', o),
    joint(`${s}_elbow`, [-1.0472, 2.0944], 2, 'published', o),
    joint(`${s}_wrist_roll`, [-1.972222054, 1.972222054], 2, 'published', o),
    joint(`${s}_wrist_pitch`, [-1.614429558, 1.614429558], 2, 'published', o),
    joint(`${s}_wrist_yaw`, [-1.614429558, 1.614429558], 2, 'published', o),
  ];
};

/** Φ_e of the G1 + O6 (Eq. 1). */
export const G1_O6_EMBODIMENT: EmbodimentSpec = {
  name: 'g1-o6',
  description: 'Unitree G1 arms (2 × 7) + LinkerBot O6 hands (2 × 6), joint-position control',
  components: [
    { name: 'left_arm', slot: 'left_arm_joints', size: 7 },
    { name: 'right_arm', slot: 'right_arm_joints', size: 7 },
    { name: 'left_hand', slot: 'left_dexhand', size: 6 },
    { name: 'right_hand', slot: 'right_dexhand', size: 6 },
  ],
};

/** The G1 + O6 robot spec. */
export const G1_O6_ROBOT: RobotSpec = {
  name: 'g1-o6',
  description: 'Unitree G1 (both 7-DoF arms) + two LinkerBot O6 6-DoF hands',
  embodiment: G1_O6_EMBODIMENT,
  joints: [...arm('left'), ...arm('right'), ...handJoints('left_hand_', GENERIC_HAND_LIMITS), ...handJoints('right_hand_', GENERIC_HAND_LIMITS)],
  controlPeriod: 1 / 50,
  latencyBudget: 0.15,
  chunkLength: 16,
  delayWeighting: 'exponential',
  safetyMargin: 1,
  notes: 'arm ranges: G1 URDF; speeds and hands conservative; 50 Hz from §6.3; 150 ms latency assumed',
};
