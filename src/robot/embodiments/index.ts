/**
 * Robot embodiments: the {@link Robot} data type (Φ_e of Eq. 1, joint limits, UAC timing), one data file
 * per robot of Table 2 plus the MANO hands, and the registry.
 * @module
 */
export { defineRobot, joint, type Robot, type RobotSpec, type JointSpec, type JointOptions, type LimitSource } from './robot.js';
export { HAND_JOINTS, INSPIRE_LIMITS, GENERIC_HAND_LIMITS, handJoints, type HandLimits } from './hands.js';
export { ADAM_U_ROBOT } from './adam-u.js';
export { G1_O6_ROBOT, G1_O6_EMBODIMENT } from './g1-o6.js';
export { FR3_INSPIRE_ROBOT } from './fr3-inspire.js';
export { D1_ROBOT, D1_EMBODIMENT } from './d1.js';
export { SO101_ROBOT, SO101_JAW_RANGE, SO101_MAX_WIDTH, so101JawToWidth, so101WidthToJaw } from './so101.js';
export { MANO_ROBOT } from './mano.js';
export { BUILTIN_ROBOTS, registerRobot, getRobot, hasRobot, listRobots, unregisterRobot, type RegisterOptions } from './registry.js';
