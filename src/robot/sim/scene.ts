/**
 * The tabletop's geometry and the plain-data picture of a scene. The table is the square [0, 1] × [0, 1]
 * (metres) seen from above, x to the right and y away from the robot's side (the bottom edge). Three
 * square blocks (red, green, blue; side {@link BLOCK_SIZE}) rest in its upper part; two circular targets
 * (left, right; radius {@link TARGET_RADIUS}) lie in its lower middle. Blocks stay axis-aligned; for
 * contact each is its circumscribed disc ({@link BLOCK_RADIUS}), so two blocks whose discs do not overlap
 * never overlap as squares either. The end effector touches blocks as a disc of radius {@link EEF_RADIUS}.
 *
 * A {@link SceneSnapshot} holds positions only, as plain numbers, so that it can be drawn
 * (`renderScene`, `sceneSvg`), stored, or sent to another thread (structured clone).
 * @module
 */
import type { SimEmbodimentName } from './bodies.js';
import type { SimTask } from './tasks.js';

/** Side of a block, in metres. */
export const BLOCK_SIZE = 0.08;
/** Half a block's side, in metres: a block's centre stays in [BLOCK_HALF, 1 − BLOCK_HALF]². */
export const BLOCK_HALF = BLOCK_SIZE / 2;
/** A block's contact radius: its circumscribed circle, BLOCK_HALF·√2 ≈ 0.0566 m. */
export const BLOCK_RADIUS = BLOCK_HALF * Math.SQRT2;
/** Radius of a target circle, in metres. */
export const TARGET_RADIUS = 0.08;
/** Radius of the end-effector's contact disc, in metres. */
export const EEF_RADIUS = 0.03;
/** A closing gripper (or hand) grasps a block whose centre lies within this distance of the end effector, in metres. */
export const GRASP_DISTANCE = 0.03;
/** A `reach` task succeeds when the end effector is within this distance of the block's centre, in metres. */
export const REACH_TOLERANCE = 0.04;

/** A block's colour, which also names it. */
export type BlockColour = 'red' | 'green' | 'blue';
/** The blocks, in the order a scene lists them. */
export const BLOCK_COLOURS: readonly BlockColour[] = Object.freeze(['red', 'green', 'blue'] as const);
/** A target's side. */
export type TargetSide = 'left' | 'right';
/** The targets, in the order a scene lists them. */
export const TARGET_SIDES: readonly TargetSide[] = Object.freeze(['left', 'right'] as const);

/** A point on the table, in metres. */
export interface Point2 {
  /** Metres from the left edge. */
  readonly x: number;
  /** Metres from the bottom (robot-side) edge. */
  readonly y: number;
}

/** A block in a snapshot. */
export interface BlockSnapshot extends Point2 {
  /** Its colour (its name). */
  readonly colour: BlockColour;
  /** Whether it is grasped (lifted: it passes over the other blocks). */
  readonly held: boolean;
}

/** A target in a snapshot. */
export interface TargetSnapshot extends Point2 {
  /** Its side. */
  readonly side: TargetSide;
  /** Its radius, in metres. */
  readonly radius: number;
}

/** The end effector (gripper centre, or the hand's palm centre) in a snapshot. */
export interface EffectorSnapshot extends Point2 {
  /** Heading in radians (counter-clockwise from +x): the gripper's approach direction, or where the fingers point. */
  readonly yaw: number;
}

/**
 * Everything needed to draw a scene, as plain data: the robot's links and end effector, the blocks and
 * the targets. `links` runs from the arm's base through each joint to the end effector (empty for the
 * hand); `grip` is the gripper opening in metres for the arms and the mean finger curl in radians for the
 * hand; `fingers` are the hand's five curls (thumb to little finger; empty for the arms).
 */
export interface SceneSnapshot {
  /** Which embodiment acts. */
  readonly embodiment: SimEmbodimentName;
  /** Control steps taken since the last reset. */
  readonly step: number;
  /** The task. */
  readonly task: SimTask;
  /** The end effector. */
  readonly eef: EffectorSnapshot;
  /** Whether the gripper (hand) is closed: it pushes blocks, or holds one. */
  readonly closed: boolean;
  /** Gripper width (m) for the arms, mean finger curl (rad) for the hand. */
  readonly grip: number;
  /** The hand's finger curls (rad), thumb first; empty for the arms. */
  readonly fingers: readonly number[];
  /** Base, joints and end effector of an arm, in order; empty for the hand. */
  readonly links: readonly Point2[];
  /** The blocks, red, green, blue. */
  readonly blocks: readonly BlockSnapshot[];
  /** The targets, left, right. */
  readonly targets: readonly TargetSnapshot[];
}

/** Euclidean distance between two points. */
export function distance(a: Point2, b: Point2): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}
