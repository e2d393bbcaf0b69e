/**
 * Joint specs of the 6-DoF dexterous hands of Table 2 (Inspire on FR3, LinkerBot O6 on G1, the hands of
 * Adam-U and D1), for the `*_dexhand` slots of Eq. 1.
 *
 * Every 6-DoF hand here uses one joint order — little, ring, middle, index, thumb bend, thumb rotate
 * (the Inspire order of `FR3_INSPIRE`) — so that a `*_dexhand` dimension means the same finger across
 * these robots, as §5.1.1 asks of shared slots ("every dimension corresponds to a grounded physical
 * quantity"); each hand's driver maps from its native order. Angles are in radians, 0 = open.
 * @module
 */
import { joint, type JointSpec } from './robot.js';

/** The six joints of a 6-DoF hand, in the shared order. */
export const HAND_JOINTS = ['little', 'ring', 'middle', 'index', 'thumb_bend', 'thumb_rotate'] as const;

/** Ranges (rad) and speed (rad/s) of one 6-DoF hand family. */
export interface HandLimits {
  /** Range of the four finger flexions. */
  readonly finger: readonly [number, number];
  /** Range of the thumb bend. */
  readonly thumbBend: readonly [number, number];
  /** Range of the thumb rotation. */
  readonly thumbRotate: readonly [number, number];
  /** Speed limit of every joint. */
  readonly maxVelocity: number;
}

/**
 * Inspire RH56 (FR3 + Inspire, Table 2). Conservative: the finger range stays inside the proximal-joint
 * travel of Inspire's hand models (about 0–1.47 rad), the thumb inside its bend (≈ 0–0.6 rad) and
 * rotation (≈ 0–1.3 rad) travel; 2 rad/s is below a full close in under a second.
 */
export const INSPIRE_LIMITS: HandLimits = { finger: [0, 1.47], thumbBend: [0, 0.6], thumbRotate: [0, 1.3], maxVelocity: 2 };

/**
 * Generic 6-DoF hand (LinkerBot O6 on G1, the Adam-U and D1 hands): no datasheet at hand, so the
 * Inspire-class travel narrowed slightly (conservative) and the same 2 rad/s.
 */
export const GENERIC_HAND_LIMITS: HandLimits = { finger: [0, 1.4], thumbBend: [0, 0.55], thumbRotate: [0, 1.2], maxVelocity: 2 };

/** The six {@link JointSpec}s of a hand, named `${prefix}${joint}`, all `conservative`. */
export function handJoints(prefix: string, limits: HandLimits): JointSpec[] {
  return HAND_JOINTS.map((name) => {
    const range = name === 'thumb_bend' ? limits.thumbBend : name === 'thumb_rotate' ? limits.thumbRotate : limits.finger;
    return joint(`${prefix}${name}`, range, limits.maxVelocity, 'conservative');
  });
}
