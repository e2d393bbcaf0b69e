/**
 * Tasks of the tabletop world and the seeded scene layout. A task names a kind, a block and (for `push`
 * and `pick-place`) a target; its instruction is the sentence the policy reads:
 *
 * | kind | instruction | success (checked by `TabletopWorld.success`) |
 * |---|---|---|
 * | `reach` | `reach the {colour} block` | the end effector is within `REACH_TOLERANCE` (0.04 m) of the block's centre |
 * | `push` | `push the {colour} block to the {side} target` | the block's centre is inside the target circle and the block is not grasped |
 * | `pick-place` | `put the {colour} block on the {side} target` | the block's centre is inside the target circle and the block is not grasped (released) |
 *
 * The layout is a pure function of the seed (seedrandom's Alea through `Generator`): the task's block
 * and target are drawn first (whatever is given overrides the draw, so a seed gives the same scene for
 * every task kind and every embodiment), then the targets' small offsets, then the block positions by
 * rejection sampling: centres in [0.2, 0.8] × [0.5, 0.75], at least 2·BLOCK_RADIUS + 0.04 apart, and the
 * other blocks clear of the corridor from just behind the task's block to its target, so that a push is
 * possible. Every embodiment reaches every layout point.
 * @module
 */
import { Generator } from '../../tensor/index.js';
import { BLOCK_COLOURS, BLOCK_RADIUS, TARGET_RADIUS, TARGET_SIDES, type BlockColour, type Point2, type TargetSide, type TargetSnapshot } from './scene.js';

/** The task kinds. */
export type SimTaskKind = 'reach' | 'push' | 'pick-place';
/** The task kinds, in order. */
export const SIM_TASK_KINDS: readonly SimTaskKind[] = Object.freeze(['reach', 'push', 'pick-place'] as const);

/** A task: what to do with which block, and the instruction saying so. */
export interface SimTask {
  /** The kind. */
  readonly kind: SimTaskKind;
  /** The block to act on. */
  readonly block: BlockColour;
  /** The target (`push` and `pick-place`). */
  readonly target?: TargetSide;
  /** The instruction, e.g. `push the blue block to the left target`. */
  readonly instruction: string;
}

/** A task as given to the world: the instruction is derived when omitted (and must match when given). */
export interface SimTaskSpec {
  /** The kind. */
  readonly kind: SimTaskKind;
  /** The block to act on. */
  readonly block: BlockColour;
  /** The target; required for `push` and `pick-place`, absent for `reach`. */
  readonly target?: TargetSide;
  /** The instruction; default {@link taskInstruction}. */
  readonly instruction?: string;
}

/** Default episode length per task kind, in control steps (0.1 s each). */
export const DEFAULT_MAX_STEPS: Readonly<Record<SimTaskKind, number>> = Object.freeze({ reach: 60, push: 100, 'pick-place': 120 });

/** The instruction of a task: see the table in the module doc. */
export function taskInstruction(kind: SimTaskKind, block: BlockColour, target?: TargetSide): string {
  switch (kind) {
    case 'reach':
      return `reach the ${block} block`;
    case 'push':
      return `push the ${block} block to the ${target} target`;
    case 'pick-place':
      return `put the ${block} block on the ${target} target`;
  }
}

/** Checks a task spec and completes it (throws naming `fn` and the bad field). */
export function makeTask(spec: SimTaskSpec, fn = 'makeTask'): SimTask {
  if (spec === null || typeof spec !== 'object') throw new TypeError(`${fn}: task must be a task kind or an object { kind, block, target? }, got ${String(spec)}`);
  if (!SIM_TASK_KINDS.includes(spec.kind)) throw new RangeError(`${fn}: task kind must be one of ${SIM_TASK_KINDS.join(', ')}, got ${JSON.stringify(spec.kind)}`);
  if (!BLOCK_COLOURS.includes(spec.block)) throw new RangeError(`${fn}: task block must be one of ${BLOCK_COLOURS.join(', ')}, got ${JSON.stringify(spec.block)}`);
  if (spec.kind === 'reach') {
    if (spec.target !== undefined) throw new RangeError(`${fn}: a reach task has no target, got ${JSON.stringify(spec.target)}`);
  } else if (!TARGET_SIDES.includes(spec.target as TargetSide)) {
    throw new RangeError(`${fn}: a ${spec.kind} task needs target 'left' or 'right', got ${JSON.stringify(spec.target)}`);
  }
  const instruction = taskInstruction(spec.kind, spec.block, spec.target);
  if (spec.instruction !== undefined && spec.instruction !== instruction) {
    throw new RangeError(`${fn}: instruction ${JSON.stringify(spec.instruction)} does not match the task; it would be ${JSON.stringify(instruction)}`);
  }
  return Object.freeze({ kind: spec.kind, block: spec.block, ...(spec.target === undefined ? {} : { target: spec.target }), instruction });
}

/** A scene's initial layout: the task, the block centres (red, green, blue) and the targets (left, right). */
export interface SceneLayout {
  /** The task. */
  readonly task: SimTask;
  /** Block centres, in `BLOCK_COLOURS` order. */
  readonly blocks: readonly Point2[];
  /** Targets, in `TARGET_SIDES` order. */
  readonly targets: readonly TargetSnapshot[];
}

/** A rectangle of the table given by its x and y ranges (metres). */
export interface TableRegion {
  /** [min, max] of x. */
  readonly x: readonly [number, number];
  /** [min, max] of y. */
  readonly y: readonly [number, number];
}

/** Where block centres are drawn. */
export const BLOCK_REGION: TableRegion = Object.freeze({ x: [0.2, 0.8] as const, y: [0.5, 0.75] as const });
/** Nominal target centres (metres), before the seeded offset of at most ±{@link TARGET_JITTER} per axis. */
export const TARGET_CENTRES: Readonly<Record<TargetSide, Point2>> = Object.freeze({ left: { x: 0.32, y: 0.24 }, right: { x: 0.68, y: 0.24 } });
/** Largest seeded offset of a target centre per axis (metres). */
export const TARGET_JITTER = 0.03;
const MIN_BLOCK_GAP = 2 * BLOCK_RADIUS + 0.04;
const CORRIDOR_CLEARANCE = 0.14;
const MAX_ATTEMPTS = 10000;

/** Distance from p to the segment [a, b]. */
export function segmentDistance(p: Point2, a: Point2, b: Point2): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** The seed as the layout generator's seed string (numbers and strings give distinct streams). */
function seedString(seed: number | string): string {
  return `tabletop:${typeof seed}:${String(seed)}`;
}

/**
 * The layout of the module doc for `seed`, with the task drawn from the seed except where `task` says
 * (a kind, or a full spec). Throws when the seed is not a finite number or a string.
 */
export function sceneLayout(seed: number | string, task?: SimTaskKind | SimTaskSpec, fn = 'sceneLayout'): SceneLayout {
  if (!(typeof seed === 'string' || (typeof seed === 'number' && Number.isFinite(seed)))) throw new TypeError(`${fn}: seed must be a finite number or a string, got ${String(seed)}`);
  const g = new Generator(seedString(seed));
  // Always draw all three so that overrides do not shift the stream.
  const kindDraw = SIM_TASK_KINDS[g.integer(0, SIM_TASK_KINDS.length)]!;
  const blockDraw = BLOCK_COLOURS[g.integer(0, BLOCK_COLOURS.length)]!;
  const sideDraw = TARGET_SIDES[g.integer(0, TARGET_SIDES.length)]!;
  let spec: SimTaskSpec;
  if (task === undefined) spec = { kind: kindDraw, block: blockDraw, ...(kindDraw === 'reach' ? {} : { target: sideDraw }) };
  else if (typeof task === 'string') {
    if (!SIM_TASK_KINDS.includes(task)) throw new RangeError(`${fn}: task kind must be one of ${SIM_TASK_KINDS.join(', ')}, got ${JSON.stringify(task)}`);
    spec = { kind: task, block: blockDraw, ...(task === 'reach' ? {} : { target: sideDraw }) };
  } else spec = task;
  const t = makeTask(spec, fn);
  const targets = TARGET_SIDES.map((side): TargetSnapshot => {
    const c = TARGET_CENTRES[side];
    return { side, x: c.x + (2 * g.uniform() - 1) * TARGET_JITTER, y: c.y + (2 * g.uniform() - 1) * TARGET_JITTER, radius: TARGET_RADIUS };
  });
  // The corridor runs to the task's target, or to the drawn side's target for a reach task.
  const goal = targets[TARGET_SIDES.indexOf(t.target ?? sideDraw)]!;
  const k = BLOCK_COLOURS.indexOf(t.block);
  const [x0, x1] = BLOCK_REGION.x;
  const [y0, y1] = BLOCK_REGION.y;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const blocks = BLOCK_COLOURS.map(() => ({ x: x0 + g.uniform() * (x1 - x0), y: y0 + g.uniform() * (y1 - y0) }));
    let ok = true;
    for (let i = 0; i < blocks.length && ok; i++) for (let j = i + 1; j < blocks.length && ok; j++) ok = Math.hypot(blocks[i]!.x - blocks[j]!.x, blocks[i]!.y - blocks[j]!.y) >= MIN_BLOCK_GAP;
    if (!ok) continue;
    const b = blocks[k]!;
    const len = Math.hypot(goal.x - b.x, goal.y - b.y);
    const behind = { x: b.x - ((goal.x - b.x) / len) * 0.15, y: b.y - ((goal.y - b.y) / len) * 0.15 };
    if (blocks.some((o, i) => i !== k && segmentDistance(o, behind, goal) < CORRIDOR_CLEARANCE)) continue;
    return { task: t, blocks, targets };
  }
  throw new Error(`${fn}: found no layout for seed ${JSON.stringify(seed)} in ${MAX_ATTEMPTS} attempts`);
}
