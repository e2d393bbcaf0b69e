/**
 * The robot registry: name → validated {@link Robot} (its Φ_e of Eq. 1, limits and UAC timing of
 * Eq. 17/22). It starts with the five robots of Table 2 and the MANO hands; adding a robot is one small
 * data file exporting a {@link RobotSpec}, passed to {@link registerRobot} (or listed in `BUILTIN_ROBOTS`).
 *
 * | name | Table 2 | DoF | Δt | d_max (T = 16, L = 150 ms) |
 * |---|---|---|---|---|
 * | `adam-u` | PND Adam-U | 31 | 20 ms | 8 |
 * | `g1-o6` | Unitree G1 + LinkerBot O6 | 26 | 20 ms | 8 |
 * | `fr3-inspire` | FR3 + Inspire Hand | 13 | 100 ms | 2 |
 * | `being-d1` | BeingBeyond D1 | 14 | 33 ms | 5 |
 * | `so101` | LeRobot SO-101 | 6 | 33 ms | 5 |
 * | `mano-hands` | human hands (§5.1.1) | 102 | 33 ms | 1 |
 * @module
 */
import { ADAM_U_ROBOT } from './adam-u.js';
import { D1_ROBOT } from './d1.js';
import { FR3_INSPIRE_ROBOT } from './fr3-inspire.js';
import { G1_O6_ROBOT } from './g1-o6.js';
import { MANO_ROBOT } from './mano.js';
import { defineRobot, type Robot, type RobotSpec } from './robot.js';
import { SO101_ROBOT } from './so101.js';

/** The specs the registry starts with: the five robots of Table 2, then the MANO hands. */
export const BUILTIN_ROBOTS: readonly RobotSpec[] = Object.freeze([ADAM_U_ROBOT, G1_O6_ROBOT, FR3_INSPIRE_ROBOT, D1_ROBOT, SO101_ROBOT, MANO_ROBOT]);

const registry = new Map<string, Robot>();
for (const spec of BUILTIN_ROBOTS) registry.set(spec.name, defineRobot(spec));

/** Options of {@link registerRobot}. */
export interface RegisterOptions {
  /** Replace a robot already registered under the same name (default false: that throws). */
  readonly replace?: boolean;
}

/**
 * Validates `spec` (see `defineRobot`) and registers it under `spec.name`; returns the {@link Robot}.
 * Throws when the name is taken (unless `replace`) or the spec is invalid.
 */
export function registerRobot(spec: RobotSpec | Robot, opts: RegisterOptions = {}): Robot {
  const robot = 'embodiment' in spec && 'dMax' in spec ? (spec as Robot) : defineRobot(spec as RobotSpec);
  if (registry.has(robot.name) && !opts.replace) throw new RangeError(`registerRobot: a robot named "${robot.name}" is already registered; pass { replace: true } to replace it`);
  registry.set(robot.name, robot);
  return robot;
}

/** The robot registered as `name`; throws, listing the registered names, when there is none. */
export function getRobot(name: string): Robot {
  const robot = registry.get(name);
  if (robot === undefined) throw new RangeError(`getRobot: no robot named ${JSON.stringify(name)}; registered: ${[...registry.keys()].join(', ')}`);
  return robot;
}

/** True when a robot is registered as `name`. */
export function hasRobot(name: string): boolean {
  return registry.has(name);
}

/** The registered robots, in registration order. */
export function listRobots(): Robot[] {
  return [...registry.values()];
}

/** Removes the robot registered as `name`; returns whether there was one. */
export function unregisterRobot(name: string): boolean {
  return registry.delete(name);
}
