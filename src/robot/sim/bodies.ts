/**
 * The tabletop world's embodiments. All four are commanded in end-effector space (each robot's own
 * controller solves the inverse kinematics), so they share the unified end-effector slots (Eq. 1:
 * a = Φ_e(a⁽ᵉ⁾); the human wrist goes to the end-effector slots, as for MANO):
 *
 * | name | body | raw vector a⁽ᵉ⁾ | unified slots |
 * |---|---|---|---|
 * | `arm2` | 2-link arm + parallel gripper, base at the bottom centre | `[eef_x, eef_y, gripper]` | `right_eef_pos`[0..1], `right_gripper` |
 * | `arm3` | 3-link arm + gripper, base at the bottom-left corner | `[eef_x, eef_y, eef_yaw, gripper]` | `right_eef_pos`[0..1], `right_eef_rot`[2], `right_gripper` |
 * | `hand` | a human right hand (stands for MANO): wrist pose + five finger curls | `[wrist_x, wrist_y, wrist_yaw, f1..f5]` | `right_eef_pos`[0..1], `right_eef_rot`[2], five `right_fingers` dims |
 * | `arm4` | 4-link arm + gripper, base at the bottom-right corner (held out) | `[eef_x, eef_y, eef_yaw, gripper]` | as `arm3` |
 *
 * Raw commands are absolute targets: positions on the table (m); the yaw is the heading about the
 * vertical axis, i.e. the z component of the axis-angle θ·n with n = +z (exact for |yaw| ≤ π). States are
 * absolute in the unified space too, but unified ACTIONS follow §5.1.1 ("all end-effector actions are
 * expressed as relative delta displacements in a unified world coordinate frame"): the training samples,
 * the closed-loop rollouts and the runtime adapter (`demonstrationSamples`, `rolloutPolicy`,
 * `DeltaActionPolicy`) turn the end-effector entries into deltas from the state at the chunk's start (the
 * yaw into the wrapped yaw difference) and back; gripper widths and finger curls stay absolute. The z index of
 * `right_eef_pos` is not written. Finger curls f1..f5 (thumb, index, middle, ring, little; rad) go to the
 * z component of the first joint of each finger in MANO's joint order (index 1-3, middle 4-6, little
 * 7-9, ring 10-12, thumb 13-15; 3 numbers per joint), i.e. `right_fingers` indices 38, 2, 11, 29, 20 —
 * the flexion of the knuckle, standing for the whole finger's curl.
 *
 * The arm's joint angles are internal (drawn in the image, not in the state). `arm2` cannot choose its
 * yaw (its state has none). Timing: Δt = 0.1 s for all; a latency budget of {@link SIM_LATENCY_BUDGET} =
 * 0.4 s for all, so d_max = ⌈0.4 / 0.1⌉ = 4 control steps (Eq. 17) — enough to cover the inference delays
 * of a small CPU-bound policy; chunks of 16, ε_safety = 1. Speed limits are those of the world's controller: the end effector moves at most
 * `speed` m/s (norm), the heading `yawSpeed` rad/s, the gripper 0.25 m/s, the fingers 8 rad/s.
 * @module
 */
import type { EmbodimentSpec, RawComponent } from '../../model/index.js';
import { defineRobot, joint, type JointSpec, type Robot } from '../embodiments/robot.js';
import { forwardKinematics, type PlanarChain, type PlanarPose } from './kinematics.js';
import type { Point2 } from './scene.js';

/** The world's embodiments. */
export type SimEmbodimentName = 'arm2' | 'arm3' | 'hand' | 'arm4';
/** All embodiments, in order. */
export const SIM_EMBODIMENTS: readonly SimEmbodimentName[] = Object.freeze(['arm2', 'arm3', 'hand', 'arm4'] as const);
/** The embodiments used for pre-training. */
export const SIM_PRETRAIN_EMBODIMENTS: readonly SimEmbodimentName[] = Object.freeze(['arm2', 'arm3', 'hand'] as const);
/** The held-out embodiment (few-shot adaptation). */
export const SIM_HELD_OUT_EMBODIMENT: SimEmbodimentName = 'arm4';

/**
 * The latency budget of every tabletop embodiment, seconds: d_max = 4 control steps at Δt = 0.1 s
 * (Eq. 17), which covers the inference delays of a small CPU-bound policy.
 */
export const SIM_LATENCY_BUDGET = 0.4;

/** Gripper width range (m): fully closed, fully open. */
export const GRIPPER_RANGE: readonly [number, number] = Object.freeze([0, 0.1] as const);
/** Finger curl range (rad): straight, fully curled. */
export const CURL_RANGE: readonly [number, number] = Object.freeze([0, 1.6] as const);
/** A gripper narrower than this (m; the block's side) is closed. */
export const GRIPPER_CLOSED_BELOW = 0.08;
/** A hand whose mean finger curl exceeds this (rad) is closed. */
export const HAND_CLOSED_ABOVE = 1.0;
/** The finger names, f1..f5. */
export const FINGER_NAMES: readonly string[] = Object.freeze(['thumb', 'index', 'middle', 'ring', 'little']);
/** `right_fingers` index of each finger's curl (the z component of its first MANO joint). */
export const FINGER_SLOT_INDEX: readonly number[] = Object.freeze([38, 2, 11, 29, 20]);

/** A body: how the world moves and draws an embodiment. */
export interface SimBody {
  /** The embodiment. */
  readonly name: SimEmbodimentName;
  /** An arm with a gripper, or a free hand. */
  readonly kind: 'arm' | 'hand';
  /** The arm's chain (base, links, joint limits); null for the hand. */
  readonly chain: PlanarChain | null;
  /** The arm's home joint angles (rad); empty for the hand. */
  readonly homeJoints: readonly number[];
  /** A rest posture the redundant arm drifts towards in its null space; null if none. */
  readonly rest: readonly number[] | null;
  /** Whether the yaw is commanded (raw entry 2). */
  readonly commandsYaw: boolean;
  /** The hand's virtual shoulder (drawing and the expert's natural heading), or the arm's base. */
  readonly anchor: Point2;
  /** The end effector's home pose. */
  readonly home: PlanarPose;
  /** End-effector speed limit (m/s, norm of the velocity). */
  readonly speed: number;
  /** Heading speed limit (rad/s). */
  readonly yawSpeed: number;
  /** Drawing colour, RGB in [0, 1]. */
  readonly colour: readonly [number, number, number];
  /** Raw index of the first effector entry (gripper width or thumb curl). */
  readonly effectorOffset: number;
  /** Number of effector entries (1 gripper width, or 5 curls). */
  readonly effectorSize: number;
}

const arm = (name: SimEmbodimentName, chain: PlanarChain, homeJoints: number[], opts: { speed: number; colour: [number, number, number]; commandsYaw: boolean; rest?: number[] }): SimBody => {
  const home = forwardKinematics(chain, homeJoints);
  return Object.freeze({
    name, kind: 'arm' as const, chain: Object.freeze(chain), homeJoints: Object.freeze(homeJoints), rest: opts.rest ? Object.freeze(opts.rest) : null,
    commandsYaw: opts.commandsYaw, anchor: chain.base, home, speed: opts.speed, yawSpeed: 3, colour: opts.colour,
    effectorOffset: opts.commandsYaw ? 3 : 2, effectorSize: 1,
  });
};

const BODIES: Readonly<Record<SimEmbodimentName, SimBody>> = Object.freeze({
  arm2: arm('arm2', { base: { x: 0.5, y: 0 }, links: [0.52, 0.5], lower: [-0.5, -2.9], upper: [Math.PI + 0.5, 2.9] }, [2.7382, -2.4421], { speed: 0.5, colour: [0.95, 0.55, 0.1], commandsYaw: false }),
  arm3: arm('arm3', { base: { x: 0, y: 0 }, links: [0.6, 0.5, 0.2], lower: [-0.5, -3, -3], upper: [2.1, 3, 3] }, [1.7606, -2.431, 1.4558], { speed: 0.45, colour: [0.1, 0.75, 0.8], commandsYaw: true }),
  hand: Object.freeze({
    name: 'hand' as const, kind: 'hand' as const, chain: null, homeJoints: Object.freeze([]), rest: null, commandsYaw: true,
    anchor: { x: 0.5, y: -0.4 }, home: { x: 0.5, y: 0.2, yaw: Math.PI / 2 }, speed: 0.6, yawSpeed: 4, colour: [0.96, 0.76, 0.6] as [number, number, number],
    effectorOffset: 3, effectorSize: 5,
  }),
  arm4: arm('arm4', { base: { x: 1, y: 0 }, links: [0.45, 0.4, 0.3, 0.2], lower: [1, -2.8, -2.8, -2.8], upper: [Math.PI + 0.5, 2.8, 2.8, 2.8] }, [1.0028, 1.7345, 1.4404, -1.8215], { speed: 0.35, colour: [0.7, 0.3, 0.85], commandsYaw: true, rest: [1.0028, 1.7345, 1.4404, -1.8215] }),
});

function spec(name: SimEmbodimentName): { embodiment: EmbodimentSpec; joints: JointSpec[]; latency: number; description: string } {
  const b = BODIES[name];
  const pos = (axis: 'x' | 'y', home: number, label: string) => joint(`${label}_${axis}`, [0, 1], b.speed, 'conservative', { unit: 'm', home });
  if (b.kind === 'hand') {
    const components: RawComponent[] = [
      { name: 'wrist_xy', slot: 'right_eef_pos', size: 2 },
      { name: 'wrist_yaw', slot: 'right_eef_rot', at: 2 },
      ...FINGER_NAMES.map((f, k) => ({ name: `${f}_curl`, slot: 'right_fingers', at: FINGER_SLOT_INDEX[k]! })),
    ];
    return {
      embodiment: { name: 'sim-hand', description: 'tabletop human right hand: wrist position and heading, five finger curls (MANO stand-in)', components },
      joints: [pos('x', b.home.x, 'wrist'), pos('y', b.home.y, 'wrist'), joint('wrist_yaw', [-Math.PI, Math.PI], b.yawSpeed, 'conservative', { home: b.home.yaw }), ...FINGER_NAMES.map((f) => joint(`${f}_curl`, CURL_RANGE, 8, 'conservative', { home: 0.15 }))],
      latency: SIM_LATENCY_BUDGET,
      description: 'a human right hand seen from above: wrist pose plus five finger curls, standing for MANO',
    };
  }
  const links = b.chain!.links.length;
  const components: RawComponent[] = [{ name: 'eef_xy', slot: 'right_eef_pos', size: 2 }, ...(b.commandsYaw ? [{ name: 'eef_yaw', slot: 'right_eef_rot', at: 2 }] : []), { name: 'gripper', slot: 'right_gripper' }];
  return {
    embodiment: { name: `sim-${name}`, description: `tabletop ${links}-link arm with a parallel gripper, end-effector control`, components },
    joints: [
      pos('x', b.home.x, 'eef'),
      pos('y', b.home.y, 'eef'),
      ...(b.commandsYaw ? [joint('eef_yaw', [-Math.PI, Math.PI], b.yawSpeed, 'conservative', { home: b.home.yaw })] : []),
      joint('gripper', GRIPPER_RANGE, 0.25, 'conservative', { unit: 'm', home: GRIPPER_RANGE[1] }),
    ],
    latency: SIM_LATENCY_BUDGET,
    description: `a planar ${links}-link arm with a parallel gripper on a 1 m tabletop, base at (${b.chain!.base.x}, ${b.chain!.base.y}); commanded in end-effector space`,
  };
}

const ROBOTS = new Map<SimEmbodimentName, Robot>();

function checkName(fn: string, name: SimEmbodimentName): void {
  if (!SIM_EMBODIMENTS.includes(name)) throw new RangeError(`${fn}: unknown embodiment ${JSON.stringify(name)}; the tabletop embodiments are ${SIM_EMBODIMENTS.join(', ')}`);
}

/** The body (kinematics, speed, colour) of an embodiment. */
export function simBody(name: SimEmbodimentName): SimBody {
  checkName('simBody', name);
  return BODIES[name];
}

/**
 * The {@link Robot} of an embodiment (built once, then shared): Φ_e, limits per raw entry (table bounds
 * for positions, [−π, π] for yaw, 0–0.1 m for the gripper, 0–1.6 rad for curls), speeds and timing.
 */
export function simRobot(name: SimEmbodimentName): Robot {
  checkName('simRobot', name);
  let r = ROBOTS.get(name);
  if (r === undefined) {
    const s = spec(name);
    r = defineRobot({
      name: `sim-${name}`,
      description: s.description,
      embodiment: s.embodiment,
      joints: s.joints,
      controlPeriod: 0.1,
      latencyBudget: s.latency,
      chunkLength: 16,
      delayWeighting: 'exponential',
      safetyMargin: 1,
      notes: 'simulated tabletop embodiment: limits and timing by construction',
    });
    ROBOTS.set(name, r);
  }
  return r;
}
