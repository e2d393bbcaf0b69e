/**
 * Franka FR3 + Inspire hand (Table 2: single arm + dexterous hand, 13 DoF = 7 + 6), on the
 * `FR3_INSPIRE` embodiment: arm to `right_arm_joints`, hand to `right_dexhand` (Eq. 1).
 *
 * Limits: arm ranges and speeds are published (Franka FR3 datasheet / franka_description joint limits);
 * hand limits are conservative (see `INSPIRE_LIMITS`). Home is Franka's ready pose.
 * Timing (assumed): 10 Hz, the tabletop rate of §6.3 ("10 Hz tabletop manipulators to 50 Hz humanoids");
 * a 150 ms latency budget.
 * @module
 */
import { FR3_INSPIRE } from '../../model/index.js';
import { INSPIRE_LIMITS, handJoints } from './hands.js';
import { joint, type RobotSpec } from './robot.js';

const lower = [-2.7437, -1.7837, -2.9007, -3.0421, -2.8065, 0.5445, -3.0159];
const upper = [2.7437, 1.7837, 2.9007, -0.1518, 2.8065, 4.5169, 3.0159];
const speed = [2.62, 2.62, 2.62, 2.62, 5.26, 4.18, 5.26];
const ready = [0, -Math.PI / 4, 0, (-3 * Math.PI) / 4, 0, Math.PI / 2, Math.PI / 4];

/** The FR3 + Inspire robot spec. */
export const FR3_INSPIRE_ROBOT: RobotSpec = {
  name: 'fr3-inspire',
  description: 'Franka FR3 (7 joints) + Inspire RH56 hand (6 DoF), joint-position control',
  embodiment: FR3_INSPIRE,
  joints: [
    ...lower.map((lo, i) => joint(`fr3_joint${i + 1}`, [lo, upper[i]!], speed[i]!, 'published', { home: ready[i]! })),
    ...handJoints('hand_', INSPIRE_LIMITS),
  ],
  controlPeriod: 1 / 10,
  latencyBudget: 0.15,
  chunkLength: 16,
  delayWeighting: 'exponential',
  safetyMargin: 1,
  notes: 'arm: FR3 datasheet limits; hand: conservative; timing: 10 Hz (§6.3 tabletop rate), 150 ms assumed',
};
