/**
 * Kinematic contacts of the tabletop (no masses, no friction: positions only, deterministic):
 *
 * - A closed gripper (or a fist) is lowered onto the table and pushes blocks: a block whose contact disc
 *   (radius BLOCK_RADIUS) the end-effector disc (EEF_RADIUS) enters during a substep is moved out along
 *   the contact normal (from the end effector's centre to the block's) until the discs touch. A block
 *   that already overlapped the end effector at the start of the substep is not pushed (the gripper
 *   was around or above it), so a gripper can move away from a block it has just released.
 * - An open gripper (open hand) is held above the blocks and passes over them.
 * - Blocks do not pass through each other or leave the table: overlaps are resolved by moving blocks
 *   apart along their centre line (a block the end effector just pushed does not yield; two others share
 *   the correction), and centres are clamped to [BLOCK_HALF, 1 − BLOCK_HALF]. If a few passes do not
 *   remove every overlap (a block wedged against the edge), the substep's block motion is undone, so the
 *   invariant "no two free blocks overlap" always holds.
 * @module
 */
import { BLOCK_HALF, BLOCK_RADIUS, EEF_RADIUS } from './scene.js';

/** A mutable block centre. */
export interface MutablePoint {
  /** x, metres. */
  x: number;
  /** y, metres. */
  y: number;
}

const CONTACT = BLOCK_RADIUS + EEF_RADIUS;
const GAP = 2 * BLOCK_RADIUS;
const EPS = 1e-9;
const PASSES = 16;

const clampTable = (p: MutablePoint) => {
  p.x = Math.min(1 - BLOCK_HALF, Math.max(BLOCK_HALF, p.x));
  p.y = Math.min(1 - BLOCK_HALF, Math.max(BLOCK_HALF, p.y));
};

/** Whether two free blocks overlap (their contact discs intersect by more than 1e-9 m). */
export function blocksOverlap(a: MutablePoint, b: MutablePoint): boolean {
  return Math.hypot(a.x - b.x, a.y - b.y) < GAP - EPS;
}

/**
 * Separates overlapping free blocks (indices in `free`), the `fixed` ones not yielding to the others, and
 * keeps them on the table. Returns false — after restoring `before` — when overlaps remain.
 */
export function resolveBlocks(blocks: MutablePoint[], free: readonly number[], fixed: ReadonlySet<number>, before: readonly MutablePoint[]): boolean {
  for (let pass = 0; pass < PASSES; pass++) {
    let moved = false;
    for (let a = 0; a < free.length; a++) {
      for (let c = a + 1; c < free.length; c++) {
        const i = free[a]!;
        const j = free[c]!;
        const bi = blocks[i]!;
        const bj = blocks[j]!;
        let dx = bj.x - bi.x;
        let dy = bj.y - bi.y;
        let d = Math.hypot(dx, dy);
        if (d >= GAP - EPS) continue;
        if (d < 1e-12) [dx, dy, d] = [1, 0, 1];
        const push = GAP - d + EPS;
        const nx = dx / d;
        const ny = dy / d;
        const wi = fixed.has(i) && !fixed.has(j) ? 0 : fixed.has(j) && !fixed.has(i) ? 1 : 0.5;
        bi.x -= wi * push * nx;
        bi.y -= wi * push * ny;
        bj.x += (1 - wi) * push * nx;
        bj.y += (1 - wi) * push * ny;
        moved = true;
      }
    }
    for (const i of free) clampTable(blocks[i]!);
    if (!moved) break;
  }
  for (let a = 0; a < free.length; a++) {
    for (let c = a + 1; c < free.length; c++) {
      if (blocksOverlap(blocks[free[a]!]!, blocks[free[c]!]!)) {
        for (const i of free) [blocks[i]!.x, blocks[i]!.y] = [before[i]!.x, before[i]!.y];
        return false;
      }
    }
  }
  return true;
}

/**
 * One substep of pushing by a closed end effector that moved from `from` to `to`: blocks it entered are
 * moved out along the contact normal, then overlaps are resolved (see the module doc).
 */
export function pushBlocks(blocks: MutablePoint[], free: readonly number[], from: MutablePoint, to: MutablePoint): void {
  const before = blocks.map((b) => ({ x: b.x, y: b.y }));
  const pushed = new Set<number>();
  for (const i of free) {
    const b = blocks[i]!;
    const d = Math.hypot(b.x - to.x, b.y - to.y);
    if (d >= CONTACT) continue;
    if (Math.hypot(before[i]!.x - from.x, before[i]!.y - from.y) < CONTACT - EPS) continue; // enclosed at the start
    let nx = b.x - to.x;
    let ny = b.y - to.y;
    let n = d;
    if (n < 1e-12) [nx, ny, n] = [b.x - from.x, b.y - from.y, Math.hypot(b.x - from.x, b.y - from.y)];
    b.x = to.x + (nx / n) * CONTACT;
    b.y = to.y + (ny / n) * CONTACT;
    pushed.add(i);
  }
  if (pushed.size > 0) resolveBlocks(blocks, free, pushed, before);
}
