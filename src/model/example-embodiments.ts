/**
 * Example embodiments of Eq. 1 over `UNIFIED_LAYOUT`, as plain data: a single arm with a gripper
 * (joint and end-effector control), a bimanual pair, arms with dexterous hands from Table 2, and the
 * human hand (MANO) as "a generalized embodiment" (§5.1.1). Raw orders are illustrative (how a dataset
 * would lay the vector out); a robot's driver or dataset adapter produces values in the slot units.
 * @module
 */
import type { EmbodimentSpec, RawComponent } from './action-space.js';

const joints = (slot: string, names: readonly string[]): RawComponent[] => names.map((name) => ({ name, slot }));

/**
 * LeRobot SO-101 (Table 2: 6 DoF): five arm joints and the gripper, in its LeRobot order; the gripper
 * entry is the opening width (m), which the driver derives from the jaw angle.
 */
export const SO101_ARM: EmbodimentSpec = {
  name: 'so101',
  description: 'LeRobot SO-101: 5 revolute joints + parallel gripper, joint-position control',
  components: [
    ...joints('right_arm_joints', ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll']),
    { name: 'gripper', slot: 'right_gripper' },
  ],
};

/** A single arm under end-effector control (LIBERO / DROID style): xyz delta, axis-angle delta, gripper. */
export const SINGLE_ARM_EEF: EmbodimentSpec = {
  name: 'single-arm-eef',
  description: 'single arm, end-effector delta control: position (m), rotation (axis-angle, rad), gripper width (m)',
  components: [
    { name: 'eef_position', slot: 'right_eef_pos', size: 3 },
    { name: 'eef_rotation', slot: 'right_eef_rot', size: 3 },
    { name: 'gripper', slot: 'right_gripper' },
  ],
};

/** A bimanual pair of 6-DoF arms with grippers (ALOHA style), left arm first in the raw vector. */
export const BIMANUAL_ARMS: EmbodimentSpec = {
  name: 'bimanual-6dof',
  description: 'two 6-DoF arms with parallel grippers, joint-position control; raw order left then right',
  components: (['left', 'right'] as const).flatMap((s) => [
    ...joints(`${s}_arm_joints`, ['waist', 'shoulder', 'elbow', 'forearm_roll', 'wrist_angle', 'wrist_rotate'].map((j) => `${s}_${j}`)),
    { name: `${s}_gripper`, slot: `${s}_gripper` },
  ]),
};

/** Franka FR3 with an Inspire hand (Table 2: 13 DoF = a 7-DoF arm and a 6-DoF hand). */
export const FR3_INSPIRE: EmbodimentSpec = {
  name: 'fr3-inspire',
  description: 'Franka FR3 (7 joints) + Inspire dexterous hand (6 actuated DoF), joint-position control',
  components: [
    { name: 'arm', slot: 'right_arm_joints', size: 7 },
    ...joints('right_dexhand', ['little', 'ring', 'middle', 'index', 'thumb_bend', 'thumb_rotate']),
  ],
};

/**
 * An upper-body humanoid like PND Adam-U (Table 2: 31 DoF, bimanual + head + waist, 6-DoF hands), read
 * as 2 × 7 arm joints + 2 × 6 hand DoF + 2 head + 3 waist = 31.
 */
export const UPPER_BODY_HUMANOID: EmbodimentSpec = {
  name: 'upper-body-humanoid',
  description: 'two 7-DoF arms, two 6-DoF dexterous hands, head pan/tilt, 3-DoF waist',
  components: [
    { name: 'left_arm', slot: 'left_arm_joints', size: 7 },
    { name: 'right_arm', slot: 'right_arm_joints', size: 7 },
    { name: 'left_hand', slot: 'left_dexhand', size: 6 },
    { name: 'right_hand', slot: 'right_dexhand', size: 6 },
    { name: 'head', slot: 'head', size: 2 },
    { name: 'waist', slot: 'waist', size: 3 },
  ],
};

/**
 * Two human hands as MANO parameters (§5.1.1): per hand the wrist translation (m) and global orientation
 * (axis-angle) go to the end-effector slots robots use, and the 15 finger joints' axis-angles (MANO θ,
 * 45 numbers) go to the reserved fine-manipulation slots. Raw order: right hand, then left.
 */
export const MANO_HANDS: EmbodimentSpec = {
  name: 'mano-hands',
  description: 'human hands (MANO): wrist translation + global orientation → EEF slots, finger pose θ → finger slots',
  components: (['right', 'left'] as const).flatMap((s) => [
    { name: `${s}_wrist_translation`, slot: `${s}_eef_pos`, size: 3 },
    { name: `${s}_global_orient`, slot: `${s}_eef_rot`, size: 3 },
    { name: `${s}_hand_pose`, slot: `${s}_fingers`, size: 45 },
  ]),
};

/** All the examples above. */
export const EXAMPLE_EMBODIMENTS: readonly EmbodimentSpec[] = [SO101_ARM, SINGLE_ARM_EEF, BIMANUAL_ARMS, FR3_INSPIRE, UPPER_BODY_HUMANOID, MANO_HANDS];
