/**
 * BeingBeyond D1 (Table 2: single arm + dexterous hand, 14 DoF, movable ego camera). Table 2 gives only
 * the total; read here (an assumption) as a 6-DoF arm, a 2-DoF head carrying the ego camera and a 6-DoF
 * hand: 6 + 2 + 6 = 14. Arm to `right_arm_joints`, head to `head`, hand to `right_dexhand` (Eq. 1).
 *
 * Limits: all conservative (no datasheet at hand): arm windows of ±1.5 rad (wrist ±1.2), 1.5 rad/s;
 * head pan ±1 rad, tilt ±0.6 rad, 1 rad/s; hand `GENERIC_HAND_LIMITS`.
 * Timing (assumed): 30 Hz, a 150 ms latency budget.
 * @module
 */
import type { EmbodimentSpec } from '../../model/index.js';
import { GENERIC_HAND_LIMITS, handJoints } from './hands.js';
import { joint, type RobotSpec } from './robot.js';

/** Φ_e of the D1 (Eq. 1). */
export const D1_EMBODIMENT: EmbodimentSpec = {
  name: 'being-d1',
  description: 'BeingBeyond D1: 6-DoF arm, 2-DoF head (ego camera), 6-DoF dexterous hand',
  components: [
    { name: 'arm', slot: 'right_arm_joints', size: 6 },
    { name: 'head', slot: 'head', size: 2 },
    { name: 'hand', slot: 'right_dexhand', size: 6 },
  ],
};

/** The D1 robot spec. */
export const D1_ROBOT: RobotSpec = {
  name: 'being-d1',
  description: 'BeingBeyond D1: single 6-DoF arm, 2-DoF head with the ego camera, 6-DoF hand',
  embodiment: D1_EMBODIMENT,
  joints: [
    ...['joint1', 'joint2', 'joint3', 'joint4'].map((n) => joint(`arm_${n}`, [-1.5, 1.5], 1.5, 'conservative')),
    joint('arm_joint5', [-1.2, 1.2], 1.5, 'conservative'),
    joint('arm_joint6', [-1.2, 1.2], 1.5, 'conservative'),
    joint('head_pan', [-1.0, 1.0], 1, 'conservative'),
    joint('head_tilt', [-0.6, 0.6], 1, 'conservative'),
    ...handJoints('hand_', GENERIC_HAND_LIMITS),
  ],
  controlPeriod: 1 / 30,
  latencyBudget: 0.15,
  chunkLength: 16,
  delayWeighting: 'exponential',
  safetyMargin: 1,
  notes: '6 + 2 + 6 split assumed (Table 2 gives 14); all limits conservative; 30 Hz and 150 ms assumed',
};
