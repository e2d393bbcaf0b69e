/**
 * Scripted experts: closed-loop waypoint controllers that read the world's true state each step and
 * return the next raw action a⁽ᵉ⁾ (Eq. 1's raw layout) for any embodiment. They keep no memory: the
 * phase is read off the state, so an expert can take over any state (and can be run on a clone of the
 * world to produce an action chunk).
 *
 * - `reach`: gripper open (hovering), go to the block's centre.
 * - `pick-place`: gripper open, go to the block's centre; there, close (grasp); carry so that the block's
 *   centre goes to the target's; there, open (release). A failed grasp opens and tries again.
 * - `push`: with u the unit vector from the block to the target and R = BLOCK_RADIUS + EEF_RADIUS, hover
 *   (gripper open) to the approach point b − (R + 0.03)·u behind the block, close there (lowering the
 *   gripper), then push: command b − R·u + 0.03·u, re-aimed every step. If the end effector drifts more
 *   than 0.02 m off the line through the block, it lifts (opens) and approaches again.
 *
 * Headings: the arms aim their gripper along the line from their base through the commanded point; the
 * hand points its fingers along the line from its virtual shoulder. Noise (when a generator is given):
 * Gaussian, σ = `noise` metres on the commanded position, fading to zero within 0.1 m of the goal so that
 * the fine phases (grasp, release) stay exact.
 * @module
 */
import type { Generator } from '../../tensor/index.js';
import { GRIPPER_RANGE, type SimBody } from './bodies.js';
import { BLOCK_RADIUS, EEF_RADIUS, TARGET_SIDES, type Point2 } from './scene.js';
import type { TabletopWorld } from './world.js';

/** Default σ of the expert's position noise (m) when a generator is given. */
export const DEFAULT_EXPERT_NOISE = 0.01;
/** Curl the expert commands to open the hand (rad). */
export const OPEN_CURL = 0.15;
/** Curl the expert commands to close the hand (rad). */
export const CLOSED_CURL = 1.5;

const CONTACT = BLOCK_RADIUS + EEF_RADIUS;
const AT = 0.012;

/** A raw action for `body`: position, the body's natural heading there, and the effector open or closed. */
export function rawCommand(body: SimBody, dof: number, p: Point2, close: boolean): Float64Array {
  const a = new Float64Array(dof);
  a[0] = Math.min(1, Math.max(0, p.x));
  a[1] = Math.min(1, Math.max(0, p.y));
  if (body.commandsYaw) a[2] = Math.atan2(a[1] - body.anchor.y, a[0] - body.anchor.x);
  const v = body.kind === 'arm' ? (close ? GRIPPER_RANGE[0] : GRIPPER_RANGE[1]) : close ? CLOSED_CURL : OPEN_CURL;
  a.fill(v, body.effectorOffset, body.effectorOffset + body.effectorSize);
  return a;
}

/**
 * The expert's next raw action for `world` (see the module doc). With `rng`, Gaussian noise of σ =
 * `noise` metres is added to the commanded position away from the goal.
 */
export function expertAction(world: TabletopWorld, rng?: Generator, noise: number = DEFAULT_EXPERT_NOISE): Float64Array {
  if (!Number.isFinite(noise) || noise < 0) throw new RangeError(`expertAction: noise must be a finite number ≥ 0, got ${noise}`);
  const task = world.task;
  const body = world.body;
  const p = world.eef();
  const b = world.blockPosition(task.block);
  const held = world.heldBlock();
  const closedNow = world.isClosed();
  let goal: Point2;
  let close: boolean;
  if (task.kind === 'reach') {
    goal = b;
    close = false;
  } else {
    const t = world.target(task.target ?? TARGET_SIDES[0]!);
    if (task.kind === 'pick-place') {
      if (held === task.block) {
        const off = { x: b.x - p.x, y: b.y - p.y };
        goal = { x: t.x - off.x, y: t.y - off.y };
        close = Math.hypot(b.x - t.x, b.y - t.y) >= 0.015;
      } else if (held !== null) {
        goal = p;
        close = false;
      } else {
        goal = b;
        // Close once over the block; a gripper that closed without grasping opens again.
        close = !closedNow && Math.hypot(p.x - b.x, p.y - b.y) < AT;
      }
    } else if (held !== null) {
      goal = p;
      close = false;
    } else {
      const dist = Math.hypot(t.x - b.x, t.y - b.y);
      const u = dist > 1e-9 ? { x: (t.x - b.x) / dist, y: (t.y - b.y) / dist } : { x: 0, y: -1 };
      const rx = p.x - b.x;
      const ry = p.y - b.y;
      const along = rx * u.x + ry * u.y;
      const lateral = Math.abs(rx * u.y - ry * u.x);
      const behind = along <= -CONTACT + 0.015 && along >= -CONTACT - 0.05 && lateral < 0.02;
      const approach = { x: b.x - (CONTACT + 0.03) * u.x, y: b.y - (CONTACT + 0.03) * u.y };
      if (behind && closedNow) {
        const step = Math.min(dist, 0.03);
        goal = { x: b.x - CONTACT * u.x + step * u.x, y: b.y - CONTACT * u.y + step * u.y };
        close = true;
      } else if (behind || Math.hypot(p.x - approach.x, p.y - approach.y) < AT) {
        goal = approach;
        close = true;
      } else {
        goal = approach;
        close = false;
      }
    }
  }
  if (rng !== undefined && noise > 0) {
    const fade = Math.min(1, Math.hypot(goal.x - p.x, goal.y - p.y) / 0.1);
    goal = { x: goal.x + noise * fade * rng.normal(), y: goal.y + noise * fade * rng.normal() };
  }
  return rawCommand(body, world.robot.dof, goal, close);
}
